package pkgtx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/vincentos/clp/cache"
	"github.com/vincentos/clp/hooks"
	"github.com/vincentos/clp/internal/child"
	"github.com/vincentos/clp/internal/config"
	"github.com/vincentos/clp/internal/fsx"
	"github.com/vincentos/clp/internal/report"
	"github.com/vincentos/clp/pacman"
	"github.com/vincentos/clp/patch"
)

// DB is a Query on a package database that was opened for one call and
// must be closed.
type DB interface {
	Query
	Close() error
}

// Opener opens the package database of the installation at paths
// (alpm.OpenPaths in clp).
type Opener func(paths *pacman.Paths) (DB, error)

// Actor carries out a patch's package actions for the patch engine
// (patch.PackageActor). It opens the package database afresh for every
// call, since pacman changes it between them.
type Actor struct {
	Open     Opener
	Paths    *pacman.Paths
	Runner   *pacman.Runner
	Config   *config.Config
	StateDir string
	Reporter report.Reporter
	// Client talks to archive servers (a default one when nil).
	Client *cache.Client
	// Now is the clock for pin times (time.Now when nil).
	Now func() time.Time
}

var _ patch.PackageActor = (*Actor)(nil)

// NewActor makes the Actor that `clp apply` and `clp rollback` give the
// patch engine.
func NewActor(open Opener, p *pacman.Paths, runner *pacman.Runner, cfg *config.Config, stateDir string, rep report.Reporter) *Actor {
	if cfg == nil {
		cfg = config.Default()
	}
	return &Actor{Open: open, Paths: p, Runner: runner, Config: cfg, StateDir: stateDir, Reporter: rep}
}

// actorState is the Actor's undo data, journaled by the engine before
// Apply runs (PackagePlan.State).
type actorState struct {
	Patch string `json:"patch"`
	// Keep maps a package to the kept copy of the file of its previous
	// version, in <state>/packages/<patch>/.
	Keep map[string]string `json:"keep,omitempty"`
	// KeepFrom is where Apply takes that copy from: a cache path or an
	// archive URL.
	KeepFrom map[string]string `json:"keep_from,omitempty"`
	// Sources maps a downgraded package to where its file comes from
	// ("payload", a cache path or an archive URL), for the plan's reader.
	Sources map[string]string `json:"sources,omitempty"`
	// ReplacedPins are pins of the same packages that the patch's pins
	// replace; Revert puts them back.
	ReplacedPins []hooks.Pin `json:"replaced_pins,omitempty"`
	// Reasons is each downgraded package's install reason before the
	// patch ("explicit" or "dependency"): a reinstall over a local
	// database entry a killed pacman left half written (mend.go) must
	// give it back, and the entry itself may no longer say it.
	Reasons map[string]string `json:"reasons,omitempty"`
}

func (a *Actor) rep() report.Reporter { return report.Or(a.Reporter) }

func (a *Actor) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *Actor) downgrader(patchName string) (*Downgrader, DB, error) {
	db, err := a.Open(a.Paths)
	if err != nil {
		return nil, nil, err
	}
	d := New(db, a.Paths, a.runnerFor(patchName), a.Config, a.StateDir, a.Reporter)
	if a.Client != nil {
		d.Client = a.Client
	}
	return d, db, nil
}

// runnerFor is the pacman runner for a patch's transactions: pacman passes
// its environment to the hooks it runs, so CLP_PATCH links the pre/post
// snapshots they take to the patch.
func (a *Actor) runnerFor(patchName string) *pacman.Runner {
	r := *a.Runner
	r.Env = append(append([]string(nil), a.Runner.Env...), "CLP_PATCH="+patchName)
	return &r
}

func (a *Actor) keepDir(patchName string) string {
	return filepath.Join(a.StateDir, "packages", patchName)
}

func (a *Actor) stageDir(patchName string) string {
	return filepath.Join(a.StateDir, "downloads", patchName)
}

// Prepare checks that every downgrade's file is available (in the patch,
// the cache with the pinned sha256, or on the archive server), that the
// version installed now can be kept for the undo, and records the versions
// installed before. It changes nothing.
func (a *Actor) Prepare(ctx context.Context, ar patch.Archive, actions []patch.PackageAction) (*patch.PackagePlan, error) {
	d, db, err := a.downgrader(ar.Manifest().Name)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	name := ar.Manifest().Name
	st := actorState{Patch: name, Keep: map[string]string{}, KeepFrom: map[string]string{}, Sources: map[string]string{}, Reasons: map[string]string{}}
	plan := &patch.PackagePlan{Actions: slices.Clone(actions), Previous: map[string]string{}}
	entries := map[string]bool{}
	for _, e := range ar.Entries() {
		entries[e] = true
	}
	pinned := map[string]bool{}
	for _, act := range actions {
		switch act.Op {
		case patch.OpPin:
			plan.Pins = append(plan.Pins, act.Name)
			pinned[act.Name] = true
			continue
		case patch.OpDowngrade:
		default:
			return nil, fmt.Errorf("package action %q on %s is not known to this clp", act.Op, act.Name)
		}
		cur, installed, err := d.installed(act.Name)
		if err != nil {
			return nil, err
		}
		if installed {
			plan.Previous[act.Name] = cur.Version
			st.Reasons[act.Name] = cur.Reason()
		} else {
			plan.Previous[act.Name] = ""
		}
		src, err := a.locate(ctx, d, act, entries)
		if err != nil {
			return nil, err
		}
		st.Sources[act.Name] = src
		if installed && cur.Version != act.Version {
			from, err := a.locateKeep(ctx, d, act.Name, cur.Version)
			if err != nil {
				return nil, err
			}
			st.KeepFrom[act.Name] = from
			st.Keep[act.Name] = filepath.Join(a.keepDir(name), filepath.Base(fileOf(from)))
		}
	}
	pins, err := hooks.LoadPins(a.root(), a.StateDir)
	if err != nil {
		return nil, err
	}
	for _, p := range pins {
		if pinned[p.Name] && p.Patch != name {
			st.ReplacedPins = append(st.ReplacedPins, p)
		}
	}
	sort.Strings(plan.Pins)
	if plan.State, err = json.Marshal(st); err != nil {
		return nil, err
	}
	return plan, nil
}

func fileOf(src string) string {
	if i := strings.LastIndex(src, "/"); i >= 0 {
		src = src[i+1:]
	}
	if e, err := cache.ParseFileName(unescape(src)); err == nil {
		return e.File
	}
	return unescape(src)
}

func unescape(s string) string {
	return strings.NewReplacer("%3A", ":", "%3a", ":", "%2B", "+", "%2b", "+").Replace(s)
}

// locate finds a downgrade's file: the patch's payload, a cache file with
// the pinned sha256, or the archive server's listing.
func (a *Actor) locate(ctx context.Context, d *Downgrader, act patch.PackageAction, entries map[string]bool) (string, error) {
	what := fmt.Sprintf("%s %s (%s)", act.Name, act.Version, act.File)
	if act.Payload != "" {
		if !entries[act.Payload] {
			return "", fmt.Errorf("%s: payload %s is not in the patch", what, act.Payload)
		}
		return "payload", nil
	}
	ix, err := d.scan(act.Name)
	if err != nil {
		return "", err
	}
	var mismatch string
	for _, e := range ix.Versions(act.Name) {
		if e.Version != act.Version {
			continue
		}
		sum, err := fsx.SHA256FileUnder(a.root(), e.Path())
		if err != nil {
			return "", err
		}
		if sum == act.SHA256 {
			return e.Path(), nil
		}
		mismatch = fmt.Sprintf("%s has sha256 %s, not the patch's %s", e.Path(), sum, act.SHA256)
	}
	es, aerr := d.listArchive(ctx, act.Name)
	for _, e := range es {
		if e.Version == act.Version && e.File == act.File {
			return e.URL, nil
		}
	}
	msg := fmt.Sprintf("%s is not available: not in the patch, ", what)
	if mismatch != "" {
		msg += "the cached copy " + mismatch
	} else {
		msg += "not in the cache (" + strings.Join(d.cacheDirs(), ", ") + ")"
	}
	if aerr != nil {
		return "", fmt.Errorf("%s, and %w", msg, aerr)
	}
	return "", errors.New(msg + ", not on the archive server")
}

// locateKeep finds the file of the installed version, which Apply keeps
// so Revert can reinstall it.
func (a *Actor) locateKeep(ctx context.Context, d *Downgrader, name, version string) (string, error) {
	ix, err := d.scan(name)
	if err != nil {
		return "", err
	}
	if e, ok := ix.Find(name, version); ok {
		return e.Path(), nil
	}
	es, aerr := d.listArchive(ctx, name)
	for _, e := range es {
		if e.Version == version {
			return e.URL, nil
		}
	}
	msg := fmt.Sprintf("cannot keep %s %s for a rollback: its package file is not in the cache (%s)", name, version, strings.Join(d.cacheDirs(), ", "))
	if aerr != nil {
		return "", fmt.Errorf("%s, and %w", msg, aerr)
	}
	return "", errors.New(msg + " nor on the archive server")
}

func decodeState(p *patch.PackagePlan) (actorState, error) {
	var st actorState
	if len(p.State) == 0 {
		return st, errors.New("package plan has no state: it was not made by this actor")
	}
	if err := json.Unmarshal(p.State, &st); err != nil {
		return st, fmt.Errorf("package plan state: %w", err)
	}
	if st.Patch == "" || strings.ContainsAny(st.Patch, "/\x00\n") || st.Patch == "." || st.Patch == ".." || strings.HasPrefix(st.Patch, ".") {
		return st, fmt.Errorf("package plan state names no usable patch (%q)", st.Patch)
	}
	return st, nil
}

// Apply keeps copies of the files needed to undo the plan, fetches and
// checks every downgrade's file (sha256 before pacman sees it), runs one
// pacman -U, then adds the pins. Packages already at their version are
// left alone, so Apply after a crash does not run pacman twice.
func (a *Actor) Apply(ctx context.Context, ar patch.Archive, p *patch.PackagePlan) error {
	st, err := decodeState(p)
	if err != nil {
		return err
	}
	if err := a.keep(ctx, st); err != nil {
		return err
	}
	d, db, err := a.downgrader(st.Patch)
	if err != nil {
		return err
	}
	defer db.Close()
	plan := &Plan{}
	for _, act := range p.Actions {
		if act.Op != patch.OpDowngrade {
			continue
		}
		cur, ok, err := d.installed(act.Name)
		if err != nil {
			return err
		}
		if ok && cur.Version == act.Version {
			continue
		}
		m := &Move{Name: act.Name, From: cur.Version, To: act.Version, File: act.File, SHA256: act.SHA256, Why: "patch " + st.Patch}
		src := st.Sources[act.Name]
		switch {
		case src == "payload":
			path, err := a.stagePayload(ar, st.Patch, act)
			if err != nil {
				return err
			}
			m.Path, m.Source = path, "patch "+st.Patch
		case strings.Contains(src, "://"):
			m.entry = cache.Entry{Name: act.Name, Version: act.Version, File: act.File, URL: src}
			m.Source = src
		default:
			m.Path, m.Source = src, src
		}
		plan.Moves = append(plan.Moves, m)
	}
	if len(plan.Moves) > 0 {
		// Downloads of a patch go to its own staging dir.
		d.StateDir = a.StateDir
		for _, m := range plan.Moves {
			if m.Path == "" {
				path, err := d.Client.Download(ctx, m.entry, a.stageDir(st.Patch), cache.DownloadOptions{
					Servers: d.Servers, MaxBytes: d.MaxBytes, SHA256: m.SHA256, Root: a.root(),
				})
				if err != nil {
					return err
				}
				m.Path = path
			}
		}
		if err := d.Check(ctx, plan); err != nil {
			return err
		}
		a.rep().Step(fmt.Sprintf("installing %s", describe(plan)))
		if err := d.Run(ctx, plan, "patch "+st.Patch); err != nil {
			return err
		}
	}
	return a.addPins(p, st)
}

func describe(p *Plan) string {
	var parts []string
	for _, m := range p.Moves {
		parts = append(parts, m.Name+" "+m.To)
	}
	return strings.Join(parts, ", ")
}

// keep copies (or hard-links) the files of the versions installed before
// into <state>/packages/<patch>/, so that cleaning the cache cannot make
// Revert impossible. Every file operation there (and on the cache file
// it keeps) is anchored to the system root.
func (a *Actor) keep(ctx context.Context, st actorState) error {
	if len(st.Keep) == 0 {
		return nil
	}
	root := a.root()
	dir := a.keepDir(st.Patch)
	if err := fsx.MkdirAllUnder(root, filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	if err := fsx.MkdirUnder(root, dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	names := make([]string, 0, len(st.Keep))
	for n := range st.Keep {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		dst, src := st.Keep[n], st.KeepFrom[n]
		if filepath.Dir(dst) != dir {
			return fmt.Errorf("kept file %s is outside %s", dst, dir)
		}
		if fi, err := fsx.StatUnder(root, dst); err == nil && fi.Mode().IsRegular() {
			continue
		}
		if strings.Contains(src, "://") {
			e, err := cache.ParseFileName(filepath.Base(dst))
			if err != nil {
				return err
			}
			e.URL = src
			c := a.Client
			if c == nil {
				c = &cache.Client{Reporter: a.Reporter}
			}
			if _, err := c.Download(ctx, e, dir, cache.DownloadOptions{MaxBytes: a.Config.MaxDownloadBytes, Root: root}); err != nil {
				return fmt.Errorf("keep %s for a rollback: %w", n, err)
			}
			continue
		}
		if err := linkOrCopy(root, src, dst); err != nil {
			return fmt.Errorf("keep %s for a rollback: %w", n, err)
		}
		if err := linkOrCopy(root, src+".sig", dst+".sig"); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("keep %s for a rollback: %w", n, err)
		}
	}
	return fsx.SyncDirUnder(root, dir)
}

// linkOrCopy hard-links src to dst, or copies it durably when they are on
// different file systems (or links are refused), both anchored to root.
func linkOrCopy(root, src, dst string) error {
	if _, err := fsx.StatUnder(root, src); err != nil {
		return err
	}
	fsx.RemoveUnder(root, dst+".tmp")
	err := fsx.LinkUnder(root, src, dst+".tmp")
	if err == nil {
		return fsx.RenameUnder(root, dst+".tmp", dst)
	}
	if fsx.IsEscape(err) {
		return err
	}
	in, err := fsx.OpenUnder(root, src)
	if err != nil {
		return err
	}
	defer in.Close()
	data, err := io.ReadAll(in)
	if err != nil {
		return err
	}
	return fsx.WriteFileUnder(root, dst, data, 0o644)
}

// stagePayload writes a package file carried in the patch to the patch's
// staging dir (anchored to the system root) and checks its sha256.
func (a *Actor) stagePayload(ar patch.Archive, patchName string, act patch.PackageAction) (string, error) {
	root := a.root()
	dir := a.stageDir(patchName)
	if err := fsx.MkdirAllUnder(root, filepath.Dir(dir), 0o755); err != nil {
		return "", err
	}
	if err := fsx.MkdirUnder(root, dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", err
	}
	dst := filepath.Join(dir, filepath.Base(act.File))
	if sum, err := fsx.SHA256FileUnder(root, dst); err == nil && sum == act.SHA256 {
		return dst, nil
	}
	r, err := ar.Open(act.Payload)
	if err != nil {
		return "", fmt.Errorf("%s: %w", act.Payload, err)
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		return "", fmt.Errorf("%s: %w", act.Payload, err)
	}
	if got := fsx.SHA256Bytes(data); got != act.SHA256 {
		return "", fmt.Errorf("%s: sha256 mismatch: expected %s, got %s", act.Payload, act.SHA256, got)
	}
	if err := fsx.WriteFileUnder(root, dst, data, 0o644); err != nil {
		return "", err
	}
	return dst, nil
}

// addPins pins the plan's packages at the versions installed now, the
// patch named as their owner.
func (a *Actor) addPins(p *patch.PackagePlan, st actorState) error {
	if len(p.Pins) == 0 {
		return nil
	}
	h, err := a.Open(a.Paths)
	if err != nil {
		return err
	}
	defer h.Close()
	var add []hooks.Pin
	for _, act := range p.Actions {
		if act.Op != patch.OpPin {
			continue
		}
		pin := hooks.Pin{Name: act.Name, Until: act.Until, Patch: st.Patch, Created: a.now().UTC().Round(time.Second)}
		if cur, ok, err := h.Installed1(act.Name); err != nil {
			return err
		} else if ok {
			pin.Version = cur.Version
		}
		add = append(add, pin)
	}
	_, err = hooks.UpdatePins(a.Paths, a.StateDir, func(pins []hooks.Pin) ([]hooks.Pin, error) {
		out := pins[:0:0]
		for _, old := range pins {
			if !slices.ContainsFunc(add, func(n hooks.Pin) bool { return n.Name == old.Name }) {
				out = append(out, old)
			}
		}
		return append(out, add...), nil
	})
	return err
}

// checkState refuses undo data that points where Apply never writes: a
// kept copy outside the patch's keep folder, or for a package the plan
// does not downgrade, or a pin to put back on a package it does not touch
// (the plan itself is checked by the engine when it reads the journal).
func (a *Actor) checkState(p *patch.PackagePlan, st actorState) error {
	touched := map[string]bool{}
	down := map[string]bool{}
	for _, act := range p.Actions {
		touched[act.Name] = true
		if act.Op == patch.OpDowngrade {
			down[act.Name] = true
		}
	}
	for name, k := range st.Keep {
		base := filepath.Base(k)
		if !down[name] || k != filepath.Join(a.keepDir(st.Patch), base) || base == ".." || base == "." {
			return fmt.Errorf("package plan state keeps %q for %s: not a copy this patch keeps", k, name)
		}
	}
	for name, why := range st.Reasons {
		if !down[name] || why != "explicit" && why != "dependency" {
			return fmt.Errorf("package plan state records the install reason %q of %q: not one this patch records", why, name)
		}
	}
	for _, pin := range st.ReplacedPins {
		if !touched[pin.Name] {
			return fmt.Errorf("package plan state puts back a pin on %q, which the patch does not touch", pin.Name)
		}
	}
	return nil
}

// Revert mends the local database entries a pacman killed with clp left
// half written (mend.go), removes the patch's pins (putting back those it
// replaced), then reinstalls the versions installed before from the kept copies in one
// pacman -U, and removes what the patch did not find installed. It is
// idempotent: packages already at their previous version are left alone.
func (a *Actor) Revert(ctx context.Context, p *patch.PackagePlan) error {
	st, err := decodeState(p)
	if err != nil {
		return err
	}
	if err := a.checkState(p, st); err != nil {
		return err
	}
	// Entries a pacman killed with clp left half written (mend.go), and
	// the files to mend them from: found before anything changes, so a
	// file that is nowhere changes nothing.
	mends, err := a.planMends(p, st)
	if err != nil {
		return err
	}
	// A clp killed while its pacman ran (the apply's downgrade, or this
	// Revert in a rollback) left the guard's allow file behind; pacman
	// itself is gone (recovery ended it first). Left alone, it would let
	// pacman move these pinned packages for up to half an hour.
	if err := dropAllowOf(a.root(), a.StateDir, st.Patch); err != nil {
		return err
	}
	// So did one killed while it wrote pacman.conf (its Include of the
	// pins) or the pins include: their temporary files go too.
	if a.Paths != nil {
		for _, f := range []string{a.Paths.Config, hooks.PinsConfFile(a.Paths)} {
			if err := dropTemps(a.Paths.Root, f); err != nil {
				return err
			}
		}
	}
	// Pins go first: the guard hook would refuse taking a pinned package
	// off its pin.
	if _, err := hooks.UpdatePins(a.Paths, a.StateDir, func(pins []hooks.Pin) ([]hooks.Pin, error) {
		var out []hooks.Pin
		for _, pin := range pins {
			if pin.Patch != st.Patch {
				out = append(out, pin)
			}
		}
		for _, old := range st.ReplacedPins {
			if !slices.ContainsFunc(out, func(x hooks.Pin) bool { return x.Name == old.Name }) {
				out = append(out, old)
			}
		}
		return out, nil
	}); err != nil {
		return err
	}
	if err := a.mend(ctx, st, mends); err != nil {
		return err
	}
	d, db, err := a.downgrader(st.Patch)
	if err != nil {
		return err
	}
	defer db.Close()
	var files, names, remove []string
	for _, act := range p.Actions {
		if act.Op != patch.OpDowngrade {
			continue
		}
		prev := p.Previous[act.Name]
		cur, ok, err := d.installed(act.Name)
		if err != nil {
			return err
		}
		switch {
		case prev == "" && ok:
			remove = append(remove, act.Name)
		case prev == "" || ok && cur.Version == prev && !a.filesMissing(act.Name, prev):
		default:
			file, err := a.revertFile(d, st, act.Name, prev)
			if err != nil {
				return err
			}
			files = append(files, file)
			names = append(names, act.Name)
		}
	}
	if len(files) > 0 {
		a.rep().Step(fmt.Sprintf("reinstalling %s", strings.Join(names, ", ")))
		if err := runPacman(ctx, d.Runner, a.StateDir, names, "rollback of patch "+st.Patch, files); err != nil {
			return err
		}
	}
	if len(remove) > 0 {
		remover, err := hooks.WriteAllow(a.root(), a.StateDir, remove, "rollback of patch "+st.Patch, 30*time.Minute)
		if err != nil {
			return err
		}
		err = d.Runner.Run(ctx, []string{"-R"}, remove...)
		if rerr := remover(); err == nil {
			err = rerr
		}
		if err != nil {
			return fmt.Errorf("pacman -R %s: %w", strings.Join(remove, " "), err)
		}
	}
	if err := a.dropPatchFiles(st.Patch); err != nil {
		return err
	}
	if a.Paths != nil {
		return a.finishMends(st.Patch)
	}
	return nil
}

// dropPatchFiles removes the patch's kept and staged package files
// (<state>/packages/<patch>, <state>/downloads/<patch>), inside the root.
func (a *Actor) dropPatchFiles(patchName string) error {
	for _, dir := range []string{a.keepDir(patchName), a.stageDir(patchName)} {
		if err := fsx.RemoveAllUnder(a.root(), dir); err != nil {
			return err
		}
	}
	return nil
}

// filesMissing says whether a file that name-version's local database
// entry lists is missing from the root. A pacman killed (with the clp
// that ran it) while it removed that version's old files on its way to
// another leaves the entry whole and the version installed, but files
// gone; a reinstall puts them back. An entry whose file list cannot be
// read says nothing (false): that is not a state a reinstall mends.
func (a *Actor) filesMissing(name, version string) bool {
	data, err := fsx.ReadFileCappedUnder(a.Paths.Root, filepath.Join(a.Paths.DBPath, "local", name+"-"+version, "files"), fsx.StateFileMax)
	if err != nil {
		return false
	}
	root, err := os.OpenRoot(a.Paths.Root)
	if err != nil {
		return false
	}
	defer root.Close()
	for _, f := range filesSection(data) {
		if _, err := root.Lstat(strings.TrimSuffix(f, "/")); errors.Is(err, fs.ErrNotExist) {
			return true
		}
	}
	return false
}

// root is the system root the actor works under ("/" without Paths).
func (a *Actor) root() string {
	if a.Paths == nil {
		return "/"
	}
	return a.Paths.Root
}

// dropTemps removes the temporary files a clp killed while replacing
// file left beside it: fsx.WriteFile's ".NAME.clp-tmp-PID" and renameio's
// ".NAME" and digits, each only when no live process has it open. The
// folder is listed and each file removed inside root.
func dropTemps(root, file string) error {
	dir, base := filepath.Split(file)
	ents, _ := fsx.ReadDirUnder(root, filepath.Clean(dir))
	var tmps []string
	for _, e := range ents {
		for _, pat := range []string{"." + base + "[0-9]*", "." + base + ".clp-tmp-[0-9]*"} {
			if ok, _ := filepath.Match(pat, e.Name()); ok {
				tmps = append(tmps, filepath.Join(dir, e.Name()))
				break
			}
		}
	}
	for _, tmp := range tmps {
		if fi, err := fsx.LstatUnder(root, tmp); err == nil && fi.Mode().IsRegular() && !child.HeldOpen(tmp) {
			if err := fsx.RemoveUnder(root, tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("remove the temporary file an interrupted clp left: %w", err)
			}
		}
	}
	return nil
}

// dropAllowOf removes the temporary files of the allow file and the pins
// a killed clp left, and the guard's allow file when this patch's apply or
// rollback wrote it (its Why, as runPacman's callers word it); an allow
// file of another operation (a snapshot restore) is not this one's to
// remove. The caller holds clp's lock, so no pacman of this patch runs.
func dropAllowOf(root, stateDir, patchName string) error {
	// A clp killed while writing the allow file or the pins left
	// renameio's temporary (".guard-allow.json" or ".pins.json" and
	// digits); one no live process has open is such a leftover.
	for _, name := range []string{hooks.AllowFile, hooks.PinsFile} {
		if err := dropTemps(root, filepath.Join(stateDir, name)); err != nil {
			return err
		}
	}
	return dropAllowWhy(root, stateDir, "patch "+patchName, "rollback of patch "+patchName)
}

// dropAllowWhy removes the guard's allow file when its Why is one of whys.
func dropAllowWhy(root, stateDir string, whys ...string) error {
	al := hooks.LoadAllow(root, stateDir, time.Time{})
	if al == nil || !slices.Contains(whys, al.Why) {
		return nil
	}
	if err := fsx.RemoveUnder(root, filepath.Join(stateDir, hooks.AllowFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove the guard allow file an interrupted clp left: %w", err)
	}
	return nil
}

// revertFile is the kept copy of name at version, or, if that is gone,
// the cache's.
func (a *Actor) revertFile(d *Downgrader, st actorState, name, version string) (string, error) {
	if k := st.Keep[name]; k != "" {
		if fi, err := fsx.StatUnder(a.root(), k); err == nil && fi.Mode().IsRegular() {
			if pi, err := cache.ReadPKGINFOUnder(a.root(), k); err == nil && pi.Name == name && pi.Version == version {
				return k, nil
			}
		}
	}
	ix, err := d.scan(name)
	if err != nil {
		return "", err
	}
	if e, ok := ix.Find(name, version); ok {
		return e.Path(), nil
	}
	return "", fmt.Errorf("cannot reinstall %s %s: the kept copy %s is gone and the cache has none", name, version, st.Keep[name])
}

// Lazy is a patch.PackageActor that makes the real one on first use: most
// commands (status, list, a recover with nothing to recover) never touch
// packages, and making the actor reads pacman.conf.
func Lazy(make func() (patch.PackageActor, error)) patch.PackageActor {
	return &lazyActor{make: make}
}

type lazyActor struct {
	make func() (patch.PackageActor, error)
	a    patch.PackageActor
}

func (l *lazyActor) get() (patch.PackageActor, error) {
	if l.a == nil {
		a, err := l.make()
		if err != nil {
			return nil, err
		}
		l.a = a
	}
	return l.a, nil
}

func (l *lazyActor) Prepare(ctx context.Context, a patch.Archive, actions []patch.PackageAction) (*patch.PackagePlan, error) {
	act, err := l.get()
	if err != nil {
		return nil, err
	}
	return act.Prepare(ctx, a, actions)
}

func (l *lazyActor) Apply(ctx context.Context, a patch.Archive, p *patch.PackagePlan) error {
	act, err := l.get()
	if err != nil {
		return err
	}
	return act.Apply(ctx, a, p)
}

func (l *lazyActor) Revert(ctx context.Context, p *patch.PackagePlan) error {
	act, err := l.get()
	if err != nil {
		return err
	}
	return act.Revert(ctx, p)
}
