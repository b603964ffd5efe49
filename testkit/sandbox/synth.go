package sandbox

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// SynthesizeLocalDB writes n packages straight into dbpath/local in the
// format libalpm 13 reads (desc and files per package), for benchmarks that
// need a big installation without installing thousands of packages.
// Package i is "synth-pkg-NNNNN" at version "1.<i%7>-1".
func SynthesizeLocalDB(dbpath string, n int) error {
	local := filepath.Join(dbpath, "local")
	if err := os.MkdirAll(local, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(local, "ALPM_DB_VERSION"), []byte("9\n"), 0o644); err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("synth-pkg-%05d", i)
		ver := fmt.Sprintf("1.%d-1", i%7)
		if err := WriteLocalPackage(dbpath, name, ver, i%3 == 0); err != nil {
			return err
		}
	}
	return nil
}

// WriteLocalPackage adds (or replaces) one package in the local database.
func WriteLocalPackage(dbpath, name, version string, explicit bool) error {
	local := filepath.Join(dbpath, "local")
	// Drop any other version of the same package first.
	old, _ := filepath.Glob(filepath.Join(local, name+"-*"))
	for _, o := range old {
		base := filepath.Base(o)
		rest := strings.TrimPrefix(base, name+"-")
		if strings.Count(rest, "-") == 1 {
			os.RemoveAll(o)
		}
	}
	dir := filepath.Join(local, name+"-"+version)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	reason := "1"
	if explicit {
		reason = "0"
	}
	desc := fmt.Sprintf("%%NAME%%\n%s\n\n%%VERSION%%\n%s\n\n%%BASE%%\n%s\n\n%%DESC%%\nsynthesized package\n\n%%ARCH%%\nx86_64\n\n%%BUILDDATE%%\n1700000000\n\n%%INSTALLDATE%%\n1700000000\n\n%%PACKAGER%%\nclp bench\n\n%%SIZE%%\n1024\n\n%%REASON%%\n%s\n\n%%DEPENDS%%\nglibc\n\n",
		name, version, name, reason)
	if err := os.WriteFile(filepath.Join(dir, "desc"), []byte(desc), 0o644); err != nil {
		return err
	}
	files := fmt.Sprintf("%%FILES%%\nusr/\nusr/share/\nusr/share/%s/\nusr/share/%s/data\n\n", name, name)
	return os.WriteFile(filepath.Join(dir, "files"), []byte(files), 0o644)
}
