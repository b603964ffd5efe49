package cache

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/vincentos/clp/internal/fsx"
	"github.com/vincentos/clp/pacman"
)

// DefaultCacheDir is pacman's cache when pacman.conf names none.
const DefaultCacheDir = "/var/cache/pacman/pkg/"

// Index is the package files found in cache directories, by package name.
type Index struct {
	// Dirs are the directories scanned, in the order given.
	Dirs []string
	// Skipped lists files and directories that were not taken, with why.
	Skipped []Skip
	byName  map[string][]Entry
}

// CacheDirs returns the cache directories of a resolved pacman
// configuration (pacman.conf read through pacman-conf, so Includes are
// honoured, with --root and --cachedir applied), in pacman's search order.
func CacheDirs(p *pacman.Paths) []string {
	if p == nil || len(p.CacheDirs) == 0 {
		return []string{DefaultCacheDir}
	}
	return slices.Clone(p.CacheDirs)
}

// ScanPaths indexes every cache directory of a resolved pacman
// configuration; with names, only those packages (see ScanFor).
// The directories are read inside the configuration's root.
func ScanPaths(p *pacman.Paths, names ...string) (*Index, error) {
	root := "/"
	if p != nil && p.Root != "" {
		root = p.Root
	}
	if len(names) > 0 {
		return ScanForUnder(root, CacheDirs(p), names...)
	}
	return scan(root, CacheDirs(p), nil)
}

// Scan indexes every package file in dirs. A file name that does not parse
// is listed in Skipped with the reason; one that ends like a package but
// whose name does not parse has its .PKGINFO read instead. A directory that
// does not exist is skipped (pacman creates cache directories lazily); one
// that cannot be read is an error, since silently missing a cache could
// hide the only copy of a known-good version.
func Scan(dirs []string) (*Index, error) {
	return scan("/", dirs, nil)
}

// ScanFor indexes only the files of the named packages. It reads names
// only (no stat) and parses only names that start with "NAME-", which is
// what keeps a lookup in a cache of tens of thousands of files as fast as
// find(1). Files of other packages sharing the prefix ("nvidia-utils-beta"
// for "nvidia-utils") are parsed and dropped.
func ScanFor(dirs []string, names ...string) (*Index, error) {
	return ScanForUnder("/", dirs, names...)
}

// ScanForUnder is ScanFor of dirs under the system root root: every
// directory is listed, and a package file read, anchored to it (fsx's
// *Under helpers), so a folder on the way swapped for a link out of the
// root makes the scan fail rather than offer another system's files.
func ScanForUnder(root string, dirs []string, names ...string) (*Index, error) {
	if len(names) == 0 {
		return &Index{Dirs: slices.Clone(dirs), byName: map[string][]Entry{}}, nil
	}
	return scan(root, dirs, names)
}

func scan(root string, dirs []string, only []string) (*Index, error) {
	ix := &Index{Dirs: slices.Clone(dirs), byName: map[string][]Entry{}}
	prefixes := make([]string, len(only))
	for i, n := range only {
		prefixes[i] = n + "-"
	}
	want := func(file string) bool {
		if only == nil {
			return true
		}
		for _, p := range prefixes {
			if strings.HasPrefix(file, p) {
				return true
			}
		}
		return false
	}
	seen := map[string]bool{}
	for _, dir := range dirs {
		var names []string
		var err error
		if only == nil {
			names, err = readNames(root, dir)
		} else {
			names, err = readNamesWithPrefix(root, dir, prefixes)
		}
		if errors.Is(err, fs.ErrNotExist) {
			ix.Skipped = append(ix.Skipped, Skip{File: dir, Reason: "cache directory does not exist"})
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read cache directory %s: %w", dir, err)
		}
		var files []string
		sigs := map[string]bool{}
		for _, n := range names {
			if !want(n) {
				continue
			}
			if strings.HasSuffix(n, ".sig") {
				sigs[strings.TrimSuffix(n, ".sig")] = true
				continue
			}
			files = append(files, n)
		}
		for _, n := range files {
			e, err := ParseFileName(n)
			e.Dir = dir
			if err != nil {
				if !strings.Contains(n, pkgTar) || strings.HasSuffix(n, ".part") {
					ix.Skipped = append(ix.Skipped, Skip{File: filepath.Join(dir, n), Reason: err.Error()})
					continue
				}
				// Looks like a package but the name is not makepkg's:
				// ask the package itself.
				e.File = n
				info, ierr := ReadPKGINFOUnder(root, e.Path())
				if ierr != nil {
					ix.Skipped = append(ix.Skipped, Skip{File: e.Path(), Reason: err.Error() + "; " + ierr.Error()})
					continue
				}
				e = reconcile(e, info)
			}
			if only != nil && !slices.Contains(only, e.Name) {
				continue
			}
			e.Sig = sigs[n]
			key := e.Name + "\x00" + e.Version + "\x00" + e.Arch
			if seen[key] {
				// Same package in an earlier directory; pacman would use
				// that one too.
				continue
			}
			seen[key] = true
			ix.byName[e.Name] = append(ix.byName[e.Name], e)
		}
	}
	for _, es := range ix.byName {
		SortNewestFirst(es)
	}
	return ix, nil
}

// readNames lists a directory's entry names without stat'ing them.
func readNames(root, dir string) ([]string, error) {
	f, err := fsx.OpenUnder(root, dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

// SortNewestFirst orders entries by version, newest first (pacman's
// vercmp), keeping the given order among equal versions.
func SortNewestFirst(es []Entry) {
	sort.SliceStable(es, func(i, j int) bool { return VerCmp(es[i].Version, es[j].Version) > 0 })
}

// Versions returns the entries of one package, newest first. The slice is
// the caller's to keep.
func (ix *Index) Versions(name string) []Entry {
	return slices.Clone(ix.byName[name])
}

// Find returns the entry of name at exactly version (the first cache
// directory's copy when several hold it).
func (ix *Index) Find(name, version string) (Entry, bool) {
	for _, e := range ix.byName[name] {
		if e.Version == version {
			return e, true
		}
	}
	return Entry{}, false
}

// Names lists the packages found, sorted.
func (ix *Index) Names() []string {
	names := make([]string, 0, len(ix.byName))
	for n := range ix.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
