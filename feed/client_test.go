package feed

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// A new patch is listed once; once its sequence is marked applied it is never
// listed again: not on the next run, not after the metadata cache is lost.
func TestPatchListedOnceAndNeverAgain(t *testing.T) {
	ctx := context.Background()
	f := newTestFeed(t)
	p1 := f.add(t, "nvidia-black-screen.clp", TargetMeta{Severity: "critical", Architectures: []string{"x86_64"}, Requires: []string{"nvidia-utils"}}, true)
	hw := HighWater{Path: filepath.Join(t.TempDir(), "feed-applied")}

	c := f.client(t)
	pending, err := c.Pending(ctx, hw)
	if err != nil {
		t.Fatal(err)
	}
	if seqs(pending) != "1:nvidia-black-screen.clp" {
		t.Fatalf("pending = %s", seqs(pending))
	}
	p := pending[0]
	if p.Name != "nvidia-black-screen" || !p.Critical() || !p.AppliesTo("x86_64") || p.AppliesTo("aarch64") ||
		len(p.Requires) != 1 || p.Minisig != "nvidia-black-screen.clp.minisig" || p.Length != int64(len(p1)) {
		t.Fatalf("target = %+v", p)
	}
	dl := t.TempDir()
	path, err := c.Download(ctx, p, dl)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if !bytes.Equal(got, p1) {
		t.Fatal("downloaded patch differs from the published one")
	}
	sig, err := os.ReadFile(path + ".minisig")
	if err != nil || !bytes.Contains(sig, []byte("sig-of-nvidia-black-screen.clp")) {
		t.Fatalf("signature beside the patch: %q, %v", sig, err)
	}
	if err := hw.Mark(p.Sequence); err != nil {
		t.Fatal(err)
	}

	// Next run, same cache: nothing new.
	c = &Client{Mirrors: c.Mirrors, MetadataDir: c.MetadataDir, TrustedRoot: c.TrustedRoot}
	if pending, err = c.Pending(ctx, hw); err != nil || len(pending) != 0 {
		t.Fatalf("after marking: pending = %s, %v", seqs(pending), err)
	}
	// The metadata cache is lost: TUF starts again from the shipped root and
	// sees every target; the high-water mark still hides the applied one.
	if err := os.RemoveAll(c.MetadataDir); err != nil {
		t.Fatal(err)
	}
	c = &Client{Mirrors: c.Mirrors, MetadataDir: c.MetadataDir, TrustedRoot: c.TrustedRoot}
	if pending, err = c.Pending(ctx, hw); err != nil || len(pending) != 0 {
		t.Fatalf("after losing the cache: pending = %s, %v", seqs(pending), err)
	}
	all, err := c.Targets(ctx)
	if err != nil || len(all) != 1 {
		t.Fatalf("targets after losing the cache = %s, %v", seqs(all), err)
	}

	// A new patch appears, once.
	f.add(t, "second.clp", TargetMeta{}, false)
	c = &Client{Mirrors: c.Mirrors, MetadataDir: c.MetadataDir, TrustedRoot: c.TrustedRoot}
	if pending, err = c.Pending(ctx, hw); err != nil || seqs(pending) != "2:second.clp" || pending[0].Minisig != "" || pending[0].Severity != "normal" {
		t.Fatalf("pending = %s, %v", seqs(pending), err)
	}
	if err := hw.Mark(2); err != nil {
		t.Fatal(err)
	}
	if pending, err = c.Pending(ctx, hw); err != nil || len(pending) != 0 {
		t.Fatalf("pending = %s, %v", seqs(pending), err)
	}
}

// Pending is sorted by sequence, whatever the order of names.
func TestPendingSortedBySequence(t *testing.T) {
	f := newTestFeed(t)
	for _, n := range []string{"zz.clp", "aa.clp", "mm.clp"} {
		f.add(t, n, TargetMeta{}, false)
	}
	hw := HighWater{Path: filepath.Join(t.TempDir(), "hw")}
	if err := hw.Mark(1); err != nil {
		t.Fatal(err)
	}
	pending, err := f.client(t).Pending(context.Background(), hw)
	if err != nil || seqs(pending) != "2:aa.clp,3:mm.clp" {
		t.Fatalf("pending = %s, %v", seqs(pending), err)
	}
}

// attackCase sets up a hostile mirror after the client has trusted the
// honest feed once (so rollback has something to roll back from).
type attackCase struct {
	name string
	// setup plays the attacker; it may return a clock for the client.
	setup func(t *testing.T, f *testFeed, c *Client)
	want  []string
	kind  error
}

func TestAttacksRefused(t *testing.T) {
	cases := []attackCase{
		{
			name: "tampered targets metadata",
			setup: func(t *testing.T, f *testFeed, c *Client) {
				f.add(t, "evil.clp", TargetMeta{Severity: "low"}, false)
				name := fmt.Sprintf("/metadata/%d.targets.json", f.targetsVersion(t))
				data := f.metaFile(t, strings.TrimPrefix(name, "/metadata/"))
				// Upgrade the severity without re-signing: valid JSON,
				// same length, broken signature.
				evil := bytes.Replace(data, []byte(`"severity": "low"`), []byte(`"severity": "bad"`), 1)
				if bytes.Equal(evil, data) {
					t.Fatal("test did not change the targets metadata")
				}
				f.serve(name, evil)
			},
			want: []string{"feed: targets metadata signature invalid (tampered?)"},
			kind: ErrTampered,
		},
		{
			name: "rollback: replayed old timestamp",
			setup: func(t *testing.T, f *testFeed, c *Client) {
				old := f.metaFile(t, "timestamp.json") // version 2, seen by the client
				f.add(t, "p2.clp", TargetMeta{}, false)
				refresh(t, c) // the client now trusts version 3
				f.serve("/metadata/timestamp.json", old)
			},
			want: []string{"feed: rollback attack: remote timestamp version 2 is older than trusted version 3"},
			kind: ErrRollback,
		},
		{
			name: "rollback: replayed old snapshot under a new timestamp",
			setup: func(t *testing.T, f *testFeed, c *Client) {
				f.add(t, "p2.clp", TargetMeta{}, false)
				refresh(t, c) // trusts snapshot 3 listing targets 3
				// The attacker holds the timestamp key only: a fresh
				// timestamp that points back at snapshot 2.
				resign(t, f, "timestamp.json", metadata.TIMESTAMP, func(m any) {
					ts := m.(*metadata.Metadata[metadata.TimestampType])
					ts.Signed.Version += 1
					ts.Signed.Meta["snapshot.json"] = metadata.MetaFile(2)
				})
			},
			want: []string{"feed: rollback attack: remote timestamp lists snapshot version 2, older than trusted version 3"},
			kind: ErrRollback,
		},
		{
			name: "freeze: clock past the timestamp's expiry",
			setup: func(t *testing.T, f *testFeed, c *Client) {
				c.Now = func() time.Time { return time.Now().Add(49 * time.Hour) }
			},
			want: []string{"feed: metadata expired (freeze attack?): timestamp expired at "},
			kind: ErrFreeze,
		},
		{
			name: "freeze: mirror serves a signed but expired timestamp",
			setup: func(t *testing.T, f *testFeed, c *Client) {
				resign(t, f, "timestamp.json", metadata.TIMESTAMP, func(m any) {
					ts := m.(*metadata.Metadata[metadata.TimestampType])
					ts.Signed.Version += 1
					ts.Signed.Expires = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
				})
			},
			want: []string{"feed: metadata expired (freeze attack?): timestamp expired at 2024-01-02T03:04:05Z"},
			kind: ErrFreeze,
		},
		{
			name: "mix-and-match: old targets served under the new version",
			setup: func(t *testing.T, f *testFeed, c *Client) {
				v := f.targetsVersion(t)
				old := f.metaFile(t, fmt.Sprintf("%d.targets.json", v))
				f.add(t, "p2.clp", TargetMeta{}, false)
				f.serve(fmt.Sprintf("/metadata/%d.targets.json", v+1), old)
			},
			want: []string{"feed: snapshot lists targets version 3 but got version 2 (mix-and-match)"},
			kind: ErrMixAndMatch,
		},
		{
			name: "mix-and-match: old snapshot served under the new version",
			setup: func(t *testing.T, f *testFeed, c *Client) {
				v := f.snapshotVersion(t)
				old := f.metaFile(t, fmt.Sprintf("%d.snapshot.json", v))
				f.add(t, "p2.clp", TargetMeta{}, false)
				f.serve(fmt.Sprintf("/metadata/%d.snapshot.json", v+1), old)
			},
			want: []string{"feed: timestamp lists snapshot version 3 but got version 2 (mix-and-match)"},
			kind: ErrMixAndMatch,
		},
		{
			name: "endless timestamp",
			setup: func(t *testing.T, f *testFeed, c *Client) {
				f.handle("/metadata/timestamp.json", endless)
			},
			want: []string{"feed: response exceeds 16384 bytes (endless data?): http://127.0.0.1:"},
			kind: ErrTooLarge,
		},
		{
			name: "endless targets metadata",
			setup: func(t *testing.T, f *testFeed, c *Client) {
				f.add(t, "p2.clp", TargetMeta{}, false)
				f.handle(fmt.Sprintf("/metadata/%d.targets.json", f.targetsVersion(t)), endless)
			},
			want: []string{fmt.Sprintf("feed: response exceeds %d bytes (endless data?)", maxTargetsBytes)},
			kind: ErrTooLarge,
		},
		{
			name: "targets signed by a key not in root",
			setup: func(t *testing.T, f *testFeed, c *Client) {
				f.add(t, "evil.clp", TargetMeta{}, false)
				_, priv, _ := ed25519.GenerateKey(rand.Reader)
				signer, _ := signature.LoadSigner(priv, crypto.Hash(0))
				resignWith(t, f, fmt.Sprintf("%d.targets.json", f.targetsVersion(t)), signer, func(any) {})
			},
			want: []string{"feed: signature from a key not in root: targets metadata is signed by key "},
			kind: ErrUnknownKey,
		},
		{
			name: "targets signed by the timestamp key",
			setup: func(t *testing.T, f *testFeed, c *Client) {
				f.add(t, "evil.clp", TargetMeta{}, false)
				signer, err := loadSigner(f.dir, metadata.TIMESTAMP)
				if err != nil {
					t.Fatal(err)
				}
				resignWith(t, f, fmt.Sprintf("%d.targets.json", f.targetsVersion(t)), signer, func(any) {})
			},
			want: []string{"feed: signature from a key not trusted for targets: targets metadata is signed by root's timestamp key "},
			kind: ErrUnknownKey,
		},
		{
			name: "timestamp not JSON",
			setup: func(t *testing.T, f *testFeed, c *Client) {
				f.serve("/metadata/timestamp.json", []byte("<html>captive portal</html>"))
			},
			want: []string{"feed: timestamp metadata malformed (tampered?)"},
			kind: ErrTampered,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := newTestFeed(t)
			f.add(t, "p1.clp", TargetMeta{}, false)
			c := f.client(t)
			hw := HighWater{Path: filepath.Join(t.TempDir(), "feed-applied")}
			if err := hw.Mark(1); err != nil {
				t.Fatal(err)
			}
			refresh(t, c)
			tc.setup(t, f, c)
			before := snapshotDir(t, c.MetadataDir)

			c.upd = nil
			pending, err := c.Pending(ctx, hw)
			t.Logf("refused: %v", err)
			mustContain(t, err, tc.want...)
			if !errors.Is(err, tc.kind) || !IsAttack(err) {
				t.Fatalf("error %v is not %v", err, tc.kind)
			}
			if pending != nil {
				t.Fatalf("pending = %s despite the refusal", seqs(pending))
			}
			if m, _ := hw.Load(); m != 1 {
				t.Fatalf("high-water mark changed to %d", m)
			}
			// The trusted root and targets are unchanged. (A newer
			// timestamp or snapshot that passed every check before the
			// refused file may be kept: it is genuine, and keeping it
			// raises the bar for the next rollback.)
			after := snapshotDir(t, c.MetadataDir)
			for _, name := range []string{"root.json", "targets.json"} {
				if before[name] != after[name] {
					t.Fatalf("trusted %s changed after a refused refresh", name)
				}
			}
			if _, err := c.Download(ctx, Target{Path: "p1.clp"}, t.TempDir()); err == nil {
				t.Fatal("download allowed after a refused refresh")
			}
		})
	}
}

// A tampered patch file (same length, other bytes) is refused at download,
// and nothing is written.
func TestTamperedPatchRefused(t *testing.T) {
	ctx := context.Background()
	f := newTestFeed(t)
	data := f.add(t, "p1.clp", TargetMeta{}, true)
	c := f.client(t)
	hw := HighWater{Path: filepath.Join(t.TempDir(), "hw")}
	pending, err := c.Pending(ctx, hw)
	if err != nil || len(pending) != 1 {
		t.Fatalf("pending = %s, %v", seqs(pending), err)
	}
	evil := bytes.Clone(data)
	evil[100] ^= 0xff
	f.serve("/targets/"+pending[0].SHA256+".p1.clp", evil)
	dl := t.TempDir()
	_, err = c.Download(ctx, pending[0], dl)
	mustContain(t, err, "target hash mismatch for p1.clp (tampered?)")
	if !errors.Is(err, ErrTampered) {
		t.Fatalf("%v is not ErrTampered", err)
	}
	if got := dirEntries(t, dl); len(got) != 0 {
		t.Fatalf("download dir holds %v after a refused download", got)
	}

	// An endless body for the patch stops at its signed length.
	f.handle("/targets/"+pending[0].SHA256+".p1.clp", endless)
	_, err = c.Download(ctx, pending[0], dl)
	mustContain(t, err, fmt.Sprintf("response exceeds %d bytes (endless data?)", len(data)))
	if got := dirEntries(t, dl); len(got) != 0 {
		t.Fatalf("download dir holds %v after a refused download", got)
	}

	// A tampered signature file is refused the same way.
	f.serve("/targets/"+pending[0].SHA256+".p1.clp", data)
	sigInfo := pending[0].sigInfo
	f.serve("/targets/"+hex.EncodeToString(sigInfo.Hashes["sha256"])+".p1.clp.minisig", bytes.Repeat([]byte("x"), int(sigInfo.Length)))
	_, err = c.Download(ctx, pending[0], dl)
	mustContain(t, err, "target hash mismatch for p1.clp.minisig (tampered?)")
	if got := dirEntries(t, dl); len(got) != 0 {
		t.Fatalf("download dir holds %v after a refused download", got)
	}
}

// The first mirror is down, the second answers 500, the third serves bad
// metadata: each is reported and the fourth, good one is used.
func TestMirrorFailover(t *testing.T) {
	ctx := context.Background()
	f := newTestFeed(t)
	f.add(t, "p1.clp", TargetMeta{}, false)

	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	fail := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "oops", http.StatusInternalServerError)
	}))
	defer fail.Close()
	bad := newTestFeed(t) // a different feed: its keys are not in our root
	bad.add(t, "evil.clp", TargetMeta{}, false)

	c := f.client(t)
	rec := c.Reporter.(*recorder)
	c.Mirrors = []string{down.URL, fail.URL, bad.srv.URL, f.srv.URL}
	pending, err := c.Pending(ctx, HighWater{Path: filepath.Join(t.TempDir(), "hw")})
	if err != nil || seqs(pending) != "1:p1.clp" {
		t.Fatalf("pending = %s, %v", seqs(pending), err)
	}
	if c.Mirror() != f.srv.URL {
		t.Fatalf("used mirror %s", c.Mirror())
	}
	w := rec.warnings()
	for _, want := range []string{
		"feed mirror " + down.URL + " failed: cannot fetch",
		"feed mirror " + fail.URL + " failed: cannot fetch " + fail.URL + "/metadata/2.root.json: HTTP status 500",
		"feed mirror " + bad.srv.URL + " failed: signature from a key not in root: timestamp metadata",
	} {
		if !strings.Contains(w, want) {
			t.Fatalf("warnings %q lack %q", w, want)
		}
	}
	// The download also fails over: the good mirror is tried first now.
	if _, err := c.Download(ctx, pending[0], t.TempDir()); err != nil {
		t.Fatal(err)
	}

	// All mirrors bad: one error naming each.
	c2 := f.client(t)
	c2.Mirrors = []string{down.URL, fail.URL, bad.srv.URL}
	pending, err = c2.Pending(ctx, HighWater{Path: filepath.Join(t.TempDir(), "hw")})
	mustContain(t, err, "feed: all 3 mirrors failed; "+down.URL+": cannot fetch", "; "+fail.URL+": cannot fetch", "HTTP status 500",
		"; "+bad.srv.URL+": signature from a key not in root")
	if pending != nil || !errors.Is(err, ErrUnknownKey) || !errors.Is(err, ErrUnreachable) {
		t.Fatalf("pending %v, err %v", pending, err)
	}
	if got := dirEntries(t, c2.MetadataDir); strings.Join(got, ",") != "root.json" {
		t.Fatalf("metadata cache after every mirror failed: %v", got)
	}
}

// A cached metadata file torn by a crash is dropped and fetched again.
func TestUnreadableCacheRefetched(t *testing.T) {
	ctx := context.Background()
	f := newTestFeed(t)
	f.add(t, "p1.clp", TargetMeta{}, false)
	c := f.client(t)
	refresh(t, c)
	for _, n := range []string{"timestamp.json", "snapshot.json", "targets.json"} {
		if err := os.WriteFile(filepath.Join(c.MetadataDir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c.upd = nil
	all, err := c.Targets(ctx)
	if err != nil || len(all) != 1 {
		t.Fatalf("targets = %s, %v", seqs(all), err)
	}
	if w := c.Reporter.(*recorder).warnings(); !strings.Contains(w, "timestamp.json is unreadable") {
		t.Fatalf("warnings: %q", w)
	}
}

// The client follows a root rotation, and next time starts from the newer
// cached root rather than the shipped one.
func TestRootRotationFollowed(t *testing.T) {
	ctx := context.Background()
	f := newTestFeed(t)
	f.add(t, "p1.clp", TargetMeta{}, false)
	c := f.client(t)
	refresh(t, c)

	// Rotate the timestamp key: root v2 signed by the root key.
	root, err := metadata.Root().FromBytes(f.metaFile(t, "root.json"))
	if err != nil {
		t.Fatal(err)
	}
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	newKey, _ := metadata.KeyFromPublicKey(pub)
	for _, id := range root.Signed.Roles[metadata.TIMESTAMP].KeyIDs {
		if err := root.Signed.RevokeKey(id, metadata.TIMESTAMP); err != nil {
			t.Fatal(err)
		}
	}
	if err := root.Signed.AddKey(newKey, metadata.TIMESTAMP); err != nil {
		t.Fatal(err)
	}
	root.Signed.Version = 2
	root.ClearSignatures()
	rootSigner, _ := loadSigner(f.dir, metadata.ROOT)
	root.Sign(rootSigner)
	if err := writeMeta(f.dir, root, "2.root.json", "root.json"); err != nil {
		t.Fatal(err)
	}
	newSigner, _ := signature.LoadSigner(priv, crypto.Hash(0))
	resignWith(t, f, "timestamp.json", newSigner, func(m any) {
		m.(*metadata.Metadata[metadata.TimestampType]).Signed.Version++
	})
	c.upd = nil
	if _, err := c.Targets(ctx); err != nil {
		t.Fatal(err)
	}
	if got := c.upd.GetTrustedMetadataSet().Root.Signed.Version; got != 2 {
		t.Fatalf("trusted root version %d", got)
	}
	// The next run starts from cached root v2 and does not refetch 2.root.json.
	hits := f.hitCount("/metadata/2.root.json")
	c.upd = nil
	if _, err := c.Targets(ctx); err != nil {
		t.Fatal(err)
	}
	if f.hitCount("/metadata/2.root.json") != hits || f.hitCount("/metadata/3.root.json") == 0 {
		t.Fatal("second run did not start from the cached root v2")
	}
}

func TestClientRefusesBadSetup(t *testing.T) {
	ctx := context.Background()
	f := newTestFeed(t)
	c := f.client(t)
	c.Mirrors = nil
	mustContain(t, c.Refresh(ctx), "feed: no feed mirrors configured")
	c = f.client(t)
	c.TrustedRoot = nil
	mustContain(t, c.Refresh(ctx), "no trusted root.json")
	c = f.client(t)
	c.Mirrors = []string{"ftp://example.org/feed"}
	mustContain(t, c.Refresh(ctx), `mirror "ftp://example.org/feed" is not an http(s) URL`)

	f.add(t, "p1.clp", TargetMeta{}, false)
	c = f.client(t)
	pending, err := c.Pending(ctx, HighWater{Path: filepath.Join(t.TempDir(), "hw")})
	if err != nil {
		t.Fatal(err)
	}
	open := t.TempDir()
	os.Chmod(open, 0o777)
	_, err = c.Download(ctx, pending[0], open)
	mustContain(t, err, "is writable by other users")
	c.MaxTargetBytes = 100
	_, err = c.Download(ctx, pending[0], t.TempDir())
	mustContain(t, err, "feed: patch p1.clp is 4096 bytes, over the 100-byte download limit")
	if got := dirEntries(t, open); len(got) != 0 {
		t.Fatal(got)
	}

	// A cancelled context stops at once, naming the cancellation.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	c = f.client(t)
	mustContain(t, c.Refresh(cctx), "context canceled")
}

func refresh(t testing.TB, c *Client) {
	t.Helper()
	if err := c.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// resign rewrites a metadata file of the feed after mutate, signed with the
// feed's own key for role: what an attacker holding that one key can do.
func resign(t *testing.T, f *testFeed, file, role string, mutate func(any)) {
	t.Helper()
	s, err := loadSigner(f.dir, role)
	if err != nil {
		t.Fatal(err)
	}
	resignWith(t, f, file, s, mutate)
}

func resignWith(t *testing.T, f *testFeed, file string, s signature.Signer, mutate func(any)) {
	t.Helper()
	p := filepath.Join(metadataDir(f.dir), file)
	var m interface {
		ToBytes(bool) ([]byte, error)
	}
	switch roleOf(file) {
	case metadata.TIMESTAMP:
		x, err := metadata.Timestamp().FromFile(p)
		if err != nil {
			t.Fatal(err)
		}
		mutate(x)
		x.ClearSignatures()
		x.Sign(s)
		m = x
	case metadata.SNAPSHOT:
		x, err := metadata.Snapshot().FromFile(p)
		if err != nil {
			t.Fatal(err)
		}
		mutate(x)
		x.ClearSignatures()
		x.Sign(s)
		m = x
	default:
		x, err := metadata.Targets().FromFile(p)
		if err != nil {
			t.Fatal(err)
		}
		mutate(x)
		x.ClearSignatures()
		x.Sign(s)
		m = x
	}
	data, err := m.ToBytes(true)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func snapshotDir(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, n := range dirEntries(t, dir) {
		data, _ := os.ReadFile(filepath.Join(dir, n))
		out[n] = string(data)
	}
	return out
}

// A withdrawal's reason reaches the caller without control characters,
// whatever the signed metadata holds: it is printed on every machine.
func TestWithdrawnReasonSanitized(t *testing.T) {
	f := newTestFeed(t)
	f.add(t, "a.clp", TargetMeta{}, false)
	// The publisher refuses such a reason; write it as a compromised
	// publisher would, through the same signing path.
	if err := publish(f.dir, ResignOptions{}, func(tm *metadata.Metadata[metadata.TargetsType]) error {
		_, tf, m, err := findPatch(tm, "a")
		if err != nil {
			return err
		}
		m.Withdrawn = &Withdrawal{Reason: "bad\x1b[2J\npatch\u009b"}
		m.Description = "fix\x1b]0;owned\x07 it"
		m.Changes = []string{"add /etc/x\x1b[2J"}
		for i := 0; i < 60; i++ {
			m.Changes = append(m.Changes, strings.Repeat("y", 300))
		}
		return setCustom(tf, m)
	}); err != nil {
		t.Fatal(err)
	}
	all, err := f.client(t).Targets(t.Context())
	if err != nil || len(all) != 1 || all[0].Description != "fix?]0;owned? it" || all[0].Withdrawn == nil || all[0].Withdrawn.Reason != "bad?[2J?patch?" {
		t.Fatalf("targets = %+v, %v", all, err)
	}
	// The change lines: control characters replaced, at most 50 shown
	// (and a count of the rest), none longer than 200 characters.
	ch := all[0].Changes
	if len(ch) != 51 || ch[0] != "add /etc/x?[2J" || ch[50] != "(11 more)" || len([]rune(ch[1])) != 200 {
		t.Fatalf("changes: %d lines, first %q, last %q, second %d long", len(ch), ch[0], ch[len(ch)-1], len([]rune(ch[1])))
	}
}
