package alpm_test

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vincentos/clp/alpm"
	"github.com/vincentos/clp/testkit/sandbox"
)

// TestSonameIsTheLinkers: the libalpm clp loads (fixed at build time,
// third_party/go-alpm/load.c) is the one the linker takes for -lalpm with
// this leg's CGO_LDFLAGS: a program linked with -lalpm records it in
// DT_NEEDED. A build for another libalpm than its header's (a -tags next
// build against libalpm 14 or 15 without the Makefile's GO_ALPM_SOMAJOR)
// fails here.
func TestSonameIsTheLinkers(t *testing.T) {
	cc := os.Getenv("CC")
	if cc == "" {
		cc = "gcc"
	}
	out := filepath.Join(t.TempDir(), "a.out")
	args := append([]string{"-x", "c", "-", "-o", out}, strings.Fields(os.Getenv("CGO_LDFLAGS"))...)
	args = append(args, "-Wl,--no-as-needed", "-lalpm")
	cmd := exec.Command(cc, args...)
	cmd.Stdin = strings.NewReader("int main(void) { return 0; }\n")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", cc, args, err, b)
	}
	f, err := elf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	libs, err := f.ImportedLibraries()
	if err != nil {
		t.Fatal(err)
	}
	var linked string
	for _, l := range libs {
		if strings.HasPrefix(l, "libalpm.so") {
			linked = l
		}
	}
	if linked != alpm.Soname() {
		t.Fatalf("the linker takes %q for -lalpm (DT_NEEDED %v); clp loads %q", linked, libs, alpm.Soname())
	}
}

// TestSonameMajorIsLibalpms: libalpm.so.N is libalpm N.x (pacman.ResolveDirs
// is set from N without loading libalpm), here checked against the loaded
// library's own alpm_version().
func TestSonameMajorIsLibalpms(t *testing.T) {
	if err := alpm.Load(); err != nil {
		t.Fatal(err)
	}
	if got, want := alpm.SonameMajor(), alpm.LibalpmMajor(); got != want || got < 13 {
		t.Fatalf("soname %s, major %d; libalpm %s", alpm.Soname(), got, alpm.LibalpmVersion())
	}
}

// TestTrampolinesMatchHeader: the checked-in trampolines of this leg's
// build (trampolines_six.c or trampolines_next.c) are what
// gen_trampolines.go writes from the alpm.h this leg compiles against: one
// for every libalpm function go-alpm names, with the header's prototypes.
// A go-alpm change that calls a function without a trampoline fails here
// (and the link fails too: nothing else defines the symbol, clp does not
// link libalpm).
func TestTrampolinesMatchHeader(t *testing.T) {
	tag := "six"
	if sandbox.GoTags == "next" {
		tag = "next"
	}
	args := []string{"run", "gen_trampolines.go", "-check", "-tag", tag, "-o", "trampolines_" + tag + ".c"}
	for _, f := range strings.Fields(os.Getenv("CGO_CFLAGS")) {
		if dir, ok := strings.CutPrefix(f, "-I"); ok && dir != "" {
			args = append(args, "-I", dir)
			break
		}
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = filepath.Join("..", "third_party", "go-alpm")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %v: %v\n%s", args, err, b)
	}
}
