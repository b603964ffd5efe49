package patch

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/vincentos/clp/internal/fail"
	"github.com/vincentos/clp/internal/fsx"
)

// LoadTrustedKeysIn is LoadTrustedKeys for the keys folder dir of the
// system at root (/etc/clp/keys joined with --root), read inside the root
// (anchor.go): the folder is listed and every key opened through an
// os.Root of root, so a symbolic link swapped in for /etc, /etc/clp or
// the keys folder, or for a key, cannot make clp trust a key kept outside
// the root; it is an error instead (a link that stays inside the root is
// followed, as before). The trust rule (fsx.CheckTrusted, sshd's
// StrictModes) is checked on the opened file itself and on the folders
// above its path. A
// missing folder means no trusted keys. A dir outside root (a test, or a
// keys folder the admin named) is anchored to itself.
func LoadTrustedKeysIn(root, dir string) ([]PublicKey, error) {
	open := func(name string, flag int) (*os.File, error) { return os.OpenFile(name, flag, 0) }
	rel := dir
	if filepath.Clean(root) != "/" {
		// Under / there is no outside to lead to, and os.Root would
		// refuse a key linked with an absolute target; elsewhere it
		// must, since that target is the host's.
		r, name, err := fsx.Anchor(root, dir, dir, false)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read trusted keys: %w", err)
		}
		defer r.Close()
		open, rel = func(name string, flag int) (*os.File, error) { return r.OpenFile(name, flag, 0) }, name
	}
	d, err := open(rel, os.O_RDONLY)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read trusted keys: %w", err)
	}
	ents, err := fsx.ReadDirSortedFile(d)
	d.Close()
	if err != nil {
		return nil, fmt.Errorf("read trusted keys: %w", err)
	}
	var keys []PublicKey
	seen := map[uint64]bool{}
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".pub") || e.IsDir() {
			continue
		}
		kp := filepath.Join(dir, e.Name())
		f, err := open(filepath.Join(rel, e.Name()), os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY)
		if err != nil {
			return nil, fmt.Errorf("trusted key: %w", err)
		}
		k, err := readKeyFrom(f, kp)
		if err != nil {
			return nil, fmt.Errorf("trusted key: %w", err)
		}
		if !seen[k.ID()] {
			seen[k.ID()] = true
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].ID() < keys[j].ID() })
	return keys, nil
}

// readKeyFrom reads the key in f (closing it): a regular file of at most
// maxKeyFile bytes that only root could have written, checked on the open
// file, then on the folders above it.
func readKeyFrom(f *os.File, path string) (PublicKey, error) {
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return PublicKey{}, err
	}
	if !fi.Mode().IsRegular() {
		return PublicKey{}, &fsx.NotRegularError{Path: path, Mode: fi.Mode()}
	}
	if fi.Size() > maxKeyFile {
		return PublicKey{}, &fsx.TooLargeError{Path: path, Size: fi.Size(), Max: maxKeyFile}
	}
	if err := trusted(path, fi); err != nil {
		return PublicKey{}, err
	}
	data := make([]byte, maxKeyFile+1)
	n, err := f.ReadAt(data, 0)
	if err != nil && n == 0 && fi.Size() > 0 {
		return PublicKey{}, fmt.Errorf("read %s: %w", path, err)
	}
	if n > maxKeyFile {
		return PublicKey{}, &fsx.TooLargeError{Path: path, Size: int64(n), Max: maxKeyFile}
	}
	var pub PublicKey
	if err := pub.UnmarshalText(bytes.TrimSpace(data[:n])); err != nil {
		return PublicKey{}, fmt.Errorf("%s: not a minisign public key: %w", path, err)
	}
	return pub, nil
}

// trusted applies fsx.CheckTrusted's rule to the opened key (fi) and to
// the folders above its path.
func trusted(path string, fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	var err error
	switch {
	case !ok:
		err = fmt.Errorf("%s: no owner", path)
	case st.Uid != 0 && st.Uid != uint32(os.Geteuid()):
		err = &fsx.UnsafeError{Path: path, Culprit: path, Problem: fmt.Sprintf("is owned by uid %d, not root", st.Uid)}
	case st.Mode&0o022 != 0:
		err = &fsx.UnsafeError{Path: path, Culprit: path, Problem: fmt.Sprintf("is writable by group or others (mode %04o)", st.Mode&0o7777)}
	default:
		err = fsx.CheckTrusted(path)
	}
	var unsafe *fsx.UnsafeError
	if errors.As(err, &unsafe) {
		return fail.Verify(err, unsafe.NextStep())
	}
	return err
}
