package feed

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"
)

func TestInitLayout(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "feed")
	if err := Init(dir, InitOptions{}); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(keysDir(dir))
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("keys dir: %v %v", st.Mode(), err)
	}
	for _, role := range Roles {
		st, err := os.Stat(keyPath(dir, role))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s key: %v %v", role, st, err)
		}
	}
	readme, err := os.ReadFile(filepath.Join(keysDir(dir), "README"))
	if err != nil || !bytes.Contains(readme, []byte("MOVE IT OFFLINE")) {
		t.Fatalf("keys README: %q %v", readme, err)
	}
	md := metadataDir(dir)
	r1, _ := os.ReadFile(filepath.Join(md, "1.root.json"))
	r, _ := os.ReadFile(filepath.Join(md, "root.json"))
	if len(r1) == 0 || !bytes.Equal(r1, r) {
		t.Fatal("root.json and 1.root.json differ or are empty")
	}
	root, err := metadata.Root().FromBytes(r1)
	if err != nil {
		t.Fatal(err)
	}
	if !root.Signed.ConsistentSnapshot || root.Signed.Version != 1 {
		t.Fatalf("root: consistent=%v version=%d", root.Signed.ConsistentSnapshot, root.Signed.Version)
	}
	if d := time.Until(root.Signed.Expires); d < 364*24*time.Hour || d > 366*24*time.Hour {
		t.Fatalf("root expires in %s", d)
	}
	if err := root.VerifyDelegate(metadata.ROOT, root); err != nil {
		t.Fatalf("root not self-signed: %v", err)
	}
	for _, f := range []string{"1.targets.json", "targets.json", "1.snapshot.json", "snapshot.json", "timestamp.json"} {
		if _, err := os.Stat(filepath.Join(md, f)); err != nil {
			t.Fatal(err)
		}
	}
	ts, _ := metadata.Timestamp().FromFile(filepath.Join(md, "timestamp.json"))
	if d := time.Until(ts.Signed.Expires); d < 23*time.Hour || d > 25*time.Hour {
		t.Fatalf("timestamp expires in %s", d)
	}
	if err := root.VerifyDelegate(metadata.TIMESTAMP, ts); err != nil {
		t.Fatal(err)
	}
	// Keys must never be served.
	if _, err := os.Stat(filepath.Join(dir, "repository", "keys")); err == nil {
		t.Fatal("keys inside the served folder")
	}

	// A second Init refuses and leaves the keys alone.
	before, _ := os.ReadFile(keyPath(dir, metadata.ROOT))
	mustContain(t, Init(dir, InitOptions{}), "keys already exists; refusing to overwrite a feed's keys")
	after, _ := os.ReadFile(keyPath(dir, metadata.ROOT))
	if !bytes.Equal(before, after) {
		t.Fatal("root key changed")
	}
}

func TestAddAndResign(t *testing.T) {
	f := newTestFeed(t)
	data := f.add(t, "a.clp", TargetMeta{Severity: "critical", Name: "FixA", Architectures: []string{"x86_64"}}, true)
	md := metadataDir(f.dir)
	targets, err := metadata.Targets().FromFile(filepath.Join(md, "2.targets.json"))
	if err != nil {
		t.Fatal(err)
	}
	tf := targets.Signed.Targets["FixA.clp"] // named by the patch's Name, not its file
	m := clpMeta(tf)
	if m == nil || m.Sequence != 1 || m.Severity != "critical" || m.Name != "FixA" {
		t.Fatalf("custom = %+v", m)
	}
	var compact bytes.Buffer
	json.Compact(&compact, *tf.Custom)
	if compact.String() != `{"clp":{"sequence":1,"severity":"critical","name":"FixA","architectures":["x86_64"],"phase":100}}` {
		t.Fatalf("custom json = %s", compact.String())
	}
	stored, err := os.ReadFile(filepath.Join(targetsDir(f.dir), hex.EncodeToString(tf.Hashes["sha256"])+".FixA.clp"))
	if err != nil || !bytes.Equal(stored, data) {
		t.Fatalf("stored target: %v", err)
	}
	if targets.Signed.Targets["FixA.clp.minisig"] == nil {
		t.Fatal("minisig not published")
	}
	ts, _ := metadata.Timestamp().FromFile(filepath.Join(md, "timestamp.json"))
	snap, _ := metadata.Snapshot().FromFile(filepath.Join(md, "2.snapshot.json"))
	if ts.Signed.Version != 2 || ts.Signed.Meta["snapshot.json"].Version != 2 || snap.Signed.Meta["targets.json"].Version != 2 {
		t.Fatal("versions not bumped together")
	}
	// Old versions stay for clients mid-update.
	if _, err := os.Stat(filepath.Join(md, "1.targets.json")); err != nil {
		t.Fatal(err)
	}

	f.add(t, "b.clp", TargetMeta{Sequence: 10}, false)
	f.add(t, "c.clp", TargetMeta{}, false)
	targets, _ = metadata.Targets().FromFile(filepath.Join(md, "targets.json"))
	if clpMeta(targets.Signed.Targets["c.clp"]).Sequence != 11 {
		t.Fatal("auto sequence is not highest + 1")
	}

	if err := Resign(f.dir, ResignOptions{}); err != nil {
		t.Fatal(err)
	}
	if f.targetsVersion(t) != 5 || f.snapshotVersion(t) != 5 {
		t.Fatalf("resign: targets %d snapshot %d", f.targetsVersion(t), f.snapshotVersion(t))
	}
	if err := Timestamp(f.dir, 2*time.Hour); err != nil {
		t.Fatal(err)
	}
	ts, _ = metadata.Timestamp().FromFile(filepath.Join(md, "timestamp.json"))
	if ts.Signed.Version != 6 || time.Until(ts.Signed.Expires) > 2*time.Hour {
		t.Fatalf("timestamp v%d expires %s", ts.Signed.Version, ts.Signed.Expires)
	}
	// A client sees all three after the resigns.
	all, err := f.client(t).Targets(t.Context())
	if err != nil || seqs(all) != "1:FixA.clp,10:b.clp,11:c.clp" {
		t.Fatalf("targets = %s, %v", seqs(all), err)
	}
}

// Every refused Add leaves the feed exactly as it was.
func TestAddRefusals(t *testing.T) {
	f := newTestFeed(t)
	f.add(t, "a.clp", TargetMeta{Sequence: 5}, false)
	patch := func(name string) string {
		p := filepath.Join(t.TempDir(), name)
		os.WriteFile(p, []byte("patch"), 0o644)
		return p
	}
	cases := []struct {
		path string
		meta TargetMeta
		want string
	}{
		{patch("a.clp"), TargetMeta{}, "feed: patch a is already in the feed (a.clp, sequence 5); machines know a patch by its Name, so publish a fixed patch with a new Name in its PKGINFO.meta"},
		// The same patch under another file name is still patch a.
		{patch("other.clp"), TargetMeta{Name: "a"}, "feed: patch a is already in the feed (a.clp, sequence 5)"},
		{patch("b.clp"), TargetMeta{Sequence: 5}, "feed: sequence 5 is not above 5 (a.clp): machines that applied it would never see this patch"},
		{patch("b.clp"), TargetMeta{Sequence: 3}, "feed: sequence 3 is not above 5"},
		{patch("b.clp"), TargetMeta{Severity: "urgent"}, `feed: severity "urgent" must be one of critical, important, normal, low`},
		{patch("b.txt"), TargetMeta{}, `feed: patch file name "b.txt" must be a plain name ending in .clp`},
		{patch(".hidden.clp"), TargetMeta{}, `feed: patch file name ".hidden.clp" must be a plain name`},
		{patch("b.clp"), TargetMeta{Name: "../b"}, `feed: patch name "../b" cannot name a feed target`},
		{patch("b.clp"), TargetMeta{Architectures: []string{""}}, `feed: empty or control character in ""`},
		{filepath.Join(t.TempDir(), "missing.clp"), TargetMeta{}, "feed: read patch: open "},
	}
	before := snapshotDir(t, metadataDir(f.dir))
	targetsBefore := snapshotDir(t, targetsDir(f.dir))
	for _, tc := range cases {
		mustContain(t, Add(f.dir, tc.path, tc.meta), tc.want)
	}
	if after := snapshotDir(t, metadataDir(f.dir)); !reflect.DeepEqual(after, before) {
		t.Fatal("metadata changed after refused adds")
	}
	if got := snapshotDir(t, targetsDir(f.dir)); !reflect.DeepEqual(got, targetsBefore) {
		t.Fatalf("targets folder changed: %v", dirEntries(t, targetsDir(f.dir)))
	}

	// A different patch that shares a file name is not the same patch:
	// its target is named by its Name.
	if err := Add(f.dir, patch("a.clp"), TargetMeta{Name: "c"}); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.targets(t)["c.clp"]; !ok {
		t.Fatal("patch c was not published as c.clp")
	}

	// Without the targets key (moved offline by mistake) Add says which.
	os.Rename(keyPath(f.dir, metadata.TARGETS), keyPath(f.dir, metadata.TARGETS)+".away")
	mustContain(t, Add(f.dir, patch("d.clp"), TargetMeta{}), "feed: targets key "+keyPath(f.dir, metadata.TARGETS)+" not found")
	// Timestamp needs only the timestamp key; root's can be offline too.
	os.Rename(keyPath(f.dir, metadata.ROOT), keyPath(f.dir, metadata.ROOT)+".away")
	if err := Timestamp(f.dir, 0); err != nil {
		t.Fatal(err)
	}
	mustContain(t, Timestamp(f.dir, -time.Hour), "feed: timestamp expiry -1h0m0s must be positive")
	mustContain(t, Timestamp(t.TempDir(), 0), "feed: read timestamp")
}

// SetPhase changes one patch's rollout, signed, and refuses a patch not in
// the feed or a share outside 0-100 with the feed unchanged.
func TestSetPhase(t *testing.T) {
	f := newTestFeed(t)
	ten := 10
	f.add(t, "a.clp", TargetMeta{Phase: &ten}, false)
	f.add(t, "b.clp", TargetMeta{}, false)
	if m := clpMeta(f.targets(t)["b.clp"]); m == nil || m.Phase == nil || *m.Phase != DefaultPhase {
		t.Fatalf("b published without the default phase: %+v", m)
	}
	before := snapshotDir(t, metadataDir(f.dir))
	mustContain(t, SetPhase(f.dir, "c", 50, ResignOptions{}), "feed: no patch c in the feed")
	mustContain(t, SetPhase(f.dir, "a", 101, ResignOptions{}), "feed: phase 101 must be a percentage from 0 to 100")
	mustContain(t, SetPhase(f.dir, "a", -1, ResignOptions{}), "feed: phase -1 must be a percentage from 0 to 100")
	mustContain(t, Add(f.dir, filepath.Join(t.TempDir(), "x.clp"), TargetMeta{Phase: &[]int{200}[0]}), "feed: phase 200 must be a percentage")
	if after := snapshotDir(t, metadataDir(f.dir)); !reflect.DeepEqual(after, before) {
		t.Fatal("metadata changed after refused phase changes")
	}
	v := f.targetsVersion(t)
	if err := SetPhase(f.dir, "a", 50, ResignOptions{}); err != nil {
		t.Fatal(err)
	}
	if f.targetsVersion(t) != v+1 {
		t.Fatal("targets not re-signed with a new version")
	}
	all, err := f.client(t).Targets(t.Context())
	if err != nil || len(all) != 2 || all[0].Rollout() != 50 || all[1].Rollout() != 100 {
		t.Fatalf("client sees %+v, %v", all, err)
	}
}

// Withdraw marks a patch withdrawn, signed, with its reason; a second
// withdrawal, an empty reason or an unknown patch is refused with the feed
// unchanged.
func TestWithdraw(t *testing.T) {
	f := newTestFeed(t)
	f.add(t, "a.clp", TargetMeta{}, false)
	before := snapshotDir(t, metadataDir(f.dir))
	mustContain(t, Withdraw(f.dir, "a", "  ", ResignOptions{}), "feed: a withdrawal needs a reason")
	mustContain(t, Withdraw(f.dir, "a", "bad\nline", ResignOptions{}), "feed: control character in the reason")
	mustContain(t, Withdraw(f.dir, "b", "why", ResignOptions{}), "feed: no patch b in the feed")
	if after := snapshotDir(t, metadataDir(f.dir)); !reflect.DeepEqual(after, before) {
		t.Fatal("metadata changed after refused withdrawals")
	}
	if err := Withdraw(f.dir, "a", "breaks resume", ResignOptions{}); err != nil {
		t.Fatal(err)
	}
	all, err := f.client(t).Targets(t.Context())
	if err != nil || len(all) != 1 || all[0].Withdrawn == nil || all[0].Withdrawn.Reason != "breaks resume" || all[0].Withdrawn.Time.IsZero() {
		t.Fatalf("client sees %+v, %v", all, err)
	}
	before = snapshotDir(t, metadataDir(f.dir))
	mustContain(t, Withdraw(f.dir, "a", "again", ResignOptions{}), "feed: patch a was already withdrawn on ", ": breaks resume")
	mustContain(t, SetPhase(f.dir, "a", 100, ResignOptions{}), "feed: patch a is withdrawn (breaks resume)")
	if after := snapshotDir(t, metadataDir(f.dir)); !reflect.DeepEqual(after, before) {
		t.Fatal("metadata changed after refused changes to a withdrawn patch")
	}
}
