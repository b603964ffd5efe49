package cache

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// benchCache fills a directory with 20,000 package file names the way a
// long-lived cache looks: about 2,000 packages with ten versions each,
// nvidia-utils among them, and packages sharing its prefix
// (nvidia-utils-beta, lib32-nvidia-utils). Names only matter; the files
// are empty.
func benchCache(b *testing.B) string {
	dir := b.TempDir()
	n := 0
	add := func(name string, i int) {
		f := fmt.Sprintf("%s-%d.%d.%02d-%d-x86_64.pkg.tar.zst", name, 500+i, i%7, i%13, 1+i%3)
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			b.Fatal(err)
		}
		n++
	}
	for _, name := range []string{"nvidia-utils", "nvidia-utils-beta", "lib32-nvidia-utils"} {
		for i := range 10 {
			add(name, i)
		}
	}
	for p := 0; n < 20000; p++ {
		for i := 0; i < 10 && n < 20000; i++ {
			add(fmt.Sprintf("pkg%04d-%s", p, []string{"lib", "utils", "python-x", "qt6"}[p%4]), i)
		}
	}
	return dir
}

func listVersions(b *testing.B, dir string) []Entry {
	ix, err := ScanFor([]string{dir}, "nvidia-utils")
	if err != nil {
		b.Fatal(err)
	}
	return ix.Versions("nvidia-utils")
}

// BenchmarkVersionsVsFind lists nvidia-utils in a cache of 20,000 files
// with clp and with `find CACHEDIR -name 'nvidia-utils-*'`, alternating in
// the same run, and reports both and their ratio (goal: clp/find <= 2).
func BenchmarkVersionsVsFind(b *testing.B) {
	if _, err := exec.LookPath("find"); err != nil {
		b.Skip("find is not installed")
	}
	dir := benchCache(b)
	if got := len(listVersions(b, dir)); got != 10 {
		b.Fatalf("found %d versions of nvidia-utils, want 10", got)
	}
	var clp, find time.Duration
	runs := 0
	for b.Loop() {
		t0 := time.Now()
		listVersions(b, dir)
		t1 := time.Now()
		out, err := exec.Command("find", dir, "-name", "nvidia-utils-*").Output()
		t2 := time.Now()
		if err != nil || strings.Count(string(out), "\n") != 20 {
			b.Fatalf("find: %v (%d lines)", err, strings.Count(string(out), "\n"))
		}
		clp += t1.Sub(t0)
		find += t2.Sub(t1)
		runs++
	}
	b.ReportMetric(float64(clp.Nanoseconds())/float64(runs), "clp-ns/list")
	b.ReportMetric(float64(find.Nanoseconds())/float64(runs), "find-ns/list")
	b.ReportMetric(float64(clp)/float64(find), "clp/find")
}

// BenchmarkVersions is clp's listing alone.
func BenchmarkVersions(b *testing.B) {
	dir := benchCache(b)
	for b.Loop() {
		listVersions(b, dir)
	}
}

// BenchmarkScanAll indexes every one of the 20,000 files.
func BenchmarkScanAll(b *testing.B) {
	dir := benchCache(b)
	for b.Loop() {
		if _, err := Scan([]string{dir}); err != nil {
			b.Fatal(err)
		}
	}
}
