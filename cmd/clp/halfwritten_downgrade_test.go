package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/vincentos/clp/testkit/sandbox"
)

// dgRecord is where clp downgrade records its transaction while its
// pacman runs.
const dgRecord = "var/lib/clp/downgrade.json"

// newDowngradeHalfRig is a root with the nvidia packages at 560 (550 and
// 560 cached, nvidia-settings a dependency) and a pacman on PATH that,
// when the rig's flag file is there, runs the real pacman and then
// SIGKILLs the clp that started it (halfRig's). With ref, the root a
// finished 'clp downgrade' of the three to 550 leaves is recorded first
// (then 560 is put back with pacman).
func newDowngradeHalfRig(t *testing.T, bin string, ref bool) *halfRig {
	t.Helper()
	r, f := sandbox.NewNVIDIA(t)
	must(t, r.Cache(f.Paths(sandbox.Broken, sandbox.NVIDIA...)...))
	if out, err := r.Pacman("-D", "--asdeps", "nvidia-settings"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	must(t, os.MkdirAll(filepath.Join(r.Dir, "etc/clp"), 0o755))
	must(t, os.WriteFile(filepath.Join(r.Dir, "etc/clp/clp.conf"), []byte("[options]\nArchiveServer =\n"), 0o644))
	h := &halfRig{t: t, bin: bin, r: r, f: f, moves: 3}
	h.k = &killRig{t: t, bin: bin, root: r.Dir, r: r, tokens: map[string]bool{}, mended: map[string]bool{}}
	real, err := exec.LookPath("pacman")
	if err != nil {
		t.Skip("no pacman")
	}
	dir := t.TempDir()
	wrapDir := filepath.Join(dir, "bin")
	must(t, os.MkdirAll(wrapDir, 0o755))
	h.flag = filepath.Join(dir, "kill-after-pacman")
	wrapper := "#!/bin/sh\n" + shQuote(real) + " \"$@\"\nrc=$?\n" +
		"case \" $* \" in *\" -U \"*) if [ -e " + shQuote(h.flag) + " ]; then rm -f " + shQuote(h.flag) + "; kill -9 $PPID; sleep 5; fi;; esac\nexit $rc\n"
	must(t, os.WriteFile(filepath.Join(wrapDir, "pacman"), []byte(wrapper), 0o755))
	h.env = append(os.Environ(), "PATH="+wrapDir+":"+os.Getenv("PATH"))
	h.mustRun("--root", r.Dir, "recover") // clp's state folders made, as after any first use
	if ref {
		h.mustRun(h.downgradeArgs()...)
		h.k.what = "reference"
		h.notTree, h.notPkgs = h.k.state()
		must(t, r.Install(f.Paths(sandbox.Broken, sandbox.NVIDIA...)...))
	}
	return h
}

func (h *halfRig) downgradeArgs() []string {
	return []string{"--root", h.r.Dir, "downgrade", "nvidia-utils=" + sandbox.Good, "nvidia-dkms=" + sandbox.Good, "nvidia-settings=" + sandbox.Good, "--noconfirm"}
}

// killedDowngrade runs clp downgrade with the pacman that kills it once
// its pacman finished, checks it left its record, and returns the
// package pacman moved last.
func (h *halfRig) killedDowngrade() string {
	h.t.Helper()
	logBefore, err := os.ReadFile(h.r.LogFile)
	must(h.t, err)
	must(h.t, os.WriteFile(h.flag, nil, 0o644))
	out, errs, code := h.run(h.downgradeArgs()...)
	if code != -1 {
		h.t.Fatalf("clp downgrade was not killed: exit %d\n%s%s", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(h.r.Dir, dgRecord)); err != nil {
		h.t.Fatalf("the killed clp downgrade left no record: %v", err)
	}
	logAfter, err := os.ReadFile(h.r.LogFile)
	must(h.t, err)
	moved := regexp.MustCompile(`\[ALPM\] (?:downgraded|upgraded) (\S+) `).FindAllStringSubmatch(string(logAfter[len(logBefore):]), -1)
	if len(moved) != h.moves {
		h.t.Fatalf("pacman moved %d packages, want %d:\n%s", len(moved), h.moves, logAfter[len(logBefore):])
	}
	return moved[len(moved)-1][1]
}

// TestRecoverMendsHalfWrittenDowngrade: clp downgrade (560 -> 550, three
// packages) killed while its pacman was writing the last package's local
// database entry (no desc and files yet; folder made, nothing extracted;
// no folder yet), or once pacman was done ("whole"): the record clp
// downgrade wrote before pacman ran is left, with the guard's allow file,
// and clp recover mends the entry from the recorded package file (the
// dependency reason kept), removes the record and the allow file, says
// so, and the root is a finished downgrade's byte for byte, pacman -Qk
// clean.
func TestRecoverMendsHalfWrittenDowngrade(t *testing.T) {
	sandbox.RequireRoot(t)
	if _, err := exec.LookPath("bsdtar"); err != nil {
		t.Skip("no bsdtar")
	}
	bin := sandbox.GoBuild(t, ".", filepath.Join(t.TempDir(), "clp"))
	for _, mode := range []string{"nodesc", "empty", "gone", "whole"} {
		t.Run(mode, func(t *testing.T) {
			h := newDowngradeHalfRig(t, bin, true)
			name := h.killedDowngrade()
			if _, err := os.Lstat(filepath.Join(h.r.Dir, "var/lib/clp/guard-allow.json")); err != nil {
				t.Fatalf("the killed clp downgrade left no guard allow file: %v", err)
			}
			if mode != "whole" {
				h.halfWrite(mode, name, sandbox.Broken, sandbox.Good)
			}
			h.statusSaysDowngradeLeft(true)
			out, errs, code := h.run("--root", h.r.Dir, "recover")
			if code != 0 {
				t.Fatalf("recover: exit %d\n%s%s", code, out, errs)
			}
			t.Logf("clp recover said:\n%s%s", out, errs)
			want := "recovered: the interrupted clp downgrade of nvidia-utils, nvidia-dkms, nvidia-settings: mended the half-written local database entries of " + name + " " + sandbox.Good + "\n"
			if mode == "whole" {
				// pacman was done: only the record and the guard's
				// allow file are left, and go.
				want = "recovered: the interrupted clp downgrade of nvidia-utils, nvidia-dkms, nvidia-settings: no entry was left half written\n"
			}
			if !strings.Contains(out, want) {
				t.Fatalf("recover does not say %q:\n%s%s", want, out, errs)
			}
			if strings.Contains(errs, "was left half written by a pacman killed with clp") != (mode != "whole") || strings.Contains(errs, "clp has no journal or record of") {
				t.Fatalf("recover does not say what it mended, or still warns:\n%s", errs)
			}
			if _, err := os.Lstat(filepath.Join(h.r.Dir, dgRecord)); !os.IsNotExist(err) {
				t.Fatalf("the record is left after recovery: %v", err)
			}
			h.k.what = mode
			tr, pkgs := h.k.state()
			if d := h.notTree.Diff(tr); len(d) > 0 {
				t.Fatalf("after recovery the root differs from a finished downgrade's:\n%s", strings.Join(d, "\n"))
			}
			if sandbox.Versions(pkgs) != sandbox.Versions(h.notPkgs) {
				t.Fatalf("packages:\n%s\nwant\n%s", sandbox.Versions(pkgs), sandbox.Versions(h.notPkgs))
			}
			if pq, err := h.r.PacmanQuery("-Qk"); err != nil {
				t.Fatalf("pacman -Qk after recovery: %v\n%s", err, pq)
			}
			if mode != "gone" && mode != "whole" {
				kept, _ := filepath.Glob(filepath.Join(h.r.Dir, killMended, "@downgrade-*", name+"-"+sandbox.Good))
				if len(kept) != 1 {
					t.Fatalf("the half-written entry is not kept in %s/@downgrade-<time>: %v", killMended, kept)
				}
			}
			if out, errs, code := h.run("--root", h.r.Dir, "recover"); code != 0 || strings.TrimSpace(out) != "nothing to recover" || errs != "" {
				t.Fatalf("second recover: exit %d\n%s%s", code, out, errs)
			}
			h.statusSaysDowngradeLeft(false)
		})
	}
}

// statusSaysDowngradeLeft checks what clp status and status --json say of
// the killed downgrade's record: its moves and 'clp recover' while it is
// left, nothing (and null) once it is gone.
func (h *halfRig) statusSaysDowngradeLeft(left bool) {
	h.t.Helper()
	out := h.mustRun("--root", h.r.Dir, "status")
	line := "interrupted     : clp downgrade of nvidia-utils " + sandbox.Broken + " -> " + sandbox.Good + ", nvidia-dkms " + sandbox.Broken + " -> " + sandbox.Good + ", nvidia-settings " + sandbox.Broken + " -> " + sandbox.Good + " (run 'clp recover')\n"
	if strings.Contains(out, line) != left || strings.Contains(out, "interrupted ") != left {
		h.t.Fatalf("clp status (record left: %v), want the line %q or none:\n%s", left, line, out)
	}
	var rep struct {
		Downgrade *struct {
			Record   string   `json:"record"`
			Packages []string `json:"packages"`
			Problem  string   `json:"problem"`
		} `json:"interrupted_downgrade"`
	}
	js, errs, code := h.run("--root", h.r.Dir, "status", "--json")
	if code != 0 {
		h.t.Fatalf("status --json: exit %d\n%s%s", code, js, errs)
	}
	if err := json.Unmarshal([]byte(js), &rep); err != nil {
		h.t.Fatalf("status --json: %v\n%s", err, js)
	}
	if !left {
		if rep.Downgrade != nil || !strings.Contains(js, `"interrupted_downgrade": null`) {
			h.t.Fatalf("status --json names a downgrade record after recovery:\n%s", js)
		}
		return
	}
	if d := rep.Downgrade; d == nil || d.Record != filepath.Join(h.r.Dir, dgRecord) || len(d.Packages) != 3 || d.Packages[0] != "nvidia-utils "+sandbox.Broken+" -> "+sandbox.Good || d.Problem != "" {
		h.t.Fatalf("status --json: interrupted_downgrade is %+v\n%s", d, js)
	}
}

// TestRecoverDowngradeRefusesDamagedRecord: the record of a killed clp
// downgrade with one byte changed: clp recover refuses (exit 7), names
// the file and why, and changes nothing (the record kept); clp downgrade
// refuses to start over it too.
func TestRecoverDowngradeRefusesDamagedRecord(t *testing.T) {
	sandbox.RequireRoot(t)
	bin := sandbox.GoBuild(t, ".", filepath.Join(t.TempDir(), "clp"))
	h := newDowngradeHalfRig(t, bin, false)
	name := h.killedDowngrade()
	h.halfWrite("nodesc", name, sandbox.Broken, sandbox.Good)
	path := filepath.Join(h.r.Dir, dgRecord)
	data, err := os.ReadFile(path)
	must(t, err)
	bad := bytes.Replace(data, []byte(`"dependency"`), []byte(`"explicit"`), 1)
	if bytes.Equal(bad, data) {
		t.Fatalf("the record names no dependency:\n%s", data)
	}
	must(t, os.WriteFile(path, bad, 0o600))
	// Any command first reaps what the killed clp's children registry
	// names (var/lib/clp/children); clp list does nothing more.
	h.mustRun("--root", h.r.Dir, "list")
	book := func(rel string) bool { return rel == "var/lib/clp/lock" }
	before := sandbox.MustTreeExcept(t, h.r.Dir, book)
	again := []string{"--root", h.r.Dir, "downgrade", "nvidia-utils=" + sandbox.Broken, "nvidia-dkms=" + sandbox.Broken, "nvidia-settings=" + sandbox.Broken, "--noconfirm"}
	for _, args := range [][]string{{"--root", h.r.Dir, "recover"}, again} {
		out, errs, code := h.run(args...)
		if code != 7 || !strings.Contains(errs, path+" is damaged (its checksum does not hold); clp keeps it and will not act on it") || !strings.Contains(errs, "hint: it is JSON: read it with 'cat "+path+"'") {
			t.Fatalf("clp %s: exit %d, want 7 naming the damaged record\n%s%s", args[2], code, out, errs)
		}
	}
	// clp status says so, and changes nothing either.
	if out := h.mustRun("--root", h.r.Dir, "status"); !strings.Contains(out, "interrupted     : "+path+" is damaged (its checksum does not hold); clp keeps it and will not act on it (run 'clp recover' for what to do)\n") {
		t.Fatalf("clp status does not name the damaged record:\n%s", out)
	}
	sandbox.AssertUnchangedExcept(t, h.r.Dir, before, book, "the refusal")
}

// TestRecoverDowngradeRefusesWithoutFile: the package file a killed clp
// downgrade recorded for the half-written entry is gone from the cache:
// clp recover refuses (exit 7), says which and what to do, and changes
// nothing; with the file back it mends (--json: what it mended).
func TestRecoverDowngradeRefusesWithoutFile(t *testing.T) {
	sandbox.RequireRoot(t)
	bin := sandbox.GoBuild(t, ".", filepath.Join(t.TempDir(), "clp"))
	h := newDowngradeHalfRig(t, bin, false)
	name := h.killedDowngrade()
	h.halfWrite("nodesc", name, sandbox.Broken, sandbox.Good)
	file := filepath.Join(h.r.CacheDir, filepath.Base(h.f.Path(name, sandbox.Good)))
	must(t, os.Remove(file))
	// Any command first reaps what the killed clp's children registry
	// names (var/lib/clp/children); clp list does nothing more.
	h.mustRun("--root", h.r.Dir, "list")
	book := func(rel string) bool { return rel == "var/lib/clp/lock" }
	before := sandbox.MustTreeExcept(t, h.r.Dir, book)
	out, errs, code := h.run("--root", h.r.Dir, "recover")
	for _, want := range []string{
		"the local database entry of " + name + " " + sandbox.Good + " (it has no desc) was left half written by a pacman killed with clp downgrade, and cannot be mended",
		file,
		"nothing was changed",
		"hint: put the package file back (" + filepath.Join(h.r.Dir, dgRecord) + " names it and its sha256), then run 'clp recover'",
	} {
		if code != 7 || !strings.Contains(errs, want) {
			t.Fatalf("recover: exit %d, want 7 and %q\n%s%s", code, want, out, errs)
		}
	}
	sandbox.AssertUnchangedExcept(t, h.r.Dir, before, book, "the refusal")
	must(t, sandbox.CopyFile(h.f.Path(name, sandbox.Good), file, 0o644))
	// --json says what it did.
	out, errs, code = h.run("--json", "--root", h.r.Dir, "recover")
	if code != 0 || !strings.Contains(out, `"recovered": true`) || !strings.Contains(out, `"mended": [`+"\n"+`      "`+name+" "+sandbox.Good+`"`) || strings.Contains(out, "half_written") {
		t.Fatalf("recover --json with the file back: exit %d\n%s%s", code, out, errs)
	}
	if pq, err := h.r.PacmanQuery("-Qk"); err != nil {
		t.Fatalf("pacman -Qk after recovery: %v\n%s", err, pq)
	}
}
