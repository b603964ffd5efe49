package pkgtx

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vincentos/clp/cache"
	"github.com/vincentos/clp/hooks"
	"github.com/vincentos/clp/internal/fail"
	"github.com/vincentos/clp/internal/fsx"
	"github.com/vincentos/clp/pacman"
	"github.com/vincentos/clp/patch"
)

// A pacman killed (with the clp that ran it) while it upgrades a package
// leaves that package's local database entry half written. libalpm (add.c,
// pacman 6.0 and 7.1) removes the old version's files and entry, creates
// the new entry's folder <dbpath>/local/<name>-<version>/, extracts the
// files (the package's .MTREE into that folder) and only then writes desc
// and files. The local database takes name and version from the folder's
// name, so pacman -Q lists the new version, but pacman refuses to
// reinstall over the entry ("could not fully load metadata"), and the
// files it had not extracted yet are missing. Revert mends such an entry
// before it decides anything: the entry goes aside into clp's state
// (kept for inspection), and the package is reinstalled at the version
// the folder names from its file, with --overwrite of exactly the files
// that file installs and no other package owns, then checked (pacman -Qk:
// every file there; clp: each holds what the package file ships). Revert
// then goes on as for a whole entry.

// DamagedDir is the folder of clp's state where Revert keeps the local
// database entries it mended, one folder per patch.
const DamagedDir = "damaged-db"

// mending is one half-written entry Revert mends, and how.
type mending struct {
	Name, Version string
	// Dir is the entry's folder name in <dbpath>/local ("" when the old
	// entry is gone and the new one not made yet).
	Dir string
	// Why says what is wrong with the entry.
	Why string
	// File is the package file of Version; Files what it installs.
	File  string
	Files []string
	Deps  bool
	// Backup are the package's backup=() files; Other is the file of
	// the other version the interrupted pacman moved between ("" when
	// neither kept nor cached), whose copies say which of them on disk
	// are still as that version shipped them.
	Backup []string
	Other  string
}

// damaged marks err as recovery's loud failure: exit 7, nothing more done.
func damaged(err error, hint string) error {
	return &fail.Error{Err: err, Kind: fail.ErrDamaged, Hint: hint}
}

// localDB opens the os.Root every read and move of a local database entry
// is anchored to (the installation's root, or the database itself when
// --dbpath names one outside it) and the local database's name there.
func (a *Actor) localDB() (*os.Root, string, error) {
	r, rel, err := fsx.Anchor(a.Paths.Root, a.Paths.DBPath, filepath.Join(a.Paths.DBPath, "local"), false)
	if err != nil {
		return nil, "", err
	}
	return r, rel, nil
}

// localEntries lists the local database's folder.
func localEntries(r *os.Root, local string) ([]fs.DirEntry, error) {
	f, err := r.Open(local)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return fsx.ReadDirFile(f)
}

// entryDirs picks the folders of name's entries from the local database's
// listing (normally one): "<name>-<pkgver>-<pkgrel>", the version with
// exactly one "-".
func entryDirs(ents []fs.DirEntry, name string) []string {
	var out []string
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), name+"-")
		if ok && e.IsDir() && strings.Count(rest, "-") == 1 && !strings.HasPrefix(rest, "-") && !strings.HasSuffix(rest, "-") {
			out = append(out, e.Name())
		}
	}
	return out
}

// descField is the first line of a local desc's %FIELD% ("" when absent).
func descField(desc []byte, field string) string {
	lines := strings.Split(string(desc), "\n")
	for i := 0; i+1 < len(lines); i++ {
		if lines[i] == "%"+field+"%" {
			return lines[i+1]
		}
	}
	return ""
}

// entryDamage says what is wrong with the entry folder dir of name at
// version ("" when it is whole): libalpm writes desc, then files, each
// whole only once its last section's blank line is written.
func entryDamage(r *os.Root, local, dir, name, version string) string {
	desc, err := fsx.ReadFileCappedIn(r, filepath.Join(local, dir, "desc"), fsx.StateFileMax)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "it has no desc"
	case err != nil:
		return fmt.Sprintf("its desc cannot be read (%v)", err)
	}
	if n, v := descField(desc, "NAME"), descField(desc, "VERSION"); n != name || v != version {
		return fmt.Sprintf("its desc names %q %q, not the folder's %s %s", n, v, name, version)
	}
	files, err := fsx.ReadFileCappedIn(r, filepath.Join(local, dir, "files"), fsx.StateFileMax)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "it has no files list"
	case err != nil:
		return fmt.Sprintf("its files list cannot be read (%v)", err)
	case len(files) > 0 && (!bytes.HasPrefix(files, []byte("%")) || !bytes.HasSuffix(files, []byte("\n\n"))):
		return "its files list is cut short"
	}
	return ""
}

// sectionCut says what the files list of the entry folder dir lacks that
// file, the package file of its version (fileOf, asked only when the
// list alone cannot tell), installs ("" when nothing, or when there is no
// file or it is unreadable): entryDamage finds a list cut inside a
// section, not one cut where a section ends. libalpm writes %FILES% (when
// the package has files), then %BACKUP% (when its .PKGINFO has backup
// lines), each ended by a blank line, so a list that ends whole can still
// be cut
//   - before anything: it is empty, while the package installs files;
//   - after %FILES%: no %BACKUP%, while the package has backup lines.
//
// Only a list that is a prefix of the one libalpm writes for file is
// called cut: a %FILES% unlike the package file's, or a %BACKUP% of its
// own, is an entry written from another build of that version, whole.
// The package file is read anchored to root.
func sectionCut(root string, r *os.Root, local, dir string, fileOf func() string) string {
	data, err := fsx.ReadFileCappedIn(r, filepath.Join(local, dir, "files"), fsx.StateFileMax)
	if err != nil {
		return ""
	}
	sections := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "%") {
			sections[line] = true
		}
	}
	if len(data) > 0 && (sections["%BACKUP%"] || !sections["%FILES%"]) {
		return ""
	}
	// Only now the package file: most entries end above.
	file := fileOf()
	if file == "" {
		return ""
	}
	if len(data) > 0 {
		// Cheap first: most packages have no backup lines.
		if info, err := cache.ReadPKGINFOUnder(root, file); err == nil && len(info.Backup) == 0 {
			return ""
		}
	}
	info, files, err := cache.ListFilesUnder(root, file)
	if err != nil {
		return ""
	}
	switch {
	case len(data) == 0 && len(files)+len(info.Backup) > 0:
		return fmt.Sprintf("its files list is empty, and its package file installs %d paths", len(files))
	case len(data) > 0 && len(info.Backup) > 0 && slices.Equal(filesSection(data), files):
		return fmt.Sprintf("its files list ends after %%FILES%%, without the %%BACKUP%% of the package's %d backup files", len(info.Backup))
	}
	return ""
}

// filesListed is a package file of name at version for sectionCut to
// compare the entry with ("" when none is at hand): the kept copy, the
// staged file or the cache's, by its .PKGINFO, not by its sha256 (that
// costs a read of the whole file, on every rollback; a file of another
// build lists other files, and sectionCut then calls nothing cut).
func (a *Actor) filesListed(d *Downgrader, st actorState, act patch.PackageAction, version string) string {
	var cands []string
	if k := st.Keep[act.Name]; k != "" {
		cands = append(cands, k)
	}
	if version == act.Version {
		cands = append(cands, filepath.Join(a.stageDir(st.Patch), filepath.Base(act.File)))
		if src := st.Sources[act.Name]; src != "payload" && src != "" && !strings.Contains(src, "://") {
			cands = append(cands, src)
		}
	}
	if ix, err := d.scan(act.Name); err == nil {
		if e, ok := ix.Find(act.Name, version); ok {
			cands = append(cands, e.Path())
		}
	}
	for _, c := range cands {
		if fi, err := fsx.StatUnder(a.root(), c); err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if pi, err := cache.ReadPKGINFOUnder(a.root(), c); err == nil && pi.Name == act.Name && pi.Version == version {
			return c
		}
	}
	return ""
}

// lazyDowngrader opens the Downgrader (and its package database) of a
// recovery on first use only: most entries are whole and need none.
type lazyDowngrader struct {
	a     *Actor
	patch string
	d     *Downgrader
	db    DB
}

func (l *lazyDowngrader) get() (*Downgrader, error) {
	if l.d == nil {
		d, db, err := l.a.downgrader(l.patch)
		if err != nil {
			return nil, err
		}
		l.d, l.db = d, db
	}
	return l.d, nil
}

func (l *lazyDowngrader) Close() {
	if l.db != nil {
		l.db.Close()
	}
}

// planMends finds the half-written entries of the packages p downgrades
// and the package file each is mended from. It changes nothing: a file
// that is nowhere refuses the whole Revert before anything is touched.
func (a *Actor) planMends(p *patch.PackagePlan, st actorState) ([]*mending, error) {
	if a.Paths == nil {
		return nil, nil
	}
	r, local, err := a.localDB()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	ents, err := localEntries(r, local)
	if err != nil {
		return nil, fmt.Errorf("read the local database: %w", err)
	}
	var out []*mending
	ld := &lazyDowngrader{a: a, patch: st.Patch}
	defer ld.Close()
	for _, act := range p.Actions {
		if act.Op != patch.OpDowngrade {
			continue
		}
		prev := p.Previous[act.Name]
		dirs := entryDirs(ents, act.Name)
		m := &mending{Name: act.Name}
		switch {
		case len(dirs) > 1:
			return nil, damaged(fmt.Errorf("the local database holds %d entries of %s (%s) after an interrupted pacman; clp mends one half-written entry, not this", len(dirs), act.Name, strings.Join(dirs, ", ")),
				"check them with 'pacman -Qkk "+act.Name+"'; the journal is kept ('clp recover --show')")
		case len(dirs) == 1:
			m.Dir = dirs[0]
			m.Version = strings.TrimPrefix(dirs[0], act.Name+"-")
			m.Why = entryDamage(r, local, m.Dir, act.Name, m.Version)
			if m.Why == "" && m.Version != prev && m.Version != act.Version {
				continue
			}
		case a.movedAside(st.Patch, act.Name, act.Version) && act.Version != prev:
			// A recovery killed after it moved the patch's version's
			// entry aside, before its reinstall was done: that version's
			// files may be on disk, and a reinstall of it, then Revert's
			// own, takes them away exactly.
			m.Version, m.Why = act.Version, "there is none: an interrupted recovery moved it aside"
		case prev == "":
			continue
		default:
			// The old entry is gone, the new folder not made yet: the
			// files both versions have are still there, no package's.
			m.Version, m.Why = prev, "there is none: the old one was removed, the new one not made yet"
		}
		if m.Why == "" {
			// Whole as far as its own bytes tell: a files list cut
			// right after a section ends as a whole one does. The
			// package file tells what it lacks.
			fileOf := func() string {
				d, err := ld.get()
				if err != nil {
					return ""
				}
				return a.filesListed(d, st, act, m.Version)
			}
			if m.Why = sectionCut(a.root(), r, local, m.Dir, fileOf); m.Why == "" {
				continue
			}
		}
		d, err := ld.get()
		if err != nil {
			return nil, err
		}
		what := fmt.Sprintf("the local database entry of %s %s (%s)", act.Name, m.Version, m.Why)
		switch m.Version {
		case prev:
			m.File, err = a.revertFile(d, st, act.Name, prev)
			m.Other, _ = a.patchFile(d, st, act)
		case act.Version:
			m.File, err = a.patchFile(d, st, act)
			if prev != "" {
				m.Other, _ = a.revertFile(d, st, act.Name, prev)
			}
		default:
			err = fmt.Errorf("%s is neither %s's version before the patch (%s) nor the patch's (%s)", m.Version, act.Name, prev, act.Version)
		}
		if err != nil {
			return nil, damaged(fmt.Errorf("%s was left half written by a pacman killed with clp, and cannot be mended: %w; nothing was changed", what, err),
				fmt.Sprintf("put %s %s's package file in pacman's cache (%s), then run 'clp recover'", act.Name, m.Version, strings.Join(d.cacheDirs(), ", ")))
		}
		info, files, err := cache.ListFilesUnder(a.Paths.Root, m.File)
		if err != nil {
			return nil, damaged(fmt.Errorf("%s was left half written by a pacman killed with clp; its package file cannot be read: %w; nothing was changed", what, err), "")
		}
		if info.Name != act.Name || info.Version != m.Version {
			return nil, damaged(fmt.Errorf("%s was left half written by a pacman killed with clp; its package file %s is %s %s; nothing was changed", what, m.File, info.Name, info.Version), "")
		}
		m.Files, m.Backup = files, info.Backup
		switch why, ok := st.Reasons[act.Name]; {
		case ok:
			m.Deps = why == "dependency"
		case m.Dir != "":
			// A journal of an older clp: the entry's own desc, if any.
			desc, _ := fsx.ReadFileCappedIn(r, filepath.Join(local, m.Dir, "desc"), fsx.StateFileMax)
			m.Deps = descField(desc, "REASON") == "1"
		}
		out = append(out, m)
	}
	return out, nil
}

// movedAside says whether an earlier Revert of this patch moved an entry
// of name at version aside (into <state>/damaged-db/<patch>/).
func (a *Actor) movedAside(patchName, name, version string) bool {
	dir := filepath.Join(a.StateDir, DamagedDir, patchName)
	r, rel, err := fsx.Anchor(a.Paths.Root, a.StateDir, dir, false)
	if err != nil {
		return false
	}
	defer r.Close()
	ents, err := localEntries(r, rel)
	if err != nil {
		return false
	}
	entry := name + "-" + version
	for _, e := range ents {
		n, ok := strings.CutPrefix(e.Name(), entry)
		if _, err := strconv.Atoi(strings.TrimPrefix(n, ".")); e.IsDir() && ok && (n == "" || strings.HasPrefix(n, ".") && err == nil) {
			return true
		}
	}
	return false
}

// patchFile is the file of the version the patch installs (staged, the
// cache's, or the one it names), checked against the patch's sha256.
func (a *Actor) patchFile(d *Downgrader, st actorState, act patch.PackageAction) (string, error) {
	cands := []string{filepath.Join(a.stageDir(st.Patch), filepath.Base(act.File))}
	if src := st.Sources[act.Name]; src != "payload" && src != "" && !strings.Contains(src, "://") {
		cands = append(cands, src)
	}
	if ix, err := d.scan(act.Name); err == nil {
		if e, ok := ix.Find(act.Name, act.Version); ok {
			cands = append(cands, e.Path())
		}
	}
	for _, c := range cands {
		if fi, err := fsx.StatUnder(a.Paths.Root, c); err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if sum, err := fsx.SHA256FileUnder(a.Paths.Root, c); err == nil && sum == act.SHA256 {
			return c, nil
		}
	}
	return "", fmt.Errorf("the patch's %s is neither staged nor in the cache", act.File)
}

// otherOwned is every file (not folder) the local database's entries other
// than skip list.
func otherOwned(r *os.Root, local, skip string) (map[string]bool, error) {
	ents, err := localEntries(r, local)
	if err != nil {
		return nil, err
	}
	owned := map[string]bool{}
	for _, e := range ents {
		if !e.IsDir() || e.Name() == skip {
			continue
		}
		data, err := fsx.ReadFileCappedIn(r, filepath.Join(local, e.Name(), "files"), fsx.StateFileMax)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, f := range filesSection(data) {
			if !strings.HasSuffix(f, "/") {
				owned[f] = true
			}
		}
	}
	return owned, nil
}

// globEscape makes path a pattern --overwrite matches literally
// (fnmatch(3) with its backslash escapes; libalpm reads a leading "!" as
// a negation).
func globEscape(path string) string {
	var b strings.Builder
	for _, c := range path {
		if strings.ContainsRune(`\*?[]!`, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// maxOverwrite bounds the bytes of a reinstall's --overwrite arguments:
// Linux gives a command's arguments and environment together at most a
// quarter of the stack limit (2 MiB with the usual 8 MiB), and pacman
// checks each file it installs against each pattern.
const maxOverwrite = 1 << 20

// overwriteArgs lets pacman overwrite exactly the files (not folders) of
// files that owned (the other packages' files) does not hold: pacman's
// --overwrite would take another package's file too, and a conflict on
// one is pacman's refusal, not clp's to override. The patterns are
// bounded: libalpm matches them with fnmatch(3) without FNM_PATHNAME
// (util.c _alpm_fnmatch), so "usr/share/foo/*" takes every path under
// that folder, and it stands for all the package's files there when no
// other package owns a file under it; the others are named one by one.
// pacman splits an --overwrite value at each comma (pacman.c
// parsearg_util_addlist), so a comma becomes "?", once it is checked
// that the pattern then matches no other package's file. Patterns that
// still exceed maxOverwrite are an error.
func overwriteArgs(files []string, owned map[string]bool) ([]string, error) {
	var own []string
	dirs := map[string]bool{} // the folders ("a/", "a/b/") of own
	for _, f := range files {
		if strings.HasSuffix(f, "/") || owned[f] {
			continue
		}
		own = append(own, f)
		for i := strings.IndexByte(f, '/'); i >= 0; i = nextSlash(f, i) {
			dirs[f[:i+1]] = true
		}
	}
	// blocked: the folders of own with another package's file under them.
	blocked := map[string]bool{}
	for o := range owned {
		for i := strings.LastIndexByte(o, '/'); i >= 0; i = strings.LastIndexByte(o[:i], '/') {
			d := o[:i+1]
			if blocked[d] {
				break // and so are the folders above it
			}
			if dirs[d] {
				blocked[d] = true
			}
		}
	}
	seen := map[string]bool{}
	var out []string
	size := 0
	for _, f := range own {
		p := ""
		for i := strings.IndexByte(f, '/'); i >= 0; i = nextSlash(f, i) {
			if d := f[:i+1]; !blocked[d] {
				p = globEscape(d) + "*"
				break
			}
		}
		if p == "" {
			p = globEscape(f)
		}
		if seen[p] {
			continue
		}
		seen[p] = true
		if strings.Contains(p, ",") {
			p = strings.ReplaceAll(p, ",", "?")
			if o := matchOwned(p, owned); o != "" {
				return nil, fmt.Errorf("its file /%s has a comma, which pacman's --overwrite cannot take, and the pattern %q standing for it matches /%s, another package's", f, p, o)
			}
		}
		size += len("--overwrite") + len(p) + 2
		out = append(out, "--overwrite", p)
	}
	if size > maxOverwrite {
		return nil, fmt.Errorf("the --overwrite patterns for its %d files take %d bytes, more than the %d a command line can safely carry (other packages own files in its folders, so they cannot be taken folder by folder)", len(own), size, maxOverwrite)
	}
	return out, nil
}

// nextSlash is the index of the next "/" in s after i (-1 when none).
func nextSlash(s string, i int) int {
	j := strings.IndexByte(s[i+1:], '/')
	if j < 0 {
		return -1
	}
	return i + 1 + j
}

// matchOwned is a path of owned that the --overwrite pattern p (escapes,
// "*", "?": fnmatch(3) without FNM_PATHNAME, "/" matched like any
// character) matches ("" when none), the smallest for a stable message.
func matchOwned(p string, owned map[string]bool) string {
	var re strings.Builder
	re.WriteString(`(?s)\A`)
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '\\' && i+1 < len(p):
			i++
			re.WriteString(regexp.QuoteMeta(p[i : i+1]))
		case c == '*':
			re.WriteString(".*")
		case c == '?':
			re.WriteString(".")
		default:
			re.WriteString(regexp.QuoteMeta(p[i : i+1]))
		}
	}
	re.WriteString(`\z`)
	rx := regexp.MustCompile(re.String())
	hit := ""
	for o := range owned {
		if rx.MatchString(o) && (hit == "" || o < hit) {
			hit = o
		}
	}
	return hit
}

// mend reinstalls each half-written entry's package (see the top of this
// file). Any failure is recovery's loud one: exit 7, the entry kept.
func (a *Actor) mend(ctx context.Context, st actorState, ms []*mending) error {
	for _, m := range ms {
		if err := a.mendOne(ctx, st, m); err != nil {
			return err
		}
	}
	return nil
}

func (a *Actor) mendOne(ctx context.Context, st actorState, m *mending) error {
	return a.mendAs(ctx, st, m, "rollback of patch "+st.Patch, a.runnerFor(st.Patch), "the journal is kept ('clp recover --show')")
}

// mendAs mends m: the entry goes aside into <state>/damaged-db/<st.Patch>/,
// the package is reinstalled by runner (the guard told it is allowWhy)
// and checked; keptHint says what is kept for a failure's hint.
func (a *Actor) mendAs(ctx context.Context, st actorState, m *mending, allowWhy string, runner *pacman.Runner, keptHint string) error {
	r, local, err := a.localDB()
	if err != nil {
		return err
	}
	defer r.Close()
	what := fmt.Sprintf("the local database entry of %s %s", m.Name, m.Version)
	owned, err := otherOwned(r, local, m.Dir)
	if err != nil {
		return damaged(fmt.Errorf("mend %s: read the local database: %w", what, err), "")
	}
	op := []string{"-U", "--nodeps"}
	if m.Deps {
		op = append(op, "--asdeps")
	}
	ow, err := overwriteArgs(m.Files, owned)
	if err != nil {
		return damaged(fmt.Errorf("mend %s (%s): %w; nothing was changed", what, m.Why, err),
			keptHint+"; 'pacman -Qkk "+m.Name+"' lists what is missing")
	}
	op = append(op, ow...)
	backups, err := a.stockBackups(m)
	if err != nil {
		return damaged(fmt.Errorf("mend %s: %w", what, err), "")
	}
	kept := ""
	if m.Dir != "" {
		if kept, err = a.moveAside(r, local, st.Patch, m.Dir); err != nil {
			return damaged(fmt.Errorf("mend %s: move it aside: %w", what, err), "")
		}
	}
	msg := fmt.Sprintf("%s was left half written by a pacman killed with clp (%s)", what, m.Why)
	if kept != "" {
		msg += "; it is moved aside"
	}
	if len(backups) > 0 {
		// As in an upgrade, where pacman replaces a configuration file
		// the user left as the old version shipped it: with no old
		// entry to tell it so, it would keep the old one and make a
		// .pacnew.
		dir := filepath.Join(a.StateDir, DamagedDir, st.Patch, m.Name+"-"+m.Version+".backup")
		for _, b := range backups {
			if err := a.moveIntoState(b, filepath.Join(dir, b)); err != nil {
				return damaged(fmt.Errorf("mend %s: move %s aside: %w", what, b, err), "")
			}
		}
		msg += fmt.Sprintf("; its configuration files %s, as the other version shipped them, are moved aside too", strings.Join(backups, ", "))
	}
	a.rep().Warn(msg + "; reinstalling " + m.Name + " " + m.Version + " from " + m.File)
	if kept != "" {
		keptHint = "the half-written entry is kept in " + kept + "; " + keptHint
	}
	// The reinstall is one step of the interrupted transaction: the
	// packages it had already moved may need another version of this one
	// (nvidia-dkms 560 needs nvidia-utils=560, already at 550), so
	// pacman skips the version checks of dependencies (--nodeps, once:
	// the names are still checked). Revert's own pacman -U then checks
	// the end state's.
	remove, err := hooks.WriteAllow(a.root(), a.StateDir, []string{m.Name}, allowWhy, 30*time.Minute)
	if err != nil {
		return err
	}
	err = runner.Run(ctx, op, m.File)
	if rerr := remove(); err == nil {
		err = rerr
	}
	if err != nil {
		return damaged(fmt.Errorf("mend %s: pacman -U %s failed (%v)", what, m.File, err), keptHint)
	}
	ents, err := localEntries(r, local)
	dirs := entryDirs(ents, m.Name)
	if err != nil || len(dirs) != 1 || dirs[0] != m.Name+"-"+m.Version {
		return damaged(fmt.Errorf("mend %s: after the reinstall the local database holds %v (%v)", what, dirs, err), keptHint)
	}
	if why := entryDamage(r, local, dirs[0], m.Name, m.Version); why != "" {
		return damaged(fmt.Errorf("mend %s: after the reinstall %s", what, why), keptHint)
	}
	var out bytes.Buffer
	q := *a.Runner
	q.Stdout, q.Stderr, q.Stdin = &capped{b: &out}, &capped{b: &out}, nil
	if err := q.Query(ctx, []string{"-Q", "--check"}, m.Name); err != nil {
		return damaged(fmt.Errorf("mend %s: after the reinstall pacman -Qk %s says (%v):\n%s", what, m.Name, err, strings.TrimSpace(out.String())), keptHint)
	}
	if err := a.checkContents(m); err != nil {
		return damaged(fmt.Errorf("mend %s: after the reinstall %w", what, err), keptHint)
	}
	return nil
}

// checkContents checks that every regular file of m's package on disk
// holds what the package file ships (sha256, read from the package file
// itself), its backup=() files excepted (pacman keeps one the user
// changed). clp does this, not pacman -Qkk: pacman 6.0 checks the md5
// digests of the package's .MTREE, which makepkg 7 no longer writes, and
// reports every file of such a package as altered.
func (a *Actor) checkContents(m *mending) error {
	var files []string
	for _, f := range m.Files {
		if !strings.HasSuffix(f, "/") && !slices.Contains(m.Backup, f) {
			files = append(files, f)
		}
	}
	want, err := cache.FileSumsUnder(a.Paths.Root, m.File, files)
	if err != nil {
		return err
	}
	r, err := os.OpenRoot(a.Paths.Root)
	if err != nil {
		return err
	}
	defer r.Close()
	var bad []string
	for _, f := range files {
		sum, ok := want[f]
		if !ok {
			continue // a link or another kind: pacman -Qk checked it is there
		}
		disk, err := diskSum(r, f)
		if err != nil {
			return err
		}
		if disk != sum {
			bad = append(bad, "/"+f)
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%s does not hold what %s %s ships", strings.Join(bad, ", "), m.Name, m.Version)
	}
	return nil
}

// diskSum is the hex sha256 of the regular file rel inside r ("" when it
// is not a regular file).
func diskSum(r *os.Root, rel string) (string, error) {
	if fi, err := r.Lstat(rel); err != nil || !fi.Mode().IsRegular() {
		if errors.Is(err, fs.ErrNotExist) || err == nil {
			return "", nil
		}
		return "", err
	}
	f, err := r.Open(rel)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// capped keeps the first 64 KiB written to it.
type capped struct{ b *bytes.Buffer }

func (c *capped) Write(p []byte) (int, error) {
	if room := 64<<10 - c.b.Len(); room > 0 {
		c.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// finishMends, once Revert is done, renames <state>/damaged-db/<patch>/,
// where the entries it mended wait, to <patch>-<time>, so that a later
// Revert of the same patch never takes them for an interrupted mend of
// its own (movedAside), and says where they are kept.
func (a *Actor) finishMends(patchName string) error {
	dir := filepath.Join(a.StateDir, DamagedDir, patchName)
	r, rel, err := fsx.Anchor(a.Paths.Root, a.StateDir, dir, false)
	if err != nil {
		return err
	}
	defer r.Close()
	if _, err := r.Lstat(rel); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	base := patchName + "-" + a.now().UTC().Format("20060102T150405Z")
	name := base
	for i := 2; ; i++ {
		if _, err := r.Lstat(filepath.Join(filepath.Dir(rel), name)); errors.Is(err, fs.ErrNotExist) {
			break
		}
		name = base + "." + strconv.Itoa(i)
	}
	if err := r.Rename(rel, filepath.Join(filepath.Dir(rel), name)); err != nil {
		return fmt.Errorf("put the mended database entries aside: %w", err)
	}
	a.rep().Warn("the half-written database entries recovery mended are kept for inspection in " + filepath.Join(filepath.Dir(dir), name))
	return fsx.SyncDirIn(r, filepath.Dir(rel))
}

// moveAside moves the entry folder dir into <state>/damaged-db/<patch>/
// (a number added when a folder of that name is there already) and says
// where it went.
func (a *Actor) moveAside(r *os.Root, local, patchName, dir string) (string, error) {
	target := filepath.Join(a.StateDir, DamagedDir, patchName)
	rel, ok := fsx.Under(a.Paths.Root, target)
	if !ok {
		return "", fmt.Errorf("clp's state %s is not under the root %s", a.StateDir, a.Paths.Root)
	}
	if _, ok := fsx.Under(a.Paths.Root, a.Paths.DBPath); !ok {
		return "", fmt.Errorf("the database %s is not under the root %s", a.Paths.DBPath, a.Paths.Root)
	}
	if err := r.MkdirAll(rel, 0o700); err != nil {
		return "", err
	}
	name := dir
	for i := 2; ; i++ {
		if _, err := r.Lstat(filepath.Join(rel, name)); errors.Is(err, fs.ErrNotExist) {
			break
		}
		name = dir + "." + strconv.Itoa(i)
	}
	if err := r.Rename(filepath.Join(local, dir), filepath.Join(rel, name)); err != nil {
		return "", err
	}
	if err := fsx.SyncDirIn(r, local); err != nil {
		return "", err
	}
	return filepath.Join(target, name), nil
}

// stockBackups lists the package's backup files that are on disk as the
// other version shipped them (not as the one reinstalled, not changed by
// the user): those an upgrade would replace.
func (a *Actor) stockBackups(m *mending) ([]string, error) {
	if len(m.Backup) == 0 || m.Other == "" {
		return nil, nil
	}
	own, err := cache.FileSumsUnder(a.Paths.Root, m.File, m.Backup)
	if err != nil {
		return nil, err
	}
	other, err := cache.FileSumsUnder(a.Paths.Root, m.Other, m.Backup)
	if err != nil {
		return nil, err
	}
	r, err := os.OpenRoot(a.Paths.Root)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []string
	for _, b := range m.Backup {
		disk, err := diskSum(r, b)
		if err != nil {
			return nil, err
		}
		if disk != "" && disk != own[b] && disk == other[b] {
			out = append(out, b)
		}
	}
	return out, nil
}

// moveIntoState moves the root's file rel to dst, a path in clp's state
// under the root, both resolved inside the root.
func (a *Actor) moveIntoState(rel, dst string) error {
	to, ok := fsx.Under(a.Paths.Root, dst)
	if !ok {
		return fmt.Errorf("clp's state %s is not under the root %s", a.StateDir, a.Paths.Root)
	}
	r, err := os.OpenRoot(a.Paths.Root)
	if err != nil {
		return err
	}
	defer r.Close()
	if err := r.MkdirAll(filepath.Dir(to), 0o700); err != nil {
		return err
	}
	if err := r.Rename(rel, to); err != nil {
		return err
	}
	return fsx.SyncDirIn(r, filepath.Dir(rel))
}

// filesSection is the %FILES% section of a local database entry's files
// list: the paths, folders ending in "/".
func filesSection(data []byte) []string {
	var out []string
	in := false
	for _, line := range strings.Split(string(data), "\n") {
		switch {
		case strings.HasPrefix(line, "%"):
			in = line == "%FILES%"
		case in && line != "":
			out = append(out, line)
		}
	}
	return out
}

// HalfWritten lists the local database's entries a killed pacman left
// half written ("<folder>: <what is wrong>"), as far as their own bytes
// tell (entryDamage; a files list cut where a section ends needs the
// package file, and is not found here). Revert mends those of the
// packages its journal names; one left by a pacman clp has no journal of
// (clp downgrade, a snapshot restore, pacman run by hand) is only found.
func HalfWritten(p *pacman.Paths) ([]string, error) {
	r, local, err := fsx.Anchor(p.Root, p.DBPath, filepath.Join(p.DBPath, "local"), false)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	ents, err := localEntries(r, local)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil // no package installed yet
	}
	if err != nil {
		return nil, fmt.Errorf("read the local database: %w", err)
	}
	var out []string
	for _, e := range ents {
		dir := e.Name()
		name, version, ok := pacman.SplitNameVersion(dir)
		if !e.IsDir() || !ok {
			continue
		}
		if why := entryDamage(r, local, dir, name, version); why != "" {
			out = append(out, dir+": "+why)
		}
	}
	return out, nil
}
