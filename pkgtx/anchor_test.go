package pkgtx

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vincentos/clp/hooks"
	"github.com/vincentos/clp/internal/config"
	"github.com/vincentos/clp/internal/fsx"
	"github.com/vincentos/clp/pacman"
	"github.com/vincentos/clp/patch"
	"github.com/vincentos/clp/testkit/sandbox"
)

// The guard allow file a killed apply of the patch left is removed inside
// the root: the state folder swapped for a link out of the root just
// before the removal (after the file was read there) makes it fail, and
// the allow file of the same name outside is left as it was.
func TestSymlinkSwapCannotLeadAllowRemovalOutOfRoot(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	state := filepath.Join(root, "var/lib/clp")
	if _, err := hooks.WriteAllow(root, state, []string{"linux"}, "patch CLP1", time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := hooks.WriteAllow("/", outside, []string{"linux"}, "patch CLP1", time.Hour); err != nil {
		t.Fatal(err)
	}
	before := sandbox.MustTree(t, outside)
	// The first look at the allow file is the read; the second the removal.
	swapped := sandbox.SwapAtLastMoment(t, hooks.AllowFile, 2, state, outside)
	err := dropAllowOf(root, state, "CLP1")
	sandbox.AssertEscapeRefused(t, swapped, outside, before, err)
	if _, err := os.Stat(filepath.Join(state+".moved", hooks.AllowFile)); err != nil {
		t.Fatal(err)
	}
}

// payloadArchive is a patch with one package file as its payload.
type payloadArchive struct{ data []byte }

func (payloadArchive) Manifest() *patch.Manifest { return &patch.Manifest{Name: "CLP1"} }
func (payloadArchive) Entries() []string         { return []string{"payload/linux.pkg.tar.zst"} }
func (a payloadArchive) Open(string) (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(a.data)), nil
}
func (payloadArchive) Close() error { return nil }

// The patch's kept copies (<state>/packages/<patch>) and staged files
// (<state>/downloads/<patch>) are made, written and removed inside the
// system root: clp's state folder swapped for a link out of the root (to
// a folder holding the same patch folders, so that following it would
// work) just before the operation makes it fail, and the folder outside
// is byte for byte unchanged.
func TestSymlinkSwapCannotLeadKeptPackagesOutOfRoot(t *testing.T) {
	const file = "linux-6.1-1-x86_64.pkg.tar.zst"
	payload := []byte("the patch's linux package")
	cases := []struct {
		name, at string
		nth      int
		op       func(a *Actor, root, state string) error
	}{
		// The operations on the keep folder: make it, look at the kept
		// copy, remove a stale temporary, (link from the cache), rename.
		{"make the keep folder", "packages/CLP1", 1, keepLinux},
		{"link the kept copy", "pkg/" + file, 2, keepLinux},
		{"rename the kept copy", "packages/CLP1", 4, keepLinux},
		// On the staging folder: make it, hash a file already there, write.
		{"make the staging folder", "downloads/CLP1", 1, stageLinux(payload)},
		{"write the staged payload", "downloads/CLP1", 3, stageLinux(payload)},
		{"remove the kept copies", "packages/CLP1", 1, func(a *Actor, root, state string) error {
			return a.dropPatchFiles("CLP1")
		}},
		{"remove the staged files", "downloads/CLP1", 1, func(a *Actor, root, state string) error {
			return a.dropPatchFiles("CLP1")
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root, outside := t.TempDir(), t.TempDir()
			state := filepath.Join(root, "var/lib/clp")
			cacheDir := filepath.Join(root, "var/cache/pacman/pkg")
			must(t, os.MkdirAll(cacheDir, 0o755))
			must(t, os.WriteFile(filepath.Join(cacheDir, file), []byte("linux 6.1-1"), 0o644))
			for _, d := range []string{state, outside} {
				for _, sub := range []string{"packages/CLP1", "downloads/CLP1"} {
					must(t, os.MkdirAll(filepath.Join(d, sub), 0o700))
					must(t, os.WriteFile(filepath.Join(d, sub, "other.pkg.tar.zst"), []byte(d), 0o644))
				}
			}
			before := sandbox.MustTree(t, outside)
			a := &Actor{Paths: &pacman.Paths{Root: root}, StateDir: state, Config: config.Default()}
			swapped := sandbox.SwapAtLastMoment(t, c.at, c.nth, state, outside)
			err := c.op(a, root, state)
			sandbox.AssertEscapeRefused(t, swapped, outside, before, err)
		})
	}
}

// keepLinux keeps the cache's linux 6.1-1 for the undo of patch CLP1.
func keepLinux(a *Actor, root, state string) error {
	const file = "linux-6.1-1-x86_64.pkg.tar.zst"
	return a.keep(context.Background(), actorState{
		Patch:    "CLP1",
		Keep:     map[string]string{"linux": filepath.Join(state, "packages/CLP1", file)},
		KeepFrom: map[string]string{"linux": filepath.Join(root, "var/cache/pacman/pkg", file)},
	})
}

// stageLinux stages the patch CLP1's payload.
func stageLinux(payload []byte) func(a *Actor, root, state string) error {
	return func(a *Actor, root, state string) error {
		_, err := a.stagePayload(payloadArchive{payload}, "CLP1", patch.PackageAction{
			Op: patch.OpDowngrade, Name: "linux", Version: "6.0-1", File: "linux-6.0-1-x86_64.pkg.tar.zst",
			Payload: "payload/linux.pkg.tar.zst", SHA256: fsx.SHA256Bytes(payload),
		})
		return err
	}
}

// Revert's look at a local database entry's file list (filesMissing) reads
// it inside the root: the database folder swapped for a link out of the
// root (to a database whose entry lists a file the root lacks) just before
// the read makes it say nothing (false), not what the other list says.
func TestSymlinkSwapCannotLeadFilesListReadOutOfRoot(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	dbpath := filepath.Join(root, "var/lib/pacman")
	must(t, os.MkdirAll(filepath.Join(root, "usr/bin"), 0o755))
	must(t, os.WriteFile(filepath.Join(root, "usr/bin/linux"), nil, 0o755))
	for d, f := range map[string]string{dbpath: "usr/bin/linux", outside: "usr/bin/gone"} {
		entry := filepath.Join(d, "local/linux-6.1-1")
		must(t, os.MkdirAll(entry, 0o755))
		must(t, os.WriteFile(filepath.Join(entry, "files"), []byte("%FILES%\nusr/\nusr/bin/\n"+f+"\n\n"), 0o644))
	}
	a := &Actor{Paths: &pacman.Paths{Root: root, DBPath: dbpath}}
	if a.filesMissing("linux", "6.1-1") {
		t.Fatal("files missing before the swap")
	}
	before := sandbox.MustTree(t, outside)
	swapped := sandbox.SwapAtLastMoment(t, "linux-6.1-1/files", 1, dbpath, outside)
	missing := a.filesMissing("linux", "6.1-1")
	if !swapped() {
		t.Fatal("the read never reached the file list: the test proves nothing")
	}
	sandbox.AssertUnchanged(t, outside, before)
	if missing {
		t.Fatal("the file list outside the root was read")
	}
}

// pacman's log under a mounted root is read inside it: its folder swapped
// for a link out of the root (to a log naming other versions) just before
// the read makes History fail, not report the other log's versions.
func TestSymlinkSwapCannotLeadHistoryReadOutOfRoot(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	logPath := filepath.Join(root, "var/log/pacman.log")
	must(t, os.MkdirAll(filepath.Dir(logPath), 0o755))
	must(t, os.WriteFile(logPath, []byte("[2026-01-01T00:00:00+0000] [ALPM] installed linux (6.1-1)\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(outside, "pacman.log"), []byte("[2026-01-01T00:00:00+0000] [ALPM] installed linux (9.9-9)\n"), 0o644))
	before := sandbox.MustTree(t, outside)
	swapped := sandbox.SwapAtLastMoment(t, "pacman.log", 1, filepath.Dir(logPath), outside)
	h, err := History(root, logPath, "linux")
	t.Log(h, err)
	if !swapped() {
		t.Fatal("the log was never read: the test proves nothing")
	}
	sandbox.AssertUnchanged(t, outside, before)
	if h["linux"]["9.9-9"] || err == nil || !strings.Contains(err.Error(), "escapes") {
		t.Fatalf("history %v, error %v, want one saying the path escapes the root", h, err)
	}
}
