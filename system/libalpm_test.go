package system

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// fakeLibalpm is an ELF file standing for libalpm (a copy of the test
// binary, made by fakePacman), with the version cache in a temporary
// directory, and a load function that counts its calls.
func fakeLibalpm(t *testing.T) (lib string, load func() (string, string), calls *int) {
	t.Helper()
	if _, err := os.Stat(ldCache); err != nil {
		t.Skip("no /etc/ld.so.cache here: the cache is never used then:", err)
	}
	for _, e := range loaderEnv {
		t.Setenv(e, "")
	}
	bin, _ := fakePacman(t, "")
	lib = filepath.Join(filepath.Dir(bin), "libalpm.so.16")
	if err := os.Rename(bin, lib); err != nil {
		t.Fatal(err)
	}
	calls = new(int)
	load = func() (string, string) { *calls++; return "16.0.0", lib }
	return lib, load, calls
}

// The version is asked once (libalpm loaded), and kept while the same
// clp, ld.so.cache and library file would be used.
func TestLibalpmVersionCached(t *testing.T) {
	lib, load, calls := fakeLibalpm(t)
	for i := 0; i < 3; i++ {
		if v := LibalpmVersion("libalpm.so.16", load); v != "16.0.0" {
			t.Fatalf("run %d: %q", i, v)
		}
	}
	if *calls != 1 {
		t.Fatalf("libalpm loaded %d times, want once", *calls)
	}
	// Another soname (a clp built for another libalpm): asked again.
	LibalpmVersion("libalpm.so.15", load)
	if *calls != 2 {
		t.Fatalf("another soname: loaded %d times, want 2", *calls)
	}
	// The library replaced (pacman upgraded): asked again.
	LibalpmVersion("libalpm.so.16", load)
	n := *calls
	b, err := os.ReadFile(lib)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	if err := os.WriteFile(lib+".new", b, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(lib+".new", lib); err != nil {
		t.Fatal(err)
	}
	LibalpmVersion("libalpm.so.16", load)
	if *calls != n+1 {
		t.Fatalf("replaced library: loaded %d times, want %d", *calls, n+1)
	}
	// The library gone: asked (the loader's answer, whatever it is).
	os.Remove(lib)
	LibalpmVersion("libalpm.so.16", load)
	if *calls != n+2 {
		t.Fatalf("missing library: loaded %d times, want %d", *calls, n+2)
	}
}

// With an environment that can change the loader's search, libalpm is
// always asked, and nothing is kept.
func TestLibalpmVersionNotCachedUnderLoaderEnv(t *testing.T) {
	for _, e := range loaderEnv {
		t.Run(e, func(t *testing.T) {
			_, load, calls := fakeLibalpm(t)
			t.Setenv(e, "/somewhere")
			for i := 0; i < 2; i++ {
				LibalpmVersion("libalpm.so.16", load)
			}
			if *calls != 2 {
				t.Fatalf("%s set: loaded %d times, want 2", e, *calls)
			}
			dir, _ := versionCacheDir()
			if _, err := os.Stat(filepath.Join(dir, libalpmCacheFile)); err == nil {
				t.Fatalf("%s set: the cache was written", e)
			}
		})
	}
}

// A damaged or foreign cache file is the same as none; a version that is
// no version is never kept.
func TestLibalpmVersionCacheDamaged(t *testing.T) {
	lib, load, calls := fakeLibalpm(t)
	LibalpmVersion("libalpm.so.16", load)
	dir, _ := versionCacheDir()
	file := filepath.Join(dir, libalpmCacheFile)
	good, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]byte{nil, []byte("junk"), good[:len(good)-1], append(append([]byte{}, good...), 'x'),
		[]byte(string(good[:len(good)-7]) + "1 2\n")} {
		if err := os.WriteFile(file, bad, 0o600); err != nil {
			t.Fatal(err)
		}
		n := *calls
		if v := LibalpmVersion("libalpm.so.16", load); v != "16.0.0" || *calls != n+1 {
			t.Fatalf("cache %q: %q, loaded %d times, want %d", bad, v, *calls, n+1)
		}
	}
	bad := func() (string, string) { return "16.0.0 evil\n", lib }
	os.Remove(file)
	LibalpmVersion("libalpm.so.16", bad)
	if _, err := os.Stat(file); err == nil {
		t.Fatal("a version with a space and a newline was kept")
	}
}
