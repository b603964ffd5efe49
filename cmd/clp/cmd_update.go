package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/vincentos/clp/alpm"
	"github.com/vincentos/clp/feed"
	"github.com/vincentos/clp/hooks"
	"github.com/vincentos/clp/internal/config"
	"github.com/vincentos/clp/internal/fsx"
	"github.com/vincentos/clp/internal/lock"
	"github.com/vincentos/clp/patch"
)

type updateOptions struct {
	Check        bool
	IfConfigured bool
}

var updateOpts updateOptions

func init() {
	register(&command{
		Name:    "update",
		Summary: "fetch and apply new patches from the signed feed",
		Usage: `Usage:
  clp update [--check] [--if-configured] [--noconfirm] [--json]

Refreshes the patch feed (the FeedMirror URLs in /etc/clp/clp.conf, tried
in order; a mirror that is down or serves anything clp refuses is reported
and the next one tried), lists the patches that are new and apply to this
system, downloads them and applies them in sequence order, each as its own
transaction through the same path as 'clp apply'. clp stops at the first
patch that fails (which rolls itself back); those before it stay applied.
core-livepatch-update.timer runs 'clp update --noconfirm' daily at 12:00.

A feed patch is trusted because the feed's signed metadata lists its exact
sha256 and length: a minisign signature is not needed for it. clp keeps
its own high-water mark of applied sequence numbers, so a patch is applied
once and only once, even if the metadata cache is lost or a patch is
rolled back.

UpdatePolicy in clp.conf decides what is applied: all (the default),
critical (only patches marked critical), or none (list what is new, apply
nothing). The original tool's unsigned feed (/etc/CLP/mirrors) is read only
with AllowLegacyFeed = yes, and each of its patches must still carry a
minisign signature from a key in /etc/clp/keys.

  --check          list what is new, download and change nothing (exit 0)
  --if-configured  with no feed configured (no FeedMirror, no allowed
                   legacy feed), say so and exit 0 instead of failing:
                   what the daily timer runs, so an unconfigured machine
                   does not end each day with a failed unit

Exit status: 0 done (or nothing new); 4 the feed or a patch failed
verification (the message names the attack: tampering, rollback, freeze,
mix-and-match, endless data, a key not in root); 5 a patch does not fit
this system (nothing of it changed) or the legacy feed is not allowed;
1 no mirror could be reached, or another error; 3, 6, 130 as for apply.

Examples:
  clp update --check
  clp update
  clp update --noconfirm --if-configured   # what the timer runs
  clp update --noconfirm --json            # for scripts`,
		Flags: func(fs *pflag.FlagSet) {
			updateOpts = updateOptions{}
			fs.BoolVar(&updateOpts.Check, "check", false, "only list new patches; download and change nothing")
			fs.BoolVar(&updateOpts.IfConfigured, "if-configured", false, "exit 0 with a message when no feed is configured")
		},
		Args: noArgs,
		Run: func(ctx context.Context, env *Env, args []string) error {
			return runUpdate(ctx, env, updateOpts)
		},
	})
}

// Where clp update keeps its files, under the state dir.
const (
	feedMetadataDirName = "feed"           // TUF metadata cache
	feedHighWaterName   = "feed-applied"   // high-water mark (outside the cache)
	feedDownloadDirName = "feed-downloads" // root-only folder for downloads
	lastUpdateName      = "last-update.json"
	updateLockName      = "update.lock"
)

// updateEntry is one patch clp update saw, and what it did with it.
type updateEntry struct {
	Name     string `json:"name"`
	File     string `json:"file"`
	Sequence uint64 `json:"sequence,omitempty"`
	Severity string `json:"severity,omitempty"`
	Source   string `json:"source"` // "feed" or "legacy"
	// Action is "apply", "applied", "skip" or "failed".
	Action string `json:"action"`
	Reason string `json:"reason,omitempty"`
}

// updateReport is clp update's JSON, and what last-update.json keeps.
type updateReport struct {
	Time    time.Time     `json:"time"`
	Check   bool          `json:"check"`
	Policy  string        `json:"policy"`
	Mirror  string        `json:"mirror,omitempty"`
	Legacy  string        `json:"legacy_server,omitempty"`
	Patches []updateEntry `json:"patches"`
	Applied []string      `json:"applied"`
	// PinsLifted are the packages whose --until pin this run lifted.
	PinsLifted []string `json:"pins_lifted,omitempty"`
	// Result is "ok", "nothing new", "checked" or "failed: <error>".
	Result string `json:"result"`
}

func runUpdate(ctx context.Context, env *Env, o updateOptions) error {
	if !o.Check {
		if err := preflight(ctx, env); err != nil {
			return err
		}
	}
	cfg, err := env.loadConfig()
	if err != nil {
		return err
	}
	rep := &updateReport{Time: time.Now().UTC(), Check: o.Check, Policy: cfg.UpdatePolicy, Patches: []updateEntry{}, Applied: []string{}}
	if o.IfConfigured && !feedConfigured(env, cfg) {
		// Nothing was asked of any mirror: not recorded as the last update.
		rep.Result = "skipped: no feed is configured"
		if env.JSON {
			return printJSON(env.Stdout, rep)
		}
		fmt.Fprintf(env.Stdout, "clp update: skipped: no feed is configured (no FeedMirror in %s); add 'FeedMirror = URL' there to turn the daily update on\n", env.Under(config.DefaultPath))
		return nil
	}
	err = doUpdate(ctx, env, cfg, o, rep)
	switch {
	case err != nil:
		rep.Result = "failed: " + err.Error()
	case o.Check:
		rep.Result = "checked"
	case len(rep.Applied) == 0:
		rep.Result = "nothing new"
	default:
		rep.Result = "ok"
	}
	if !o.Check && !errors.Is(err, errUpdateNotStarted) {
		if werr := writeLastUpdate(env, rep); werr != nil {
			env.Warnf("cannot record the last update: %v", werr)
		}
	}
	if env.JSON {
		if perr := printJSON(env.Stdout, rep); err == nil {
			err = perr
		}
	}
	return err
}

// errUpdateNotStarted marks failures before anything was asked of a mirror
// (another clp update running): they are not recorded as the last update.
var errUpdateNotStarted = errors.New("update not started")

func doUpdate(ctx context.Context, env *Env, cfg *config.Config, o updateOptions, rep *updateReport) error {
	legacyPath := env.Under(feed.LegacyMirrorsPath)
	_, statErr := os.Stat(legacyPath)
	hasLegacy := statErr == nil
	if hasLegacy && !cfg.AllowLegacyFeed {
		msg := fmt.Sprintf("%s (the original tool's unsigned feed) is ignored; set AllowLegacyFeed = yes in %s to read it (each of its patches must still be signed by a key in %s)",
			legacyPath, env.Under(config.DefaultPath), env.Under("/etc/clp/keys"))
		if len(cfg.FeedMirrors) == 0 {
			return withCode(withHint(errors.New("no feed mirror configured and the legacy feed is not allowed: "+msg),
				"add 'FeedMirror = URL' to "+env.Under(config.DefaultPath)+", or allow the legacy feed"), ExitRefused)
		}
		env.Warnf("%s", msg)
	}
	useLegacy := hasLegacy && cfg.AllowLegacyFeed
	if len(cfg.FeedMirrors) == 0 && !useLegacy {
		return withHint(errors.New("no feed mirror configured"), "add 'FeedMirror = URL' to "+env.Under(config.DefaultPath))
	}

	if err := os.MkdirAll(env.State(), 0o755); err != nil {
		return err
	}
	l, err := lock.Acquire(ctx, filepath.Join(env.State(), updateLockName), 0)
	if err != nil {
		return fmt.Errorf("%w: %w", errUpdateNotStarted, err)
	}
	defer l.Release()

	u := &updater{env: env, cfg: cfg, o: o, rep: rep, hw: feed.HighWater{Path: filepath.Join(env.State(), feedHighWaterName)}}
	defer u.close()
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
	if !env.JSON && !hasNew(rep) {
		fmt.Fprintln(env.Stdout, " there is nothing to do")
	}
	return u.checkPins(ctx)
}

// hasNew reports whether any patch was (or, with --check or policy none,
// would be) applied.
func hasNew(rep *updateReport) bool {
	for _, p := range rep.Patches {
		if p.Action == "apply" || p.Action == "applied" {
			return true
		}
	}
	return false
}

// updater is one run of clp update.
type updater struct {
	env   *Env
	cfg   *config.Config
	o     updateOptions
	rep   *updateReport
	hw    feed.HighWater
	query *installedQuery
	dlDir string
}

func (u *updater) close() {
	if u.query != nil {
		u.query.Close()
	}
}

func (u *updater) client() (*feed.Client, error) {
	trusted, err := u.trustedRoot()
	if err != nil {
		return nil, err
	}
	return &feed.Client{
		Mirrors:        u.cfg.FeedMirrors,
		MetadataDir:    filepath.Join(u.env.State(), feedMetadataDirName),
		TrustedRoot:    trusted,
		MaxTargetBytes: u.cfg.MaxDownloadBytes,
		Reporter:       u.env.Reporter(),
	}, nil
}

// trustedRoot is the feed's trust anchor: a self-hosted feed's in /etc
// wins over the one the package ships.
func (u *updater) trustedRoot() ([]byte, error) {
	local := u.env.Under(feed.LocalRootPath)
	data, err := os.ReadFile(local)
	if err == nil {
		return data, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, withCode(fmt.Errorf("read the feed's trusted root: %w", err), ExitVerify)
	}
	shipped := u.env.Under(feed.ShippedRootPath)
	data, err = os.ReadFile(shipped)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, withHint(fmt.Errorf("no trusted feed root: neither %s nor %s exists", local, shipped),
			"reinstall the clp package, or install a self-hosted feed's 1.root.json as "+local)
	}
	if err != nil {
		return nil, withCode(fmt.Errorf("read the feed's trusted root: %w", err), ExitVerify)
	}
	return data, nil
}

// feedError gives a feed failure its exit code: something refused is a
// verification failure (4), mirrors that could not be reached are 1.
func feedError(err error) error {
	if err == nil {
		return nil
	}
	if feed.IsAttack(err) {
		return withCode(withHint(err, "clp refused what the feed served and did not use it; report it to the feed's maintainers"), ExitVerify)
	}
	if errors.Is(err, feed.ErrUnreachable) {
		return withHint(err, "check the network and the FeedMirror lines in clp.conf")
	}
	return err
}

func (u *updater) fromFeed(ctx context.Context) error {
	c, err := u.client()
	if err != nil {
		return err
	}
	u.env.Reporter().Step("synchronizing the patch feed")
	if err := c.Refresh(ctx); err != nil {
		return feedError(err)
	}
	u.rep.Mirror = c.Mirror()
	pending, err := c.Pending(ctx, u.hw)
	if err != nil {
		return feedError(err)
	}
	// Nothing new is the daily case: it must not cost a libalpm handle.
	applied := map[string]bool{}
	if len(pending) > 0 {
		if applied, err = u.appliedNames(); err != nil {
			return err
		}
	}
	arch := patch.MachineArch()
	var todo []feed.Target
	for _, t := range pending {
		e := updateEntry{Name: t.Name, File: t.Path, Sequence: t.Sequence, Severity: t.Severity, Source: "feed", Action: "apply"}
		switch {
		case applied[t.Name]:
			// Applied by hand ('clp apply') before the feed offered it.
			e.Action, e.Reason = "skip", "already applied"
		case !t.AppliesTo(arch):
			e.Action, e.Reason = "skip", "not for "+arch
		case u.cfg.UpdatePolicy == "critical" && !t.Critical():
			e.Action, e.Reason = "skip", "UpdatePolicy = critical"
		}
		if e.Action == "apply" {
			if why, err := u.unmetRequirement(t.Requires); err != nil {
				return err
			} else if why != "" {
				e.Action, e.Reason = "skip", why
			}
		}
		u.rep.Patches = append(u.rep.Patches, e)
		if e.Action == "apply" {
			todo = append(todo, t)
		}
	}
	u.list("feed", c.Mirror())
	if u.o.Check || u.cfg.UpdatePolicy == "none" || len(todo) == 0 {
		// A patch applied by hand is recorded as done, so the mark moves
		// past it without downloading it; not when nothing may change.
		if !u.o.Check && u.cfg.UpdatePolicy != "none" {
			for _, t := range pending {
				if applied[t.Name] {
					if err := u.hw.Mark(t.Sequence); err != nil {
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
		idx := u.entry("feed", t.Path)
		e := &u.rep.Patches[idx]
		if e.Action == "skip" && e.Reason == "already applied" {
			if err := u.hw.Mark(t.Sequence); err != nil {
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
		// The mark is the feed's record of what was applied: durable
		// before the next patch starts.
		if err := u.hw.Mark(t.Sequence); err != nil {
			return fmt.Errorf("patch %s is applied but its sequence number could not be recorded: %w", t.Name, err)
		}
	}
	return nil
}

func (u *updater) entry(source, file string) int {
	for i, e := range u.rep.Patches {
		if e.Source == source && e.File == file {
			return i
		}
	}
	panic("clp update: no entry for " + file)
}

// applyTarget downloads one feed patch and applies it. The feed's signed
// metadata pinned its length and sha256 and Download checked both before
// writing it to a root-only folder: that is the patch's trust, so it is
// opened without a minisign check (a .minisig the feed carries is for
// hand-carried copies).
func (u *updater) applyTarget(ctx context.Context, c *feed.Client, t feed.Target, dir string) error {
	path, err := c.Download(ctx, t, dir)
	if err != nil {
		return feedError(err)
	}
	defer removeDownload(path)
	a, err := patch.OpenFile(path, u.limits())
	if err != nil {
		return withCode(fmt.Errorf("feed patch %s: %w", t.Path, err), ExitVerify)
	}
	defer a.Close()
	if m := a.Manifest(); m.Name != t.Name {
		return withCode(fmt.Errorf("feed patch %s: the feed lists it as %s but its PKGINFO.meta names %s (tampered?)", t.Path, t.Name, m.Name), ExitVerify)
	}
	trust := fmt.Sprintf("verified by the feed, sequence %d", t.Sequence)
	_, err = applyOpened(ctx, u.env, u.cfg, applyOptions{}, a, trust, path)
	return err
}

func removeDownload(path string) {
	os.Remove(path)
	os.Remove(path + patch.SigSuffix)
}

func (u *updater) limits() patch.Limits {
	lim := patch.DefaultLimits()
	lim.PathAllowed = u.cfg.PathAllowed
	lim.TempDir = u.env.State()
	return lim
}

// downloadDir is where patches land before they are applied: under the
// state dir, owned by root and closed to everyone else, since what is in
// it is about to run as root.
func (u *updater) downloadDir() (string, error) {
	if u.dlDir != "" {
		return u.dlDir, nil
	}
	dir := filepath.Join(u.env.State(), feedDownloadDirName)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return "", err
	}
	u.dlDir = dir
	return dir, nil
}

func (u *updater) appliedNames() (map[string]bool, error) {
	eng, err := u.env.engine(u.cfg)
	if err != nil {
		return nil, err
	}
	list, err := eng.List()
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
func (u *updater) unmetRequirement(reqs []string) (string, error) {
	for _, r := range reqs {
		name, constraint, absent := parseRequirement(r)
		if name == "" {
			return "requirement " + r + " is not understood by this clp", nil
		}
		if u.query == nil {
			u.query = &installedQuery{env: u.env}
		}
		ver, ok, err := u.query.InstalledVersion(name)
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
			match, err := alpm.SatisfiesConstraint(ver, constraint)
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

// parseRequirement splits "NAME<op>VERSION" or "!NAME".
func parseRequirement(r string) (name, constraint string, absent bool) {
	r = strings.TrimSpace(r)
	if n, ok := strings.CutPrefix(r, "!"); ok {
		return n, "", true
	}
	if i := strings.IndexAny(r, "<>="); i >= 0 {
		return r[:i], r[i:], false
	}
	return r, "", false
}

// list prints what a source offers, pacman-style.
func (u *updater) list(source, from string) {
	if u.env.JSON {
		return
	}
	var lines []string
	n := 0
	for _, e := range u.rep.Patches {
		if e.Source != source {
			continue
		}
		line := "   " + e.Name
		if e.Sequence != 0 {
			line += fmt.Sprintf(" (sequence %d, %s)", e.Sequence, e.Severity)
		}
		if e.Action == "skip" {
			line += ": skipped, " + e.Reason
		} else {
			n++
		}
		lines = append(lines, line)
	}
	if len(lines) == 0 {
		return
	}
	verb := "to apply"
	switch {
	case u.o.Check:
		verb = "new"
	case u.cfg.UpdatePolicy == "none":
		verb = "new (UpdatePolicy = none: not applied)"
	}
	fmt.Fprintf(u.env.Stdout, "%s %d patch(es) %s from the %s feed %s\n", u.env.bold("::"), n, verb, source, from)
	for _, l := range lines {
		fmt.Fprintln(u.env.Stdout, l)
	}
}

// fromLegacy reads the original tool's feed. Nothing in it is signed, so
// every patch goes through openPatch's minisign check without any way to
// allow it unsigned, and a patch this machine ever applied (clp history)
// is never fetched again: the legacy feed has no sequence numbers, and a
// patch the user rolled back must not come back.
func (u *updater) fromLegacy(ctx context.Context, mirrorsPath string) error {
	servers, err := feed.LegacyMirrors(mirrorsPath)
	if err != nil {
		return err
	}
	c := &feed.Client{MaxTargetBytes: u.cfg.MaxDownloadBytes, Reporter: u.env.Reporter()}
	u.env.Reporter().Step("reading the legacy feed (" + mirrorsPath + ")")
	db, err := c.FetchLegacyDB(ctx, servers)
	if err != nil {
		return feedError(err)
	}
	u.rep.Legacy = db.Server
	eng, err := u.env.engine(u.cfg)
	if err != nil {
		return err
	}
	hist, err := eng.History()
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, ev := range hist {
		if ev.Event == patch.EventApplied {
			seen[ev.Name] = true
		}
	}
	applied, err := u.appliedNames()
	if err != nil {
		return err
	}
	var todo []string
	for _, name := range db.Names {
		e := updateEntry{Name: name, File: name + ".CLP", Source: "legacy", Action: "apply"}
		switch {
		case applied[name]:
			e.Action, e.Reason = "skip", "already applied"
		case seen[name]:
			e.Action, e.Reason = "skip", "applied before (see 'clp history')"
		default:
			if _, err := os.Lstat(filepath.Join(u.env.Under("/opt/CLP"), name)); err == nil {
				e.Action, e.Reason = "skip", "installed by clpctl; run 'clp migrate'"
			}
		}
		u.rep.Patches = append(u.rep.Patches, e)
		if e.Action == "apply" {
			todo = append(todo, name)
		}
	}
	u.list("legacy", db.Server)
	if u.o.Check || u.cfg.UpdatePolicy == "none" || len(todo) == 0 {
		return nil
	}
	dir, err := u.downloadDir()
	if err != nil {
		return err
	}
	for _, name := range todo {
		e := &u.rep.Patches[u.entry("legacy", name+".CLP")]
		err := u.applyLegacy(ctx, c, db.Server, name, dir, e)
		if err != nil {
			e.Action, e.Reason = "failed", err.Error()
			return err
		}
	}
	return nil
}

func (u *updater) applyLegacy(ctx context.Context, c *feed.Client, server, name, dir string, e *updateEntry) error {
	path, _, err := c.FetchLegacyPatch(ctx, server, name, dir)
	if err != nil {
		if errors.Is(err, feed.ErrUnreachable) {
			return withHint(err, "check the network and "+feed.LegacyMirrorsPath)
		}
		return withCode(withHint(err, "the legacy feed is unsigned: each patch needs NAME.CLP.minisig from a key in "+u.env.Under("/etc/clp/keys")), ExitVerify)
	}
	defer removeDownload(path)
	a, trust, err := openPatch(u.env, u.cfg, path, false)
	if err != nil {
		return err
	}
	defer a.Close()
	m := a.Manifest()
	// The unsigned list chose the name; the signed patch must agree, or
	// a forged list could install one signed patch under another's name.
	if m.Name != name {
		return withCode(fmt.Errorf("legacy patch %s: CLP.db lists it as %s but its PKGINFO.meta names %s", path, name, m.Name), ExitVerify)
	}
	if u.cfg.UpdatePolicy == "critical" && m.Severity != patch.SeverityCritical {
		e.Action, e.Reason = "skip", "UpdatePolicy = critical"
		return nil
	}
	if _, err := applyOpened(ctx, u.env, u.cfg, applyOptions{}, a, trust+", legacy feed", path); err != nil {
		return err
	}
	e.Action = "applied"
	u.rep.Applied = append(u.rep.Applied, m.Name)
	return nil
}

// checkPins lifts the pins whose --until version the sync databases now
// offer (cmd_pin.go's checkPins), as the daily run is where a fixed driver
// shipping should end its pin. --check and UpdatePolicy = none change
// nothing, so they leave pins alone too. A failure here is a warning: the
// patches are what the update is for, and the next run tries again.
func (u *updater) checkPins(ctx context.Context) error {
	if u.o.Check || u.cfg.UpdatePolicy == "none" {
		return nil
	}
	pins, err := hooks.LoadPins(u.env.State())
	if err != nil {
		u.env.Warnf("cannot check pins: %v", err)
		return nil
	}
	due := false
	for _, p := range pins {
		due = due || p.Until != ""
	}
	if !due {
		return nil // the common case costs no libalpm handle
	}
	l, err := u.env.stateLock(ctx)
	if err != nil {
		return err
	}
	defer l.Release()
	lifted, err := checkPins(ctx, u.env)
	for _, p := range lifted {
		u.rep.PinsLifted = append(u.rep.PinsLifted, p.Pin.Name)
	}
	if err != nil {
		u.env.Warnf("cannot check pins: %v", err)
	}
	return nil
}

// lastUpdate is <state>/last-update.json.
func writeLastUpdate(env *Env, rep *updateReport) error {
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	// The first run on a fresh system may fail before anything else made
	// the state dir; its result must still be recorded.
	if err := os.MkdirAll(env.State(), 0o755); err != nil {
		return err
	}
	return fsx.WriteFile(filepath.Join(env.State(), lastUpdateName), append(data, '\n'), 0o644)
}

// lastUpdateSummary is the "last update" line of clp status: when, how it
// ended and from where; "never" before the first run.
func lastUpdateSummary(env *Env) string {
	data, err := os.ReadFile(filepath.Join(env.State(), lastUpdateName))
	if errors.Is(err, fs.ErrNotExist) {
		return "never"
	}
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	var rep updateReport
	if err := json.Unmarshal(data, &rep); err != nil {
		return "unknown (" + lastUpdateName + " is unreadable)"
	}
	s := rep.Time.Local().Format("2006-01-02 15:04:05") + ", " + rep.Result
	if len(rep.Applied) > 0 {
		s += " (applied " + strings.Join(rep.Applied, ", ") + ")"
	}
	if rep.Mirror != "" {
		s += ", from " + rep.Mirror
	}
	return s
}

// feedConfigured reports whether clp update has a feed to read: a
// FeedMirror, or the legacy feed allowed and present.
func feedConfigured(env *Env, cfg *config.Config) bool {
	if len(cfg.FeedMirrors) > 0 {
		return true
	}
	_, err := os.Stat(env.Under(feed.LegacyMirrorsPath))
	return cfg.AllowLegacyFeed && err == nil
}
