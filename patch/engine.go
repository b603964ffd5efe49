package patch

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/vincentos/clp/internal/config"
	"github.com/vincentos/clp/internal/fail"
	"github.com/vincentos/clp/internal/fsx"
	"github.com/vincentos/clp/internal/lock"
	"github.com/vincentos/clp/internal/report"
)

// Engine applies, rolls back and recovers patches on one system root. It is
// crash-safe: see the state layout at the top of state.go. An Engine holds
// no open resources; every call takes the state lock for its duration.
type Engine struct {
	// Root is the system root ("/" or a sandbox root); file actions'
	// targets are joined with it.
	Root string
	// StateDir is clp's state directory, already joined with Root
	// (<root>/var/lib/clp).
	StateDir string
	// OptDir is where patches are unpacked for their scripts, joined with
	// Root (<root>/opt/CLP).
	OptDir string
	// LogPath receives script output (<root>/var/log/CLP.log).
	LogPath  string
	Config   *config.Config
	Reporter report.Reporter
	// Packages carries out package actions; nil refuses patches that
	// have any.
	Packages PackageActor
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// LockWait is how long to wait for another clp to release the state
	// lock before giving up (0: refuse at once).
	LockWait time.Duration
}

// PackageActor carries out a patch's package actions (downgrades, pins).
// The engine journals the PackagePlan before Apply and hands the same plan
// to Revert when it rolls back, so the plan must hold whatever Revert needs
// (the versions installed before, the pins added).
type PackageActor interface {
	// Prepare checks the actions against the system and returns what Apply
	// would do. It must not change anything.
	Prepare(ctx context.Context, a Archive, actions []PackageAction) (*PackagePlan, error)
	// Apply carries out the plan; a is the patch (package files may be
	// payloads in it).
	Apply(ctx context.Context, a Archive, p *PackagePlan) error
	// Revert undoes Apply, whether Apply finished, failed halfway or was
	// never called. It must be idempotent: recovery may call it again
	// after a crash during Revert.
	Revert(ctx context.Context, p *PackagePlan) error
}

// PackagePlan is a PackageActor's plan, stored in the journal and in the
// applied record.
type PackagePlan struct {
	Actions []PackageAction `json:"actions"`
	// Previous maps each changed package to the version installed before
	// ("" when it was not installed).
	Previous map[string]string `json:"previous,omitempty"`
	// Pins are the packages the plan pins.
	Pins []string `json:"pins,omitempty"`
	// State is the actor's own undo data, opaque to the engine.
	State json.RawMessage `json:"state,omitempty"`
}

// PackageQuery answers questions about installed packages for the
// applicability check (the caller backs it with alpm).
type PackageQuery interface {
	// InstalledVersion returns the installed version of name, and false
	// when it is not installed.
	InstalledVersion(name string) (version string, installed bool, err error)
	// VerCmp compares two versions as pacman does (<0, 0, >0).
	VerCmp(a, b string) int
}

// ApplyOptions change how a patch is planned.
type ApplyOptions struct {
	// Force overwrites targets the user changed, keeping the user's copy
	// as <file>.clpsave.
	Force bool
	// Arch is the system's architecture ("" means this machine's, e.g.
	// x86_64).
	Arch string
	// Installed answers package conditions; nil refuses a patch that has
	// any.
	Installed PackageQuery
}

// RollbackOptions change how a patch is rolled back.
type RollbackOptions struct {
	// Force restores over files the user changed since the patch applied,
	// keeping the user's copy as <file>.clpsave.
	Force bool
	// Reason is why the patch is rolled back, recorded as the detail of
	// its rolled-back event in the history ("" for a user's rollback).
	Reason string
}

// Step is one file action as planned: the target's state before and after.
type Step struct {
	Op string `json:"op"`
	// Target is the system path (not joined with the root).
	Target  string    `json:"target"`
	Payload string    `json:"payload,omitempty"`
	Before  FileState `json:"before"`
	After   FileState `json:"after"`
	// Clpsave is where the user's edited copy is kept (system path), when
	// the plan overwrites a user's change.
	Clpsave string `json:"clpsave,omitempty"`
	// Staged is the system path of the new content staged beside the
	// target during apply (add, replace).
	Staged string `json:"staged,omitempty"`
	// Backup is the path of the backup of Before, relative to the patch's
	// state directory (when Before exists).
	Backup string `json:"backup,omitempty"`
}

// Plan is what Apply will do, checked against the system. It is printable.
type Plan struct {
	Name          string
	Version       string
	Description   string
	Severity      string
	Steps         []Step
	Dirs          []string // directories to create (system paths, parents first)
	Packages      *PackagePlan
	InstallScript string
	RemoveScript  string
	Force         bool
	// Warnings say what the plan does that the user should know (a
	// .clpsave kept).
	Warnings []string

	// seen is what Plan read of the targets, for verifyPlan to reuse
	// where the inode is unchanged since (state_seen.go).
	seen seenFiles
}

// String lists what the plan will do, one action a line, in the present
// tense (nothing is done yet); the caller names the patch above it.
func (p *Plan) String() string {
	var b strings.Builder
	const indent = "              " // under the action's target
	for _, d := range p.Dirs {
		fmt.Fprintf(&b, "  %-11s %s\n", "mkdir", d)
	}
	for _, s := range p.Steps {
		fmt.Fprintf(&b, "  %-11s %s\n", s.Op, s.Target)
		fmt.Fprintf(&b, "%sbefore: %s\n%safter:  %s\n", indent, s.Before, indent, s.After)
		if s.Clpsave != "" {
			fmt.Fprintf(&b, "%syour copy kept as %s\n", indent, s.Clpsave)
		}
	}
	if p.Packages != nil {
		for _, a := range p.Packages.Actions {
			switch a.Op {
			case OpDowngrade:
				from := p.Packages.Previous[a.Name]
				if from == "" {
					from = "not installed"
				}
				fmt.Fprintf(&b, "  %-11s %s %s -> %s\n", a.Op, a.Name, from, a.Version)
			default:
				fmt.Fprintf(&b, "  %-11s %s until %s\n", a.Op, a.Name, a.Until)
			}
		}
	}
	if p.InstallScript != "" {
		fmt.Fprintf(&b, "  %-11s %s\n", "run script", p.InstallScript)
	}
	return b.String()
}

// crashHook, when set (tests only), is called at every step boundary of a
// transaction; the crash tests kill the process from it.
var crashHook func(step string)

// beforeLock, when set (tests only), is called after every check clp
// makes and just before it takes the state lock; it is not a crash point.
var beforeLock func()

func hook(step string) {
	if crashHook != nil {
		crashHook(step)
	}
}

func (e *Engine) rep() report.Reporter { return report.Or(e.Reporter) }

func (e *Engine) cfg() *config.Config {
	if e.Config == nil {
		return config.Default()
	}
	return e.Config
}

func (e *Engine) check() error {
	if e.Root == "" || !filepath.IsAbs(e.Root) {
		return fmt.Errorf("engine root %q is not an absolute path", e.Root)
	}
	for _, p := range []string{e.StateDir, e.OptDir, e.LogPath} {
		if p == "" || !filepath.IsAbs(p) {
			return fmt.Errorf("engine path %q is not an absolute path", p)
		}
	}
	if filepath.Clean(e.Root) == "/" {
		// On the running system nothing is outside the root, and an
		// absolute link is the admin's layout (/opt -> /data/opt), not an
		// escape; but os.Root refuses every absolute link. clp's own
		// folders are taken where they really are, once, so the anchored
		// operations meet no link; a link swapped in later is refused.
		e.StateDir = canonicalPath(e.StateDir)
		e.OptDir = canonicalPath(e.OptDir)
		e.LogPath = filepath.Join(canonicalPath(filepath.Dir(e.LogPath)), filepath.Base(e.LogPath))
	} else {
		// A mounted root: an absolute link there means what it means
		// once that system boots ("<root>/opt -> /data/opt" is
		// "<root>/data/opt"): clp's own folders are resolved that way,
		// once, by the kernel (RESOLVE_IN_ROOT, which cannot leave the
		// root); the anchored operations then meet no link, and refuse
		// one swapped in later. Without openat2 they stay as given and
		// such a link is refused below, as before.
		e.StateDir = fsx.ResolveInRoot(e.Root, e.StateDir)
		e.OptDir = fsx.ResolveInRoot(e.Root, e.OptDir)
		e.LogPath = filepath.Join(fsx.ResolveInRoot(e.Root, filepath.Dir(e.LogPath)), filepath.Base(e.LogPath))
	}
	return e.checkInRoot()
}

// canonicalPath is p with the symbolic links of its longest existing part
// resolved (filepath.EvalSymlinks), the rest as it is: the folder p names
// on the running system, wherever links put it.
func canonicalPath(p string) string {
	p = filepath.Clean(p)
	rest := ""
	for dir := p; ; dir = filepath.Dir(dir) {
		if real, err := filepath.EvalSymlinks(dir); err == nil {
			return filepath.Join(real, rest)
		}
		if dir == "/" {
			return p
		}
		rest = filepath.Join(filepath.Base(dir), rest)
	}
}

// checkInRoot refuses a root whose state folder, /opt/CLP or log folder
// leads out of it (a symbolic link at <root>/var/lib/clp, <root>/opt, ...):
// clp would keep its lock, backups and unpacked patches outside the root.
// Resolved with os.Root, as the kernel would, not by string prefixes.
func (e *Engine) checkInRoot() error {
	r, err := os.OpenRoot(e.Root)
	if err != nil {
		// A missing root is the caller's error to report.
		return nil
	}
	defer r.Close()
	for _, p := range []string{e.StateDir, e.OptDir, filepath.Dir(e.LogPath)} {
		rel, ok := under(e.Root, p)
		if !ok {
			// A state folder named outside the root (--state-dir)
			// is the admin's choice, anchored on its own.
			continue
		}
		// Walk down so a missing folder under a link still shows the link.
		parts := strings.Split(rel, string(filepath.Separator))
		for i := range parts {
			sub := filepath.Join(parts[:i+1]...)
			_, err := r.Stat(sub)
			if err == nil {
				continue
			}
			if errors.Is(err, fs.ErrNotExist) {
				break
			}
			return fail.Refused(fmt.Errorf("%s leads out of the root %s (%v); clp keeps its state, patches and logs inside the root", filepath.Join(e.Root, sub), e.Root, err),
				"replace the symbolic link at "+filepath.Join(e.Root, sub)+" with a real folder")
		}
	}
	return nil
}

// lockRecovered takes clp's lock and first finishes what an interrupted
// run left (recoverLocked): what apply, rollback and clp migrate's
// adoption start with. The caller releases the lock.
func (e *Engine) lockRecovered(ctx context.Context) (*lock.Lock, error) {
	l, err := e.lock(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := e.recoverLocked(ctx); err != nil {
		l.Release()
		return nil, err
	}
	return l, nil
}

func (e *Engine) lock(ctx context.Context) (*lock.Lock, error) {
	// A damaged journal is refused before the lock, so the refusal
	// creates nothing (not even the lock file); recovery reads it again
	// under the lock before acting.
	if r, err := e.inspectJournal(); err != nil {
		return nil, err
	} else if r != nil && r.Damage != "" {
		return nil, r.damagedError()
	}
	// Anchored (anchor.go): the lock file is created inside the root.
	r, name, err := e.anchor(e.lockPath())
	if err != nil {
		return nil, err
	}
	defer r.Close()
	if beforeLock != nil {
		beforeLock()
	}
	l, err := lock.AcquireIn(ctx, r, name, e.LockWait)
	if err != nil {
		var held *lock.HeldError
		if errors.As(err, &held) {
			return nil, fmt.Errorf("another clp is running: %w", err)
		}
		return nil, err
	}
	return l, nil
}

var validName = lazyRegexp(`^[A-Za-z0-9][A-Za-z0-9._+-]*$`)

func checkName(name string) error {
	if !validName.MatchString(name) || len(name) > 128 {
		return fmt.Errorf("patch name %q is not usable as a directory name", name)
	}
	return nil
}

// Plan checks that the patch in a applies to this system and computes every
// file's before and after state. It changes nothing.
func (e *Engine) Plan(ctx context.Context, a Archive, opts ApplyOptions) (*Plan, error) {
	if err := e.check(); err != nil {
		return nil, err
	}
	m := a.Manifest()
	if err := checkName(m.Name); err != nil {
		return nil, err
	}
	p := &Plan{Name: m.Name, Version: m.Version, Description: m.Description, Severity: m.Severity,
		InstallScript: m.InstallScript, RemoveScript: m.RemoveScript, Force: opts.Force, seen: seenFiles{}}
	if err := checkApplies(m, opts); err != nil {
		return nil, err
	}
	if ap, err := e.readApplied(m.Name); err != nil {
		return nil, err
	} else if ap != nil {
		return nil, fmt.Errorf("patch %s is already applied (version %s, since %s)", m.Name, ap.Version, ap.AppliedAt.Format(time.DateTime))
	}
	if _, err := e.lstatAnchored(e.optPatchDir(m.Name)); err == nil {
		return nil, fmt.Errorf("patch %s: %s already exists (installed by clpctl?); remove it before applying with clp", m.Name, e.optPatchDir(m.Name))
	}
	r, err := e.openRoot()
	if err != nil {
		return nil, err
	}
	defer closeRoot(r)
	entries := map[string]bool{}
	for _, n := range a.Entries() {
		entries[n] = true
	}
	for _, sc := range []string{m.InstallScript, m.RemoveScript} {
		if sc != "" && !entries[sc] {
			return nil, fmt.Errorf("patch %s: script %s is not in the archive", m.Name, sc)
		}
	}
	optSys := e.sysPath(e.OptDir)
	// Folders checkParents found to be real folders: 1,000 targets in ten
	// folders look each folder up once, not once per target (four lstats
	// per target for /usr/share/x/y/file).
	parentOK := map[string]bool{}
	seen := map[string]bool{}
	dirs := map[string]bool{}
	var changed []string
	read := e.readTargets(r, m.Files, p.seen)
	for _, fa := range m.Files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s, mkdirs, err := e.planStep(r, fa, entries, opts, parentOK, p.seen, read)
		if err != nil {
			var ue *userChangedError
			if errors.As(err, &ue) {
				changed = append(changed, ue.target)
				continue
			}
			return nil, err
		}
		if seen[s.Target] {
			return nil, fmt.Errorf("patch %s: target %s appears twice", m.Name, s.Target)
		}
		seen[s.Target] = true
		// /opt/CLP/<name>/ holds unpacked patches (the original tool's
		// layout); a file directly in /opt/CLP is fair game, as the wiki's
		// own example patch writes /opt/CLP/new-file.txt.
		if rel, ok := strings.CutPrefix(s.Target, optSys+"/"); optSys != "" && (s.Target == optSys || ok && strings.Contains(rel, "/")) {
			return nil, fmt.Errorf("patch %s: target %s is inside a patch folder of %s", m.Name, s.Target, optSys)
		}
		for _, d := range mkdirs {
			if !dirs[d] {
				dirs[d] = true
				p.Dirs = append(p.Dirs, d)
			}
		}
		if s.Clpsave != "" {
			p.Warnings = append(p.Warnings, fmt.Sprintf("%s was changed since the patch was made; your copy will be kept as %s", s.Target, s.Clpsave))
		}
		p.Steps = append(p.Steps, s)
	}
	if len(changed) > 0 {
		return nil, fmt.Errorf("patch %s: %s changed since the patch was made (not what the patch expects); not overwriting (hint: use --force to apply anyway and keep your copy as .clpsave)", m.Name, strings.Join(changed, ", "))
	}
	sortParentsFirst(p.Dirs)
	if len(m.Packages) > 0 {
		if e.Packages == nil {
			return nil, fmt.Errorf("patch %s has package actions (%s %s), which this clp cannot carry out yet", m.Name, m.Packages[0].Op, m.Packages[0].Name)
		}
		pp, err := e.Packages.Prepare(ctx, a, m.Packages)
		if err != nil {
			return nil, fmt.Errorf("patch %s: %w", m.Name, err)
		}
		p.Packages = pp
	}
	return p, nil
}

// sysPath turns a path under Root back into a system path ("" if it is not
// under Root).
func (e *Engine) sysPath(p string) string {
	root := filepath.Clean(e.Root)
	if root == "/" {
		return filepath.Clean(p)
	}
	rel, err := filepath.Rel(root, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return ""
	}
	return filepath.Clean("/" + rel)
}

type userChangedError struct{ target string }

func (u *userChangedError) Error() string { return u.target + " was changed" }

// readTargets reads the targets that planStep will look at (a clean
// absolute path that AllowedPaths lets a patch change) with
// statFilesSeen, several at once, and returns what it found by name in
// the root; planStep takes its target's state from there. It only reads:
// every check stays planStep's, in step order.
func (e *Engine) readTargets(r *os.Root, files []FileAction, seen seenFiles) map[string]seenResult {
	var names []string
	for _, fa := range files {
		t := fa.Target
		if filepath.IsAbs(t) && filepath.Clean(t) == t && !strings.ContainsAny(t, "\x00\\") && e.cfg().PathAllowed(t) {
			names = append(names, tname(t))
		}
	}
	found := statFilesSeen(r, names, seen)
	out := make(map[string]seenResult, len(names))
	for i, n := range names {
		out[n] = found[i]
	}
	return out
}

// planStep checks one file action and returns its step and the directories
// it needs created. read holds targets read already (readTargets).
func (e *Engine) planStep(r *os.Root, fa FileAction, entries map[string]bool, opts ApplyOptions, parentOK map[string]bool, seen seenFiles, read map[string]seenResult) (Step, []string, error) {
	t := fa.Target
	if !filepath.IsAbs(t) || filepath.Clean(t) != t || strings.ContainsAny(t, "\x00\\") {
		return Step{}, nil, fmt.Errorf("target %q is not a clean absolute path", t)
	}
	if !e.cfg().PathAllowed(t) {
		return Step{}, nil, fmt.Errorf("target %s is outside the paths a patch may change (AllowedPaths in clp.conf: %s)", t, strings.Join(e.cfg().AllowedPaths, " "))
	}
	s := Step{Op: fa.Op, Target: t, Payload: fa.Payload}
	mkdirs, err := e.checkParents(r, t, fa.Op == OpAdd, parentOK)
	if err != nil {
		return Step{}, nil, err
	}
	res, ok := read[tname(t)]
	if !ok {
		res.st, res.err = statFileSeen(r, tname(t), seen)
	}
	cur, err := res.st, res.err
	if err != nil {
		return Step{}, nil, fmt.Errorf("target %w", err)
	}
	s.Before = cur
	switch fa.Op {
	case OpAdd, OpReplace:
		if fa.Payload == "" || !entries[fa.Payload] {
			return Step{}, nil, fmt.Errorf("target %s: payload %q is not in the archive", t, fa.Payload)
		}
		if !isHexSHA(fa.SHA256) {
			return Step{}, nil, fmt.Errorf("target %s: payload sha256 %q is not a sha256", t, fa.SHA256)
		}
	case OpRemove, OpMode, OpOwner:
	default:
		return Step{}, nil, fmt.Errorf("target %s: unknown file action %q", t, fa.Op)
	}
	userChanged := false
	if fa.Op == OpAdd {
		if cur.Exists {
			userChanged = true
		}
	} else {
		if !cur.Exists {
			return Step{}, nil, fmt.Errorf("target %s does not exist; the patch expects to %s it", t, fa.Op)
		}
		if !isHexSHA(fa.Expect) {
			return Step{}, nil, fmt.Errorf("target %s: expected sha256 %q is not a sha256", t, fa.Expect)
		}
		userChanged = !strings.EqualFold(cur.SHA256, fa.Expect)
	}
	if userChanged {
		if !opts.Force {
			return Step{}, nil, &userChangedError{target: t}
		}
		// Mode and owner changes keep the user's content, so there is no
		// copy to save; every other action overwrites it.
		if fa.Op != OpMode && fa.Op != OpOwner {
			s.Clpsave = t + ".clpsave"
			if _, err := r.Lstat(tname(s.Clpsave)); err == nil {
				return Step{}, nil, fmt.Errorf("target %s was changed and %s already exists; move it away first", t, s.Clpsave)
			}
		}
	}
	mode, uid, gid, err := e.wantedMeta(r, fa)
	if err != nil {
		return Step{}, nil, fmt.Errorf("target %s: %w", t, err)
	}
	switch fa.Op {
	case OpAdd, OpReplace:
		s.After = FileState{Exists: true, SHA256: strings.ToLower(fa.SHA256), Mode: 0o644}
		if cur.Exists && fa.Op == OpReplace {
			s.After.Mode, s.After.UID, s.After.GID, s.After.Xattrs = cur.Mode, cur.UID, cur.GID, cur.Xattrs
		}
	case OpRemove:
		s.After = FileState{}
	case OpMode, OpOwner:
		s.After = cur
	}
	if mode >= 0 {
		s.After.Mode = uint32(mode)
	}
	if uid >= 0 {
		s.After.UID = uid
	}
	if gid >= 0 {
		s.After.GID = gid
	}
	if fa.Op == OpMode && mode < 0 {
		return Step{}, nil, fmt.Errorf("target %s: mode action without a mode", t)
	}
	if fa.Op == OpOwner && uid < 0 && gid < 0 {
		return Step{}, nil, fmt.Errorf("target %s: owner action without an owner or group", t)
	}
	return s, mkdirs, nil
}

func isHexSHA(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// checkParents refuses a target reached through a symbolic link or a
// non-directory (a link could lead the write out of the root or into a path
// that is not allowed), and lists the missing parents an add must create.
// A folder in ok (may be nil) was found a real folder for an earlier target
// of the same plan and is not looked up again; one found so is added.
func (e *Engine) checkParents(r *os.Root, target string, mayCreate bool, ok map[string]bool) ([]string, error) {
	var missing []string
	dir := filepath.Dir(target)
	var chain []string
	for d := dir; d != "/"; d = filepath.Dir(d) {
		chain = append(chain, d)
	}
	for i := len(chain) - 1; i >= 0; i-- {
		d := chain[i]
		if ok[d] {
			continue
		}
		fi, err := r.Lstat(tname(d))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if !mayCreate {
				return nil, fmt.Errorf("target %s does not exist (no directory %s)", target, d)
			}
			missing = append(missing, d)
			continue
		case err != nil:
			return nil, fmt.Errorf("target %s: %w", target, err)
		case len(missing) > 0:
			// cannot happen: a child of a missing directory exists
			return nil, fmt.Errorf("target %s: %s exists under a missing directory", target, d)
		case fi.Mode()&fs.ModeSymlink != 0:
			return nil, fmt.Errorf("target %s: %s is a symbolic link; a patch must name the real path", target, d)
		case !fi.IsDir():
			return nil, fmt.Errorf("target %s: %s is not a directory", target, d)
		}
		if ok != nil {
			ok[d] = true
		}
	}
	return missing, nil
}

func sortParentsFirst(dirs []string) {
	// Parents are shorter than their children.
	for i := 1; i < len(dirs); i++ {
		for j := i; j > 0 && len(dirs[j]) < len(dirs[j-1]); j-- {
			dirs[j], dirs[j-1] = dirs[j-1], dirs[j]
		}
	}
}

// wantedMeta parses a file action's mode and owner; -1 means "keep".
func (e *Engine) wantedMeta(r *os.Root, fa FileAction) (mode, uid, gid int, err error) {
	mode, uid, gid = -1, -1, -1
	if fa.Mode != "" {
		v, perr := strconv.ParseUint(fa.Mode, 8, 32)
		if perr != nil || v > 0o7777 {
			return 0, 0, 0, fmt.Errorf("mode %q is not an octal permission", fa.Mode)
		}
		mode = int(v)
	}
	if fa.Owner != "" {
		if uid, err = e.lookupID(r, "/etc/passwd", fa.Owner); err != nil {
			return 0, 0, 0, err
		}
	}
	if fa.Group != "" {
		if gid, err = e.lookupID(r, "/etc/group", fa.Group); err != nil {
			return 0, 0, 0, err
		}
	}
	if fa.Op == OpAdd {
		// A new file belongs to root unless the patch says otherwise.
		if uid < 0 {
			uid = 0
		}
		if gid < 0 {
			gid = 0
		}
	}
	return mode, uid, gid, nil
}

// lookupID resolves a user or group name in the root's own passwd/group
// file (never the host's: a sandbox root has its own users).
func (e *Engine) lookupID(r *os.Root, file, name string) (int, error) {
	if n, err := strconv.Atoi(name); err == nil && n >= 0 {
		return n, nil
	}
	what := "user"
	if strings.HasSuffix(file, "group") {
		what = "group"
	}
	f, err := r.Open(tname(file))
	if err != nil {
		return 0, fmt.Errorf("%s %q: %w", what, name, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) >= 3 && fields[0] == name {
			if n, err := strconv.Atoi(fields[2]); err == nil {
				return n, nil
			}
		}
	}
	return 0, fmt.Errorf("%s %q is not in %s", what, name, file)
}

func checkApplies(m *Manifest, opts ApplyOptions) error {
	arch := opts.Arch
	if arch == "" {
		arch = MachineArch()
	}
	archs := m.AppliesTo.Architectures
	if len(archs) == 0 && m.Architecture != "" {
		archs = []string{m.Architecture}
	}
	if len(archs) > 0 {
		ok := false
		for _, a := range archs {
			if a == arch || a == "any" {
				ok = true
			}
		}
		if !ok {
			return fmt.Errorf("patch %s is for %s, not for this system (%s)", m.Name, strings.Join(archs, ", "), arch)
		}
	}
	for _, c := range m.AppliesTo.Packages {
		if opts.Installed == nil {
			return fmt.Errorf("patch %s has conditions on installed packages (%s) but no package database was given", m.Name, c.Name)
		}
		ver, ok, err := opts.Installed.InstalledVersion(c.Name)
		if err != nil {
			return fmt.Errorf("patch %s: look up package %s: %w", m.Name, c.Name, err)
		}
		if c.Absent {
			if ok {
				return fmt.Errorf("patch %s does not apply: package %s is installed (%s)", m.Name, c.Name, ver)
			}
			continue
		}
		if !ok {
			return fmt.Errorf("patch %s does not apply: package %s is not installed", m.Name, c.Name)
		}
		match, err := versionMatches(opts.Installed, ver, c.Constraint)
		if err != nil {
			return fmt.Errorf("patch %s: package %s: %w", m.Name, c.Name, err)
		}
		if !match {
			return fmt.Errorf("patch %s does not apply: package %s is %s, the patch needs %s", m.Name, c.Name, ver, c.Constraint)
		}
	}
	return nil
}

func versionMatches(q PackageQuery, ver, constraint string) (bool, error) {
	op, want, err := ParseConstraint(strings.TrimSpace(constraint))
	if err != nil {
		return false, err
	}
	if op == "" {
		return true, nil
	}
	r := q.VerCmp(ver, want)
	switch op {
	case ">=":
		return r >= 0, nil
	case "<=":
		return r <= 0, nil
	case ">":
		return r > 0, nil
	case "<":
		return r < 0, nil
	}
	return r == 0, nil
}

// MachineArch names this machine's architecture as pacman and patches do
// (x86_64, aarch64, ...), the default a patch's Architecture is checked
// against.
func MachineArch() string {
	switch runtime.GOARCH {
	case "amd64":
		return "x86_64"
	case "arm64":
		return "aarch64"
	case "386":
		return "i686"
	case "arm":
		return "armv7h"
	}
	return runtime.GOARCH
}

func newTxID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}
