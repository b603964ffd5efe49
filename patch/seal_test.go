package patch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vincentos/clp/internal/fail"
)

// interruptedApply leaves root with the journal of an apply killed while
// its install script ran (a real child process, SIGKILLed), and returns
// the journal's path.
func interruptedApply(t *testing.T, root string) string {
	t.Helper()
	archive := crashPatch(t)
	ref := t.TempDir()
	makeRoot(t, ref)
	steps, _ := runChild(t, ref, archive, "apply", 0)
	at := slices.Index(steps, "script") + 1
	if at == 0 {
		t.Fatalf("no script step in %v", steps)
	}
	makeRoot(t, root)
	if _, killed := runChild(t, root, archive, "apply", at); !killed {
		t.Fatal("child was not killed")
	}
	p := newEngine(root, nil).journalPath()
	if _, err := os.Stat(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// journalLines splits a sealed journal into its records.
func journalLines(t *testing.T, data []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for _, l := range bytes.SplitAfter(data, []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		rec, ok := openSealed(bytes.TrimSuffix(l, []byte("\n")))
		if !ok {
			t.Fatalf("fixture journal line does not hold its checksum: %q", l)
		}
		out = append(out, rec)
	}
	return out
}

// resealBegin rewrites the begin record with change applied and seals
// every line again: the checksums hold, only the content is hostile.
func resealBegin(t *testing.T, data []byte, change func(b *txBegin)) []byte {
	t.Helper()
	lines := journalLines(t, data)
	var r txRecord
	if err := json.Unmarshal(lines[0], &r); err != nil {
		t.Fatal(err)
	}
	change(r.Begin)
	first, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	out := sealLine(first)
	for _, l := range lines[1:] {
		out = append(out, sealLine(l)...)
	}
	return out
}

// lockSkip leaves out the state lock, which holds the pid of its last
// holder (informational, rewritten by every clp that takes it).
var lockSkip = []string{"var/lib/clp/lock"}

func TestDamagedJournalIsKeptAndNeverActedOn(t *testing.T) {
	src := t.TempDir()
	jpath := interruptedApply(t, src)
	good, err := os.ReadFile(jpath)
	if err != nil {
		t.Fatal(err)
	}
	firstNL := bytes.IndexByte(good, '\n')
	cases := []struct {
		name    string
		journal func() []byte
		want    string
	}{
		{"byte flipped in the begin record", func() []byte {
			b := bytes.Clone(good)
			b[firstNL/2] ^= 0x01
			return b
		}, "line 1: its checksum does not match"},
		{"byte flipped in a phase record", func() []byte {
			b := bytes.Clone(good)
			b[len(b)-10] ^= 0x20
			return b
		}, "its checksum does not match"},
		{"begin record dropped", func() []byte { return bytes.Clone(good[firstNL+1:]) }, "a record before the begin record"},
		{"empty", func() []byte { return nil }, "the file is empty"},
		{"garbage", func() []byte { return []byte("hello\n") }, "line 1: its checksum does not match"},
		{"patch name with ../", func() []byte {
			return resealBegin(t, good, func(b *txBegin) { b.Name = "../../../etc"; b.Applied.Name = b.Name })
		}, `patch name "../../../etc" is not usable`},
		{"backup path out of the patch's state", func() []byte {
			return resealBegin(t, good, func(b *txBegin) { b.Applied.Steps[1].Backup = "../../../../../etc/shadow" })
		}, `backup "../../../../../etc/shadow" is not backup/etc/clp-test/modified.conf`},
		{"target in clp's own state", func() []byte {
			return resealBegin(t, good, func(b *txBegin) { b.Applied.Steps[0].Target = "/var/lib/clp/patches/x" })
		}, "which no patch may change"},
		{"target climbing out", func() []byte {
			return resealBegin(t, good, func(b *txBegin) { b.Applied.Steps[0].Target = "/etc/../../x" })
		}, "is not a clean absolute path"},
		{"staged file elsewhere", func() []byte {
			return resealBegin(t, good, func(b *txBegin) { b.Applied.Steps[1].Staged = "/etc/passwd" })
		}, `staged file "/etc/passwd" is not one clp makes`},
		{"remove script outside the patch folder", func() []byte {
			return resealBegin(t, good, func(b *txBegin) { b.Applied.RemoveScript = "../../../bin/evil" })
		}, `script "../../../bin/evil" is not a clean archive entry name`},
		{"package the patch never touched", func() []byte {
			return resealBegin(t, good, func(b *txBegin) {
				b.Applied.Packages = &PackagePlan{
					Actions:  []PackageAction{{Op: OpPin, Name: "nvidia-utils"}},
					Previous: map[string]string{"bash": ""},
				}
			})
		}, `the plan would put back package "bash", which it does not downgrade`},
		{"package name with a newline", func() []byte {
			return resealBegin(t, good, func(b *txBegin) {
				b.Applied.Packages = &PackagePlan{Actions: []PackageAction{{Op: OpPin, Name: "a\nb"}}}
			})
		}, "not a package name"},
		{"unknown kind", func() []byte {
			return resealBegin(t, good, func(b *txBegin) { b.Kind = "wipe" })
		}, `unknown transaction kind "wipe"`},
		{"unknown phase", func() []byte {
			return append(bytes.Clone(good), sealLine([]byte(`{"rec":"phase","phase":"rm-rf"}`))...)
		}, `unknown phase "rm-rf"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			if err := os.CopyFS(root, os.DirFS(src)); err != nil {
				t.Fatal(err)
			}
			// CopyFS loses owners and modes; rebuild the fixture's.
			makeRoot(t, root)
			bad := c.journal()
			if err := os.WriteFile(jpath2(root), bad, 0o600); err != nil {
				t.Fatal(err)
			}
			pre := snapshot(t, root, lockSkip...)
			e := newEngine(root, nil)
			_, err := e.Recover(context.Background())
			var de *DamagedError
			if !errors.As(err, &de) || !errors.Is(err, fail.ErrDamaged) {
				t.Fatalf("Recover = %v, want a DamagedError", err)
			}
			mustContain(t, err, jpath2(root)+" is damaged", c.want, "clp keeps it and will not act on it")
			if !strings.Contains(de.NextStep(), "clp recover --show") {
				t.Fatalf("hint %q does not name clp recover --show", de.NextStep())
			}
			sameTree(t, "after recover of a damaged journal", pre, snapshot(t, root, lockSkip...))
			if got, _ := os.ReadFile(jpath2(root)); !bytes.Equal(got, bad) {
				t.Fatal("the damaged journal changed")
			}
			// Every engine entry point refuses the same way.
			err = e.Rollback(context.Background(), "CLP1250101", RollbackOptions{})
			if !errors.As(err, &de) {
				t.Fatalf("Rollback = %v, want a DamagedError", err)
			}
			r, err := e.ShowJournal()
			if err != nil || r == nil || !strings.Contains(r.Damage, c.want) {
				t.Fatalf("ShowJournal = %+v, %v; want damage %q", r, err, c.want)
			}
			sameTree(t, "after rollback and show", pre, snapshot(t, root, lockSkip...))
		})
	}
}

func jpath2(root string) string { return newEngine(root, nil).journalPath() }

// A last line cut short by a crash (no newline) is not damage: it is the
// record being written when clp died, ignored; and a journal an older clp
// wrote (no checksums) is still recovered.
func TestTornTailAndUnsealedJournalRecover(t *testing.T) {
	for _, variant := range []string{"torn tail", "unsealed"} {
		t.Run(variant, func(t *testing.T) {
			root := t.TempDir()
			pre := snapshot(t, func() string { makeRoot(t, root); return root }(), stateSkip...)
			jpath := interruptedApply(t, root)
			good, _ := os.ReadFile(jpath)
			var data []byte
			switch variant {
			case "torn tail":
				data = append(bytes.Clone(good), sealLine([]byte(`{"rec":"step","i":3,"note":"copied"}`))...)
				data = data[:len(data)-7]
			case "unsealed":
				for _, l := range journalLines(t, good) {
					data = append(append(data, l...), '\n')
				}
			}
			os.WriteFile(jpath, data, 0o600)
			r, err := newEngine(root, nil).ShowJournal()
			if err != nil || r.Damage != "" || r.Kind != "apply" || !slices.Contains(r.Phases, "script") {
				t.Fatalf("ShowJournal = %+v, %v", r, err)
			}
			if got, err := newEngine(root, nil).Recover(context.Background()); err != nil || !got {
				t.Fatalf("Recover = %v, %v", got, err)
			}
			sameTree(t, "after recover", pre, snapshot(t, root, stateSkip...))
		})
	}
}

func TestDamagedAppliedRecordRefused(t *testing.T) {
	root := t.TempDir()
	makeRoot(t, root)
	e := newEngine(root, nil)
	if err := applyArchive(t, e, fixtureArchive("CLP1250101"), ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	path := e.appliedPath("CLP1250101")
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(good, []byte(`"checksum": "`)) {
		t.Fatalf("applied record is not sealed:\n%s", good)
	}
	var ap Applied
	if err := json.Unmarshal(good, &ap); err != nil {
		t.Fatal(err)
	}
	reseal := func(change func(a *Applied)) []byte {
		c := ap
		c.Steps = slices.Clone(ap.Steps)
		change(&c)
		s, err := sealApplied(&c)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.MarshalIndent(s, "", "  ")
		return b
	}
	cases := []struct {
		name   string
		record []byte
		want   string
	}{
		{"byte flipped in a hash", bytes.Replace(good, []byte(shaOf(newModified)[:8]), []byte("00000000"), 1), "its checksum does not match"},
		{"key renamed", bytes.Replace(good, []byte(`"seq"`), []byte(`"sez"`), 1), ""},
		{"truncated", good[:len(good)/2], "not a record clp wrote"},
		{"backup out of the state", reseal(func(a *Applied) { a.Steps[1].Backup = "../../../../../etc/shadow" }), "is not backup/"},
		{"recorded under another name", reseal(func(a *Applied) { a.Name = "OTHER" }), "records patch OTHER in the folder of CLP1250101"},
		{"version with a newline", reseal(func(a *Applied) { a.Version = "1\nclp: error: forged" }), "holds a control character"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.want == "" {
				if bytes.Equal(c.record, good) {
					t.Skip("the record has no such key to rename")
				}
				c.want = "its checksum does not match"
			}
			os.WriteFile(path, c.record, 0o600)
			pre := snapshot(t, root, lockSkip...)
			_, err := e.List()
			mustContain(t, err, path+" is damaged", c.want)
			err = e.Rollback(context.Background(), "CLP1250101", RollbackOptions{})
			var de *DamagedError
			if !errors.As(err, &de) {
				t.Fatalf("Rollback = %v, want a DamagedError", err)
			}
			sameTree(t, "after refusals", pre, snapshot(t, root, lockSkip...))
		})
	}
	// A record an older clp wrote (no checksum) is still read, and the
	// good record rolls back.
	var old Applied
	json.Unmarshal(good, &old)
	old.Checksum = ""
	b, _ := json.MarshalIndent(old, "", "  ")
	os.WriteFile(path, b, 0o600)
	if list, err := e.List(); err != nil || len(list) != 1 {
		t.Fatalf("List of an unsealed record = %v, %v", list, err)
	}
	os.WriteFile(path, good, 0o600)
	if err := e.Rollback(context.Background(), "CLP1250101", RollbackOptions{}); err != nil {
		t.Fatal(err)
	}
}

// A tampered journal naming folders outside the state directory must not
// make recovery delete them (the "../" case), checked on the
// folder itself.
func TestJournalNameCannotDeleteOutsideState(t *testing.T) {
	root := t.TempDir()
	jpath := interruptedApply(t, root)
	victim := filepath.Join(root, "etc/unrelated")
	good, _ := os.ReadFile(jpath)
	os.WriteFile(jpath, resealBegin(t, good, func(b *txBegin) {
		b.Name = "../../../../etc/unrelated"
		b.Applied.Name = b.Name
	}), 0o600)
	if _, err := newEngine(root, nil).Recover(context.Background()); err == nil {
		t.Fatal("recover acted on a journal naming ../")
	}
	if _, err := os.Stat(filepath.Join(victim, "keep.conf")); err != nil {
		t.Fatalf("a folder outside the state was touched: %v", err)
	}
}

// A placed file whose mode or owner alone was changed since the apply is
// the user's change: rollback refuses, changing nothing; with --force it
// rolls back and says what mode and owner it puts back.
func TestRollbackSeesModeOrOwnerChange(t *testing.T) {
	for _, change := range []string{"mode", "owner"} {
		t.Run(change, func(t *testing.T) {
			root := t.TempDir()
			makeRoot(t, root)
			pre := snapshot(t, root, stateSkip...)
			rep := &testReporter{}
			e := newEngine(root, rep)
			if err := applyArchive(t, e, fixtureArchive("CLP1250101"), ApplyOptions{}); err != nil {
				t.Fatal(err)
			}
			placed := filepath.Join(root, "etc/clp-test/sub/new-file.conf")
			switch change {
			case "mode":
				os.Chmod(placed, 0o600)
			case "owner":
				os.Lchown(placed, 1234, 5678)
			}
			changed := snapshot(t, root, lockSkip...)
			err := e.Rollback(context.Background(), "CLP1250101", RollbackOptions{})
			mustContain(t, err, "cannot roll back CLP1250101: /etc/clp-test/sub/new-file.conf changed since the patch was applied")
			sameTree(t, "after the refused rollback", changed, snapshot(t, root, lockSkip...))
			if err := e.Rollback(context.Background(), "CLP1250101", RollbackOptions{Force: true}); err != nil {
				t.Fatal(err)
			}
			mustContain(t, errorsJoin(rep.all()), "/etc/clp-test/sub/new-file.conf had its mode or owner changed since the patch was applied")
			sameTree(t, "after the forced rollback", pre, snapshot(t, root, stateSkip...))
		})
	}
}

// TestCanonicalAppliedFastPath: canonicalApplied takes the first Marshal
// as the canonical form unless it holds \ufffd; it must give the bytes
// the round trip gives (and so the same checksums as before) for every
// kind of value a record holds, and take the round trip where they differ.
// appliedFile must write what MarshalIndent of the sealed record writes.
func TestCanonicalAppliedFastPath(t *testing.T) {
	slow := func(a *Applied) []byte {
		data, err := marshalUnsealed(a)
		if err != nil {
			t.Fatal(err)
		}
		back, err := roundTripApplied(data)
		if err != nil {
			t.Fatal(err)
		}
		return back
	}
	zone := time.FixedZone("odd", 9*60+21) // an offset with seconds
	odd := "a<b>&c\u2028\u2029\x01\t\n\"\\ \ufffd é"
	recs := map[string]*Applied{
		"empty": {},
		"full": {Name: "CLP1", Version: "1", Description: odd, Severity: "high", Seq: 7, TxID: "tx",
			AppliedAt: time.Date(2026, 12, 2, 14, 0, 0, 123456789, zone),
			Steps: []Step{
				{Op: OpReplace, Target: "/etc/" + odd, Payload: "files/a", Staged: "/etc/.a", Backup: "backup/etc/a",
					Before: FileState{Exists: true, SHA256: "ab", Mode: 0o4755, UID: 1, GID: 2, Xattrs: map[string][]byte{"user.b": {0, 1, 2}, "user.a": {}, "security.x": []byte(odd)}},
					After:  FileState{Exists: true, SHA256: "cd", Mode: 0o644, Xattrs: map[string][]byte{}}},
				{Op: OpAdd, Target: "/x"},
			},
			Dirs: []string{"/a", odd},
			Packages: &PackagePlan{Actions: []PackageAction{{Op: "downgrade", Name: odd}}, Previous: map[string]string{"z": "1", odd: "2"},
				Pins: []string{}, State: json.RawMessage(` { "a" : "<&>\u00e9" , "b":[1, 2.50, null] } `)},
			InstallScript: "i.sh", RemoveScript: "r.sh", Force: true, OptCreated: true, Legacy: true, Checksum: "ignored"},
		"backslash":  {Name: `a\ufffd`},
		"null state": {Steps: []Step{}, Packages: &PackagePlan{State: json.RawMessage("null")}},
		"bad utf8":   {Name: "x\xffy", Steps: []Step{{Target: "/\xfe", Before: FileState{Xattrs: map[string][]byte{"user.\xff": nil}}}}},
	}
	for name, a := range recs {
		got, err := canonicalApplied(a)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if want := slow(a); !bytes.Equal(got, want) {
			t.Errorf("%s: fast path\n%s\nround trip\n%s", name, got, want)
		}
		sealed, err := sealApplied(a)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.MarshalIndent(sealed, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if file, err := appliedFile(a); err != nil || !bytes.Equal(file, want) {
			t.Errorf("%s: appliedFile (%v)\n%s\nMarshalIndent of the sealed record\n%s", name, err, file, want)
		}
		first, _ := marshalUnsealed(a)
		if fast := !bytes.Contains(first, []byte(`\ufffd`)); fast != (name != "bad utf8" && name != "backslash") {
			t.Errorf("%s: fast path taken: %v", name, fast)
		}
	}
}
