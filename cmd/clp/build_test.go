package main

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

// The authoring scripts (build_*, keygen_*, sign_*, verify_*, show_*) use
// the sample patches of testdata/ through these:
//
//	copytestdata SRC...   copy testdata/SRC (a file, or a folder with what is
//	                      in it) to $WORK/<base name of SRC>, keeping modes
//	flipbyte FILE N       flip the bits of byte N of FILE (damage tables)
//	replacetext OLD NEW FILE  replace every OLD in FILE with NEW
//
// and condition [minisign], true when the real minisign tool is installed.
func init() {
	scriptCmds["copytestdata"] = cmdCopyTestdata
	scriptCmds["flipbyte"] = cmdFlipByte
	scriptCmds["replacetext"] = cmdReplaceText
	scriptConds["minisign"] = func() bool {
		_, err := exec.LookPath("minisign")
		return err == nil
	}
}

// testdataDir is the repository's testdata/, found from the package folder
// the tests run in.
var testdataDir, _ = filepath.Abs(filepath.Join("..", "..", "testdata"))

func cmdCopyTestdata(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: copytestdata SRC...")
	}
	for _, a := range args {
		src := filepath.Join(testdataDir, filepath.FromSlash(a))
		dst := ts.MkAbs(filepath.Base(src))
		err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(src, p)
			to := filepath.Join(dst, rel)
			info, err := d.Info()
			if err != nil {
				return err
			}
			if d.IsDir() {
				return os.MkdirAll(to, info.Mode().Perm())
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if err := os.WriteFile(to, data, info.Mode().Perm()); err != nil {
				return err
			}
			return os.Chmod(to, info.Mode().Perm())
		})
		ts.Check(err)
	}
}

func cmdFlipByte(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: flipbyte FILE N")
	}
	p := ts.MkAbs(args[0])
	data, err := os.ReadFile(p)
	ts.Check(err)
	var n int
	for _, c := range args[1] {
		if c < '0' || c > '9' {
			ts.Fatalf("flipbyte: %q is not a byte offset", args[1])
		}
		n = n*10 + int(c-'0')
	}
	if n >= len(data) {
		ts.Fatalf("flipbyte: %s has only %d bytes", args[0], len(data))
	}
	data[n] ^= 0xff
	ts.Check(os.WriteFile(p, data, 0o644))
}

func cmdReplaceText(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: replacetext OLD NEW FILE")
	}
	p := ts.MkAbs(args[2])
	data, err := os.ReadFile(p)
	ts.Check(err)
	if !strings.Contains(string(data), args[0]) {
		ts.Fatalf("replacetext: %q is not in %s", args[0], args[2])
	}
	ts.Check(os.WriteFile(p, []byte(strings.ReplaceAll(string(data), args[0], args[1])), 0o644))
}
