package update

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"github.com/vincentos/clp/cache"
	"github.com/vincentos/clp/feed"
	"github.com/vincentos/clp/hooks"
	"github.com/vincentos/clp/internal/config"
	"github.com/vincentos/clp/internal/fail"
	"github.com/vincentos/clp/internal/fsx"
	"github.com/vincentos/clp/internal/lock"
	"github.com/vincentos/clp/internal/report"
	"github.com/vincentos/clp/patch"
	"github.com/vincentos/clp/system"
)

// Where clp update keeps its files, under the state dir.
const (
	metadataDirName = "feed"           // TUF metadata cache
	highWaterName   = "feed-applied"   // high-water mark (outside the cache)
	downloadDirName = "feed-downloads" // root-only folder for downloads
	lockName        = "update.lock"
)

// ErrNotStarted marks failures before anything was asked of a mirror
// (another clp update running): they are not recorded as the last update.
var ErrNotStarted = errors.New("update not started")

// Applier is what an update asks of the rest of clp. cmd backs it with the
// path of `clp apply`, so a feed patch goes through exactly what a
// hand-carried one does.
type Applier interface {
	// Apply plans and applies a patch that is open and trusted (trust
	// says by what); path names its file in messages.
	Apply(ctx context.Context, a patch.Archive, trust, path string) error
	// OpenSigned opens a hand-carried patch after its minisign check
	// (the legacy feed's patches), returning what trusts it.
	OpenSigned(path string) (patch.Archive, string, error)
	// InstalledVersion answers a feed target's package requirements.
	InstalledVersion(name string) (string, bool, error)
	// LockState takes clp's state lock (for lifting pins).
	LockState(ctx context.Context) (release func(), err error)
	// LiftPins lifts the pins whose fixed version the sync databases
	// offer; the caller holds the state lock.
	LiftPins(ctx context.Context) ([]hooks.Lifted, error)
	// Rollback rolls back an applied patch exactly as 'clp rollback'
	// does, recording reason in the history.
	Rollback(ctx context.Context, name, reason string) error
}

// Observer hears what an update finds as it goes (cmd prints it).
type Observer interface {
	// Listed: the patches of one source (feed or legacy) are known.
	Listed(rep *Report, source, from string)
	// Read: every source was read; pins come next.
	Read(rep *Report)
}

// Updater is one run of clp update on one installation.
type Updater struct {
	Sys    *system.System
	Config *config.Config
	// Check lists what is new and downloads and changes nothing.
	Check    bool
	Apply    Applier
	Observer Observer
	Reporter report.Reporter

	rep       *Report
	hw        feed.HighWater
	dlDir     string
	machineID string
}

func (u *Updater) rpt() report.Reporter { return report.Or(u.Reporter) }

// Run fetches, lists and (unless Check or UpdatePolicy = none) applies what
// the feed offers, then lifts the pins that are due. It returns the report
// even on failure; Record keeps it.
func (u *Updater) Run(ctx context.Context) (*Report, error) {
	u.rep = &Report{Time: time.Now().UTC(), Check: u.Check, Policy: u.Config.UpdatePolicy, Patches: []Entry{}, Applied: []string{}}
	err := u.run(ctx)
	switch {
	case err != nil:
		u.rep.Result = "failed: " + err.Error()
	case u.Check:
		u.rep.Result = "checked"
	case len(u.rep.Applied) == 0 && len(u.rep.RolledBack) == 0:
		u.rep.Result = "nothing new"
	default:
		u.rep.Result = "ok"
	}
	return u.rep, err
}

func (u *Updater) run(ctx context.Context) error {
	cfg, sys := u.Config, u.Sys
	legacyPath := sys.Under(feed.LegacyMirrorsPath)
	_, statErr := fsx.StatUnder(sys.Root, legacyPath)
	hasLegacy := statErr == nil
	if hasLegacy && !cfg.AllowLegacyFeed {
		msg := fmt.Sprintf("%s (the original tool's unsigned feed) is ignored; set AllowLegacyFeed = yes in %s to read it (each of its patches must still be signed by a key in %s)",
			legacyPath, sys.ConfigPath(), sys.KeysDir())
		if len(cfg.FeedMirrors) == 0 {
			return fail.Refused(errors.New("no feed mirror configured and the legacy feed is not allowed: "+msg),
				"add 'FeedMirror = URL' to "+sys.ConfigPath()+", or allow the legacy feed")
		}
		u.rpt().Warn(msg)
	}
	useLegacy := hasLegacy && cfg.AllowLegacyFeed
	if len(cfg.FeedMirrors) == 0 && !useLegacy {
		return fail.Hint(errors.New("no feed mirror configured"), "add 'FeedMirror = URL' to "+sys.ConfigPath())
	}

	l, err := lock.AcquireUnder(ctx, sys.Root, filepath.Join(sys.StateDir, lockName), 0)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNotStarted, err)
	}
	defer l.Release()

	u.hw = feed.HighWater{Path: filepath.Join(sys.StateDir, highWaterName), Root: sys.Root}
	if len(cfg.FeedMirrors) > 0 {
		if err := u.fromFeed(ctx); err != nil {
			return err
		}
	}
	if useLegacy {
		if err := u.fromLegacy(ctx, legacyPath); err != nil {
			return err
		}
	}
	if u.Observer != nil {
		u.Observer.Read(u.rep)
	}
	return u.checkPins(ctx)
}

func (u *Updater) listed(source, from string) {
	if u.Observer != nil {
		u.Observer.Listed(u.rep, source, from)
	}
}

// changes reports whether this run may change the system.
func (u *Updater) changes() bool { return !u.Check && u.Config.UpdatePolicy != "none" }

func (u *Updater) client() (*feed.Client, error) {
	trusted, err := u.trustedRoot()
	if err != nil {
		return nil, err
	}
	return &feed.Client{
		Mirrors:        u.Config.FeedMirrors,
		MetadataDir:    filepath.Join(u.Sys.StateDir, metadataDirName),
		Root:           u.Sys.Root,
		TrustedRoot:    trusted,
		MaxTargetBytes: u.Config.MaxDownloadBytes,
		Reporter:       u.Reporter,
	}, nil
}

// trustedRoot is the feed's trust anchor: a self-hosted feed's in /etc
// wins over the one the package ships.
func (u *Updater) trustedRoot() ([]byte, error) {
	local := u.Sys.Under(feed.LocalRootPath)
	data, err := fsx.ReadFileCappedUnder(u.Sys.Root, local, fsx.SmallFileMax)
	if err == nil {
		return data, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fail.Verify(fmt.Errorf("read the feed's trusted root: %w", err), "")
	}
	shipped := u.Sys.Under(feed.ShippedRootPath)
	data, err = fsx.ReadFileCappedUnder(u.Sys.Root, shipped, fsx.SmallFileMax)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fail.Hint(fmt.Errorf("no trusted feed root: neither %s nor %s exists", local, shipped),
			"reinstall the clp package, or install a self-hosted feed's 1.root.json as "+local)
	}
	if err != nil {
		return nil, fail.Verify(fmt.Errorf("read the feed's trusted root: %w", err), "")
	}
	return data, nil
}

// feedError gives a feed failure its kind: something refused is a
// verification failure, mirrors that could not be reached are not.
func feedError(err error) error {
	if err == nil {
		return nil
	}
	if feed.IsAttack(err) {
		return fail.Verify(err, "clp refused what the feed served and did not use it; report it to the feed's maintainers")
	}
	if errors.Is(err, feed.ErrUnreachable) {
		return fail.Hint(err, "check the network and the FeedMirror lines in clp.conf")
	}
	return err
}

func (u *Updater) fromFeed(ctx context.Context) error {
	c, err := u.client()
	if err != nil {
		return err
	}
	u.rpt().Step("synchronizing the patch feed")
	if err := c.Refresh(ctx); err != nil {
		return feedError(err)
	}
	u.rep.Mirror = c.Mirror()
	pending, err := c.Pending(ctx, u.hw)
	if err != nil {
		return feedError(err)
	}
	all, err := c.Targets(ctx)
	if err != nil {
		return feedError(err)
	}
	var withdrawn []feed.Target
	for _, t := range all {
		if t.Withdrawn != nil {
			withdrawn = append(withdrawn, t)
		}
	}
	// Nothing new is the daily case: it must not cost a libalpm handle.
	applied := map[string]bool{}
	if len(pending) > 0 || len(withdrawn) > 0 {
		if applied, err = u.appliedNames(); err != nil {
			return err
		}
	}
	// A withdrawn patch this machine applied (from the feed or by hand)
	// is undone first: what comes after may have been published to
	// replace it.
	for _, t := range withdrawn {
		if !applied[t.Name] {
			continue
		}
		e := Entry{Name: t.Name, File: t.Path, Sequence: t.Sequence, Severity: feed.Severity(t.Severity), Description: t.Description, Changes: t.Changes, Source: "feed", Action: "roll back", Reason: "withdrawn: " + t.Withdrawn.Reason, Withdrawn: t.Withdrawn.Reason}
		if u.Config.WithdrawnPatches == "report" || (!u.Check && u.Config.UpdatePolicy == "none") {
			e.Action = "withdrawn"
		}
		u.rep.Patches = append(u.rep.Patches, e)
	}
	if len(pending) > 0 {
		if u.machineID, err = readMachineID(u.Sys); err != nil {
			return err
		}
	}
	arch := patch.MachineArch()
	var todo []feed.Target
	for _, t := range pending {
		if t.Withdrawn != nil && applied[t.Name] {
			continue // listed above, to be undone
		}
		rollout := t.Rollout()
		e := Entry{Name: t.Name, File: t.Path, Sequence: t.Sequence, Severity: feed.Severity(t.Severity), Description: t.Description, Changes: t.Changes, Source: "feed", Action: "apply", Rollout: &rollout}
		switch {
		case t.Withdrawn != nil:
			e.Action, e.Reason, e.Withdrawn = "skip", "withdrawn: "+t.Withdrawn.Reason, t.Withdrawn.Reason
		case applied[t.Name]:
			// Applied by hand ('clp apply') before the feed offered it.
			e.Action, e.Reason = "skip", "already applied"
		case !t.AppliesTo(arch):
			e.Action, e.Reason = "skip", "not for "+arch
		case u.Config.UpdatePolicy == "critical" && !t.Critical():
			e.Action, e.Reason = "skip", "UpdatePolicy = critical"
		}
		if e.Action == "apply" {
			if why, err := u.unmetRequirement(t.Requires); err != nil {
				return err
			} else if why != "" {
				e.Action, e.Reason = "skip", why
			}
		}
		if e.Action == "apply" {
			in, why := u.inPhase(t)
			e.InPhase = &in
			if !in {
				e.Action, e.Reason, e.PhasedOut = "skip", why, true
			}
		}
		u.rep.Patches = append(u.rep.Patches, e)
		if e.Action == "apply" {
			todo = append(todo, t)
		}
	}
	u.listed("feed", c.Mirror())
	// A patch the rollout has not reached yet stays pending after later
	// patches move the mark past it; a withdrawn one never will.
	if u.changes() {
		for _, t := range pending {
			e := u.rep.Patches[u.entry("feed", t.Path)]
			var err error
			switch {
			case e.PhasedOut:
				err = u.hw.Hold(t.Sequence)
			case t.Withdrawn != nil:
				err = u.hw.Release(t.Sequence)
			}
			if err != nil {
				return err
			}
		}
	}
	if err := u.undoWithdrawn(ctx, withdrawn); err != nil {
		return err
	}
	if !u.changes() || len(todo) == 0 {
		// A patch applied by hand is recorded as done, so the mark moves
		// past it without downloading it; not when nothing may change.
		if u.changes() {
			for _, t := range pending {
				if applied[t.Name] {
					if err := u.markDone(t.Sequence); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}
	dir, err := u.downloadDir()
	if err != nil {
		return err
	}
	for _, t := range pending {
		e := &u.rep.Patches[u.entry("feed", t.Path)]
		if e.Action == "skip" && e.Reason == "already applied" {
			if err := u.markDone(t.Sequence); err != nil {
				return err
			}
			continue
		}
		if e.Action != "apply" {
			continue
		}
		if err := u.applyTarget(ctx, c, t, dir); err != nil {
			e.Action, e.Reason = "failed", err.Error()
			return err
		}
		e.Action = "applied"
		u.rep.Applied = append(u.rep.Applied, t.Name)
		if err := recordSequence(u.Sys.Root, u.Sys.StateDir, t.Name, t.Sequence); err != nil {
			u.rpt().Warn(fmt.Sprintf("cannot record the feed sequence of %s: %v", t.Name, err))
		}
		// The mark is the feed's record of what was applied: durable
		// before the next patch starts.
		if err := u.markDone(t.Sequence); err != nil {
			return fmt.Errorf("patch %s is applied but its sequence number could not be recorded: %w", t.Name, err)
		}
	}
	return nil
}

// undoWithdrawn rolls back, or reports, the applied patches the feed
// withdrew, as the entries listed decided. Each rollback is what
// 'clp rollback' does; the reason goes to the history, the journal (the
// timer's output) and clp.log.
func (u *Updater) undoWithdrawn(ctx context.Context, withdrawn []feed.Target) error {
	for _, t := range withdrawn {
		var e *Entry
		for i := range u.rep.Patches {
			if p := &u.rep.Patches[i]; p.Source == "feed" && p.File == t.Path && (p.Action == "roll back" || p.Action == "withdrawn") {
				e = p
			}
		}
		if e == nil {
			continue // not applied here: listed as skipped, if pending
		}
		switch {
		case e.Action == "withdrawn":
			why := "WithdrawnPatches = report"
			if u.Config.UpdatePolicy == "none" {
				why = "UpdatePolicy = none"
			}
			u.rpt().Warn(fmt.Sprintf("patch %s was withdrawn by the feed (%s) but stays applied: %s; 'clp rollback %s' undoes it", t.Name, t.Withdrawn.Reason, why, t.Name))
			continue
		case e.Action != "roll back" || !u.changes():
			continue
		}
		u.rpt().Warn(fmt.Sprintf("patch %s was withdrawn by the feed (%s); rolling it back", t.Name, t.Withdrawn.Reason))
		if err := u.Apply.Rollback(ctx, t.Name, WithdrawnPrefix+t.Withdrawn.Reason); err != nil {
			e.Action = "failed"
			return fmt.Errorf("roll back withdrawn patch %s: %w", t.Name, err)
		}
		e.Action = "rolled back"
		u.rep.RolledBack = append(u.rep.RolledBack, t.Name)
		line := fmt.Sprintf("[%s] [clp] withdrawn patch rolled back: %s (sequence %d): %s\n", time.Now().Format("2006-01-02T15:04:05-0700"), t.Name, t.Sequence, t.Withdrawn.Reason)
		if err := hooks.AppendLog(u.Sys.Root, u.Sys.ClpLog(), line); err != nil {
			u.rpt().Warn(fmt.Sprintf("cannot write %s: %v", u.Sys.ClpLog(), err))
		}
	}
	return nil
}

// markDone records a patch as done: the mark rises to it and it is no
// longer held.
func (u *Updater) markDone(seq uint64) error {
	if err := u.hw.Mark(seq); err != nil {
		return err
	}
	return u.hw.Release(seq)
}

func (u *Updater) entry(source, file string) int {
	for i, e := range u.rep.Patches {
		if e.Source == source && e.File == file {
			return i
		}
	}
	panic("clp update: no entry for " + file)
}

// applyTarget downloads one feed patch and applies it. The feed's signed
// metadata pinned its length and sha256 and Download checked both before
// writing it to a root-only folder. When the feed also carries the patch's
// minisign signature, it is checked against the trusted keys in
// /etc/clp/keys exactly as for a hand-carried copy (Applier.OpenSigned),
// so a feed patch signed by a key this machine does not trust is refused
// even though the feed's targets key listed it. A patch published without a
// signature rests on the feed's targets key alone.
func (u *Updater) applyTarget(ctx context.Context, c *feed.Client, t feed.Target, dir string) error {
	path, err := c.Download(ctx, t, dir)
	if err != nil {
		return feedError(err)
	}
	defer u.removeDownload(path)
	trust := fmt.Sprintf("verified by the feed, sequence %d", t.Sequence)
	var a patch.Archive
	if t.Minisig != "" {
		var by string
		a, by, err = u.Apply.OpenSigned(path)
		if err != nil {
			return fail.Verify(fmt.Errorf("feed patch %s: %w", t.Path, err), "")
		}
		trust += ", " + by
	} else if a, err = patch.OpenFile(path, u.limits()); err != nil {
		return fail.Verify(fmt.Errorf("feed patch %s: %w", t.Path, err), "")
	}
	defer a.Close()
	if m := a.Manifest(); m.Name != t.Name {
		return fail.Verify(fmt.Errorf("feed patch %s: the feed lists it as %s but its PKGINFO.meta names %s (tampered?)", t.Path, t.Name, m.Name), "")
	}
	return u.Apply.Apply(ctx, a, trust, path)
}

func (u *Updater) removeDownload(path string) {
	fsx.RemoveUnder(u.Sys.Root, path)
	fsx.RemoveUnder(u.Sys.Root, path+patch.SigSuffix)
}

func (u *Updater) limits() patch.Limits {
	lim := patch.DefaultLimits()
	lim.PathAllowed = u.Config.PathAllowed
	lim.TempDir = u.Sys.StateDir
	return lim
}

// downloadDir is where patches land before they are applied: under the
// state dir, owned by root and closed to everyone else, since what is in
// it is about to run as root.
func (u *Updater) downloadDir() (string, error) {
	if u.dlDir != "" {
		return u.dlDir, nil
	}
	dir := filepath.Join(u.Sys.StateDir, downloadDirName)
	if err := fsx.MkdirAllUnder(u.Sys.Root, dir, 0o700); err != nil {
		return "", err
	}
	if err := fsx.ChmodUnder(u.Sys.Root, dir, 0o700); err != nil {
		return "", err
	}
	u.dlDir = dir
	return dir, nil
}

func (u *Updater) engine() *patch.Engine {
	return &patch.Engine{Root: u.Sys.Root, StateDir: u.Sys.StateDir, Config: u.Config}
}

func (u *Updater) appliedNames() (map[string]bool, error) {
	list, err := u.engine().List()
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for _, a := range list {
		names[a.Name] = true
	}
	return names, nil
}

// unmetRequirement checks a target's package conditions ("NAME",
// "NAME>=VER", "!NAME", as clp feed add writes them) against the local
// database, so a patch for another system is not downloaded. The engine
// checks the patch's own conditions again before applying it.
func (u *Updater) unmetRequirement(reqs []string) (string, error) {
	for _, r := range reqs {
		name, constraint, absent := ParseRequirement(r)
		if name == "" {
			return "requirement " + r + " is not understood by this clp", nil
		}
		ver, ok, err := u.Apply.InstalledVersion(name)
		if err != nil {
			return "", fmt.Errorf("check requirement %s: %w", r, err)
		}
		switch {
		case absent && ok:
			return name + " is installed", nil
		case absent:
			continue
		case !ok:
			return name + " is not installed", nil
		case constraint != "":
			match, err := cache.SatisfiesConstraint(ver, constraint)
			if err != nil {
				return "requirement " + r + " is not understood by this clp", nil
			}
			if !match {
				return fmt.Sprintf("%s is %s, the patch needs %s", name, ver, constraint), nil
			}
		}
	}
	return "", nil
}

// ParseRequirement splits "NAME<op>VERSION" or "!NAME".
func ParseRequirement(r string) (name, constraint string, absent bool) {
	r = strings.TrimSpace(r)
	if n, ok := strings.CutPrefix(r, "!"); ok {
		return n, "", true
	}
	if i := strings.IndexAny(r, "<>="); i >= 0 {
		return r[:i], r[i:], false
	}
	return r, "", false
}

// checkPins lifts the pins whose --until version the sync databases now
// offer, as the daily run is where a fixed driver shipping should end its
// pin. --check and UpdatePolicy = none change nothing, so they leave pins
// alone too. A failure here is a warning: the patches are what the update
// is for, and the next run tries again.
func (u *Updater) checkPins(ctx context.Context) error {
	if !u.changes() {
		return nil
	}
	pins, err := hooks.LoadPins(u.Sys.Root, u.Sys.StateDir)
	if err != nil {
		u.rpt().Warn(fmt.Sprintf("cannot check pins: %v", err))
		return nil
	}
	due := false
	for _, p := range pins {
		due = due || p.Until != ""
	}
	if !due {
		return nil // the common case costs no libalpm handle
	}
	release, err := u.Apply.LockState(ctx)
	if err != nil {
		return err
	}
	defer release()
	lifted, err := u.Apply.LiftPins(ctx)
	for _, p := range lifted {
		u.rep.PinsLifted = append(u.rep.PinsLifted, p.Pin.Name)
	}
	if err != nil {
		u.rpt().Warn(fmt.Sprintf("cannot check pins: %v", err))
	}
	return nil
}

// Configured reports whether clp update has a feed to read on sys: a
// FeedMirror, or the legacy feed allowed and present.
func Configured(sys *system.System, cfg *config.Config) bool {
	if len(cfg.FeedMirrors) > 0 {
		return true
	}
	_, err := fsx.StatUnder(sys.Root, sys.Under(feed.LegacyMirrorsPath))
	return cfg.AllowLegacyFeed && err == nil
}
