package patch

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func writeKey(t *testing.T, path string) PublicKey {
	t.Helper()
	pub, _, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	text, err := pub.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(text, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	return pub
}

// The trusted keys are read inside the root: /etc, /etc/clp, the keys
// folder or a key swapped for a link to a folder or key outside the root
// (an attacker's key, root-owned and not writable by others, so the
// StrictModes rule alone would take it) is an error, never a trusted key;
// a link that stays inside the root is followed as before.
func TestTrustedKeysReadInsideRoot(t *testing.T) {
	root := t.TempDir()
	keys := filepath.Join(root, "etc/clp/keys")
	good := writeKey(t, filepath.Join(keys, "vincentos.pub"))
	got, err := LoadTrustedKeysIn(root, keys)
	if err != nil || len(got) != 1 || got[0].ID() != good.ID() {
		t.Fatalf("LoadTrustedKeysIn = %d keys, %v", len(got), err)
	}
	// A key linked (relatively) from elsewhere inside the root is still a
	// key. (os.Root refuses an absolute link target: under --root it
	// would name the host's file.)
	inside := writeKey(t, filepath.Join(root, "usr/share/clp/keys/other.pub"))
	if err := os.Symlink("../../../usr/share/clp/keys/other.pub", filepath.Join(keys, "other.pub")); err != nil {
		t.Fatal(err)
	}
	if got, err := LoadTrustedKeysIn(root, keys); err != nil || len(got) != 2 {
		t.Fatalf("with a link inside the root: %d keys, %v (want %s too)", len(got), err, KeyID(inside.ID()))
	}
	os.Remove(filepath.Join(keys, "other.pub"))

	for _, at := range []string{"etc", "etc/clp", "etc/clp/keys", "etc/clp/keys/vincentos.pub"} {
		t.Run(at, func(t *testing.T) {
			outside := t.TempDir()
			// The attacker's tree: the same layout, with their key.
			evilKeys := filepath.Join(outside, "etc/clp/keys")
			evil := writeKey(t, filepath.Join(evilKeys, "vincentos.pub"))
			pre := snapshot(t, outside)
			real := filepath.Join(root, at)
			if err := os.Rename(real, real+".moved"); err != nil {
				t.Fatal(err)
			}
			defer func() {
				os.Remove(real)
				os.Rename(real+".moved", real)
			}()
			if err := os.Symlink(filepath.Join(outside, at), real); err != nil {
				t.Fatal(err)
			}
			got, err := LoadTrustedKeysIn(root, keys)
			for _, k := range got {
				if k.ID() == evil.ID() {
					t.Fatalf("a key outside the root is trusted")
				}
			}
			mustContain(t, err, "path escapes from parent")
			sameTree(t, "outside the root", pre, snapshot(t, outside))
		})
	}
	if got, err := LoadTrustedKeysIn(root, keys); err != nil || len(got) != 1 || got[0].ID() != good.ID() {
		t.Fatalf("after the links went: %d keys, %v", len(got), err)
	}
}

// A key inside the root that is a FIFO or a huge sparse file is one clear
// error, read from the opened file (no hang, no out-of-memory).
func TestTrustedKeyTypeAndSizeInsideRoot(t *testing.T) {
	root := t.TempDir()
	keys := filepath.Join(root, "etc/clp/keys")
	writeKey(t, filepath.Join(keys, "vincentos.pub"))
	fifo := filepath.Join(keys, "fifo.pub")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadTrustedKeysIn(root, keys)
	mustContain(t, err, "fifo.pub is a FIFO, not a regular file")
	os.Remove(fifo)
	big := filepath.Join(keys, "big.pub")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(20 << 30)
	f.Close()
	_, err = LoadTrustedKeysIn(root, keys)
	mustContain(t, err, "big.pub is too large")
}
