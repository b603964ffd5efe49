package hooks

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/vincentos/clp/internal/fail"
	"github.com/vincentos/clp/internal/fsx"
)

// States of an installed hook file.
const (
	StateInstalled = "installed" // the file is this clp's
	StateOutdated  = "outdated"  // an unmodified file from another clp version
	StateMissing   = "missing"
	StateModified  = "modified" // clp's header, but edited since
	StateForeign   = "foreign"  // not clp's: the user's own file or a /dev/null override
)

// FileStatus is the state of one hook file in a directory.
type FileStatus struct {
	Name  string `json:"name"`
	Path  string `json:"path"`
	State string `json:"state"`
}

const managedPrefix = "# clp-managed sha256:"

// classify tells whose content data is. A file is clp's when its first
// line carries the sha256 of the rest and the rest matches it.
func classify(data, want []byte) string {
	if bytes.Equal(data, want) {
		return StateInstalled
	}
	first, rest, ok := bytes.Cut(data, []byte("\n"))
	if !ok || !bytes.HasPrefix(first, []byte(managedPrefix)) {
		return StateForeign
	}
	if strings.TrimSpace(string(first[len(managedPrefix):])) != fsx.SHA256Bytes(rest) {
		return StateModified
	}
	return StateOutdated
}

// Status reports the state of each of clp's hook files in dir (under the
// system root root, looked at inside it: fsx's *Under helpers).
func Status(root, dir string) ([]FileStatus, error) {
	var out []FileStatus
	for _, f := range Files() {
		path := filepath.Join(dir, f.Name)
		st := FileStatus{Name: f.Name, Path: path}
		fi, err := fsx.LstatUnder(root, path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			st.State = StateMissing
		case err != nil:
			return nil, fmt.Errorf("hook status: %w", err)
		case !fi.Mode().IsRegular():
			st.State = StateForeign // a symlink to /dev/null disables a hook on purpose
		default:
			data, err := fsx.ReadFileCappedUnder(root, path, fsx.SmallFileMax)
			if err != nil {
				return nil, fmt.Errorf("hook status: %w", err)
			}
			st.State = classify(data, f.Content)
		}
		out = append(out, st)
	}
	return out, nil
}

// Install writes clp's hook files into dir (creating it), replacing missing
// and outdated ones. It refuses, before writing anything, when a file of the
// same name is not clp's or was edited: that file is the user's.
// Everything is done inside root.
func Install(root, dir string) error {
	sts, err := Status(root, dir)
	if err != nil {
		return err
	}
	for _, st := range sts {
		if st.State == StateForeign || st.State == StateModified {
			return fail.Refused(fmt.Errorf("%s is not clp's own hook file (%s): move it away to install clp's", st.Path, st.State),
				"'clp hooks status' shows each file's state")
		}
	}
	for _, f := range Files() {
		if err := checkTrusted(filepath.Join(dir, f.Name)); err != nil {
			return err
		}
	}
	if err := fsx.MkdirAllUnder(root, dir, 0o755); err != nil {
		return fmt.Errorf("create hook directory: %w", err)
	}
	for i, f := range Files() {
		if sts[i].State == StateInstalled {
			continue
		}
		if err := fsx.WriteFileUnder(root, filepath.Join(dir, f.Name), f.Content, 0o644); err != nil {
			return fmt.Errorf("install hook: %w", err)
		}
	}
	return nil
}

// Remove deletes clp's hook files from dir (current or outdated ones) and
// returns their paths. Files that are not clp's, or that were edited, stay;
// they are returned as kept. Everything is done inside root.
func Remove(root, dir string) (removed, kept []string, err error) {
	sts, err := Status(root, dir)
	if err != nil {
		return nil, nil, err
	}
	for _, st := range sts {
		switch st.State {
		case StateInstalled, StateOutdated:
			if err := fsx.RemoveUnder(root, st.Path); err != nil {
				return removed, kept, fmt.Errorf("remove hook: %w", err)
			}
			removed = append(removed, st.Path)
		case StateForeign, StateModified:
			kept = append(kept, st.Path)
		}
	}
	if len(removed) > 0 {
		if err := fsx.SyncDirUnder(root, dir); err != nil {
			return removed, kept, err
		}
	}
	return removed, kept, nil
}

// PackageHookDir is where the clp package installs its hook files.
const PackageHookDir = "/usr/share/libalpm/hooks"

// Active reads the state of clp's hook files in the user's hook directory
// and in the package's, and which file pacman runs for each name ("" for
// none): pacman runs a file of the user's hook directory instead of the
// package's file of the same name.
func Active(root, userDir, packageDir string) (user, pkg []FileStatus, runs map[string]string, err error) {
	if user, err = Status(root, userDir); err != nil {
		return nil, nil, nil, err
	}
	if pkg, err = Status(root, packageDir); err != nil {
		return nil, nil, nil, err
	}
	runs = map[string]string{}
	for i, f := range user {
		switch {
		case f.State != StateMissing:
			if f.State == StateForeign {
				runs[f.Name] = "" // overridden (a /dev/null symlink or the user's own)
			} else {
				runs[f.Name] = f.Path
			}
		case pkg[i].State != StateMissing:
			runs[f.Name] = pkg[i].Path
		default:
			runs[f.Name] = ""
		}
	}
	return user, pkg, runs, nil
}
