package pkgtx

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/vincentos/clp/cache"
	"github.com/vincentos/clp/hooks"
	"github.com/vincentos/clp/internal/config"
	"github.com/vincentos/clp/internal/fail"
	"github.com/vincentos/clp/internal/report"
	"github.com/vincentos/clp/pacman"
	"github.com/vincentos/clp/snapshot"
)

// Restorer takes the installed packages back to a snapshot's package set
// on one installation: `clp snapshot restore` and the boot guard.
type Restorer struct {
	Query  Query
	Paths  *pacman.Paths
	Runner *pacman.Runner
	Store  *snapshot.Store
	// StateDir is clp's state directory (downloads, the guard's allow file).
	StateDir string
	// Config reads clp.conf's ArchiveServer and MaxDownloadSize; it is
	// asked only when the cache lacks a file, so a restore from the cache
	// never depends on it.
	Config   func() (*config.Config, error)
	Client   *cache.Client
	Reporter report.Reporter
	// Why names the restore in the guard's allow file ("clp snapshot
	// restore N" when empty).
	Why string
}

// RestoreFile is one package file a restore installs: a cache file, or an
// archive file that has a Path only once downloaded.
type RestoreFile struct {
	snapshot.PkgRef
	Path string `json:"path"`
	// URL is where the archive server lists the file ("" for a cache file).
	URL string `json:"url,omitempty"`

	entry cache.Entry
}

// Restore is a checked restore plan: every file is found, the pins allow
// it. Nothing has changed yet.
type Restore struct {
	Target  snapshot.Snapshot
	Current []snapshot.Pkg
	Plan    snapshot.Plan
	Changes []snapshot.Change
	Files   []RestoreFile
	// Allow are the pinned packages the restore puts exactly at their
	// pinned version: the guard hook lets clp's own call through.
	Allow []string
	// Pre is the restore-pre snapshot, once Apply recorded it.
	Pre int

	servers  []string
	maxBytes int64
}

// Empty reports whether the installed packages already match.
func (r *Restore) Empty() bool { return r.Plan.Empty() }

// FromArchive counts the files that must be downloaded.
func (r *Restore) FromArchive() int {
	n := 0
	for _, f := range r.Files {
		if f.URL != "" {
			n++
		}
	}
	return n
}

// Undo says how to go back once the restore-pre snapshot exists.
func (r *Restore) Undo() string {
	return fmt.Sprintf("snapshot %d holds the state before the restore: 'clp snapshot restore %d' goes back to it", r.Pre, r.Pre)
}

// Restore plans and applies the restore of snapshot id with no question
// asked: the one call the boot guard makes.
func (x *Restorer) Restore(ctx context.Context, id int) (*Restore, error) {
	r, err := x.Plan(ctx, id)
	if err != nil || r.Empty() {
		return r, err
	}
	return r, x.Apply(ctx, r)
}

// Plan checks, before anything changes, everything that can refuse a
// restore to snapshot id: every package file is in the cache or listed on
// the archive servers, and no pin would be broken.
func (x *Restorer) Plan(ctx context.Context, id int) (*Restore, error) {
	target, err := x.Store.Get(id)
	if err != nil {
		return nil, err
	}
	installed, err := x.Query.Installed()
	if err != nil {
		return nil, err
	}
	current := SnapshotPkgs(installed)
	r := &Restore{Target: target, Current: current, Files: []RestoreFile{}}
	r.Plan = snapshot.RestorePlan(current, target.Packages)
	r.Changes = snapshot.Diff(current, target.Packages, cache.VerCmp)
	if r.Empty() {
		return r, nil
	}
	if err := x.locate(ctx, r); err != nil {
		return nil, err
	}
	if r.Allow, err = restorePins(x.Paths.Root, x.StateDir, r.Plan, target.Packages); err != nil {
		return nil, err
	}
	return r, nil
}

// SnapshotPkgs turns installed packages into a snapshot's package set.
func SnapshotPkgs(list []pacman.Package) []snapshot.Pkg {
	pkgs := make([]snapshot.Pkg, len(list))
	for i, p := range list {
		pkgs[i] = snapshot.Pkg{Name: p.Name, Version: p.Version, Arch: p.Arch, Reason: p.Reason()}
	}
	return pkgs
}

// Apply downloads the archive files, records a restore-pre snapshot (the
// undo), and runs pacman: one -U of every file, one -R of what was
// installed since, then the install reasons. A failed download leaves the
// installation as it was.
func (x *Restorer) Apply(ctx context.Context, r *Restore) error {
	if err := x.download(ctx, r); err != nil {
		return err
	}
	id := r.Target.ID
	pre, err := x.Store.Create(snapshot.Snapshot{Kind: snapshot.KindRestorePre, Description: fmt.Sprintf("before restoring snapshot %d", id), Packages: r.Current})
	if err != nil {
		return fmt.Errorf("record the restore-pre snapshot (nothing was changed): %w", err)
	}
	r.Pre = pre
	if len(r.Allow) > 0 {
		why := x.Why
		if why == "" {
			why = fmt.Sprintf("clp snapshot restore %d", id)
		}
		remove, err := hooks.WriteAllow(x.Paths.Root, x.StateDir, r.Allow, why, 30*time.Minute)
		if err != nil {
			return err
		}
		defer remove()
	}
	files := make([]string, len(r.Files))
	for i, f := range r.Files {
		files[i] = f.Path // downloaded by now
	}
	steps := []struct {
		op      []string
		targets []string
	}{
		{[]string{"-U"}, files},
		{[]string{"-R"}, r.Plan.Remove},
		{[]string{"-D", "--asdeps"}, r.Plan.AsDeps},
		{[]string{"-D", "--asexplicit"}, r.Plan.AsExplicit},
	}
	for i, s := range steps {
		if len(s.targets) == 0 {
			continue
		}
		if err := x.Runner.Run(ctx, s.op, s.targets...); err != nil {
			if i == 0 {
				return fail.Hint(fmt.Errorf("restore: pacman %s failed: %w", strings.Join(s.op, " "), err), "pacman's message is above; nothing was restored")
			}
			return fail.Hint(fmt.Errorf("restore: pacman %s failed after the packages were reinstalled: %w", strings.Join(s.op, " "), err), r.Undo())
		}
	}
	return nil
}

// locate finds the file of every package to install (name, exact version
// and architecture): in the pacman cache, else on the archive servers,
// where it is only listed, not fetched. One file that is nowhere, or an
// archive that cannot be listed, refuses the whole restore before anything
// changes: a failed listing is never taken for "not there".
func (x *Restorer) locate(ctx context.Context, r *Restore) error {
	refs := r.Plan.Install
	if len(refs) == 0 {
		return nil
	}
	names := make([]string, len(refs))
	for i, ref := range refs {
		names[i] = ref.Name
	}
	ix, err := cache.ScanPaths(x.Paths, names...)
	if err != nil {
		return err
	}
	match := func(e cache.Entry, ref snapshot.PkgRef) bool { return e.Version == ref.Version && e.Arch == ref.Arch }
	var notCached []snapshot.PkgRef
	for _, ref := range refs {
		found := false
		for _, e := range ix.Versions(ref.Name) {
			if match(e, ref) && e.Dir != "" {
				r.Files = append(r.Files, RestoreFile{PkgRef: ref, Path: e.Path(), entry: e})
				found = true
				break
			}
		}
		if !found {
			notCached = append(notCached, ref)
		}
	}
	if len(notCached) == 0 {
		return nil
	}

	cfg, err := x.Config()
	if err != nil {
		return err
	}
	r.servers, r.maxBytes = cfg.ArchiveServers, cfg.MaxDownloadBytes
	cacheDirs := strings.Join(ix.Dirs, ", ")
	var missing []string
	listFailed := false
	if len(r.servers) == 0 {
		for _, ref := range notCached {
			missing = append(missing, fmt.Sprintf("restore needs %s %s (%s): no file %s.pkg.tar.* in %s; the archive was not consulted (no ArchiveServer in clp.conf)", ref.Name, ref.Version, ref.Arch, ref.String(), cacheDirs))
		}
	} else {
		listings := map[string][]cache.Entry{}
		listErrs := map[string]error{}
		for _, ref := range notCached {
			if _, done := listings[ref.Name]; !done && listErrs[ref.Name] == nil {
				es, err := x.client().ListArchives(ctx, r.servers, ref.Name)
				if err != nil {
					listErrs[ref.Name] = err
				} else {
					listings[ref.Name] = es
				}
			}
			if err := listErrs[ref.Name]; err != nil {
				listFailed = true
				missing = append(missing, fmt.Sprintf("restore needs %s %s (%s): no file %s.pkg.tar.* in %s, and listing %s on the archive server(s) %s failed: %v", ref.Name, ref.Version, ref.Arch, ref.String(), cacheDirs, ref.Name, strings.Join(r.servers, ", "), err))
				continue
			}
			found := false
			for _, e := range listings[ref.Name] {
				if match(e, ref) {
					r.Files = append(r.Files, RestoreFile{PkgRef: ref, URL: e.URL, entry: e})
					found = true
					break
				}
			}
			if !found {
				missing = append(missing, fmt.Sprintf("restore needs %s %s (%s): no file %s.pkg.tar.* in %s nor on the archive server(s) %s", ref.Name, ref.Version, ref.Arch, ref.String(), cacheDirs, strings.Join(r.servers, ", ")))
			}
		}
	}
	if len(missing) > 0 {
		hint := "put the package file into the cache (or name another one with --cachedir DIR), then run the restore again"
		switch {
		case listFailed:
			hint = "check ArchiveServer in clp.conf and the network, or " + hint
		case len(r.servers) == 0:
			hint += "; or set ArchiveServer in clp.conf to look on the archive too"
		}
		return fail.Refused(errors.New(strings.Join(missing, "\n")+"\nnothing was changed"), hint)
	}
	// pacman -U installs in the order given; keep the snapshot's order
	// whatever the source.
	order := map[string]int{}
	for i, ref := range refs {
		order[ref.Name] = i
	}
	sort.SliceStable(r.Files, func(i, j int) bool { return order[r.Files[i].Name] < order[r.Files[j].Name] })
	return nil
}

func (x *Restorer) client() *cache.Client {
	if x.Client == nil {
		x.Client = &cache.Client{Reporter: x.Reporter}
	}
	return x.Client
}

// download fetches the archive files into <state>/downloads, the root-owned
// staging directory downgrades use too. No sha256 is known for them:
// pacman's own signature check applies when it installs them.
func (x *Restorer) download(ctx context.Context, r *Restore) error {
	staging := filepath.Join(x.StateDir, "downloads")
	for i := range r.Files {
		f := &r.Files[i]
		if f.URL == "" {
			continue
		}
		report.Or(x.Reporter).Step(fmt.Sprintf("downloading %s", f.entry.File))
		path, err := x.client().Download(ctx, f.entry, staging, cache.DownloadOptions{Servers: r.servers, MaxBytes: r.maxBytes, Root: x.Paths.Root})
		if err != nil {
			return fail.Refused(fmt.Errorf("restore: download %s from the archive: %w; nothing was restored", f.entry.File, err),
				"check ArchiveServer in clp.conf and the network, then run the restore again (a partial download resumes)")
		}
		f.Path = path
	}
	return nil
}

// restorePins refuses a restore that would move a pinned package off its
// pin, and returns the pinned packages the restore puts exactly at their
// pinned version.
func restorePins(root, stateDir string, plan snapshot.Plan, target []snapshot.Pkg) ([]string, error) {
	pins, err := hooks.LoadPins(root, stateDir)
	if err != nil || len(pins) == 0 {
		return nil, err
	}
	want := map[string]string{}
	for _, p := range target {
		want[p.Name] = p.Version
	}
	var allow, refused []string
	for _, pin := range pins {
		changes := slices.ContainsFunc(plan.Install, func(r snapshot.PkgRef) bool { return r.Name == pin.Name }) || slices.Contains(plan.Remove, pin.Name)
		if !changes {
			continue
		}
		if pin.Version != "" && want[pin.Name] == pin.Version {
			allow = append(allow, pin.Name)
			continue
		}
		refused = append(refused, fmt.Sprintf("restore would move pinned %s off its pin %s (to %s); to lift the pin: clp unpin %s", pin.Name, orUnknown(pin.Version), orAbsent(want[pin.Name]), pin.Name))
	}
	if len(refused) > 0 {
		return nil, fail.Refused(errors.New(strings.Join(refused, "\n")+"\nnothing was changed"), "")
	}
	return allow, nil
}

func orUnknown(v string) string {
	if v == "" {
		return "(the installed version)"
	}
	return v
}

func orAbsent(v string) string {
	if v == "" {
		return "not installed"
	}
	return v
}

// Report is 'clp snapshot restore --json': what a restore of a snapshot
// changes, and whether it is done.
type Report struct {
	Snapshot   int               `json:"snapshot"`
	RestorePre int               `json:"restore_pre,omitempty"`
	Changes    []snapshot.Change `json:"changes"`
	Install    []RestoreFile     `json:"install"`
	Remove     []string          `json:"remove"`
	AsDeps     []string          `json:"asdeps"`
	AsExplicit []string          `json:"asexplicit"`
	Done       bool              `json:"done"`
}

// Report is r's report, for snapshot id.
func (r *Restore) Report(id int) Report {
	return Report{Snapshot: id, RestorePre: r.Pre, Changes: r.Changes, Install: r.Files, Remove: r.Plan.Remove, AsDeps: r.Plan.AsDeps, AsExplicit: r.Plan.AsExplicit}
}

// Lines are what clp snapshot restore shows before it asks: the snapshot,
// each change to make, and the files to download from the archive.
func (r *Restore) Lines() []string {
	out := []string{fmt.Sprintf("Restoring snapshot %d (%s, %s):", r.Target.ID, snapshot.Time(r.Target.Time), r.Target.Description)}
	for _, c := range r.Changes {
		out = append(out, c.Line(true))
	}
	if n := r.FromArchive(); n > 0 {
		out = append(out, "", fmt.Sprintf("%d package file(s) to download from the archive:", n))
		for _, f := range r.Files {
			if f.URL != "" {
				out = append(out, "  "+f.URL)
			}
		}
	}
	return append(out, "")
}
