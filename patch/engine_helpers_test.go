package patch

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vincentos/clp/internal/config"
	"github.com/vincentos/clp/internal/fsx"
	"golang.org/x/sys/unix"
)

// memArchive is an in-memory Archive: a unit-test fake beside the real
// archives built with Build and opened with OpenFile (engine_real_test.go).
type memArchive struct {
	m     *Manifest
	files map[string][]byte
}

func (a *memArchive) Manifest() *Manifest { return a.m }
func (a *memArchive) Entries() []string {
	names := []string{ManifestName}
	for n := range a.files {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
func (a *memArchive) Open(name string) (io.ReadCloser, error) {
	if name == ManifestName {
		return io.NopCloser(strings.NewReader("<Package format=\"1\"/>")), nil
	}
	d, ok := a.files[name]
	if !ok {
		return nil, fmt.Errorf("no treeEntry %s", name)
	}
	return io.NopCloser(bytes.NewReader(d)), nil
}
func (a *memArchive) Close() error { return nil }

func shaOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Contents of the fixture root.
var (
	origModified = []byte("# modified.conf as shipped\nkey = old\n")
	origRemoved  = []byte("# removed.conf, the patch deletes it\n")
	origTool     = []byte("#!/bin/sh\necho tool\n")
	newModified  = []byte("# modified.conf as the patch ships it\nkey = new\n")
	newFile      = []byte("# new-file.conf, added by the patch\n")
)

// xattrsWork says whether the file system under dir keeps user.* xattrs.
func xattrsWork(t testing.TB, dir string) bool {
	p := filepath.Join(dir, ".xattr-probe")
	os.WriteFile(p, nil, 0o600)
	defer os.Remove(p)
	return unix.Setxattr(p, "user.clp-probe", []byte("1"), 0) == nil
}

// makeRoot builds a small system root: files to replace, remove, chmod and
// chown, with non-default owners, modes and xattrs so that a restore that
// loses any of them shows.
func makeRoot(t testing.TB, root string) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"etc/clp-test", "usr/lib/clp-test", "etc/unrelated", "proc", "var/log", "var/lib", "opt"} {
		must(os.MkdirAll(filepath.Join(root, d), 0o755))
	}
	must(os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0::/root:/bin/sh\nalice:x:1234:1234::/home/alice:/bin/sh\n"), 0o644))
	must(os.WriteFile(filepath.Join(root, "etc/group"), []byte("root:x:0:\nstaff:x:5678:\n"), 0o644))
	mod := filepath.Join(root, "etc/clp-test/modified.conf")
	must(os.WriteFile(mod, origModified, 0o640))
	must(os.Chmod(mod, 0o640))
	must(os.Chown(mod, 1234, 5678))
	rem := filepath.Join(root, "etc/clp-test/removed.conf")
	must(os.WriteFile(rem, origRemoved, 0o600))
	must(os.Chmod(rem, 0o600))
	must(os.Chown(rem, 0, 5678))
	tool := filepath.Join(root, "usr/lib/clp-test/tool")
	must(os.WriteFile(tool, origTool, 0o755))
	must(os.Chmod(tool, 0o4755)) // setuid: lost by a careless chown
	must(os.WriteFile(filepath.Join(root, "etc/unrelated/keep.conf"), []byte("untouched\n"), 0o644))
	if xattrsWork(t, root) {
		must(unix.Setxattr(mod, "user.clp.origin", []byte("shipped"), 0))
		must(unix.Setxattr(rem, "user.clp.note", []byte{0, 1, 2, 255}, 0))
		must(unix.Setxattr(tool, "user.clp.tool", []byte("t"), 0))
	}
}

// fixtureManifest is the standard test patch: the seed's example (new
// file, modified file, removed file) plus a mode and an owner change.
func fixtureManifest(name string) *Manifest {
	return &Manifest{
		Format: 1, Name: name, Version: "1", Description: "test patch", Severity: SeverityNormal,
		Files: []FileAction{
			{Op: OpAdd, Target: "/etc/clp-test/sub/new-file.conf", Payload: "files/new-file.conf", SHA256: shaOf(newFile), Mode: "0640"},
			{Op: OpReplace, Target: "/etc/clp-test/modified.conf", Payload: "files/modified.conf", SHA256: shaOf(newModified), Expect: shaOf(origModified)},
			{Op: OpRemove, Target: "/etc/clp-test/removed.conf", Expect: shaOf(origRemoved)},
			{Op: OpMode, Target: "/usr/lib/clp-test/tool", Expect: shaOf(origTool), Mode: "0750"},
		},
	}
}

func fixtureFiles() map[string][]byte {
	return map[string][]byte{"files/new-file.conf": newFile, "files/modified.conf": newModified}
}

func fixtureArchive(name string) *memArchive {
	return &memArchive{m: fixtureManifest(name), files: fixtureFiles()}
}

// testReporter records what the engine reports.
type testReporter struct {
	mu    sync.Mutex
	steps []string
	warns []string
}

func (r *testReporter) Step(s string)                 { r.mu.Lock(); r.steps = append(r.steps, s); r.mu.Unlock() }
func (r *testReporter) Warn(s string)                 { r.mu.Lock(); r.warns = append(r.warns, s); r.mu.Unlock() }
func (r *testReporter) Progress(string, int64, int64) {}
func (r *testReporter) all() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.steps, "\n") + "\n" + strings.Join(r.warns, "\n")
}

func newEngine(root string, rep *testReporter) *Engine {
	cfg := config.Default()
	cfg.ScriptTimeoutSec = 30
	e := &Engine{
		Root: root, StateDir: filepath.Join(root, "var/lib/clp"), OptDir: filepath.Join(root, "opt/CLP"),
		LogPath: filepath.Join(root, "var/log/CLP.log"), Config: cfg,
		Now: func() time.Time { return time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC) },
	}
	if rep != nil {
		e.Reporter = rep
	}
	return e
}

// treeEntry is one node of a tree snapshot.
type treeEntry struct {
	Type   string
	Hash   string // content sha256 (files), link target (symlinks)
	Mode   uint32
	UID    uint32
	GID    uint32
	Xattrs string
}

func (e treeEntry) String() string {
	return fmt.Sprintf("%s %04o %d:%d %s xattrs[%s]", e.Type, e.Mode, e.UID, e.GID, short(e.Hash), e.Xattrs)
}

// snapshot records every path under root (relative), except those in
// skip (relative, a directory skips its contents): type, content hash,
// mode with special bits, owner and xattrs.
func snapshot(t testing.TB, root string, skip ...string) map[string]treeEntry {
	t.Helper()
	out := map[string]treeEntry{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		for _, s := range skip {
			if rel == s || strings.HasPrefix(rel, s+"/") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		en := treeEntry{Mode: st.Mode & 0o7777, UID: st.Uid, GID: st.Gid}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFREG:
			en.Type = "file"
			h, err := fsx.SHA256File(p)
			if err != nil {
				return err
			}
			en.Hash = h
		case unix.S_IFDIR:
			en.Type = "dir"
		case unix.S_IFLNK:
			en.Type = "link"
			en.Hash, _ = os.Readlink(p)
		default:
			en.Type = fmt.Sprintf("other-%o", st.Mode&unix.S_IFMT)
		}
		if en.Type != "link" {
			xa, err := readXattrs(p)
			if err != nil {
				return err
			}
			var kv []string
			for k, v := range xa {
				kv = append(kv, k+"="+hex.EncodeToString(v))
			}
			sort.Strings(kv)
			en.Xattrs = strings.Join(kv, ",")
		}
		out[rel] = en
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sameTree fails the test with every difference between two snapshots.
func sameTree(t testing.TB, what string, want, got map[string]treeEntry) {
	t.Helper()
	if d := treeDiff(want, got); d != "" {
		t.Fatalf("%s: tree differs:\n%s", what, d)
	}
}

func treeDiff(want, got map[string]treeEntry) string {
	var diffs []string
	for p, w := range want {
		g, ok := got[p]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("  missing  %s (%s)", p, w))
		case g != w:
			diffs = append(diffs, fmt.Sprintf("  changed  %s\n    want %s\n    got  %s", p, w, g))
		}
	}
	for p, g := range got {
		if _, ok := want[p]; !ok {
			diffs = append(diffs, fmt.Sprintf("  extra    %s (%s)", p, g))
		}
	}
	sort.Strings(diffs)
	return strings.Join(diffs, "\n")
}

// stateSkip are the paths a successful or rolled-back transaction is
// expected to change: clp's own state (history) and the script log.
var stateSkip = []string{"var/lib/clp", "var/log/CLP.log"}

func mustContain(t testing.TB, err error, subs ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("expected an error containing %q, got none", subs)
	}
	for _, s := range subs {
		if !strings.Contains(err.Error(), s) {
			t.Fatalf("error %q does not contain %q", err, s)
		}
	}
}

// installShell copies the host's /bin/sh and the libraries it needs into
// root, so that scripts can run chrooted there.
func installShell(t testing.TB, root string) {
	t.Helper()
	sh, err := filepath.EvalSymlinks("/bin/sh")
	if err != nil {
		t.Skip("no /bin/sh on the host")
	}
	files := []string{sh}
	for _, lib := range []string{"/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2", "/lib/ld-linux-aarch64.so.1", "/lib/aarch64-linux-gnu/libc.so.6"} {
		if _, err := os.Stat(lib); err == nil {
			files = append(files, lib)
		}
	}
	for _, f := range files {
		real, err := filepath.EvalSymlinks(f)
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(real)
		if err != nil {
			t.Fatal(err)
		}
		for _, dst := range []string{f, real} {
			p := filepath.Join(root, dst)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, data, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	os.MkdirAll(filepath.Join(root, "bin"), 0o755)
	if err := os.WriteFile(filepath.Join(root, "bin/sh"), mustRead(t, sh), 0o755); err != nil {
		t.Fatal(err)
	}
}

func mustRead(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readXattrs reads every xattr of path (a file or folder, not a link).
func readXattrs(path string) (map[string][]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	return readXattrsFd(path, fd)
}
