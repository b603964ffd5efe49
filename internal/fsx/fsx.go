package fsx

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/google/renameio/v2"
)

// NewPendingFile creates the temporary file that WriteFile renames into place.
// It is a variable so tests can inject ENOSPC, EACCES and friends.
var NewPendingFile = func(path string, perm fs.FileMode) (PendingFile, error) {
	return renameio.NewPendingFile(path, renameio.WithPermissions(perm), renameio.WithExistingPermissions())
}

// PendingFile is the part of renameio.PendingFile that clp uses.
type PendingFile interface {
	io.Writer
	CloseAtomicallyReplace() error
	Cleanup() error
}

// WriteFile replaces path with data durably: the data is written to a
// temporary file in the same directory, fsynced, renamed over path, and the
// directory is fsynced. A crash at any point leaves either the old or the new
// content, never a mix; renameio alone does not fsync the directory, so the
// rename itself could be lost on power failure without SyncDir.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	pf, err := NewPendingFile(path, perm)
	if err != nil {
		return fmt.Errorf("create temporary file for %s: %w", path, err)
	}
	defer pf.Cleanup()
	if _, err := pf.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := pf.CloseAtomicallyReplace(); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	return SyncDir(filepath.Dir(path))
}

// SyncDir fsyncs a directory so that renames and creations in it survive a
// power cut.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// SyncFile fsyncs an existing file by name.
func SyncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// SHA256File returns the hex sha256 of a file's content.
func SHA256File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// SHA256Bytes returns the hex sha256 of data.
func SHA256Bytes(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// UnderRoot joins an absolute system path onto root ("/" or a sandbox root).
// The result is always inside root: path is cleaned as an absolute path first,
// so ".." cannot climb out.
func UnderRoot(root, path string) string {
	clean := filepath.Clean("/" + path)
	if root == "" || root == "/" {
		return clean
	}
	return filepath.Join(root, clean)
}
