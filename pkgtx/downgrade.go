package pkgtx

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/vincentos/clp/cache"
	"github.com/vincentos/clp/hooks"
	"github.com/vincentos/clp/internal/config"
	"github.com/vincentos/clp/internal/fail"
	"github.com/vincentos/clp/internal/fsx"
	"github.com/vincentos/clp/internal/report"
	"github.com/vincentos/clp/pacman"
)

// Query is what a package transaction reads of the installed packages
// (*alpm.Handle answers it; tests may fake it). Installed need not load
// dependencies; Installed1 must.
type Query interface {
	Installed() ([]pacman.Package, error)
	Installed1(name string) (pacman.Package, bool, error)
}

// Downgrader finds versions and moves packages on one installation. It
// reads through Query and is not safe for concurrent use.
type Downgrader struct {
	Query  Query
	Paths  *pacman.Paths
	Runner *pacman.Runner
	// Servers are the archive servers (clp.conf ArchiveServer); none
	// means the cache alone.
	Servers []string
	// MaxBytes caps one download (clp.conf MaxDownloadSize).
	MaxBytes int64
	// StateDir is clp's state directory: the guard's allow file goes
	// there (downloads go to pacman's cache, see Fetch).
	StateDir string
	Client   *cache.Client
	Reporter report.Reporter

	idx      *cache.Index
	scanned  map[string]bool
	archive  map[string]archiveResult
	infos    map[string]*cache.PkgInfo
	local    map[string]pacman.Package // shallow, every installed package
	deep     map[string]pacman.Package
	localErr error
}

type archiveResult struct {
	entries []cache.Entry
	err     error
	// none: every archive server answered 404 for the package (an AUR
	// or custom package); not an error, the cache's versions stand.
	none bool
}

// New makes a Downgrader for the installation at paths, read through q and
// changed through runner, with the archive servers and download cap of cfg.
func New(q Query, paths *pacman.Paths, runner *pacman.Runner, cfg *config.Config, stateDir string, rep report.Reporter) *Downgrader {
	if cfg == nil {
		cfg = config.Default()
	}
	return &Downgrader{
		Query: q, Paths: paths, Runner: runner, Servers: cfg.ArchiveServers, MaxBytes: cfg.MaxDownloadBytes,
		StateDir: stateDir, Client: &cache.Client{Reporter: rep}, Reporter: report.Or(rep),
	}
}

// ArchiveError is an archive server that could not be asked. It is never
// the same as "no older versions".
type ArchiveError struct {
	Name string
	Err  error
}

func (e *ArchiveError) Error() string {
	return fmt.Sprintf("cannot list %s on the archive server: %v", e.Name, e.Err)
}

func (e *ArchiveError) Unwrap() error { return e.Err }

// Version is one version of a package that can be installed.
type Version struct {
	Version string `json:"version"`
	Arch    string `json:"arch"`
	File    string `json:"file"`
	// Cached is the file's path in a cache directory ("" if not cached).
	Cached string `json:"cached,omitempty"`
	// URL is where the archive server offers it ("" if not listed there).
	URL             string `json:"url,omitempty"`
	Installed       bool   `json:"installed"`
	InstalledBefore bool   `json:"installed_before"`
	// Date is the build date of a cached file (its .PKGINFO's
	// builddate), else the archive listing's date; nil when unknown.
	Date *time.Time `json:"date,omitempty"`
	// Size is the package file's size in bytes (the cached file's, else
	// the archive listing's); 0 when unknown.
	Size int64 `json:"size,omitempty"`

	entry cache.Entry
}

// Listing is every version of one package found, newest first.
type Listing struct {
	Name      string    `json:"name"`
	Installed string    `json:"installed,omitempty"`
	Versions  []Version `json:"versions"`
	// ArchiveError says why the archive's versions are missing (the
	// listing then holds the cache's alone).
	ArchiveError string `json:"archive_error,omitempty"`
	// ArchiveNone says that the archive servers answered 404 for the
	// package: they do not have it (an AUR or custom package). The
	// listing holds the cache's versions; this is not an error.
	ArchiveNone bool `json:"archive_none,omitempty"`
}

// Find returns the listed version v.
func (l *Listing) Find(v string) (Version, bool) {
	for _, x := range l.Versions {
		if x.Version == v {
			return x, true
		}
	}
	return Version{}, false
}

// LatestCachedBelowInstalled is the newest cached version older than the
// installed one: what --latest-cached picks.
func (l *Listing) LatestCachedBelowInstalled() (Version, bool) {
	for _, x := range l.Versions {
		if x.Cached != "" && (l.Installed == "" || cache.VerCmp(x.Version, l.Installed) < 0) {
			return x, true
		}
	}
	return Version{}, false
}

func (d *Downgrader) rep() report.Reporter { return report.Or(d.Reporter) }

// scan indexes the cache directories for names (once per Downgrader: a
// name asked later is scanned then).
func (d *Downgrader) scan(names ...string) (*cache.Index, error) {
	missing := d.idx == nil
	for _, n := range names {
		if !d.scanned[n] {
			missing = true
		}
	}
	if !missing {
		return d.idx, nil
	}
	if d.scanned == nil {
		d.scanned = map[string]bool{}
	}
	for _, n := range names {
		d.scanned[n] = true
	}
	all := make([]string, 0, len(d.scanned))
	for n := range d.scanned {
		all = append(all, n)
	}
	ix, err := cache.ScanForUnder(d.root(), d.cacheDirs(), all...)
	if err != nil {
		return nil, err
	}
	d.idx = ix
	return ix, nil
}

func (d *Downgrader) cacheDirs() []string { return cache.CacheDirs(d.Paths) }

// listArchive lists name on the archive servers, once.
func (d *Downgrader) listArchive(ctx context.Context, name string) ([]cache.Entry, error) {
	if len(d.Servers) == 0 {
		return nil, nil
	}
	if d.archive == nil {
		d.archive = map[string]archiveResult{}
	}
	if r, ok := d.archive[name]; ok {
		return r.entries, r.err
	}
	es, err := d.Client.ListArchives(ctx, d.Servers, name)
	r := archiveResult{entries: es}
	switch {
	case errors.Is(err, cache.ErrPackageNotInArchive):
		r.none = true
	case err != nil:
		r.err = &ArchiveError{Name: name, Err: err}
	}
	d.archive[name] = r
	return r.entries, r.err
}

// notInArchive reports that the archive servers answered 404 for name.
func (d *Downgrader) notInArchive(name string) bool { return d.archive[name].none }

// List returns the versions of name in the cache and, with archive, on
// the archive servers, newest first, marking the installed one and those
// pacman.log says were installed before. An archive server that fails
// gives an *ArchiveError together with the cache's listing.
func (d *Downgrader) List(ctx context.Context, name string, archive bool) (*Listing, error) {
	ix, err := d.scan(name)
	if err != nil {
		return nil, err
	}
	l := &Listing{Name: name, Versions: []Version{}}
	if p, ok, err := d.installed(name); err != nil {
		return nil, err
	} else if ok {
		l.Installed = p.Version
	}
	byVersion := map[string]int{}
	add := func(e cache.Entry) {
		i, ok := byVersion[e.Version]
		if !ok {
			l.Versions = append(l.Versions, Version{Version: e.Version, Arch: e.Arch, File: e.File, entry: e})
			i = len(l.Versions) - 1
			byVersion[e.Version] = i
		}
		v := &l.Versions[i]
		if e.Dir != "" && v.Cached == "" {
			v.Cached = e.Path()
			v.entry = e
		}
		if e.URL != "" && v.URL == "" {
			v.URL = e.URL
			if v.Cached == "" {
				if !e.Date.IsZero() {
					t := e.Date
					v.Date = &t
				}
				v.Size = e.Size
			}
		}
	}
	for _, e := range ix.Versions(name) {
		add(e)
	}
	var archErr error
	if archive {
		es, err := d.listArchive(ctx, name)
		if err != nil {
			archErr = err
			l.ArchiveError = err.Error()
		}
		for _, e := range es {
			add(e)
		}
		l.ArchiveNone = d.notInArchive(name)
	}
	sort.SliceStable(l.Versions, func(i, j int) bool { return cache.VerCmp(l.Versions[i].Version, l.Versions[j].Version) > 0 })
	hist, err := History(d.root(), d.Paths.LogFile, name)
	if err != nil {
		return nil, err
	}
	for i := range l.Versions {
		v := &l.Versions[i]
		v.Installed = v.Version == l.Installed
		v.InstalledBefore = !v.Installed && hist[name][v.Version]
		if v.Cached != "" {
			d.describeCached(v)
		}
	}
	return l, archErr
}

// describeCached fills in a cached version's size and build date. A file
// that cannot be read leaves them unknown: the listing still shows it, and
// Check refuses it if it is chosen.
func (d *Downgrader) describeCached(v *Version) {
	if fi, err := fsx.StatUnder(d.root(), v.Cached); err == nil {
		v.Size = fi.Size()
	}
	v.Date = nil
	if pi, err := d.pkginfo(v.Cached); err == nil && pi != nil && !pi.BuildDate.IsZero() {
		t := pi.BuildDate
		v.Date = &t
	}
}

// Match returns the versions that satisfy constraint (">=1.2", "<2",
// "=1.0"), compared as pacman compares versions; "" matches every one.
func (l *Listing) Match(constraint string) ([]Version, error) {
	if constraint == "" {
		return l.Versions, nil
	}
	var out []Version
	for _, v := range l.Versions {
		ok, err := cache.SatisfiesConstraint(v.Version, constraint)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, v)
		}
	}
	return out, nil
}

func (d *Downgrader) loadLocal() error {
	if d.local != nil || d.localErr != nil {
		return d.localErr
	}
	pkgs, err := d.Query.Installed()
	if err != nil {
		d.localErr = err
		return err
	}
	d.local = map[string]pacman.Package{}
	for _, p := range pkgs {
		d.local[p.Name] = p
	}
	d.deep = map[string]pacman.Package{}
	return nil
}

func (d *Downgrader) installed(name string) (pacman.Package, bool, error) {
	if d.local == nil {
		// One package: no need to read the whole local database (a
		// listing must stay as quick as find(1) on a big system).
		p, ok, err := d.Query.Installed1(name)
		return p, ok, err
	}
	p, ok := d.local[name]
	return p, ok, nil
}

// installedDeep returns an installed package with its dependencies.
func (d *Downgrader) installedDeep(name string) (pacman.Package, error) {
	if p, ok := d.deep[name]; ok {
		return p, nil
	}
	p, _, err := d.Query.Installed1(name)
	if err != nil {
		return p, err
	}
	d.deep[name] = p
	return p, nil
}

// Target is a package and the version asked for.
type Target struct {
	Name    string
	Version string
}

// Move is one package of the transaction.
type Move struct {
	Name string `json:"name"`
	// From is the installed version ("" when not installed).
	From string `json:"from,omitempty"`
	To   string `json:"to"`
	File string `json:"file"`
	// Source is the cache path or archive URL the file comes from.
	Source string `json:"source"`
	// SHA256, when set, is what the file must hash to (a patch pins it).
	SHA256 string `json:"sha256,omitempty"`
	// Why says why the package moves: "requested", or the package and
	// dependency that pulled it in.
	Why string `json:"why"`
	// Path is the local file once Fetch has it.
	Path string `json:"-"`
	// downloaded: Fetch put Path (and its .sig) in the cache; Discard
	// takes it out again.
	downloaded bool

	entry cache.Entry
}

// Plan is one pacman -U: every package that moves, in a stable order.
type Plan struct {
	Moves []*Move `json:"moves"`
}

// Names lists the packages of the plan.
func (p *Plan) Names() []string {
	var out []string
	for _, m := range p.Moves {
		out = append(out, m.Name)
	}
	return out
}

// MissingError is a package the plan needs at a version that is nowhere
// to be found.
type MissingError struct {
	Name, Version string
	Why           string
	Where         string
	Archive       error
	// ArchiveNone: the archive servers have no such package (HTTP 404).
	ArchiveNone bool
}

func (e *MissingError) Error() string {
	s := fmt.Sprintf("%s %s is not available: not in the cache (%s)", e.Name, e.Version, e.Where)
	if e.Archive != nil {
		s += ", and " + e.Archive.Error()
	} else if e.ArchiveNone {
		s += ", and the archive server has no " + e.Name + " at all (HTTP 404)"
	} else {
		s += " nor on the archive server"
	}
	if e.Why != "" && e.Why != "requested" {
		s = fmt.Sprintf("%s must move too (%s), but %s", e.Name, e.Why, s)
	}
	return s
}

func (e *MissingError) Unwrap() error { return e.Archive }

// find returns name at version from the cache, else the archive.
func (d *Downgrader) find(ctx context.Context, name, version, why string) (cache.Entry, error) {
	ix, err := d.scan(name)
	if err != nil {
		return cache.Entry{}, err
	}
	if e, ok := ix.Find(name, version); ok {
		return e, nil
	}
	es, aerr := d.listArchive(ctx, name)
	for _, e := range es {
		if e.Version == version {
			return e, nil
		}
	}
	return cache.Entry{}, &MissingError{Name: name, Version: version, Why: why, Where: strings.Join(d.cacheDirs(), ", "), Archive: aerr, ArchiveNone: d.notInArchive(name)}
}

// candidates returns every known version of name, cache first.
func (d *Downgrader) candidates(ctx context.Context, name string) ([]cache.Entry, error) {
	ix, err := d.scan(name)
	if err != nil {
		return nil, err
	}
	out := ix.Versions(name)
	es, aerr := d.listArchive(ctx, name)
	out = append(out, es...)
	cache.SortNewestFirst(out)
	return out, aerr
}

// pkginfo reads a local entry's .PKGINFO (nil for an archive entry not
// downloaded yet).
func (d *Downgrader) pkginfo(path string) (*cache.PkgInfo, error) {
	if path == "" {
		return nil, nil
	}
	if d.infos == nil {
		d.infos = map[string]*cache.PkgInfo{}
	}
	if pi, ok := d.infos[path]; ok {
		return pi, nil
	}
	pi, err := cache.ReadPKGINFOUnder(d.root(), path)
	if err != nil {
		return nil, err
	}
	d.infos[path] = pi
	return pi, nil
}

func localPath(m *Move) string {
	if m.Path != "" {
		return m.Path
	}
	return m.entry.Path()
}

// splitDep splits "name>=1.0" into name and constraint.
func splitDep(dep string) (string, string) {
	if i := strings.IndexAny(dep, "<>="); i >= 0 {
		return dep[:i], dep[i:]
	}
	return dep, ""
}

func satisfies(version, constraint string) bool {
	ok, err := cache.SatisfiesConstraint(version, constraint)
	return err == nil && ok
}

// Plan resolves targets into one transaction: each target at its version,
// plus every package that must move with it (see moveTogether). It changes
// nothing; an archive file is only listed, not fetched.
func (d *Downgrader) Plan(ctx context.Context, targets []Target) (*Plan, error) {
	if err := d.loadLocal(); err != nil {
		return nil, err
	}
	var names []string
	for _, t := range targets {
		names = append(names, t.Name)
	}
	if _, err := d.scan(names...); err != nil {
		return nil, err
	}
	set := map[string]*Move{}
	var order []string
	add := func(name, version, why string) error {
		e, err := d.find(ctx, name, version, why)
		if err != nil {
			return err
		}
		m := &Move{Name: name, To: version, File: e.File, Source: e.Where(), Why: why, entry: e}
		if p, ok := d.local[name]; ok {
			m.From = p.Version
		}
		set[name] = m
		order = append(order, name)
		return nil
	}
	for _, t := range targets {
		if _, dup := set[t.Name]; dup {
			return nil, fmt.Errorf("%s is named twice", t.Name)
		}
		if err := add(t.Name, t.Version, "requested"); err != nil {
			return nil, err
		}
	}
	for {
		need, err := d.moveTogether(ctx, set)
		if err != nil {
			return nil, err
		}
		if len(need) == 0 {
			break
		}
		for _, n := range need {
			if _, ok := set[n.Name]; ok {
				continue
			}
			if err := add(n.Name, n.Version, n.Why); err != nil {
				return nil, err
			}
		}
	}
	p := &Plan{}
	for _, n := range order {
		p.Moves = append(p.Moves, set[n])
	}
	return p, nil
}

type need struct{ Name, Version, Why string }

// moveTogether finds what must join set so that pacman's dependency check
// passes: installed packages of the same pkgbase at the same version (split
// packages share their version), installed packages whose versioned
// dependency on a moving package would break (nvidia-dkms depends on
// nvidia-utils=VERSION), and installed dependencies of a moving package
// whose new version asks for another version of them. A conflict it cannot
// resolve is an error naming both packages.
func (d *Downgrader) moveTogether(ctx context.Context, set map[string]*Move) ([]need, error) {
	var out []need
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	sort.Strings(names)
	// Same pkgbase, same installed version: move to the same version.
	for _, n := range names {
		m := set[n]
		cur, ok := d.local[n]
		if !ok || cur.Base == "" {
			continue
		}
		for _, p := range d.local {
			if _, in := set[p.Name]; in || p.Base != cur.Base || p.Version != cur.Version {
				continue
			}
			out = append(out, need{p.Name, m.To, fmt.Sprintf("it is built from the same pkgbase %s as %s", cur.Base, n)})
		}
	}
	// Installed packages whose dependencies the new versions break.
	local := make([]string, 0, len(d.local))
	for n := range d.local {
		local = append(local, n)
	}
	sort.Strings(local)
	for _, ln := range local {
		if _, in := set[ln]; in {
			continue
		}
		p, err := d.installedDeep(ln)
		if err != nil {
			return nil, err
		}
		for _, dep := range p.Depends {
			dn, c := splitDep(dep)
			m, ok := set[dn]
			if !ok || satisfies(m.To, c) {
				continue
			}
			out = append(out, need{ln, m.To, fmt.Sprintf("%s %s depends on %s", ln, p.Version, dep)})
		}
	}
	// Dependencies the new versions ask for.
	for _, n := range names {
		m := set[n]
		pi, err := d.pkginfo(localPath(m))
		if err != nil {
			return nil, err
		}
		if pi == nil {
			continue
		}
		for _, dep := range pi.Depends {
			dn, c := splitDep(dep)
			if o, ok := set[dn]; ok {
				if !satisfies(o.To, c) {
					return nil, fmt.Errorf("%s %s depends on %s, but %s moves to %s", n, m.To, dep, dn, o.To)
				}
				continue
			}
			cur, ok := d.local[dn]
			if !ok || satisfies(cur.Version, c) {
				continue
			}
			// Prefer the same version (split packages), else the
			// newest that satisfies.
			v := ""
			if satisfies(m.To, c) {
				v = m.To
			} else {
				cands, aerr := d.candidates(ctx, dn)
				for _, e := range cands {
					if satisfies(e.Version, c) {
						v = e.Version
						break
					}
				}
				if v == "" {
					return nil, &MissingError{Name: dn, Version: strings.TrimLeft(c, "<>="), Why: fmt.Sprintf("%s %s depends on %s", n, m.To, dep), Where: strings.Join(d.cacheDirs(), ", "), Archive: aerr, ArchiveNone: d.notInArchive(dn)}
				}
			}
			out = append(out, need{dn, v, fmt.Sprintf("%s %s depends on %s", n, m.To, dep)})
		}
	}
	return out, nil
}

// Fetch makes every file of the plan local: a cache file is used where it
// is; an archive file is downloaded (with its .sig beside it) into
// pacman's package cache, the first CacheDir, resumably, capped and with
// transient failures retried, so that the next listing finds it there and
// nothing is downloaded twice. A cache directory that is not safe to
// download into (another user may write to it) is reported and
// <state>/downloads is used instead. A pinned sha256 is checked by Check,
// not here, so that a cache file is checked too.
func (d *Downgrader) Fetch(ctx context.Context, p *Plan) error {
	dir := ""
	for _, m := range p.Moves {
		if m.Path != "" {
			continue
		}
		if m.entry.Dir != "" {
			m.Path = m.entry.Path()
			continue
		}
		if dir == "" {
			dir = d.downloadDir()
		}
		d.rep().Step(fmt.Sprintf("downloading %s", m.File))
		path, err := d.Client.Download(ctx, m.entry, dir, cache.DownloadOptions{
			Servers: d.Servers, MaxBytes: d.MaxBytes, SHA256: m.SHA256, Root: d.root(),
		})
		if err != nil {
			d.Discard(p)
			return err
		}
		m.Path, m.downloaded = path, true
	}
	return nil
}

// Discard removes the files (and .sig files) Fetch downloaded for p, after
// a transaction that failed or was refused: pacman's cache is left as it
// was, and a file pacman refused (a bad signature) is not offered again as
// cached. A partial download (FILE.part) stays, for the next try to resume.
func (d *Downgrader) Discard(p *Plan) {
	for _, m := range p.Moves {
		if !m.downloaded {
			continue
		}
		for _, f := range []string{m.Path, m.Path + ".sig"} {
			if err := fsx.RemoveUnder(d.root(), f); err != nil && !errors.Is(err, os.ErrNotExist) {
				d.rep().Warn(fmt.Sprintf("cannot remove %s: %v", f, err))
			}
		}
		m.Path, m.downloaded = "", false
	}
}

// root is the system root the downgrader works under ("/" without Paths).
func (d *Downgrader) root() string {
	if d.Paths == nil {
		return "/"
	}
	return d.Paths.Root
}

// downloadDir is pacman's first CacheDir, or <state>/downloads when there
// is none or it is not safe to download into.
func (d *Downgrader) downloadDir() string {
	fallback := filepath.Join(d.StateDir, "downloads")
	dirs := d.cacheDirs()
	if len(dirs) == 0 {
		return fallback
	}
	if err := cache.CheckStaging(d.root(), dirs[0]); err != nil {
		d.rep().Warn(fmt.Sprintf("not downloading into pacman's cache: %v; using %s", err, fallback))
		return fallback
	}
	return dirs[0]
}

// Check proves, before pacman runs, that every file is there, is the
// package and version it claims to be (its .PKGINFO), hashes to the pinned
// sha256 where there is one, and that the whole set still resolves once
// every .PKGINFO is known. What fails is a failed verification
// (fail.ErrVerify).
func (d *Downgrader) Check(ctx context.Context, p *Plan) error {
	if err := d.check(ctx, p); err != nil {
		return fail.Verify(err, "")
	}
	return nil
}

func (d *Downgrader) check(ctx context.Context, p *Plan) error {
	set := map[string]*Move{}
	for _, m := range p.Moves {
		if m.Path == "" {
			return fmt.Errorf("%s %s: file not fetched", m.Name, m.To)
		}
		if m.SHA256 != "" {
			got, err := fsx.SHA256FileUnder(d.root(), m.Path)
			if err != nil {
				return fmt.Errorf("%s %s: %w", m.Name, m.To, err)
			}
			if got != m.SHA256 {
				return fmt.Errorf("%s: sha256 mismatch: expected %s, got %s (the file is not the package the patch names)", m.Path, m.SHA256, got)
			}
		}
		pi, err := d.pkginfo(m.Path)
		if err != nil {
			return fmt.Errorf("%s %s: %w", m.Name, m.To, err)
		}
		if pi.Name != m.Name || pi.Version != m.To {
			return fmt.Errorf("%s: the file holds %s %s, not %s %s", m.Path, pi.Name, pi.Version, m.Name, m.To)
		}
		set[m.Name] = m
	}
	need, err := d.moveTogether(ctx, set)
	if err != nil {
		return err
	}
	for _, n := range need {
		if _, ok := set[n.Name]; !ok {
			return fmt.Errorf("%s must move too (%s): it is not in this transaction", n.Name, n.Why)
		}
	}
	return nil
}

// Run installs the plan's files in one pacman -U. The guard hook is told
// (hooks.WriteAllow) that these packages are clp's own change.
func (d *Downgrader) Run(ctx context.Context, p *Plan, why string) error {
	var files []string
	for _, m := range p.Moves {
		if m.Path == "" {
			return fmt.Errorf("%s %s: file not fetched", m.Name, m.To)
		}
		files = append(files, m.Path)
	}
	return runPacman(ctx, d.Runner, d.StateDir, p.Names(), why, files)
}

func runPacman(ctx context.Context, r *pacman.Runner, stateDir string, names []string, why string, files []string) error {
	if len(files) == 0 {
		return nil
	}
	remove, err := hooks.WriteAllow(r.Paths.Root, stateDir, names, why, 30*time.Minute)
	if err != nil {
		return err
	}
	err = r.Run(ctx, []string{"-U"}, files...)
	if rerr := remove(); err == nil {
		err = rerr
	}
	var pe *pacman.PacmanError
	if errors.As(err, &pe) {
		return fmt.Errorf("pacman -U %s: %w", strings.Join(names, " "), err)
	}
	return err
}
