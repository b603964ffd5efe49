package alpm

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	galpm "github.com/Jguer/go-alpm/v2"
	"github.com/vincentos/clp/pacman"
)

// Package is pacman.Package: what clp needs to know of one package, copied
// out of libalpm so that no cgo pointer escapes this package. The type lives
// in pacman so that the packages that query through an interface need no cgo.
type Package = pacman.Package

// ErrNoLocalDB: the database directory has no local/ database.
var ErrNoLocalDB = pacman.ErrNoLocalDB

// Handle is an open libalpm handle. It is not safe for concurrent use.
type Handle struct {
	Paths *pacman.Paths
	h     *galpm.Handle
}

// Open resolves the paths, initializes libalpm on them and registers the
// sync databases pacman.conf names. It fails with ErrNoLocalDB when the
// database directory has no local/ database: clp never creates one, since
// a mistyped --root must not look like an empty system.
func Open(o pacman.Options) (*Handle, error) {
	p, err := pacman.Resolve(o)
	if err != nil {
		return nil, err
	}
	return OpenPaths(p)
}

// OpenPaths opens libalpm on already resolved paths.
func OpenPaths(p *pacman.Paths) (*Handle, error) {
	if err := pacman.CheckLocalDB(p.Root, p.DBPath); err != nil {
		return nil, err
	}
	if err := Load(); err != nil {
		return nil, err
	}
	h, err := galpm.Initialize(p.Root, p.DBPath)
	if err != nil {
		return nil, fmt.Errorf("initialize libalpm (root %s, dbpath %s): %w", p.Root, p.DBPath, err)
	}
	for _, r := range p.Conf.Repos {
		// Signature levels only matter for syncing and installing, which
		// pacman does; for reading, checking nothing is correct.
		if _, err := h.RegisterSyncDB(r.Name, 0); err != nil {
			h.Release()
			return nil, fmt.Errorf("register sync database %s: %w", r.Name, err)
		}
	}
	return &Handle{Paths: p, h: h}, nil
}

// Close releases libalpm.
func (h *Handle) Close() error {
	if h == nil || h.h == nil {
		return nil
	}
	err := h.h.Release()
	h.h = nil
	return err
}

func copyPkg(p galpm.IPackage, repo string, deep bool) Package {
	out := Package{
		Name:     p.Name(),
		Version:  p.Version(),
		Arch:     p.Architecture(),
		Base:     p.Base(),
		Explicit: p.Reason() == galpm.PkgReasonExplicit,
		Repo:     repo,
	}
	if deep {
		for _, d := range p.Depends().Slice() {
			out.Depends = append(out.Depends, d.String())
		}
		for _, d := range p.Provides().Slice() {
			out.Provides = append(out.Provides, d.String())
		}
	}
	return out
}

// Installed lists the local database, sorted by name. Dependencies are not
// loaded (that would read every package's files twice); use Installed1.
func (h *Handle) Installed() ([]Package, error) {
	db, err := h.h.LocalDB()
	if err != nil {
		return nil, fmt.Errorf("open local database: %w", err)
	}
	var out []Package
	db.PkgCache().ForEach(func(p galpm.IPackage) error {
		out = append(out, copyPkg(p, "", false))
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// InstalledVersions lists the local database's names and versions only,
// sorted by name: libalpm knows both from the directory names, so unlike
// Installed this reads no package's desc file (what `pacman -Qq` costs).
func (h *Handle) InstalledVersions() ([]Package, error) {
	db, err := h.h.LocalDB()
	if err != nil {
		return nil, fmt.Errorf("open local database: %w", err)
	}
	var out []Package
	db.PkgCache().ForEach(func(p galpm.IPackage) error {
		out = append(out, Package{Name: p.Name(), Version: p.Version()})
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// CountInstalled counts the local database's packages.
func (h *Handle) CountInstalled() (int, error) {
	db, err := h.h.LocalDB()
	if err != nil {
		return 0, fmt.Errorf("open local database: %w", err)
	}
	n := 0
	db.PkgCache().ForEach(func(galpm.IPackage) error { n++; return nil })
	return n, nil
}

// Installed1 returns one installed package with its dependencies.
func (h *Handle) Installed1(name string) (Package, bool, error) {
	db, err := h.h.LocalDB()
	if err != nil {
		return Package{}, false, fmt.Errorf("open local database: %w", err)
	}
	p := db.Pkg(name)
	if p == nil {
		return Package{}, false, nil
	}
	return copyPkg(p, "", true), true, nil
}

// Sync returns the newest version of name offered by any sync database
// (first repository wins on equal versions, as pacman does).
func (h *Handle) Sync(name string) (Package, bool, error) {
	dbs, err := h.h.SyncDBs()
	if err != nil {
		return Package{}, false, fmt.Errorf("open sync databases: %w", err)
	}
	var best Package
	found := false
	dbs.ForEach(func(db galpm.IDB) error {
		if p := db.Pkg(name); p != nil {
			if !found || VerCmp(p.Version(), best.Version) > 0 {
				best, found = copyPkg(p, db.Name(), true), true
			}
		}
		return nil
	})
	return best, found, nil
}

// VerCmp compares two pacman versions like vercmp(8): <0, 0, >0.
func VerCmp(a, b string) int { return galpm.VerCmp(a, b) }

// LibalpmVersion is the version of the libalpm clp runs on. It loads
// libalpm.
func LibalpmVersion() string { return galpm.Version() }

// LibalpmMajor is LibalpmVersion's major number (0 if unreadable). It loads
// libalpm.
func LibalpmMajor() int {
	major, _ := strconv.Atoi(strings.SplitN(LibalpmVersion(), ".", 2)[0])
	return major
}

// pacman 7 (libalpm 15 and newer) resolves pacman.conf's directories and
// refuses missing ones; clp, built for that libalpm, runs that pacman, so
// its pacman.conf reader does the same (see pacman.ResolveDirs). The major
// is the soname's, known without loading libalpm: libalpm's soname is
// libalpm.so.MAJOR (TestSonameMajorIsLibalpms).
func init() { pacman.ResolveDirs = SonameMajor() >= 15 }
