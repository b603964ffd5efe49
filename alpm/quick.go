package alpm

import (
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/vincentos/clp/internal/fsx"
	"github.com/vincentos/clp/pacman"
)

// InstalledVersionsAt is Handle.InstalledVersions on the paths p, for a
// caller that needs nothing else of libalpm (clp status). It reads the
// local database's directory itself when the database is regular, and
// asks libalpm otherwise, so the answer, and every error, is libalpm's.
//
// Why: libalpm looks up every package's directory path once more after
// listing them (2,000 path lookups for 2,000 packages, most of what `clp
// status` cost besides starting), and a package's name and version are
// already in its directory's name (name-pkgver-pkgrel), which is all
// libalpm reads of it at that point too.
func InstalledVersionsAt(p *pacman.Paths) ([]Package, error) {
	if pkgs, ok := readLocalNames(p); ok {
		return pkgs, nil
	}
	h, err := OpenPaths(p)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	return h.InstalledVersions()
}

// localDBVersion is the local database format libalpm 13 to 16 (pacman
// 5.0 to 7.1) read and write, kept in local/ALPM_DB_VERSION.
const localDBVersion = "9"

// readLocalNames lists dbpath/local as libalpm's local database reader does
// (be_local.c, local_db_populate): every directory is a package named
// name-pkgver-pkgrel, split at its second-last dash. ok is false for
// anything less than regular, where libalpm would fail, log, skip or
// change something, or where this reader cannot tell what it would do:
// libalpm's own handle is used then. Irregular are: a root or database
// directory that is not a directory; a sync database name libalpm refuses
// ("", "local", one named twice); a missing, unreadable or other version
// of ALPM_DB_VERSION (libalpm refuses the database, or writes the file into
// an empty one); a symbolic link in local/ (libalpm follows it only where
// the file system gives no entry types); a directory name without two
// dashes, or a package name seen twice (libalpm skips them, with an error
// in its log).
func readLocalNames(p *pacman.Paths) ([]Package, bool) {
	for _, d := range []string{p.Root, p.DBPath} {
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			return nil, false
		}
	}
	if p.Conf == nil {
		return nil, false
	}
	repos := map[string]bool{}
	for _, r := range p.Conf.Repos {
		if r.Name == "" || r.Name == "local" || repos[r.Name] {
			return nil, false
		}
		repos[r.Name] = true
	}
	// Read inside the root (a database under a mounted root: a folder on
	// the way swapped for a link out of it is refused, and libalpm's own
	// handle, which clp cannot anchor, says what it says).
	dir := filepath.Join(p.DBPath, "local")
	if v, err := fsx.ReadFileCappedUnder(p.Root, filepath.Join(dir, "ALPM_DB_VERSION"), 64); err != nil || strings.TrimSpace(string(v)) != localDBVersion {
		return nil, false
	}
	d, err := fsx.OpenUnder(p.Root, dir)
	if err != nil {
		return nil, false
	}
	defer d.Close()
	// Directory order, as libalpm reads it (os.ReadDir would sort).
	ents, err := fsx.ReadDirFile(d)
	if err != nil {
		return nil, false
	}
	out := make([]Package, 0, len(ents))
	seen := make(map[string]bool, len(ents))
	for _, e := range ents {
		switch t := e.Type(); {
		case t&os.ModeSymlink != 0:
			return nil, false
		case !t.IsDir():
			continue
		}
		name, version, ok := pacman.SplitNameVersion(e.Name())
		if !ok || seen[name] {
			return nil, false
		}
		seen[name] = true
		out = append(out, Package{Name: name, Version: version})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, true
}
