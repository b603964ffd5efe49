package hooks

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vincentos/clp/internal/fsx"
)

func states(t *testing.T, dir string) map[string]string {
	t.Helper()
	sts, err := Status("/", dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, s := range sts {
		m[s.Name] = s.State
	}
	return m
}

// Every shipped file must carry the right self-hash, or Remove would treat
// it as the user's. When you edit a hook file, this test prints the line.
func TestEmbeddedFilesAreSelfHashed(t *testing.T) {
	fs := Files()
	if len(fs) != 3 || fs[0].Name != GuardHook || fs[1].Name != PreHook || fs[2].Name != PostHook {
		t.Fatalf("files: %v", fs)
	}
	for _, f := range fs {
		_, rest, _ := bytes.Cut(f.Content, []byte("\n"))
		want := managedPrefix + fsx.SHA256Bytes(rest)
		if !bytes.HasPrefix(f.Content, []byte(want+"\n")) {
			t.Errorf("%s: first line must be %q", f.Name, want)
		}
	}
}

// The fields pacman needs, checked against alpm-hooks(5).
func TestHookContent(t *testing.T) {
	get := func(name string) string {
		for _, f := range Files() {
			if f.Name == name {
				return string(f.Content)
			}
		}
		t.Fatalf("no %s", name)
		return ""
	}
	pre, post, guard := get(PreHook), get(PostHook), get(GuardHook)
	for _, c := range []struct {
		name, text string
		want       []string
		not        []string
	}{
		{PreHook, pre, []string{"Operation = Install\n", "Operation = Upgrade\n", "Operation = Remove\n", "Type = Package\n", "Target = *\n", "When = PreTransaction\n", "Exec = /usr/lib/clp/clp-hook pre\n", "NeedsTargets\n"}, []string{"AbortOnFail"}},
		{PostHook, post, []string{"Operation = Remove\n", "When = PostTransaction\n", "Exec = /usr/lib/clp/clp-hook post\n", "NeedsTargets\n"}, []string{"AbortOnFail"}},
		{GuardHook, guard, []string{"When = PreTransaction\n", "Exec = /usr/lib/clp/clp-hook guard\n", "AbortOnFail\n", "NeedsTargets\n"}, []string{"Operation = Remove"}},
	} {
		for _, w := range c.want {
			if !strings.Contains(c.text, w) {
				t.Errorf("%s lacks %q", c.name, w)
			}
		}
		for _, w := range c.not {
			if strings.Contains(c.text, w) {
				t.Errorf("%s has %q", c.name, w)
			}
		}
	}
	// pacman orders hooks by file name without the suffix.
	if !(strings.TrimSuffix(GuardHook, ".hook") < strings.TrimSuffix(PreHook, ".hook")) {
		t.Error("guard must run before the pre snapshot")
	}
}

func TestInstallStatusRemove(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "etc", "pacman.d", "hooks")
	for n, s := range states(t, dir) {
		if s != StateMissing {
			t.Fatalf("%s: %s before install", n, s)
		}
	}
	if err := Install("/", dir); err != nil {
		t.Fatal(err)
	}
	for n, s := range states(t, dir) {
		if s != StateInstalled {
			t.Fatalf("%s: %s after install", n, s)
		}
	}
	if err := Install("/", dir); err != nil { // idempotent
		t.Fatal(err)
	}
	// An older clp's unmodified file is outdated, and Install replaces it.
	body := "# Installed by an older clp\n[Trigger]\n"
	old := managedPrefix + fsx.SHA256Bytes([]byte(body)) + "\n" + body
	os.WriteFile(filepath.Join(dir, PostHook), []byte(old), 0o644)
	if s := states(t, dir)[PostHook]; s != StateOutdated {
		t.Fatalf("old file: %s", s)
	}
	if err := Install("/", dir); err != nil {
		t.Fatal(err)
	}
	if s := states(t, dir)[PostHook]; s != StateInstalled {
		t.Fatalf("after reinstall: %s", s)
	}
	// An unrelated file in the directory is never touched.
	other := filepath.Join(dir, "50-user.hook")
	os.WriteFile(other, []byte("[Trigger]\n"), 0o644)
	os.WriteFile(filepath.Join(dir, PostHook), []byte(old), 0o644)
	removed, kept, err := Remove("/", dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 3 || len(kept) != 0 {
		t.Fatalf("removed %v kept %v", removed, kept)
	}
	if _, err := os.Stat(other); err != nil {
		t.Fatal("user's hook removed")
	}
	for n, s := range states(t, dir) {
		if s != StateMissing {
			t.Fatalf("%s: %s after remove", n, s)
		}
	}
}

func snapshotDir(t *testing.T, dir string) map[string]string {
	m := map[string]string{}
	des, _ := os.ReadDir(dir)
	for _, de := range des {
		p := filepath.Join(dir, de.Name())
		if l, err := os.Readlink(p); err == nil {
			m[de.Name()] = "-> " + l
			continue
		}
		b, _ := os.ReadFile(p)
		m[de.Name()] = string(b)
	}
	return m
}

func sameMap(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// A user's edit, or a /dev/null override, is theirs: Install refuses and
// changes nothing, Remove keeps it, Status names it.
func TestUserFilesAreKept(t *testing.T) {
	dir := t.TempDir()
	if err := Install("/", dir); err != nil {
		t.Fatal(err)
	}
	pre := filepath.Join(dir, PreHook)
	data, _ := os.ReadFile(pre)
	os.WriteFile(pre, bytes.Replace(data, []byte("Target = *"), []byte("Target = linux"), 1), 0o644)
	post := filepath.Join(dir, PostHook)
	os.Remove(post)
	os.Symlink("/dev/null", post)
	st := states(t, dir)
	if st[PreHook] != StateModified || st[PostHook] != StateForeign || st[GuardHook] != StateInstalled {
		t.Fatalf("states %v", st)
	}
	os.Remove(filepath.Join(dir, GuardHook)) // missing: Install would write it, if it did not refuse
	before := snapshotDir(t, dir)
	err := Install("/", dir)
	if err == nil || err.Error() != pre+" is not clp's own hook file (modified): move it away to install clp's" {
		t.Fatalf("install over modified: %v", err)
	}
	if !sameMap(before, snapshotDir(t, dir)) {
		t.Fatal("refused install changed the directory")
	}
	removed, kept, err := Remove("/", dir)
	if err != nil || len(removed) != 0 || len(kept) != 2 {
		t.Fatalf("remove: %v %v %v", removed, kept, err)
	}
	if !sameMap(before, snapshotDir(t, dir)) {
		t.Fatal("remove touched the user's files")
	}
}

func TestInstallRefusesForeignFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, GuardHook)
	os.WriteFile(path, []byte("[Trigger]\nmine\n"), 0o644)
	before := snapshotDir(t, dir)
	err := Install("/", dir)
	if err == nil || err.Error() != path+" is not clp's own hook file (foreign): move it away to install clp's" {
		t.Fatalf("err = %v", err)
	}
	if !sameMap(before, snapshotDir(t, dir)) {
		t.Fatal("directory changed")
	}
}
