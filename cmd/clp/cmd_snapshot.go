package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/vincentos/clp/alpm"
	"github.com/vincentos/clp/boot"
	"github.com/vincentos/clp/cache"
	"github.com/vincentos/clp/hooks"
	"github.com/vincentos/clp/snapshot"
)

type snapshotOptions struct {
	Desc     string
	LockWait time.Duration
}

func init() {
	var o snapshotOptions
	register(&command{
		Name:    "snapshot",
		Summary: "list, compare, create, delete and restore package-state snapshots",
		Usage: `Usage:
  clp snapshot list
  clp snapshot show ID
  clp snapshot diff A [B]
  clp snapshot create [-d DESC]
  clp snapshot delete ID...
  clp snapshot restore ID

clp records the installed packages (name, version, architecture, install
reason) before and after every pacman transaction, through its pacman
hooks, and on demand. A pre snapshot whose transaction failed has no post:
it is listed as an orphan.

  list      every snapshot: pre/post pairs, orphans, the patch a snapshot
            belongs to, and the snapper snapshots taken with it
  show      one snapshot with its packages
  diff      what changed from snapshot A to snapshot B, or to the packages
            installed now when B is left out
  create    record the installed packages now (-d says why)
  delete    delete snapshots
  restore   take the installed packages back to snapshot ID: downgrades,
            upgrades and reinstalls with one 'pacman -U' of package files,
            removals of packages installed since with one 'pacman -R',
            then install reasons. Every package file needed must be in the
            package cache or on the archive servers of clp.conf
            (ArchiveServer), checked before anything changes; archive
            files are downloaded after the confirmation.
            A restore-pre snapshot is recorded first, so a restore can be
            undone by restoring that one.

Every action takes --json.

Examples:
  clp snapshot list
  clp snapshot diff 41 42
  clp snapshot diff 41
  clp snapshot create -d "before trying the new driver"
  clp snapshot restore 41`,
		Flags: func(fs *pflag.FlagSet) {
			fs.StringVarP(&o.Desc, "description", "d", "", "describe the snapshot (create)")
			fs.DurationVar(&o.LockWait, "lock-wait", time.Minute, "how long restore waits for pacman's database lock")
		},
		Args: minArgs(1, "an action: list, show, diff, create, delete or restore"),
		Run: func(ctx context.Context, env *Env, args []string) error {
			return runSnapshot(ctx, env, o, args)
		},
	})
}

func runSnapshot(ctx context.Context, env *Env, o snapshotOptions, args []string) error {
	action, rest := args[0], args[1:]
	want := func(min, max int, what string) error {
		if len(rest) < min || (max >= 0 && len(rest) > max) {
			return withHint(usageErrorf("snapshot %s: expected %s", action, what), "see 'clp snapshot --help'")
		}
		return nil
	}
	var err error
	switch action {
	case "list", "ls":
		err = want(0, 0, "no arguments")
	case "show", "restore":
		err = want(1, 1, "one snapshot ID")
	case "diff":
		err = want(1, 2, "one or two snapshot IDs")
	case "create":
		err = want(0, 0, "no arguments (the description goes in -d)")
	case "delete", "rm":
		err = want(1, -1, "snapshot IDs")
	default:
		return withHint(usageErrorf("unknown action %q", action), "see 'clp snapshot --help'")
	}
	if err != nil {
		return err
	}
	ids := make([]int, len(rest))
	for i, a := range rest {
		if ids[i], err = strconv.Atoi(a); err != nil || ids[i] <= 0 {
			return withHint(usageErrorf("%q is not a snapshot ID", a), "'clp snapshot list' shows the IDs")
		}
	}
	st, err := snapshot.Open(snapshotDir(env))
	if err != nil {
		return err
	}
	for _, p := range st.Problems() {
		env.Warnf("%v", p)
	}
	switch action {
	case "list", "ls":
		return snapshotList(env, st)
	case "show":
		return snapshotShow(env, st, ids[0])
	case "diff":
		return snapshotDiff(env, st, ids)
	case "create":
		return snapshotCreate(env, st, o)
	case "delete", "rm":
		return snapshotDelete(env, st, ids)
	default:
		return snapshotRestore(ctx, env, st, o, ids[0])
	}
}

func notFound(err error) error {
	if errors.Is(err, snapshot.ErrNotFound) {
		return withHint(err, "'clp snapshot list' shows the IDs")
	}
	return err
}

func snapTime(t time.Time) string { return t.Local().Format("2006-01-02 15:04:05") }

func kindLabel(s snapshot.Snapshot) string {
	if s.Orphan {
		return s.Kind + "!"
	}
	return s.Kind
}

func snapperLabel(s snapshot.Snapshot) string {
	if s.Snapper == nil {
		return "-"
	}
	return s.Snapper.Config + ":" + strconv.Itoa(s.Snapper.Number)
}

func snapshotList(env *Env, st *snapshot.Store) error {
	list := st.List()
	if env.JSON {
		return printJSON(env.Stdout, list)
	}
	if len(list) == 0 {
		fmt.Fprintln(env.Stdout, "no snapshots")
		return nil
	}
	fmt.Fprintf(env.Stdout, "%5s  %-19s  %-12s  %5s  %5s  %-10s  %s\n", "ID", "Date", "Kind", "Pair", "Pkgs", "Snapper", "Description")
	orphans := false
	for _, s := range list {
		pair := "-"
		if s.PairID != 0 {
			pair = strconv.Itoa(s.PairID)
		}
		orphans = orphans || s.Orphan
		fmt.Fprintf(env.Stdout, "%5d  %-19s  %-12s  %5s  %5d  %-10s  %s\n", s.ID, snapTime(s.Time), kindLabel(s), pair, s.Count, snapperLabel(s), s.Description)
	}
	if orphans {
		fmt.Fprintln(env.Stdout, "pre! is an orphan: its transaction failed or was interrupted, so no post followed")
	}
	return nil
}

func snapshotShow(env *Env, st *snapshot.Store, id int) error {
	s, err := st.Get(id)
	if err != nil {
		return notFound(err)
	}
	if env.JSON {
		return printJSON(env.Stdout, s)
	}
	env.field("ID", "%d", s.ID)
	env.field("Date", "%s", snapTime(s.Time))
	env.field("Kind", "%s", s.Kind)
	if s.Orphan {
		env.field("Orphan", "yes (no post followed: the transaction failed or was interrupted)")
	}
	if s.PairID != 0 {
		env.field("Pre", "%d", s.PairID)
	}
	env.field("Description", "%s", orNone(s.Description))
	env.field("Patch", "%s", orNone(s.Patch))
	env.field("Targets", "%s", orNone(strings.Join(s.Targets, "  ")))
	env.field("Snapper", "%s", strings.Replace(snapperLabel(s), "-", "None", 1))
	env.field("Packages", "%d", s.Count)
	fmt.Fprintln(env.Stdout)
	for _, p := range s.Packages {
		reason := ""
		if p.Reason == snapshot.ReasonDependency {
			reason = " (dependency)"
		}
		fmt.Fprintf(env.Stdout, "%s %s %s%s\n", p.Name, p.Version, p.Arch, reason)
	}
	return nil
}

func orNone(s string) string {
	if s == "" || s == "-" {
		return "None"
	}
	return s
}

// installedNow reads the installed packages as a snapshot package set.
func installedNow(h *alpm.Handle) ([]snapshot.Pkg, error) {
	list, err := h.Installed()
	if err != nil {
		return nil, err
	}
	pkgs := make([]snapshot.Pkg, len(list))
	for i, p := range list {
		pkgs[i] = snapshot.Pkg{Name: p.Name, Version: p.Version, Arch: p.Arch, Reason: p.Reason()}
	}
	return pkgs, nil
}

func snapshotDiff(env *Env, st *snapshot.Store, ids []int) error {
	a, err := st.Get(ids[0])
	if err != nil {
		return notFound(err)
	}
	var to []snapshot.Pkg
	toName := "installed"
	if len(ids) == 2 {
		b, err := st.Get(ids[1])
		if err != nil {
			return notFound(err)
		}
		to, toName = b.Packages, strconv.Itoa(b.ID)
	} else {
		h, err := alpm.Open(env.AlpmOptions())
		if err != nil {
			return err
		}
		defer h.Close()
		if to, err = installedNow(h); err != nil {
			return err
		}
	}
	changes := snapshot.Diff(a.Packages, to, alpm.VerCmp)
	if env.JSON {
		if changes == nil {
			changes = []snapshot.Change{}
		}
		return printJSON(env.Stdout, map[string]any{"from": a.ID, "to": toName, "changes": changes})
	}
	if len(changes) == 0 {
		fmt.Fprintf(env.Stdout, "no changes from snapshot %d to %s\n", a.ID, toName)
		return nil
	}
	printChanges(env, changes)
	return nil
}

func printChanges(env *Env, changes []snapshot.Change) {
	for _, c := range changes {
		switch c.Kind {
		case snapshot.Installed:
			fmt.Fprintf(env.Stdout, "%-11s %s %s\n", c.Kind, c.Name, c.To)
		case snapshot.Removed:
			fmt.Fprintf(env.Stdout, "%-11s %s %s\n", c.Kind, c.Name, c.From)
		case snapshot.ReasonOnly:
			fmt.Fprintf(env.Stdout, "%-11s %s %s -> %s\n", c.Kind, c.Name, c.FromReason, c.ToReason)
		default:
			fmt.Fprintf(env.Stdout, "%-11s %s %s -> %s\n", c.Kind, c.Name, c.From, c.To)
		}
	}
}

func snapshotCreate(env *Env, st *snapshot.Store, o snapshotOptions) error {
	h, err := alpm.Open(env.AlpmOptions())
	if err != nil {
		return err
	}
	pkgs, err := installedNow(h)
	h.Close()
	if err != nil {
		return err
	}
	desc := o.Desc
	if desc == "" {
		desc = "manual"
	}
	id, err := st.Create(snapshot.Snapshot{Kind: snapshot.KindManual, Description: desc, Packages: pkgs})
	if err != nil {
		return err
	}
	if _, err := pruneSnapshots(env, st); err != nil {
		env.Warnf("snapshot retention: %v", err)
	}
	if env.JSON {
		s, err := st.Get(id)
		if err != nil {
			return err
		}
		s.Packages = nil
		return printJSON(env.Stdout, s)
	}
	fmt.Fprintf(env.Stdout, "created snapshot %d (%d packages)\n", id, len(pkgs))
	return nil
}

func snapshotDelete(env *Env, st *snapshot.Store, ids []int) error {
	for _, id := range ids {
		if _, err := st.Get(id); errors.Is(err, snapshot.ErrNotFound) {
			return notFound(fmt.Errorf("delete: %w", err))
		}
	}
	if err := st.Delete(ids...); err != nil {
		return notFound(err)
	}
	if env.JSON {
		return printJSON(env.Stdout, map[string][]int{"deleted": ids})
	}
	for _, id := range ids {
		fmt.Fprintf(env.Stdout, "deleted snapshot %d\n", id)
	}
	return nil
}

// restoreFile is one package file a restore installs: a cache file, or an
// archive file that has a Path only once downloaded.
type restoreFile struct {
	snapshot.PkgRef
	Path string `json:"path"`
	// URL is where the archive server lists the file ("" for a cache file).
	URL string `json:"url,omitempty"`

	entry cache.Entry
}

// restoreReport is `clp snapshot restore --json`.
type restoreReport struct {
	Snapshot   int               `json:"snapshot"`
	RestorePre int               `json:"restore_pre,omitempty"`
	Changes    []snapshot.Change `json:"changes"`
	Install    []restoreFile     `json:"install"`
	Remove     []string          `json:"remove"`
	AsDeps     []string          `json:"asdeps"`
	AsExplicit []string          `json:"asexplicit"`
	Done       bool              `json:"done"`
}

func snapshotRestore(ctx context.Context, env *Env, st *snapshot.Store, o snapshotOptions, id int) error {
	target, err := st.Get(id)
	if err != nil {
		return notFound(err)
	}
	h, err := alpm.Open(env.AlpmOptions())
	if err != nil {
		return err
	}
	current, err := installedNow(h)
	paths := h.Paths
	h.Close()
	if err != nil {
		return err
	}
	plan := snapshot.RestorePlan(current, target.Packages)
	rep := restoreReport{Snapshot: id, Changes: snapshot.Diff(current, target.Packages, alpm.VerCmp),
		Remove: plan.Remove, AsDeps: plan.AsDeps, AsExplicit: plan.AsExplicit}
	if plan.Empty() {
		if env.JSON {
			rep.Done = true
			return printJSON(env.Stdout, rep)
		}
		fmt.Fprintf(env.Stdout, "the installed packages already match snapshot %d: nothing to do\n", id)
		return nil
	}

	// Everything that can refuse is checked before anything changes.
	loc, err := restoreFiles(ctx, env, paths, plan.Install)
	if err != nil {
		return err
	}
	rep.Install = loc.files
	allow, err := restorePins(env, plan, target.Packages)
	if err != nil {
		return err
	}

	if !env.JSON {
		fmt.Fprintf(env.Stdout, "Restoring snapshot %d (%s, %s):\n", id, snapTime(target.Time), target.Description)
		printChanges(env, rep.Changes)
		if n := loc.fromArchive(); n > 0 {
			fmt.Fprintf(env.Stdout, "\n%d package file(s) to download from the archive:\n", n)
			for _, f := range loc.files {
				if f.URL != "" {
					fmt.Fprintf(env.Stdout, "  %s\n", f.URL)
				}
			}
		}
		fmt.Fprintln(env.Stdout)
	}
	if !env.confirm("Proceed with the restore?", true) {
		return withCode(errors.New("restore cancelled: nothing was changed"), ExitRefused)
	}
	// Downloads come after the confirmation and before the restore-pre
	// snapshot: a failed download leaves the installation as it was.
	if err := loc.download(ctx, env); err != nil {
		return err
	}
	rep.Install = loc.files

	pre, err := st.Create(snapshot.Snapshot{Kind: snapshot.KindRestorePre, Description: fmt.Sprintf("before restoring snapshot %d", id), Packages: current})
	if err != nil {
		return fmt.Errorf("record the restore-pre snapshot (nothing was changed): %w", err)
	}
	rep.RestorePre = pre
	undo := fmt.Sprintf("snapshot %d holds the state before the restore: 'clp snapshot restore %d' goes back to it", pre, pre)

	out := env.Stdout
	if env.JSON {
		out = env.Stderr // stdout is for the JSON report
	}
	run := &alpm.Runner{Paths: paths, LockWait: o.LockWait, Stdin: nil, Stdout: out, Stderr: env.Stderr,
		Waiting: func(lf string) { env.Warnf("waiting for pacman's database lock %s", lf) }}
	if len(allow) > 0 {
		remove, err := hooks.WriteAllow(env.State(), allow, fmt.Sprintf("clp snapshot restore %d", id), 30*time.Minute)
		if err != nil {
			return err
		}
		defer remove()
	}
	steps := []struct {
		op      []string
		targets []string
	}{
		{[]string{"-U"}, filePaths(loc.files)}, // downloaded by now
		{[]string{"-R"}, plan.Remove},
		{[]string{"-D", "--asdeps"}, plan.AsDeps},
		{[]string{"-D", "--asexplicit"}, plan.AsExplicit},
	}
	for i, s := range steps {
		if len(s.targets) == 0 {
			continue
		}
		if err := run.Run(ctx, s.op, s.targets...); err != nil {
			if i == 0 {
				return withHint(fmt.Errorf("restore: pacman %s failed: %w", strings.Join(s.op, " "), err), "pacman's message is above; nothing was restored")
			}
			return withHint(fmt.Errorf("restore: pacman %s failed after the packages were reinstalled: %w", strings.Join(s.op, " "), err), undo)
		}
	}
	rep.Done = true
	armGuard(env, boot.Transaction{Source: fmt.Sprintf("clp snapshot restore %d", id), Snapshot: pre, Packages: changedNames(rep.Changes)})
	if env.JSON {
		return printJSON(env.Stdout, rep)
	}
	fmt.Fprintf(env.Stdout, "restored snapshot %d; %s\n", id, undo)
	return nil
}

func filePaths(fs []restoreFile) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Path
	}
	return out
}

// restoreLocation is where a restore's package files come from.
type restoreLocation struct {
	files []restoreFile
	// servers and maxBytes are clp.conf's ArchiveServer and
	// MaxDownloadSize (read only when the cache lacks a file).
	servers  []string
	maxBytes int64
}

func (l *restoreLocation) fromArchive() int {
	n := 0
	for _, f := range l.files {
		if f.URL != "" {
			n++
		}
	}
	return n
}

// restoreFiles finds the file of every package to install (name, exact
// version and architecture): in the pacman cache, else on the archive
// servers of clp.conf, where it is only listed, not fetched. One file that
// is nowhere, or an archive that cannot be listed, refuses the whole
// restore before anything changes: a failed listing is never taken for
// "not there".
func restoreFiles(ctx context.Context, env *Env, paths *alpm.Paths, refs []snapshot.PkgRef) (*restoreLocation, error) {
	loc := &restoreLocation{files: []restoreFile{}}
	if len(refs) == 0 {
		return loc, nil
	}
	names := make([]string, len(refs))
	for i, r := range refs {
		names[i] = r.Name
	}
	ix, err := cache.ScanPaths(paths, names...)
	if err != nil {
		return nil, err
	}
	match := func(e cache.Entry, r snapshot.PkgRef) bool { return e.Version == r.Version && e.Arch == r.Arch }
	var notCached []snapshot.PkgRef
	for _, r := range refs {
		found := false
		for _, e := range ix.Versions(r.Name) {
			if match(e, r) && e.Dir != "" {
				loc.files = append(loc.files, restoreFile{PkgRef: r, Path: e.Path(), entry: e})
				found = true
				break
			}
		}
		if !found {
			notCached = append(notCached, r)
		}
	}
	if len(notCached) == 0 {
		return loc, nil
	}

	cfg, err := env.loadConfig()
	if err != nil {
		return nil, err
	}
	loc.servers, loc.maxBytes = cfg.ArchiveServers, cfg.MaxDownloadBytes
	cacheDirs := strings.Join(ix.Dirs, ", ")
	var missing []string
	listFailed := false
	if len(loc.servers) == 0 {
		for _, r := range notCached {
			missing = append(missing, fmt.Sprintf("restore needs %s %s (%s): no file %s.pkg.tar.* in %s; the archive was not consulted (no ArchiveServer in clp.conf)", r.Name, r.Version, r.Arch, r.String(), cacheDirs))
		}
	} else {
		client := &cache.Client{Reporter: env.Reporter()}
		listings := map[string][]cache.Entry{}
		listErrs := map[string]error{}
		for _, r := range notCached {
			if _, done := listings[r.Name]; !done && listErrs[r.Name] == nil {
				es, err := client.ListArchives(ctx, loc.servers, r.Name)
				if err != nil {
					listErrs[r.Name] = err
				} else {
					listings[r.Name] = es
				}
			}
			if err := listErrs[r.Name]; err != nil {
				listFailed = true
				missing = append(missing, fmt.Sprintf("restore needs %s %s (%s): no file %s.pkg.tar.* in %s, and listing %s on the archive server(s) %s failed: %v", r.Name, r.Version, r.Arch, r.String(), cacheDirs, r.Name, strings.Join(loc.servers, ", "), err))
				continue
			}
			found := false
			for _, e := range listings[r.Name] {
				if match(e, r) {
					loc.files = append(loc.files, restoreFile{PkgRef: r, URL: e.URL, entry: e})
					found = true
					break
				}
			}
			if !found {
				missing = append(missing, fmt.Sprintf("restore needs %s %s (%s): no file %s.pkg.tar.* in %s nor on the archive server(s) %s", r.Name, r.Version, r.Arch, r.String(), cacheDirs, strings.Join(loc.servers, ", ")))
			}
		}
	}
	if len(missing) > 0 {
		hint := "put the package file into the cache (or name another one with --cachedir DIR), then run the restore again"
		switch {
		case listFailed:
			hint = "check ArchiveServer in clp.conf and the network, or " + hint
		case len(loc.servers) == 0:
			hint += "; or set ArchiveServer in clp.conf to look on the archive too"
		}
		return nil, withCode(withHint(errors.New(strings.Join(missing, "\n")+"\nnothing was changed"), hint), ExitRefused)
	}
	// pacman -U installs in the order given; keep the snapshot's order
	// whatever the source.
	order := map[string]int{}
	for i, r := range refs {
		order[r.Name] = i
	}
	sort.SliceStable(loc.files, func(i, j int) bool { return order[loc.files[i].Name] < order[loc.files[j].Name] })
	return loc, nil
}

// download fetches the archive files into <state>/downloads, the root-owned
// staging directory clp downgrade uses too. No sha256 is known for them:
// pacman's own signature check applies when it installs them.
func (l *restoreLocation) download(ctx context.Context, env *Env) error {
	if l.fromArchive() == 0 {
		return nil
	}
	client := &cache.Client{Reporter: env.Reporter()}
	staging := filepath.Join(env.State(), "downloads")
	for i := range l.files {
		f := &l.files[i]
		if f.URL == "" {
			continue
		}
		env.Reporter().Step(fmt.Sprintf("downloading %s", f.entry.File))
		path, err := client.Download(ctx, f.entry, staging, cache.DownloadOptions{Servers: l.servers, MaxBytes: l.maxBytes})
		if err != nil {
			return withCode(withHint(fmt.Errorf("restore: download %s from the archive: %w; nothing was restored", f.entry.File, err),
				"check ArchiveServer in clp.conf and the network, then run the restore again (a partial download resumes)"), ExitRefused)
		}
		f.Path = path
	}
	return nil
}

// restorePins refuses a restore that would move a pinned package off its
// pin, and returns the pinned packages the restore puts exactly at their
// pinned version: the guard hook is told to let clp's own call through.
func restorePins(env *Env, plan snapshot.Plan, target []snapshot.Pkg) ([]string, error) {
	pins, err := hooks.LoadPins(env.State())
	if err != nil || len(pins) == 0 {
		return nil, err
	}
	want := map[string]string{}
	for _, p := range target {
		want[p.Name] = p.Version
	}
	var allow, refused []string
	for _, pin := range pins {
		changes := containsRef(plan.Install, pin.Name) || containsStr(plan.Remove, pin.Name)
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
		return nil, withCode(errors.New(strings.Join(refused, "\n")+"\nnothing was changed"), ExitRefused)
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

func containsRef(refs []snapshot.PkgRef, name string) bool {
	for _, r := range refs {
		if r.Name == name {
			return true
		}
	}
	return false
}

func containsStr(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
