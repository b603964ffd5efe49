package sandbox

import (
	"os"
	"os/exec"
	"testing"
)

// GoTags are the build tags this test binary was built with: go-alpm's
// "next" for libalpm 14 and newer (pacman 6.1 to 7.1), none for libalpm 13
// (pacman 6.0). A binary a test builds must fit the same libalpm as the
// test itself, or it does not compile.
const GoTags = goTags

// GoBuild builds the main package pkg (a directory) into out with GoTags.
// CGO_CFLAGS and CGO_LDFLAGS (which libalpm's headers and library) and PATH
// (which pacman) come from the environment, as `make test` sets them for
// each pacman it tests against, so the binary is the one under test.
func GoBuild(tb testing.TB, pkg, out string) string {
	tb.Helper()
	return GoBuildEnv(tb, pkg, out)
}

// GoBuildEnv is GoBuild with env added to the go command's environment
// (CGO_ENABLED=0 for clp-hook, as the Makefile builds it).
func GoBuildEnv(tb testing.TB, pkg, out string, env ...string) string {
	tb.Helper()
	args := []string{"build"}
	if GoTags != "" {
		args = append(args, "-tags", GoTags)
	}
	args = append(args, "-o", out, pkg)
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go %v: %v\n%s", args, err, b)
	}
	return out
}
