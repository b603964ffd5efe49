package pacman

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/vincentos/clp/internal/fsx"
)

// ErrNoLocalDB: the database directory has no local/ database.
var ErrNoLocalDB = errors.New("no local package database")

// CheckLocalDB fails with ErrNoLocalDB when dbpath holds no local/
// database: clp never creates one, since a mistyped --root must not look
// like an empty system. root is the system root dbpath is under: the
// folder is looked at anchored to it.
func CheckLocalDB(root, dbpath string) error {
	st, err := fsx.StatUnder(root, filepath.Join(dbpath, "local"))
	if err == nil && st.IsDir() {
		return nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w in %s: %v", ErrNoLocalDB, dbpath, err)
	}
	return fmt.Errorf("%w in %s", ErrNoLocalDB, dbpath)
}

// LocalDBPath resolves the paths of o (reading pacman.conf itself, no
// pacman-conf process: cheap enough for a hook that runs on every
// transaction) and returns the database directory, checked to hold a local
// database.
func LocalDBPath(o Options) (string, error) {
	p, err := Resolve(o)
	if err != nil {
		return "", err
	}
	if err := CheckLocalDB(p.Root, p.DBPath); err != nil {
		return "", err
	}
	return p.DBPath, nil
}

// SplitNameVersion splits a local database entry's folder name,
// "name-pkgver-pkgrel", at its second-last dash, as libalpm's
// _alpm_splitname does; a dash at the start leaves no name (not ok).
func SplitNameVersion(s string) (name, version string, ok bool) {
	i := strings.LastIndexByte(s, '-')
	if i <= 0 {
		return "", "", false
	}
	j := strings.LastIndexByte(s[:i], '-')
	if j <= 0 {
		return "", "", false
	}
	return s[:j], s[j+1:], true
}
