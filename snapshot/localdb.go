package snapshot

import (
	"bufio"
	"bytes"
	"fmt"
	"hash/maphash"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vincentos/clp/internal/fsx"
	"github.com/vincentos/clp/pacman"
)

// ReadLocalDB reads the installed packages from pacman's local database
// directory (dbpath/local), read-only and without the database lock, for
// the pacman hooks, where speed matters most.
//
// Why not libalpm here: libalpm reads every package's desc file to answer
// the architecture and install reason, which costs a 2,000-package system
// more than the whole of `pacman -Qq` (which reads only the directory).
// But a package's name and version are in its directory name
// (name-pkgver-pkgrel), and its architecture and reason seldom change: so
// the directory is listed, and a desc file is read only for a package
// whose name-version is not in prev (the newest snapshot, taken at
// prevTime) or whose desc changed since prevTime (pacman -D rewrites it in
// place). The result is what libalpm would say (a test in cmd/clp checks
// it against libalpm on real pacman roots). The result is in name order,
// and is prev itself when nothing changed: callers only read it.
//
// The format read here is libalpm's local database version 9 (pacman 5.0
// and later): one directory per package holding a "desc" file of
// "%FIELD%" lines each followed by its value lines.
//
// root is the system root dbpath is under: the folder and every desc file
// are opened anchored to it (fsx's *Under helpers), so a folder on the way
// swapped for a link out of the root makes the read fail rather than
// describe another system; for the root "/" they are the plain opens.
//
// The stats are most of its cost (one path lookup per installed package,
// as `pacman -Qq` does too) and independent: they are shared between this
// goroutine and the listing's (LocalDBListing), as in the hooks.
func ReadLocalDB(root, dbpath string, prev []Pkg, prevTime time.Time) ([]Pkg, error) {
	l, err := listLocalDB(root, dbpath, !prevTime.IsZero())
	if err != nil {
		return nil, err
	}
	defer l.Close()
	return l.read(prev, prevTime)
}

// hintsFor says, for each name of the local database, which package of
// prev it names (its index, -1 for none): the same name and version. A
// zero prevTime uses none of prev. inOrder: prev is in name order.
func hintsFor(names []string, prev []Pkg, prevTime time.Time) (hint []int32, inOrder bool) {
	find, inOrder := lookupIn(prev)
	hint = make([]int32, len(names))
	for k := range hint {
		hint[k] = -1
	}
	if prevTime.IsZero() {
		return hint, inOrder
	}
	for k, n := range names {
		if name, version, ok := pacman.SplitNameVersion(n); ok {
			if i := find(name); i >= 0 && prev[i].Version == version {
				hint[k] = int32(i)
			}
		}
	}
	return hint, inOrder
}

// fromNames is the rest of ReadLocalDB, once hint[k] says which package
// of prev names[k] still is (-1: its desc is read).
func fromNames(root, dir string, names []string, hint []int32, prev []Pkg, inOrder bool) ([]Pkg, error) {
	var fresh []Pkg // the packages whose desc is read
	used := make([]bool, len(prev))
	nUsed := 0
	for k, n := range names {
		if n == "ALPM_DB_VERSION" {
			continue
		}
		if i := hint[k]; i >= 0 {
			if !used[i] {
				used[i] = true
				nUsed++
			}
			continue
		}
		name, version, ok := pacman.SplitNameVersion(n)
		if !ok {
			continue // libalpm skips such entries too
		}
		p, err := readDesc(root, filepath.Join(dir, n, "desc"))
		if err != nil {
			return nil, err
		}
		if p.Name != name || p.Version != version {
			return nil, fmt.Errorf("local database entry %s describes %s %s", n, p.Name, p.Version)
		}
		fresh = append(fresh, p)
	}
	sortByName(fresh)
	if nUsed == 0 {
		return fresh, nil
	}
	if !inOrder {
		out := make([]Pkg, 0, nUsed+len(fresh))
		for i, u := range used {
			if u {
				out = append(out, prev[i])
			}
		}
		out = append(out, fresh...)
		sortByName(out)
		return out, nil
	}
	// Nothing changed since prev (the common case of a pre hook): prev
	// is the answer, without a copy or a sort of 2,000 packages.
	if nUsed == len(prev) && len(fresh) == 0 {
		return prev, nil
	}
	// Otherwise the packages kept from prev, in its name order, merged
	// with the few read again.
	out := make([]Pkg, 0, nUsed+len(fresh))
	j := 0
	for i, u := range used {
		if !u {
			continue
		}
		for j < len(fresh) && fresh[j].Name < prev[i].Name {
			out = append(out, fresh[j])
			j++
		}
		out = append(out, prev[i])
	}
	return append(out, fresh[j:]...), nil
}

// lookupIn returns a lookup of prev by name (the index of the package, -1
// for none), and whether prev is in name order. A snapshot's list is: it
// is looked up through a small open-addressing table of its indexes (16
// KiB for 2,000 packages) keyed by a hash of the name, not copied into a
// map (2,000 entries of fresh memory, whose page faults a hook pays for)
// nor searched by halves (eleven string comparisons a package, most of
// ReadLocalDB's time after its system calls). As a binary search did, the
// lookup finds the first of two packages of one name.
func lookupIn(prev []Pkg) (find func(name string) int, inOrder bool) {
	if !slices.IsSortedFunc(prev, byName) {
		m := make(map[string]int, len(prev))
		for i := range prev {
			m[prev[i].Name] = i
		}
		return func(name string) int {
			if i, ok := m[name]; ok {
				return i
			}
			return -1
		}, false
	}
	size := 1
	for size < 2*len(prev) {
		size <<= 1
	}
	mask := uint64(size - 1)
	seed := maphash.MakeSeed()
	tab := make([]int32, size) // index+1 of a package; 0: free
	for i := range prev {
		h := maphash.String(seed, prev[i].Name) & mask
		for ; tab[h] != 0; h = (h + 1) & mask {
			if prev[tab[h]-1].Name == prev[i].Name {
				break
			}
		}
		if tab[h] == 0 {
			tab[h] = int32(i + 1)
		}
	}
	return func(name string) int {
		for h := maphash.String(seed, name) & mask; tab[h] != 0; h = (h + 1) & mask {
			if i := tab[h] - 1; prev[i].Name == name {
				return int(i)
			}
		}
		return -1
	}, true
}

func readDesc(root, path string) (Pkg, error) {
	data, err := fsx.ReadFileCappedUnder(root, path, fsx.SmallFileMax)
	if err != nil {
		return Pkg{}, fmt.Errorf("read local database: %w", err)
	}
	p := Pkg{Reason: ReasonExplicit}
	sc := bufio.NewScanner(bytes.NewReader(data))
	field := ""
	for sc.Scan() {
		l := sc.Text()
		if l == "" {
			field = ""
			continue
		}
		if field == "" {
			field = l
			continue
		}
		switch field {
		case "%NAME%":
			p.Name = l
		case "%VERSION%":
			p.Version = l
		case "%ARCH%":
			p.Arch = l
		case "%REASON%":
			if l == "1" {
				p.Reason = ReasonDependency
			}
		}
	}
	if p.Name == "" || p.Version == "" || p.Arch == "" {
		return Pkg{}, fmt.Errorf("local database: %s lacks %%NAME%%, %%VERSION%% or %%ARCH%%", path)
	}
	return p, nil
}

// LocalDBListing is ReadLocalDB's system calls started early, for the
// hooks: pacman's local database is listed and every desc file's
// modification time taken by another goroutine while the caller opens the
// snapshot store, whose newest snapshot ReadLocalDB compares them with.
// On two cores the listing and the store's reads then overlap, and the
// caller joins the stats once it is done. The answer is ReadLocalDB's:
// the same names, the same comparison of each desc's time with the
// previous snapshot's, the same reads of the descs that changed.
type LocalDBListing struct {
	root, dir string
	d         *os.File
	dirfd     int
	listed    chan struct{} // closed once names and err are set
	done      chan struct{} // closed once the other goroutine is done
	names     []string
	mtime     []int64 // of names[k]/desc; mtimeUnknown: read it again
	next      atomic.Int64
	err       error
	close     sync.Once
}

const (
	mtimeUnknown = math.MinInt64
	statChunk    = 64 // names a goroutine takes at a time
)

// ListLocalDB starts listing the local database of dbpath under root (the
// folder is opened now, anchored to root, as ReadLocalDB opens it). Close
// it when done with it.
func ListLocalDB(root, dbpath string) (*LocalDBListing, error) {
	return listLocalDB(root, dbpath, true)
}

// listLocalDB is ListLocalDB; with stat false the listing's goroutine only
// lists (no previous snapshot to compare the times with).
func listLocalDB(root, dbpath string, stat bool) (*LocalDBListing, error) {
	dir := filepath.Join(dbpath, "local")
	d, err := fsx.OpenUnder(root, dir)
	if err != nil {
		return nil, fmt.Errorf("read local database: %w", err)
	}
	l := &LocalDBListing{root: root, dir: dir, d: d, dirfd: int(d.Fd()), listed: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		l.names, l.err = d.Readdirnames(-1)
		if l.err == nil {
			l.mtime = make([]int64, len(l.names))
		}
		close(l.listed)
		if l.err == nil && stat {
			l.stat()
		}
	}()
	return l, nil
}

// stat takes the desc times of the names no goroutine took yet.
func (l *LocalDBListing) stat() {
	path := make([]byte, 0, 512)
	for {
		lo := int(l.next.Add(statChunk)) - statChunk
		if lo >= len(l.names) {
			return
		}
		for k := lo; k < min(lo+statChunk, len(l.names)); k++ {
			if m, err := descMtime(l.dirfd, l.names[k], &path); err == nil {
				l.mtime[k] = m
			} else {
				l.mtime[k] = mtimeUnknown
			}
		}
	}
}

// Close waits for the listing and closes the folder.
func (l *LocalDBListing) Close() {
	l.close.Do(func() {
		<-l.done
		l.d.Close()
	})
}

// read is ReadLocalDB's answer from the listing.
func (l *LocalDBListing) read(prev []Pkg, prevTime time.Time) ([]Pkg, error) {
	<-l.listed
	if l.err != nil {
		<-l.done
		return nil, fmt.Errorf("read local database %s: %w", l.dir, l.err)
	}
	// The names are matched with prev while the other goroutine stats,
	// then this one takes the stats not taken yet beside it.
	hint, inOrder := hintsFor(l.names, prev, prevTime)
	if !prevTime.IsZero() {
		l.stat()
	}
	<-l.done
	if !prevTime.IsZero() {
		// A desc written within 2 s of prevTime is read again: the
		// snapshot's time is taken after its packages were read.
		limit := prevTime.Add(-2 * time.Second).UnixNano()
		for k, i := range hint {
			if i >= 0 && (l.mtime[k] == mtimeUnknown || l.mtime[k] >= limit) {
				hint[k] = -1
			}
		}
	}
	return fromNames(l.root, l.dir, l.names, hint, prev, inOrder)
}
