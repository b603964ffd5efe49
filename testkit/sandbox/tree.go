package sandbox

import (
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/vincentos/clp/internal/fsx"
)

// Entry is what TreeState records of one path: enough to tell that a
// refused command changed nothing (content, type, mode, owner, xattrs).
type Entry struct {
	Mode   fs.FileMode
	UID    int
	GID    int
	SHA256 string // regular files
	Link   string // symlinks
	Xattrs string // sorted name=value pairs
}

func (e Entry) String() string {
	return fmt.Sprintf("%v uid=%d gid=%d sha256=%s link=%q xattrs=%q", e.Mode, e.UID, e.GID, e.SHA256, e.Link, e.Xattrs)
}

// Tree maps a slash path relative to the walked directory to its Entry.
type Tree map[string]Entry

// TreeState walks dir and records every entry. Paths for which skip returns
// true (relative slash paths) are left out with their subtrees.
func TreeState(dir string, skip func(rel string) bool) (Tree, error) {
	t := Tree{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if skip != nil && rel != "." && skip(rel) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		e := Entry{Mode: fi.Mode(), UID: int(st.Uid), GID: int(st.Gid), Xattrs: xattrs(p)}
		switch {
		case fi.Mode().IsRegular():
			e.SHA256, err = fsx.SHA256File(p)
			if err != nil {
				return err
			}
		case fi.Mode()&fs.ModeSymlink != 0:
			e.Link, _ = os.Readlink(p)
		}
		if fi.IsDir() {
			// A directory's own mode and owner count; its mtime does not.
			e.SHA256 = ""
		}
		t[rel] = e
		return nil
	})
	return t, err
}

// Diff lists how b differs from a, one line per path; empty means equal.
func (a Tree) Diff(b Tree) []string {
	var out []string
	for p, ea := range a {
		eb, ok := b[p]
		switch {
		case !ok:
			out = append(out, "removed: "+p)
		case ea != eb:
			out = append(out, fmt.Sprintf("changed: %s: %s -> %s", p, ea, eb))
		}
	}
	for p := range b {
		if _, ok := a[p]; !ok {
			out = append(out, "added: "+p)
		}
	}
	sort.Strings(out)
	return out
}

func xattrs(p string) string {
	buf := make([]byte, 4096)
	n, err := unix.Llistxattr(p, buf)
	if err != nil || n == 0 {
		return ""
	}
	var pairs []string
	for _, name := range strings.Split(strings.TrimRight(string(buf[:n]), "\x00"), "\x00") {
		val := make([]byte, 4096)
		m, err := unix.Lgetxattr(p, name, val)
		if err != nil {
			continue
		}
		pairs = append(pairs, name+"="+hex.EncodeToString(val[:m]))
	}
	sort.Strings(pairs)
	return strings.Join(pairs, ",")
}
