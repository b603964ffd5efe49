package patch

// Anchored file operations: clp's own writes under the root (the journal,
// the applied records, the history, the script log) go through an os.Root
// of the target root, so a symbolic link placed at <root>/var/lib/clp,
// <root>/var/log/CLP.log or any folder on their paths, even swapped in
// after clp looked, cannot make clp write outside the root: the write
// fails instead. (The rest of apply, rollback and recover still use
// checked plain paths; see docs/architecture.md, "Reliability".)

import (
	"fmt"
	"github.com/vincentos/clp/internal/fsx"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// openRoot opens the target root for anchored operations.
func (e *Engine) openRoot() (*os.Root, error) {
	r, err := os.OpenRoot(e.Root)
	if err != nil {
		return nil, fmt.Errorf("open the root %s: %w", e.Root, err)
	}
	return r, nil
}

// under says whether p is dir or below it, and gives its relative name.
func under(dir, p string) (string, bool) {
	rel, err := filepath.Rel(filepath.Clean(dir), p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", false
	}
	return rel, true
}

// rel turns a path under the root into the name os.Root takes.
func (e *Engine) rel(p string) (string, error) {
	if rel, ok := under(e.Root, p); ok {
		return rel, nil
	}
	return "", fmt.Errorf("%s is not under the root %s", p, e.Root)
}

// anchor opens the os.Root a path of clp's is resolved in, and its name
// there: the target root, or, for a state folder given outside the root
// (clp --state-dir), that folder itself (created if need be: the admin
// named it).
func (e *Engine) anchor(p string) (*os.Root, string, error) {
	if rel, ok := under(e.Root, p); ok {
		r, err := e.openRoot()
		return r, rel, err
	}
	if rel, ok := under(e.StateDir, p); ok {
		if err := os.MkdirAll(e.StateDir, 0o755); err != nil {
			return nil, "", err
		}
		r, err := os.OpenRoot(e.StateDir)
		if err != nil {
			return nil, "", fmt.Errorf("open the state folder %s: %w", e.StateDir, err)
		}
		return r, rel, nil
	}
	return nil, "", fmt.Errorf("%s is neither under the root %s nor under the state folder %s", p, e.Root, e.StateDir)
}

// writeAnchored creates the parents of p (mode 0755 for new ones) and
// replaces p durably, all resolved inside the root.
func (e *Engine) writeAnchored(p string, data []byte, dirPerm, perm os.FileMode) error {
	r, name, err := e.anchor(p)
	if err != nil {
		return err
	}
	defer r.Close()
	if err := r.MkdirAll(filepath.Dir(name), dirPerm); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(p), err)
	}
	if err := fsx.WriteFileIn(r, name, data, perm); err != nil {
		return err
	}
	return nil
}

// openAnchored opens p for appending (creating it and its parents), inside
// the root. The caller closes the root after the file.
func (e *Engine) openAppendAnchored(p string, perm os.FileMode) (*os.File, *os.Root, error) {
	r, name, err := e.anchor(p)
	if err != nil {
		return nil, nil, err
	}
	if err := r.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		r.Close()
		return nil, nil, fmt.Errorf("create %s: %w", filepath.Dir(p), err)
	}
	f, err := r.OpenFile(name, os.O_RDWR|os.O_APPEND|os.O_CREATE, perm)
	if err != nil {
		r.Close()
		return nil, nil, err
	}
	return f, r, nil
}

// copyFileIn is copyFile through an os.Root: a new file name (which must
// not exist) in r, mode 0600 until the caller sets it.
func copyFileIn(r *os.Root, name string, src io.Reader) error {
	return copyNew(name, src,
		func() (*os.File, error) { return r.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600) },
		func() { r.Remove(name) })
}
