package feed

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// signerFrom loads a private key file the way the publisher does.
func signerFrom(t testing.TB, path string) signature.Signer {
	t.Helper()
	dir := t.TempDir()
	os.MkdirAll(keysDir(dir), 0o700)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(keyPath(dir, "k"), data, 0o600)
	s, err := loadSigner(dir, "k")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A rotated timestamp, targets and root key: a client that last saw the
// old root (its cache at root 1) and a new client from the shipped root
// both follow the chain; metadata signed by a revoked key is refused.
func TestRotate(t *testing.T) {
	f := newTestFeed(t)
	f.add(t, "a.clp", TargetMeta{}, false)
	old := f.client(t) // trusts root 1, and caches it
	if _, err := old.Targets(t.Context()); err != nil {
		t.Fatal(err)
	}
	cache := old.MetadataDir

	for i, role := range []string{metadata.TIMESTAMP, metadata.TARGETS, metadata.SNAPSHOT, metadata.ROOT} {
		oldKey := keyPath(f.dir, role)
		oldSigner := signerFrom(t, oldKey)
		res, err := Rotate(f.dir, role, RotateOptions{})
		if err != nil {
			t.Fatalf("rotate %s: %v", role, err)
		}
		if res.RootVersion != int64(i+2) {
			t.Fatalf("rotate %s wrote root %d, want %d", role, res.RootVersion, i+2)
		}
		if _, err := os.Stat(res.Retired); err != nil {
			t.Fatalf("old %s key not retired: %v", role, err)
		}
		root, err := metadata.Root().FromFile(filepath.Join(metadataDir(f.dir), fmt.Sprintf("%d.root.json", res.RootVersion)))
		if err != nil {
			t.Fatal(err)
		}
		oldPub, _ := oldSigner.PublicKey()
		oldKeyMeta, _ := metadata.KeyFromPublicKey(oldPub)
		oldID, _ := oldKeyMeta.ID()
		if ids := root.Signed.Roles[role].KeyIDs; len(ids) != 1 || ids[0] == oldID {
			t.Fatalf("root %d still lists the old %s key: %v", res.RootVersion, role, ids)
		}
		wantSigs := 1
		if role == metadata.ROOT {
			wantSigs = 2 // the old root key and the new one
		}
		if len(root.Signatures) != wantSigs {
			t.Fatalf("root %d has %d signatures, want %d", res.RootVersion, len(root.Signatures), wantSigs)
		}

		// The client that cached the old root follows the rotation, with
		// the same cache directory.
		c := f.client(t)
		c.MetadataDir = cache
		all, err := c.Targets(t.Context())
		if err != nil || seqs(all) != "1:a.clp" {
			t.Fatalf("after rotating %s: targets %s, %v", role, seqs(all), err)
		}

		// Metadata signed by the revoked key is refused like any key
		// not in root, and the client's trust does not move.
		before := snapshotDir(t, cache)
		forged := forgeWith(t, f, role, oldSigner)
		for i, p := range forged.paths {
			f.serve(p, forged.bodies[i])
		}
		c = f.client(t)
		c.MetadataDir = cache
		_, err = c.Targets(t.Context())
		if !errors.Is(err, ErrUnknownKey) && !errors.Is(err, ErrTampered) {
			t.Fatalf("%s signed by the revoked key: got %v, want a refusal", role, err)
		}
		t.Logf("%s signed by the revoked key: %v", role, err)
		mustContain(t, err, role)
		// What the real keys signed around it may be cached; the
		// refused role's file and root are not.
		after := snapshotDir(t, cache)
		for _, n := range []string{role + ".json", "root.json"} {
			if after[n] != before[n] {
				t.Fatalf("%s signed by the revoked key changed the client's cached %s", role, n)
			}
		}
		f.mu.Lock()
		for _, p := range forged.paths {
			delete(f.override, p)
		}
		f.mu.Unlock()
		// The forgery's snapshot and timestamp carried the real keys'
		// signatures and versions the publisher has not used yet; move
		// the publisher past them, as a real feed is never behind what
		// its own keys signed.
		for range 2 {
			if err := Resign(f.dir, ResignOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}

	// A client that never ran walks 1 -> 5 from the shipped root.
	fresh := f.client(t)
	if all, err := fresh.Targets(t.Context()); err != nil || seqs(all) != "1:a.clp" {
		t.Fatalf("fresh client: %s, %v", seqs(all), err)
	}
	// The feed still publishes with its new keys.
	f.add(t, "b.clp", TargetMeta{}, false)
	c := f.client(t)
	c.MetadataDir = cache
	if all, err := c.Targets(t.Context()); err != nil || seqs(all) != "1:a.clp,2:b.clp" {
		t.Fatalf("after a new patch: %s, %v", seqs(all), err)
	}
}

type forgery struct {
	paths  []string
	bodies [][]byte
}

func (fg *forgery) add(t testing.TB, path string, m interface{ ToBytes(bool) ([]byte, error) }) {
	body, err := m.ToBytes(true)
	if err != nil {
		t.Fatal(err)
	}
	fg.paths, fg.bodies = append(fg.paths, path), append(fg.bodies, body)
}

// forgeWith makes the next version of role's metadata signed by signer
// and, around it, the next snapshot and timestamp signed by the feed's
// real keys, so that the one wrong signature is role's.
func forgeWith(t testing.TB, f *testFeed, role string, signer signature.Signer) *forgery {
	t.Helper()
	md := metadataDir(f.dir)
	fg := &forgery{}
	if role == metadata.ROOT {
		r, err := metadata.Root().FromFile(filepath.Join(md, "root.json"))
		if err != nil {
			t.Fatal(err)
		}
		r.Signed.Version++
		r.ClearSignatures()
		r.Sign(signer)
		fg.add(t, fmt.Sprintf("/metadata/%d.root.json", r.Signed.Version), r)
		return fg
	}
	real := func(r string) signature.Signer {
		s, err := loadSigner(f.dir, r)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	sign := func(r string) signature.Signer {
		if r == role {
			return signer
		}
		return real(r)
	}
	exp := time.Now().Add(time.Hour)
	snap, err := metadata.Snapshot().FromFile(filepath.Join(md, "snapshot.json"))
	if err != nil {
		t.Fatal(err)
	}
	if role == metadata.TARGETS {
		tg, err := metadata.Targets().FromFile(filepath.Join(md, "targets.json"))
		if err != nil {
			t.Fatal(err)
		}
		tg.Signed.Version++
		tg.Signed.Expires = exp
		tg.ClearSignatures()
		tg.Sign(sign(metadata.TARGETS))
		fg.add(t, fmt.Sprintf("/metadata/%d.targets.json", tg.Signed.Version), tg)
		snap.Signed.Meta["targets.json"] = metadata.MetaFile(tg.Signed.Version)
	}
	if role != metadata.TIMESTAMP {
		snap.Signed.Version++
		snap.Signed.Expires = exp
		snap.ClearSignatures()
		snap.Sign(sign(metadata.SNAPSHOT))
		fg.add(t, fmt.Sprintf("/metadata/%d.snapshot.json", snap.Signed.Version), snap)
	}
	ts, err := metadata.Timestamp().FromFile(filepath.Join(md, "timestamp.json"))
	if err != nil {
		t.Fatal(err)
	}
	ts.Signed.Version++
	ts.Signed.Expires = exp
	if role != metadata.TIMESTAMP {
		ts.Signed.Meta["snapshot.json"] = metadata.MetaFile(snap.Signed.Version)
	}
	ts.ClearSignatures()
	ts.Sign(sign(metadata.TIMESTAMP))
	fg.add(t, "/metadata/timestamp.json", ts)
	return fg
}

// Rotate refuses an unknown role, a missing root key or an interrupted
// earlier rotation, with the feed unchanged.
func TestRotateRefusals(t *testing.T) {
	f := newTestFeed(t)
	before := snapshotDir(t, metadataDir(f.dir))
	keysBefore := snapshotDir(t, keysDir(f.dir))
	_, err := Rotate(f.dir, "mirror", RotateOptions{})
	mustContain(t, err, `feed: role "mirror" must be one of root, targets, snapshot, timestamp`)
	os.WriteFile(keyPath(f.dir, metadata.TARGETS)+".new", []byte("x"), 0o600)
	_, err = Rotate(f.dir, metadata.TARGETS, RotateOptions{})
	mustContain(t, err, "an earlier rotation was interrupted")
	os.Remove(keyPath(f.dir, metadata.TARGETS) + ".new")
	os.Rename(keyPath(f.dir, metadata.ROOT), keyPath(f.dir, metadata.ROOT)+".away")
	_, err = Rotate(f.dir, metadata.TIMESTAMP, RotateOptions{})
	mustContain(t, err, "feed: root key "+keyPath(f.dir, metadata.ROOT)+" not found")
	os.Rename(keyPath(f.dir, metadata.ROOT)+".away", keyPath(f.dir, metadata.ROOT))
	os.Rename(keyPath(f.dir, metadata.SNAPSHOT), keyPath(f.dir, metadata.SNAPSHOT)+".away")
	_, err = Rotate(f.dir, metadata.TARGETS, RotateOptions{})
	mustContain(t, err, "feed: snapshot key")
	os.Rename(keyPath(f.dir, metadata.SNAPSHOT)+".away", keyPath(f.dir, metadata.SNAPSHOT))
	if after := snapshotDir(t, metadataDir(f.dir)); !reflect.DeepEqual(after, before) {
		t.Fatal("metadata changed after refused rotations")
	}
	if after := snapshotDir(t, keysDir(f.dir)); !reflect.DeepEqual(after, keysBefore) {
		t.Fatal("keys changed after refused rotations")
	}
}
