package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/vincentos/clp/cache"
	"github.com/vincentos/clp/patch"
	"github.com/vincentos/clp/testkit/sandbox"
)

// halfRig is a root with the nvidia packages, a signed patch downgrading
// them, and a pacman on PATH that, when told to, runs the real pacman and
// then SIGKILLs the clp that started it: the journal and records are what
// a clp killed while its pacman ran leaves. The test then puts the local
// database in the state a pacman killed in the middle of one package
// leaves (libalpm add.c: old files and entry removed, new folder made,
// files extracted, desc and files written last).
type halfRig struct {
	t     *testing.T
	bin   string
	r     *sandbox.Root
	f     *sandbox.Fixtures
	k     *killRig
	env   []string
	flag  string
	first string
	// moves is how many packages the patch moves.
	moves    int
	notTree  sandbox.Tree
	notPkgs  map[string]string
	patch    string
	patchDir string
	// cut is the files list a "cutbackup" or "emptyfiles" halfWrite
	// left (nil for the modes that leave none).
	cut []byte
}

const halfPatchName = "CLPHALF1"

func newHalfRig(t *testing.T, bin string) *halfRig { return newHalfRigFor(t, bin, false) }

// confOld and confNew are clp-testconf's versions in the conf rig: its
// /etc/clp-testconf.conf (backup=()) differs between them.
const confOld, confNew = "1.0-1", "1.1-1"

// newHalfRigFor with conf makes the rig's patch downgrade clp-testconf
// from confNew (installed) to confOld instead of the nvidia packages.
func newHalfRigFor(t *testing.T, bin string, conf bool) *halfRig {
	t.Helper()
	r, f := sandbox.NewNVIDIA(t)
	must(t, r.Cache(f.Paths(sandbox.Broken, sandbox.NVIDIA...)...))
	downgrades := `    <Downgrade name="nvidia-utils" version="550.78-1" file="nvidia-utils-550.78-1-x86_64.pkg.tar.zst" sha256="auto"/>
    <Downgrade name="nvidia-dkms" version="550.78-1" file="nvidia-dkms-550.78-1-x86_64.pkg.tar.zst" sha256="auto"/>
    <Downgrade name="nvidia-settings" version="550.78-1" file="nvidia-settings-550.78-1-x86_64.pkg.tar.zst" sha256="auto"/>
`
	if conf {
		must(t, r.Install(f.Path("clp-testconf", confNew)))
		must(t, r.Cache(f.Path("clp-testconf", confOld), f.Path("clp-testconf", confNew)))
		downgrades = `    <Downgrade name="clp-testconf" version="` + confOld + `" file="clp-testconf-` + confOld + `-any.pkg.tar.zst" sha256="auto"/>
`
	}
	// nvidia-settings, the package pacman moves last, installed as a
	// dependency: the reinstall over its half-written entry must keep
	// that (its desc, compared below, says %REASON% 1).
	if out, err := r.Pacman("-D", "--asdeps", "nvidia-settings"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	must(t, os.MkdirAll(filepath.Join(r.Dir, "etc/clp/keys"), 0o755))
	must(t, os.WriteFile(filepath.Join(r.Dir, "etc/clp/clp.conf"), []byte("[options]\nArchiveServer =\n"), 0o644))
	h := &halfRig{t: t, bin: bin, r: r, f: f, moves: 3}
	if conf {
		h.moves = 1
	}
	h.k = &killRig{t: t, bin: bin, root: r.Dir, r: r, tokens: map[string]bool{}, mended: map[string]bool{}}

	dir := t.TempDir()
	real, err := exec.LookPath("pacman")
	if err != nil {
		t.Skip("no pacman")
	}
	wrapDir := filepath.Join(dir, "bin")
	must(t, os.MkdirAll(wrapDir, 0o755))
	h.flag = filepath.Join(dir, "kill-after-pacman")
	// With the first-only file holding N, the wrapped pacman moves only
	// the first N packages (-dd: the others still need the old
	// versions), as one killed in package N+1 leaves them.
	h.first = filepath.Join(dir, "first-only")
	wrapper := "#!/bin/sh\n" +
		"if [ -e " + shQuote(h.first) + " ]; then n=$(cat " + shQuote(h.first) + "); seen=; k=0; for a do shift\n" +
		"  if [ -n \"$seen\" ]; then [ \"$k\" -lt \"$n\" ] && { k=$((k+1)); set -- \"$@\" \"$a\"; }; continue; fi\n" +
		"  [ \"$a\" = -- ] && seen=1; set -- \"$@\" \"$a\"\ndone; set -- -dd \"$@\"; fi\n" +
		shQuote(real) + " \"$@\"\nrc=$?\n" +
		"case \" $* \" in *\" -U \"*) if [ -e " + shQuote(h.flag) + " ]; then rm -f " + shQuote(h.flag) + "; kill -9 $PPID; sleep 5; fi;; esac\nexit $rc\n"
	must(t, os.WriteFile(filepath.Join(wrapDir, "pacman"), []byte(wrapper), 0o755))
	h.env = append(os.Environ(), "PATH="+wrapDir+":"+os.Getenv("PATH"))

	key := filepath.Join(dir, "half")
	h.mustRun("keygen", "--no-password", "-o", key)
	pub, err := os.ReadFile(key + ".pub")
	must(t, err)
	must(t, os.WriteFile(filepath.Join(r.Dir, "etc/clp/keys/half.pub"), pub, 0o644))
	src := filepath.Join(dir, "src")
	must(t, os.MkdirAll(filepath.Join(src, "files"), 0o755))
	must(t, os.WriteFile(filepath.Join(src, "files/nvidia-half.conf"), []byte("options nvidia_drm modeset=1\n"), 0o644))
	meta := `<?xml version="1.0" encoding="UTF-8"?>
<Package format="1">
  <Name>` + halfPatchName + `</Name>
  <Version>1</Version>
  <Architecture>x86_64</Architecture>
  <Description>Test patch whose pacman is killed mid-package</Description>
  <Author>clp tests</Author>
  <Date>2025-06-01</Date>
  <Severity>normal</Severity>
  <Files>
    <Add target="/etc/modprobe.d/nvidia-half.conf" payload="files/nvidia-half.conf" sha256="auto" mode="0644" owner="root" group="root"/>
  </Files>
  <Packages>
` + downgrades + `  </Packages>
</Package>
`
	must(t, os.WriteFile(filepath.Join(src, "PKGINFO.meta"), []byte(meta), 0o644))
	h.patch = filepath.Join(dir, halfPatchName+".clp")
	must(t, patch.Build(src, h.patch, patch.BuildOptions{Root: r.Dir, CacheDirs: []string{r.CacheDir}}))
	h.mustRun("sign", h.patch, "-k", key+".key")

	// The "not applied" reference: an unkilled apply and rollback (clp's
	// state folders made, as after any first use).
	h.mustRun("--root", r.Dir, "apply", h.patch, "--noconfirm")
	h.mustRun("--root", r.Dir, "rollback", halfPatchName, "--noconfirm")
	h.k.what = "reference"
	h.notTree, h.notPkgs = h.k.state()
	return h
}

func shQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func (h *halfRig) run(args ...string) (string, string, int) {
	h.t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command(h.bin, args...)
	cmd.Env = h.env
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return out.String(), errb.String(), ee.ExitCode()
	}
	if err != nil {
		h.t.Fatal(err)
	}
	return out.String(), errb.String(), 0
}

func (h *halfRig) mustRun(args ...string) string {
	h.t.Helper()
	out, errs, code := h.run(args...)
	if code != 0 {
		h.t.Fatalf("clp %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errs)
	}
	return out + errs
}

// killedIn runs clp apply or rollback with the pacman that kills it once
// its own pacman finished, and returns the package that pacman changed
// last (its order: the one a kill mid-transaction leaves half written,
// with all before it done).
func (h *halfRig) killedIn(op string, first int) string {
	h.t.Helper()
	args := []string{"--root", h.r.Dir, "apply", h.patch, "--noconfirm"}
	if op == "rollback" {
		h.mustRun(args...)
		args = []string{"--root", h.r.Dir, "rollback", halfPatchName, "--noconfirm"}
	}
	want := h.moves
	if first > 0 {
		must(h.t, os.WriteFile(h.first, []byte(strconv.Itoa(first)), 0o644))
		defer os.Remove(h.first)
		want = first
	}
	logBefore, err := os.ReadFile(h.r.LogFile)
	must(h.t, err)
	must(h.t, os.WriteFile(h.flag, nil, 0o644))
	out, errs, code := h.run(args...)
	if code != -1 {
		h.t.Fatalf("clp %s was not killed: exit %d\n%s%s", op, code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(h.r.Dir, "var/lib/clp/journal/current")); err != nil {
		h.t.Fatalf("the killed clp left no journal: %v", err)
	}
	logAfter, err := os.ReadFile(h.r.LogFile)
	must(h.t, err)
	moved := regexp.MustCompile(`\[ALPM\] (?:downgraded|upgraded) (\S+) `).FindAllStringSubmatch(string(logAfter[len(logBefore):]), -1)
	if len(moved) != want {
		h.t.Fatalf("pacman moved %d packages, want %d:\n%s", len(moved), want, logAfter[len(logBefore):])
	}
	return moved[len(moved)-1][1]
}

// halfWrite makes name's entry at version to (the one pacman was writing
// when killed, coming from version from) half written: "nodesc" (files
// extracted, desc and files not written), "nofiles" (desc written, files
// not), "empty" (folder made, nothing extracted yet: of the old version's
// files only those the new one has too are left, with their old content),
// "gone" (the same before the folder is made: no entry at all).
func (h *halfRig) halfWrite(mode, name, from, to string) string {
	h.t.Helper()
	entry := filepath.Join(h.r.Dir, "var/lib/pacman/local", name+"-"+to)
	switch mode {
	case "nodesc":
		must(h.t, os.Remove(filepath.Join(entry, "desc")))
		must(h.t, os.Remove(filepath.Join(entry, "files")))
	case "nofiles":
		must(h.t, os.Remove(filepath.Join(entry, "files")))
	case "cutbackup", "emptyfiles":
		// Cut where a section ends: after %FILES%, before %BACKUP%
		// (or before anything), which ends as a whole list does.
		data, err := os.ReadFile(filepath.Join(entry, "files"))
		must(h.t, err)
		i := bytes.Index(data, []byte("\n\n%BACKUP%\n"))
		if i < 0 {
			h.t.Fatalf("%s's files list has no %%BACKUP%%:\n%s", name, data)
		}
		h.cut = data[:i+2]
		if mode == "emptyfiles" {
			h.cut = []byte{}
		}
		must(h.t, os.WriteFile(filepath.Join(entry, "files"), h.cut, 0o644))
	case "empty", "gone":
		for _, f := range []string{"desc", "files", "mtree"} {
			must(h.t, os.Remove(filepath.Join(entry, f)))
		}
		if mode == "gone" {
			must(h.t, os.Remove(entry))
		}
		_, oldFiles, err := cache.ListFiles(h.f.Path(name, from))
		must(h.t, err)
		_, newFiles, err := cache.ListFiles(h.f.Path(name, to))
		must(h.t, err)
		var keep []string
		for i := len(newFiles) - 1; i >= 0; i-- {
			p := newFiles[i]
			switch {
			case slices.Contains(oldFiles, p):
				if !strings.HasSuffix(p, "/") {
					keep = append(keep, p)
				}
			case strings.HasSuffix(p, "/"):
				must(h.t, os.Remove(filepath.Join(h.r.Dir, p)))
			default:
				must(h.t, os.Remove(filepath.Join(h.r.Dir, p)))
			}
		}
		if len(keep) > 0 {
			args := append([]string{"-xpf", h.f.Path(name, from), "-C", h.r.Dir}, keep...)
			if out, err := exec.Command("bsdtar", args...).CombinedOutput(); err != nil {
				h.t.Fatalf("bsdtar %v: %v\n%s", args, err, out)
			}
		}
	}
	q, err := h.r.Query()
	must(h.t, err)
	if want := map[bool]string{true: "", false: to}[mode == "gone"]; q[name] != want {
		h.t.Fatalf("pacman -Q lists %s %q, want %q", name, q[name], want)
	}
	return entry
}

// checkRecovered checks the root is the "not applied" reference byte for
// byte, except the half-written entry kept in clp's state ("" for none).
func (h *halfRig) checkRecovered(entry, out string) {
	h.t.Helper()
	// state leaves out clp's damaged-db folder (killVolatile).
	tr, pkgs := h.k.state()
	if d := h.notTree.Diff(tr); len(d) > 0 {
		h.t.Fatalf("after recovery the root differs from a clean rollback:\n%s\nclp said:\n%s", strings.Join(d, "\n"), out)
	}
	if sandbox.Versions(pkgs) != sandbox.Versions(h.notPkgs) {
		h.t.Fatalf("packages:\n%s\nwant\n%s", sandbox.Versions(pkgs), sandbox.Versions(h.notPkgs))
	}
	// Every file there (the contents are the tree above, byte for byte;
	// not -Qkk: pacman 6.0 wants the md5 digests makepkg 7 no longer
	// writes, and reports the files of such packages altered).
	if pq, err := h.r.PacmanQuery("-Qk"); err != nil {
		h.t.Fatalf("pacman -Qk after recovery: %v\n%s", err, pq)
	}
	if entry == "" {
		// No entry was there to keep.
		if _, err := os.Lstat(filepath.Join(h.r.Dir, killMended)); !errors.Is(err, os.ErrNotExist) {
			h.t.Fatalf("recovery kept something though there was no entry: %v", err)
		}
		return
	}
	// Once recovery is done, the entries it mended are kept in
	// damaged-db/<patch>-<time>/, as it says.
	dirs, _ := filepath.Glob(filepath.Join(h.r.Dir, killMended, halfPatchName+"-*"))
	if len(dirs) != 1 || !strings.Contains(out, "the half-written database entries recovery mended are kept for inspection in "+dirs[0]+"\n") {
		h.t.Fatalf("kept in %q, want one folder %s-<time> that clp names\nclp said:\n%s", dirs, halfPatchName, out)
	}
	if _, err := os.Lstat(filepath.Join(h.r.Dir, killMended, halfPatchName)); !errors.Is(err, os.ErrNotExist) {
		h.t.Fatalf("the folder of an unfinished mend is left: %v", err)
	}
	kept := filepath.Join(dirs[0], filepath.Base(entry))
	if fi, err := os.Lstat(kept); err != nil || !fi.IsDir() {
		h.t.Fatalf("the half-written entry is not kept in %s (%v)\nclp said:\n%s", kept, err, out)
	}
	if data, err := os.ReadFile(filepath.Join(kept, "files")); h.cut == nil && err == nil || h.cut != nil && !bytes.Equal(data, h.cut) {
		h.t.Fatalf("the entry kept in %s has the files list %q (%v): not the half-written one", kept, data, err)
	}
	ents, _ := os.ReadDir(dirs[0])
	n := 0
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".backup") {
			n++
		}
	}
	if n != 1 {
		h.t.Fatalf("%d entries kept in %s, want 1", n, filepath.Dir(kept))
	}
}

// TestRecoverMendsHalfWrittenEntry: clp killed while the pacman of an
// apply (560 -> 550) or a rollback (550 -> 560) was writing a package's
// local database entry, the last of the transaction's three (the others
// done) or the first (the others not begun: their dependencies on it are
// broken until recovery ends), or after a recovery killed once it had
// moved the entry aside; the next clp recover mends the entry (moved
// aside into clp's state, the package reinstalled from its file with
// --overwrite of its own files) and reaches the clean rollback's root
// byte for byte.
func TestRecoverMendsHalfWrittenEntry(t *testing.T) {
	sandbox.RequireRoot(t)
	if _, err := exec.LookPath("bsdtar"); err != nil {
		t.Skip("no bsdtar")
	}
	bin := sandbox.GoBuild(t, ".", filepath.Join(t.TempDir(), "clp"))
	for _, op := range []string{"apply", "rollback"} {
		for _, mode := range []string{"nodesc", "nofiles", "empty", "first-nodesc", "first-empty", "first-aside", "second-gone", "second-empty"} {
			t.Run(op+"/"+mode, func(t *testing.T) {
				h := newHalfRig(t, bin)
				first := 0
				switch {
				case strings.HasPrefix(mode, "first-"):
					first = 1
				case strings.HasPrefix(mode, "second-"):
					first = 2
				}
				if first > 0 {
					_, mode, _ = strings.Cut(mode, "-")
				}
				name := h.killedIn(op, first)
				if want := []string{"nvidia-settings", "nvidia-utils", "nvidia-dkms"}[first]; name != want {
					t.Fatalf("the package pacman moved last is %s, want %s", name, want)
				}
				from, to := sandbox.Broken, sandbox.Good
				if op == "rollback" {
					from, to = to, from
				}
				entry := h.halfWrite(strings.Replace(mode, "aside", "nodesc", 1), name, from, to)
				if mode == "aside" {
					// A recovery killed right after it moved the entry
					// aside: the version pacman was writing is known
					// only from the entry kept there.
					dst := filepath.Join(h.r.Dir, killMended, halfPatchName, filepath.Base(entry))
					must(t, os.MkdirAll(filepath.Dir(dst), 0o700))
					must(t, os.Rename(entry, dst))
				}
				out := h.mustRun("--root", h.r.Dir, "recover")
				if !strings.Contains(out, "was left half written by a pacman killed with clp") || mode != "aside" && mode != "gone" && !strings.Contains(out, "it is moved aside") {
					t.Fatalf("recover does not say what it mended:\n%s", out)
				}
				if mode == "gone" {
					entry = ""
				}
				t.Logf("clp recover said:\n%s", out)
				h.k.what = op + "/" + mode
				h.checkRecovered(entry, out)
				if out, errs, code := h.run("--root", h.r.Dir, "recover"); code != 0 || strings.TrimSpace(out) != "nothing to recover" {
					t.Fatalf("second recover: exit %d\n%s%s", code, out, errs)
				}
			})
		}
	}
}

// TestRecoverHalfWrittenRefusesWithoutFile: the rollback's pacman was
// killed writing 560's entry, and the 560 file is neither kept nor
// cached: recover refuses (exit 7), names the package and what to do,
// and changes nothing; with the file back in the cache it mends.
func TestRecoverHalfWrittenRefusesWithoutFile(t *testing.T) {
	sandbox.RequireRoot(t)
	bin := sandbox.GoBuild(t, ".", filepath.Join(t.TempDir(), "clp"))
	h := newHalfRig(t, bin)
	name := h.killedIn("rollback", 0)
	entry := h.halfWrite("nodesc", name, sandbox.Good, sandbox.Broken)
	file := h.f.Path(name, sandbox.Broken)
	must(t, os.Remove(filepath.Join(h.r.CacheDir, filepath.Base(file))))
	kept, _ := filepath.Glob(filepath.Join(h.r.Dir, "var/lib/clp/packages", halfPatchName, name+"-*"))
	for _, k := range kept {
		must(t, os.Remove(k))
	}
	// clp's own bookkeeping may change: its lock file, the children
	// record of the killed clp (ended first, then dropped) and the
	// journal (the phase it reached; it stays).
	book := func(rel string) bool {
		return rel == "var/lib/clp/lock" || rel == "var/lib/clp/children" || rel == "var/lib/clp/journal/current"
	}
	before := sandbox.MustTreeExcept(t, h.r.Dir, book)
	out, errs, code := h.run("--root", h.r.Dir, "recover")
	if code != ExitNoSystem {
		t.Fatalf("recover: exit %d, want %d\n%s%s", code, ExitNoSystem, out, errs)
	}
	t.Logf("clp recover said:\n%s%s", out, errs)
	for _, want := range []string{
		"clp: error: ", "the local database entry of " + name + " " + sandbox.Broken + " (it has no desc) was left half written by a pacman killed with clp, and cannot be mended",
		"nothing was changed", "clp: hint: put " + name + " " + sandbox.Broken + "'s package file in pacman's cache",
	} {
		if !strings.Contains(errs, want) {
			t.Fatalf("recover's error does not say %q:\n%s%s", want, out, errs)
		}
	}
	sandbox.AssertUnchangedExcept(t, h.r.Dir, before, book, "the refused recover")
	if _, err := os.Stat(filepath.Join(h.r.Dir, "var/lib/clp/journal/current")); err != nil {
		t.Fatalf("the refused recover did not keep the journal: %v", err)
	}
	// The file back in the cache: the next recover mends.
	must(t, h.r.Cache(file))
	out = h.mustRun("--root", h.r.Dir, "recover")
	must(t, os.Remove(filepath.Join(h.r.CacheDir, filepath.Base(file))))
	h.notTree = withoutCached(h.notTree, filepath.Base(file))
	h.k.what = "after the file came back"
	h.checkRecovered(entry, out)
}

// withoutCached is tree without the cache's copy of file.
func withoutCached(tree sandbox.Tree, file string) sandbox.Tree {
	out := sandbox.Tree{}
	for k, v := range tree {
		if k != "var/cache/pacman/pkg/"+file {
			out[k] = v
		}
	}
	return out
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestRecoverHalfWrittenFailsLoudly: another package owns a file of the
// half-written one, so the reinstall may not overwrite it: pacman refuses,
// recover fails with exit 7 saying where the entry is kept, and the other
// package's file is untouched; once it is gone, recover mends.
func TestRecoverHalfWrittenFailsLoudly(t *testing.T) {
	sandbox.RequireRoot(t)
	if _, err := exec.LookPath("bsdtar"); err != nil {
		t.Skip("no bsdtar")
	}
	bin := sandbox.GoBuild(t, ".", filepath.Join(t.TempDir(), "clp"))
	h := newHalfRig(t, bin)
	name := h.killedIn("rollback", 0)
	// Nothing of 560 extracted yet: the file has 550's bytes.
	entry := h.halfWrite("empty", name, sandbox.Good, sandbox.Broken)
	_, files, err := cache.ListFiles(h.f.Path(name, sandbox.Broken))
	must(t, err)
	var file string
	for _, f := range files {
		if !strings.HasSuffix(f, "/") {
			file = f
		}
	}
	old, err := os.ReadFile(filepath.Join(h.r.Dir, file))
	must(t, err)
	// A package claiming that file (as a database entry: no package
	// file of ours ships an nvidia file).
	thief := filepath.Join(h.r.Dir, "var/lib/pacman/local/clp-thief-1-1")
	must(t, os.Mkdir(thief, 0o755))
	must(t, os.WriteFile(filepath.Join(thief, "desc"), []byte("%NAME%\nclp-thief\n\n%VERSION%\n1-1\n\n%ARCH%\nany\n\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(thief, "files"), []byte("%FILES%\n"+file+"\n\n"), 0o644))

	kept := filepath.Join(h.r.Dir, killMended, halfPatchName, filepath.Base(entry))
	for i := 0; i < 2; i++ {
		out, errs, code := h.run("--root", h.r.Dir, "recover")
		if code != ExitNoSystem {
			t.Fatalf("recover %d: exit %d, want %d\n%s%s", i, code, ExitNoSystem, out, errs)
		}
		t.Logf("clp recover said:\n%s%s", out, errs)
		for _, want := range []string{
			"clp: error: ", "mend the local database entry of " + name + " " + sandbox.Broken + ": pacman -U ",
			"clp: hint: the half-written entry is kept in " + kept,
		} {
			if i == 1 {
				// The entry went aside the first time: now it is gone.
				want = strings.Replace(want, "the half-written entry is kept in "+kept, "the journal is kept", 1)
			}
			if !strings.Contains(errs, want) {
				t.Fatalf("recover %d does not say %q:\n%s%s", i, want, out, errs)
			}
		}
		if got, err := os.ReadFile(filepath.Join(h.r.Dir, file)); err != nil || !bytes.Equal(got, old) {
			t.Fatalf("recover %d overwrote %s, which another package owns (%v)", i, file, err)
		}
		if _, err := os.Stat(filepath.Join(h.r.Dir, "var/lib/clp/journal/current")); err != nil {
			t.Fatalf("the failed recover did not keep the journal: %v", err)
		}
	}
	must(t, os.RemoveAll(thief))
	out := h.mustRun("--root", h.r.Dir, "recover")
	h.k.what = "after the other package went"
	h.checkRecovered(entry, out)
}

// TestRecoverMendsHalfWrittenEntryWithBackup: the half-written package has
// a backup=() file in /etc (clp-testconf), on disk as the version pacman
// moved from shipped it. A reinstall with no old entry would keep it and
// add a .pacnew; recovery moves it aside first, as pacman's upgrade would
// replace it, so the root is a clean rollback's byte for byte.
func TestRecoverMendsHalfWrittenEntryWithBackup(t *testing.T) {
	sandbox.RequireRoot(t)
	if _, err := exec.LookPath("bsdtar"); err != nil {
		t.Skip("no bsdtar")
	}
	bin := sandbox.GoBuild(t, ".", filepath.Join(t.TempDir(), "clp"))
	for _, c := range []struct{ op, mode, why string }{
		{"apply", "empty", "it has no desc"},
		{"rollback", "empty", "it has no desc"},
		// Files list cut where a section ends: only the package file
		// tells.
		{"rollback", "cutbackup", "its files list ends after %FILES%, without the %BACKUP% of the package's 1 backup files"},
		{"rollback", "emptyfiles", "its files list is empty, and its package file installs "},
	} {
		op := c.op
		t.Run(op+"/"+c.mode, func(t *testing.T) {
			h := newHalfRigFor(t, bin, true)
			name := h.killedIn(op, 0)
			from, to := confNew, confOld
			if op == "rollback" {
				from, to = to, from
			}
			entry := h.halfWrite(c.mode, name, from, to)
			out := h.mustRun("--root", h.r.Dir, "recover")
			t.Logf("clp recover said:\n%s", out)
			if !strings.Contains(out, "the local database entry of "+name+" "+to+" was left half written by a pacman killed with clp ("+c.why) {
				t.Fatalf("recover does not say it mended the entry (%s):\n%s", c.why, out)
			}
			if c.mode == "empty" && !strings.Contains(out, "its configuration files etc/clp-testconf.conf, as the other version shipped them, are moved aside too") {
				t.Fatalf("recover does not say it moved the configuration file aside:\n%s", out)
			}
			h.k.what = op
			h.checkRecovered(entry, out)
		})
	}
}

// TestRecoverFindsHalfWrittenElsewhere: a half-written entry no journal
// of clp names (a pacman killed in clp downgrade, a snapshot restore, or
// by hand) is not mended, but clp recover names it, says why and what to
// do, and changes nothing; --json lists it.
func TestRecoverFindsHalfWrittenElsewhere(t *testing.T) {
	r, _ := sandbox.NewNVIDIA(t)
	bin := sandbox.GoBuild(t, ".", filepath.Join(t.TempDir(), "clp"))
	must(t, os.MkdirAll(filepath.Join(r.Dir, "etc/clp"), 0o755))
	must(t, os.WriteFile(filepath.Join(r.Dir, "etc/clp/clp.conf"), []byte("[options]\nArchiveServer =\n"), 0o644))
	entry := filepath.Join(r.Dir, "var/lib/pacman/local/nvidia-settings-"+sandbox.Broken)
	must(t, os.Remove(filepath.Join(entry, "desc")))
	run := func(args ...string) (string, string) {
		t.Helper()
		var out, errb bytes.Buffer
		cmd := exec.Command(bin, append([]string{"--root", r.Dir}, args...)...)
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("clp %v: %v\n%s%s", args, err, out.String(), errb.String())
		}
		return out.String(), errb.String()
	}
	run("recover") // clp's state folders made, as after any first use
	book := func(rel string) bool { return rel == "var/lib/clp/lock" }
	before := sandbox.MustTreeExcept(t, r.Dir, book)
	out, errs := run("recover")
	if strings.TrimSpace(out) != "nothing to recover" {
		t.Fatalf("recover said:\n%s%s", out, errs)
	}
	for _, want := range []string{
		"clp: warning: pacman's local database entry " + entry + " is half written (it has no desc), by a pacman killed in a transaction clp has no journal or record of",
		"clp: hint: move the entry out of " + filepath.Dir(entry) + ", reinstall the package from its file",
	} {
		if !strings.Contains(errs, want) {
			t.Fatalf("recover does not say %q:\n%s", want, errs)
		}
	}
	if strings.Count(errs, "clp: warning:") != 1 {
		t.Fatalf("recover warns of more than the one entry:\n%s", errs)
	}
	out, _ = run("--json", "recover")
	if want := `"half_written": [`; !strings.Contains(out, want) || !strings.Contains(out, `"nvidia-settings-`+sandbox.Broken+`: it has no desc"`) {
		t.Fatalf("recover --json:\n%s", out)
	}
	sandbox.AssertUnchangedExcept(t, r.Dir, before, book, "recover")
}
