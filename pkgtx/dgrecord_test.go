package pkgtx

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vincentos/clp/internal/fail"
	"github.com/vincentos/clp/pacman"
	"github.com/vincentos/clp/testkit/sandbox"
)

// TestRunRecordedRecord: RunRecorded writes, before pacman runs, a
// record that reads back valid and names every package (versions, file,
// its sha256, the install reason), and removes it once pacman is done or
// failed cleanly (a truncated package file); a record left by a killed
// clp is never overwritten: RunRecorded refuses (exit 7) and keeps it.
func TestRunRecordedRecord(t *testing.T) {
	sandbox.RequireRoot(t)
	r, f := sandbox.NewNVIDIA(t)
	if err := r.Cache(f.Paths(sandbox.Broken, sandbox.NVIDIA...)...); err != nil {
		t.Fatal(err)
	}
	if out, err := r.Pacman("-D", "--asdeps", "nvidia-settings"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	d := open(t, r)
	real, err := exec.LookPath("pacman")
	if err != nil {
		t.Skip("no pacman")
	}
	rec := filepath.Join(d.StateDir, DowngradeRecordFile)
	seen := filepath.Join(t.TempDir(), "seen.json")
	wrap := filepath.Join(t.TempDir(), "pacman")
	if err := os.WriteFile(wrap, []byte("#!/bin/sh\ncp '"+rec+"' '"+seen+"' 2>/dev/null\nexec '"+real+"' \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	d.Runner.Pacman = wrap
	plan := func(v string) *Plan {
		p, err := d.Plan(bg, []Target{{"nvidia-utils", v}, {"nvidia-settings", v}})
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Fetch(bg, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := plan(sandbox.Good)
	if err := d.RunRecorded(bg, p, "clp downgrade"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(rec); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the record is left after pacman finished: %v", err)
	}
	if err := os.Rename(seen, rec); err != nil {
		t.Fatalf("pacman ran without the record: %v", err)
	}
	got, err := ReadDowngradeRecord(r.Dir, d.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, m := range got.Packages {
		lines = append(lines, m.Name+" "+m.From+" "+m.To+" "+filepath.Base(m.File)+" "+m.Reason)
		if sum, err := sha256Of(m.File); err != nil || sum != m.SHA256 {
			t.Fatalf("%s: sha256 %s recorded, the file's %s (%v)", m.Name, m.SHA256, sum, err)
		}
	}
	want := "nvidia-utils 560.35.03-1 550.78-1 nvidia-utils-550.78-1-x86_64.pkg.tar.zst explicit\n" +
		"nvidia-settings 560.35.03-1 550.78-1 nvidia-settings-550.78-1-x86_64.pkg.tar.zst dependency\n" +
		"nvidia-dkms 560.35.03-1 550.78-1 nvidia-dkms-550.78-1-x86_64.pkg.tar.zst explicit"
	if strings.Join(lines, "\n") != want || got.Why != "clp downgrade" {
		t.Fatalf("record %q:\n%s\nwant\n%s", got.Why, strings.Join(lines, "\n"), want)
	}

	// Left by a killed clp: kept, and the next downgrade refuses.
	left, err := os.ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	d = open(t, r)
	p = plan(sandbox.Broken)
	before := sandbox.MustTree(t, r.Dir)
	err = d.RunRecorded(bg, p, "clp downgrade")
	if !errors.Is(err, fail.ErrDamaged) || !strings.Contains(err.Error(), "an interrupted clp downgrade left "+rec) {
		t.Fatalf("over a left record: %v", err)
	}
	if now, _ := os.ReadFile(rec); string(now) != string(left) {
		t.Fatal("the left record was changed")
	}
	sandbox.AssertUnchanged(t, r.Dir, before)
	if err := os.Remove(rec); err != nil {
		t.Fatal(err)
	}

	// A clean pacman failure: the record goes too.
	for _, m := range p.Moves {
		if m.Name == "nvidia-utils" {
			if err := os.Truncate(m.Path, 100); err != nil {
				t.Fatal(err)
			}
		}
	}
	err = d.RunRecorded(bg, p, "clp downgrade")
	var pe *pacman.PacmanError
	if !errors.As(err, &pe) {
		t.Fatalf("pacman with a truncated file: %v", err)
	}
	if _, err := os.Lstat(rec); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the record is left after pacman failed: %v", err)
	}
}

func sha256Of(path string) (string, error) {
	out, err := exec.Command("sha256sum", path).Output()
	if err != nil {
		return "", err
	}
	return strings.Fields(string(out))[0], nil
}

// TestReadDowngradeRecordDamaged: a record that fails its checksum, is
// not clp's JSON, or holds a value no clp writes (sealed anew) is
// refused as damaged (exit 7), naming the file and why.
func TestReadDowngradeRecordDamaged(t *testing.T) {
	root := t.TempDir()
	state := filepath.Join(root, "var/lib/clp")
	if err := os.MkdirAll(state, 0o755); err != nil {
		t.Fatal(err)
	}
	good := DowngradeRecord{Format: 1, Why: "clp downgrade", Packages: []DowngradeRecMove{{
		Name: "nvidia-utils", From: "560.35.03-1", To: "550.78-1", File: "/var/cache/pacman/pkg/nvidia-utils-550.78-1-x86_64.pkg.tar.zst",
		SHA256: strings.Repeat("ab", 32), Reason: "explicit",
	}}}
	write := func(rec DowngradeRecord, seal bool, edit func(string) string) {
		t.Helper()
		if seal {
			sum, err := rec.sum()
			if err != nil {
				t.Fatal(err)
			}
			rec.Checksum = sum
		}
		data, err := jsonMarshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		if edit != nil {
			data = edit(data)
		}
		if err := os.WriteFile(filepath.Join(state, DowngradeRecordFile), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(good, true, nil)
	if rec, err := ReadDowngradeRecord(root, state); err != nil || rec == nil || rec.Packages[0].Name != "nvidia-utils" {
		t.Fatalf("a whole record: %v %v", rec, err)
	}
	bad := func(f func(*DowngradeRecMove)) DowngradeRecord {
		c := good
		c.Packages = []DowngradeRecMove{good.Packages[0]}
		f(&c.Packages[0])
		return c
	}
	for name, tc := range map[string]struct {
		rec  DowngradeRecord
		seal bool
		edit func(string) string
		want string
	}{
		"flipped":  {good, true, func(s string) string { return strings.Replace(s, "550.78-1", "550.78-2", 1) }, "its checksum does not hold"},
		"unsealed": {good, false, nil, "its checksum does not hold"},
		"notjson":  {good, true, func(s string) string { return s[:len(s)/2] }, "not clp's JSON"},
		"extra":    {good, true, func(s string) string { return strings.Replace(s, "{", `{"run":"rm -rf /",`, 1) }, "not clp's JSON"},
		"name":     {bad(func(m *DowngradeRecMove) { m.Name = "../etc" }), true, nil, `"../etc" is not a package name`},
		"file":     {bad(func(m *DowngradeRecMove) { m.File = "/var/cache/../../etc/shadow" }), true, nil, "is not a clean absolute path"},
		"relfile":  {bad(func(m *DowngradeRecMove) { m.File = "x.pkg.tar.zst" }), true, nil, "is not a clean absolute path"},
		"sha256":   {bad(func(m *DowngradeRecMove) { m.SHA256 = "abc" }), true, nil, "is not a sha256"},
		"reason":   {bad(func(m *DowngradeRecMove) { m.Reason = "wanted" }), true, nil, `install reason "wanted"`},
		"version":  {bad(func(m *DowngradeRecMove) { m.To = "1.0\n2" }), true, nil, "is not a package version"},
		"empty":    {DowngradeRecord{Format: 1}, true, nil, "it names no package"},
	} {
		t.Run(name, func(t *testing.T) {
			write(tc.rec, tc.seal, tc.edit)
			before, _ := os.ReadFile(filepath.Join(state, DowngradeRecordFile))
			_, err := ReadDowngradeRecord(root, state)
			if !errors.Is(err, fail.ErrDamaged) || !strings.Contains(err.Error(), filepath.Join(state, DowngradeRecordFile)+" is damaged (") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want damaged: %s", err, tc.want)
			}
			if after, _ := os.ReadFile(filepath.Join(state, DowngradeRecordFile)); string(after) != string(before) {
				t.Fatal("the damaged record was changed")
			}
		})
	}
}

func jsonMarshal(v any) (string, error) {
	data, err := json.MarshalIndent(v, "", "  ")
	return string(data), err
}

// The record's checksum is the sha256 of its JSON without it after one
// round trip (what records written before patch.CanonicalJSON carry),
// also where the round trip changes the bytes (invalid UTF-8).
func TestDowngradeRecordSumAsRoundTrip(t *testing.T) {
	for _, why := range []string{"clp downgrade", "clp downgrade \xff<&>"} {
		rec := &DowngradeRecord{Format: 1, Why: why, Packages: []DowngradeRecMove{{Name: "a", From: "1-1", To: "0.9-1", File: "/var/cache/pacman/pkg/a.pkg.tar.zst", SHA256: strings.Repeat("0", 64), Reason: "explicit"}}}
		data, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		var back DowngradeRecord
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatal(err)
		}
		if data, err = json.Marshal(&back); err != nil {
			t.Fatal(err)
		}
		want := sha256.Sum256(data)
		got, err := rec.sum()
		if err != nil || got != hex.EncodeToString(want[:]) {
			t.Fatalf("Why %q: sum %s, %v; want %x", why, got, err, want)
		}
	}
}
