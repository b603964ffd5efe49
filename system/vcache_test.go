package system

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The test binary doubles as a pacman binary (an ELF file, as the cache
// wants): run with CLP_TEST_FAKE_PACMAN set, it prints pacman's --version
// line with that version.
func TestMain(m *testing.M) {
	if v := os.Getenv("CLP_TEST_FAKE_PACMAN"); v != "" {
		fmt.Printf(" .--.                  Pacman v%s - libalpm v16.0.0\n", v)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// fakePacman puts a pacman on PATH (a copy of the test binary, or script
// when given) and points the version cache at a temporary directory.
func fakePacman(t *testing.T, script string) (bin, cache string) {
	t.Helper()
	dir := t.TempDir()
	bin = filepath.Join(dir, "bin", "pacman")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if script != "" {
		if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	} else {
		self, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		src, err := os.Open(self)
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		dst, err := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY, 0o755)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(dst, src); err != nil {
			t.Fatal(err)
		}
		if err := dst.Close(); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", filepath.Dir(bin))
	cache = filepath.Join(dir, "cache")
	old := versionCacheDir
	versionCacheDir = func() (string, error) { return cache, nil }
	t.Cleanup(func() { versionCacheDir = old })
	return bin, cache
}

func wantVersion(t *testing.T, bin, want string) {
	t.Helper()
	v, path := PacmanVersion()
	if v != want || path != bin {
		t.Fatalf("PacmanVersion() = %q, %q; want %q, %q", v, path, want, bin)
	}
}

// A pacman binary is asked once; its answer is used while the binary is
// the same file, unchanged.
func TestPacmanVersionCached(t *testing.T) {
	bin, cache := fakePacman(t, "")
	t.Setenv("CLP_TEST_FAKE_PACMAN", "7.1.0")
	wantVersion(t, bin, "7.1.0")
	if _, err := os.Stat(filepath.Join(cache, versionCacheFile)); err != nil {
		t.Fatalf("no cache written: %v", err)
	}
	// The binary would now say 7.2.0, but it is the same file: the cache
	// answers, no process runs.
	t.Setenv("CLP_TEST_FAKE_PACMAN", "7.2.0")
	wantVersion(t, bin, "7.1.0")
	// Touched (a rewrite in place changes the times): asked again.
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(bin, later, later); err != nil {
		t.Fatal(err)
	}
	wantVersion(t, bin, "7.2.0")
	// Replaced by another file (a new inode): asked again.
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(bin); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CLP_TEST_FAKE_PACMAN", "7.3.0")
	wantVersion(t, bin, "7.3.0")
	t.Setenv("CLP_TEST_FAKE_PACMAN", "7.4.0")
	wantVersion(t, bin, "7.3.0")
}

// A damaged, oversized or foreign cache file is no answer: pacman is asked
// and the cache rewritten.
func TestPacmanVersionCacheDamaged(t *testing.T) {
	bin, cache := fakePacman(t, "")
	t.Setenv("CLP_TEST_FAKE_PACMAN", "7.1.0")
	file := filepath.Join(cache, versionCacheFile)
	if err := os.MkdirAll(cache, 0o700); err != nil {
		t.Fatal(err)
	}
	key := binaryKey(bin)
	if key == "" {
		t.Fatal("no key for an ELF binary")
	}
	for _, bad := range []string{
		"garbage",
		versionCacheHead + "\n" + key + "\n6.0.2\n" + string(make([]byte, versionCacheMax)),
		versionCacheHead + "\n" + key + "\nwith space\n",
		versionCacheHead + "\n" + key + "\n\n",
		"clp pacman-version 0\n" + key + "\n6.0.2\n",
		versionCacheHead + "\n" + key + "x\n6.0.2\n",
	} {
		if err := os.WriteFile(file, []byte(bad), 0o600); err != nil {
			t.Fatal(err)
		}
		wantVersion(t, bin, "7.1.0")
	}
	got, err := os.ReadFile(file)
	if err != nil || string(got) != versionCacheHead+"\n"+key+"\n7.1.0\n" {
		t.Fatalf("cache after a damaged one: %q, %v", got, err)
	}
}

// A script named pacman is asked every time (the binary it runs may change
// under it), and no cache is written for it; an unusable cache directory
// leaves the answer as without a cache.
func TestPacmanVersionNotCached(t *testing.T) {
	bin, cache := fakePacman(t, "#!/bin/sh\necho \"Pacman v$CLP_TEST_SCRIPT_VERSION - libalpm v16.0.0\"\n")
	t.Setenv("CLP_TEST_SCRIPT_VERSION", "7.1.0")
	wantVersion(t, bin, "7.1.0")
	t.Setenv("CLP_TEST_SCRIPT_VERSION", "7.2.0")
	wantVersion(t, bin, "7.2.0")
	if _, err := os.Stat(cache); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a cache was made for a script: %v", err)
	}

	bin, _ = fakePacman(t, "")
	versionCacheDir = func() (string, error) { return "", errors.New("no cache directory") }
	t.Setenv("CLP_TEST_FAKE_PACMAN", "7.1.0")
	wantVersion(t, bin, "7.1.0")
	t.Setenv("CLP_TEST_FAKE_PACMAN", "7.2.0")
	wantVersion(t, bin, "7.2.0")
}
