package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/vincentos/clp/hooks"
	"github.com/vincentos/clp/snapshot"
	"github.com/vincentos/clp/testkit/sandbox"
)

// TestHookSnapperOnLoopBtrfs runs `clp hook pre` and `clp hook post` in
// process against a real btrfs root (a loop device) with a real snapper
// config, the way pacman would around a transaction of nvidia-utils, and
// checks that clp's pre/post pair and snapper's pre/post pair are made and
// linked both ways. snapshot's TestSnapperOnLoopBtrfs covers the library;
// this covers the hook's path through DetectSnapper, CreatePre, SetSnapper
// and CreatePost with the pre's snapper number.
func TestHookSnapperOnLoopBtrfs(t *testing.T) {
	// A pacman that sets these would change what the hook does.
	t.Setenv(hooks.EnvSkip, "")
	t.Setenv(hooks.EnvPatch, "")
	host := hostSnapperState(t)
	mnt := hookBtrfsRoot(t)
	// Registered after the unmount cleanups, so it runs before them; it
	// checks the host even when the test fails half-way.
	t.Cleanup(func() {
		if got := hostSnapperState(t); !reflect.DeepEqual(got, host) {
			t.Errorf("the host's snapper configuration changed:\nbefore %v\nafter  %v", host, got)
		}
	})

	r, err := sandbox.Create(mnt)
	if err != nil {
		t.Fatal(err)
	}
	if err := sandbox.WriteLocalPackage(r.DBPath, "nvidia-utils", sandbox.Good, true); err != nil {
		t.Fatal(err)
	}
	hookSnapperConfig(t, mnt, "clptest")

	hook := func(which string) {
		t.Helper()
		var out, errb bytes.Buffer
		code := Main(context.Background(), []string{"--root", mnt, "hook", which}, strings.NewReader("nvidia-utils\n"), &out, &errb)
		if code != 0 || errb.Len() != 0 {
			t.Fatalf("clp hook %s: exit %d\nstdout: %s\nstderr: %s", which, code, out.String(), errb.String())
		}
	}
	hook("pre")
	// What the transaction itself would do: nvidia-utils moves on.
	const newer = sandbox.Broken
	if err := sandbox.WriteLocalPackage(r.DBPath, "nvidia-utils", newer, true); err != nil {
		t.Fatal(err)
	}
	hook("post")

	// clp's side: a pre and its post, each naming its snapper snapshot.
	var out, errb bytes.Buffer
	if code := Main(context.Background(), []string{"--root", mnt, "snapshot", "list", "--json"}, nil, &out, &errb); code != 0 || errb.Len() != 0 {
		t.Fatalf("clp snapshot list: exit %d\nstderr: %s", code, errb.String())
	}
	var list []snapshot.Snapshot
	if err := json.Unmarshal(out.Bytes(), &list); err != nil {
		t.Fatalf("parse clp snapshot list --json: %v\n%s", err, out.String())
	}
	if len(list) != 2 {
		t.Fatalf("clp snapshot list: want a pre and a post, got %d snapshots:\n%s", len(list), out.String())
	}
	pre, post := list[0], list[1]
	if pre.Kind != snapshot.KindPre || pre.Orphan || pre.Count != 1 {
		t.Errorf("clp pre: %+v", pre)
	}
	if post.Kind != snapshot.KindPost || post.PairID != pre.ID || post.Count != 1 {
		t.Errorf("clp post (pre is %d): %+v", pre.ID, post)
	}
	// list leaves targets and packages out; show has them.
	for _, c := range []struct {
		id      int
		version string
	}{{pre.ID, sandbox.Good}, {post.ID, newer}} {
		var out, errb bytes.Buffer
		if code := Main(context.Background(), []string{"--root", mnt, "snapshot", "show", strconv.Itoa(c.id), "--json"}, nil, &out, &errb); code != 0 || errb.Len() != 0 {
			t.Fatalf("clp snapshot show %d: exit %d\nstderr: %s", c.id, code, errb.String())
		}
		var s snapshot.Snapshot
		if err := json.Unmarshal(out.Bytes(), &s); err != nil {
			t.Fatalf("parse clp snapshot show %d --json: %v\n%s", c.id, err, out.String())
		}
		if !reflect.DeepEqual(s.Targets, []string{"nvidia-utils"}) || len(s.Packages) != 1 ||
			s.Packages[0].Name != "nvidia-utils" || s.Packages[0].Version != c.version {
			t.Errorf("clp snapshot %d: want target nvidia-utils and nvidia-utils %s installed, got %+v", c.id, c.version, s)
		}
	}
	if pre.Snapper == nil || pre.Snapper.Config != "clptest" || pre.Snapper.Number <= 0 {
		t.Fatalf("clp pre %d has no snapper reference: %+v", pre.ID, pre.Snapper)
	}
	if post.Snapper == nil || post.Snapper.Config != "clptest" || post.Snapper.Number <= pre.Snapper.Number {
		t.Fatalf("clp post %d has no snapper reference after %d: %+v", post.ID, pre.Snapper.Number, post.Snapper)
	}

	// snapper's side, asked of the snapper binary directly rather than
	// through the library: the same pair, linked back by userdata clp=ID
	// and carrying clp's descriptions.
	cmd := exec.Command("snapper", "--no-dbus", "--root", mnt, "-c", "clptest", "--jsonout", "list", "--disable-used-space")
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("snapper list: %v: %s", err, stderrOf(err))
	}
	var sl map[string][]struct {
		Number      int               `json:"number"`
		Type        string            `json:"type"`
		PreNumber   *int              `json:"pre-number"`
		Description string            `json:"description"`
		Cleanup     string            `json:"cleanup"`
		Userdata    map[string]string `json:"userdata"`
	}
	if err := json.Unmarshal(raw, &sl); err != nil {
		t.Fatalf("parse snapper list: %v\n%s", err, raw)
	}
	byNum := map[int]int{} // snapper number -> index in sl["clptest"]
	for i, s := range sl["clptest"] {
		if s.Number != 0 {
			byNum[s.Number] = i
		}
	}
	if len(byNum) != 2 {
		t.Fatalf("snapper list: want exactly clp's pre and post, got:\n%s", raw)
	}
	i, ok := byNum[pre.Snapper.Number]
	if !ok {
		t.Fatalf("snapper has no snapshot %d (clp pre %d):\n%s", pre.Snapper.Number, pre.ID, raw)
	}
	sp := sl["clptest"][i]
	if sp.Type != "pre" || sp.Userdata["clp"] != strconv.Itoa(pre.ID) || sp.Description != pre.Description || sp.Cleanup != "number" {
		t.Errorf("snapper pre %d for clp pre %d (%q): %+v", sp.Number, pre.ID, pre.Description, sp)
	}
	i, ok = byNum[post.Snapper.Number]
	if !ok {
		t.Fatalf("snapper has no snapshot %d (clp post %d):\n%s", post.Snapper.Number, post.ID, raw)
	}
	sq := sl["clptest"][i]
	if sq.Type != "post" || sq.PreNumber == nil || *sq.PreNumber != pre.Snapper.Number ||
		sq.Userdata["clp"] != strconv.Itoa(post.ID) || sq.Description != post.Description || sq.Cleanup != "number" {
		t.Errorf("snapper post %d for clp post %d (%q), pre %d: %+v", sq.Number, post.ID, post.Description, pre.Snapper.Number, sq)
	}

	// The snapper snapshots are of this root at the right moments: the pre
	// holds nvidia-utils before the transaction, the post after it.
	local, err := filepath.Rel(mnt, filepath.Join(r.DBPath, "local"))
	if err != nil || strings.HasPrefix(local, "..") {
		t.Fatalf("the sandbox database %s is not under %s", r.DBPath, mnt)
	}
	for _, c := range []struct {
		n       int
		version string
	}{{pre.Snapper.Number, sandbox.Good}, {post.Snapper.Number, newer}} {
		db := filepath.Join(mnt, ".snapshots", strconv.Itoa(c.n), "snapshot", local)
		des, err := os.ReadDir(db)
		if err != nil {
			t.Fatalf("snapper snapshot %d: %v", c.n, err)
		}
		var names []string
		for _, d := range des {
			if d.IsDir() {
				names = append(names, d.Name())
			}
		}
		if want := []string{"nvidia-utils-" + c.version}; !reflect.DeepEqual(names, want) {
			t.Errorf("snapper snapshot %d holds packages %q, want %q", c.n, names, want)
		}
	}
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}

// hostSnapperState records what snapper create-config would change on the
// host (its configs and sysconfig file), so the test can prove it changed
// nothing there.
func hostSnapperState(t *testing.T) map[string]string {
	t.Helper()
	st := map[string]string{}
	for _, p := range []string{"/etc/snapper", "/etc/default/snapper", "/etc/sysconfig/snapper"} {
		if _, err := os.Lstat(p); os.IsNotExist(err) {
			st[p] = "absent"
			continue
		}
		tree, err := sandbox.TreeState(p, nil)
		if err != nil {
			t.Fatalf("read the host's %s: %v", p, err)
		}
		for rel, e := range tree {
			st[p+":"+rel] = e.String()
		}
	}
	return st
}

// hookBtrfsRoot makes a 300 MB btrfs on a loop device, mounted in a temp
// dir, and cleans it all up, like snapshot's btrfsRoot (unexported there).
// It skips with the reason where that is impossible.
func hookBtrfsRoot(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root for losetup and mount")
	}
	for _, bin := range []string{"losetup", "mkfs.btrfs", "mount", "umount", "snapper", "btrfs"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s is not installed", bin)
		}
	}
	tmp := t.TempDir()
	img := filepath.Join(tmp, "btrfs.img")
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.Truncate(img, 300<<20); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("losetup", "-f", "--show", img).CombinedOutput()
	if err != nil {
		t.Skipf("loop devices are not permitted here: losetup: %v: %s", err, out)
	}
	loop := strings.TrimSpace(string(out))
	t.Cleanup(func() {
		if out, err := exec.Command("losetup", "-d", loop).CombinedOutput(); err != nil {
			t.Errorf("losetup -d %s: %v: %s", loop, err, out)
		}
	})
	if out, err := exec.Command("mkfs.btrfs", "-q", loop).CombinedOutput(); err != nil {
		t.Fatalf("mkfs.btrfs: %v: %s", err, out)
	}
	mnt := filepath.Join(tmp, "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", loop, mnt).CombinedOutput(); err != nil {
		t.Skipf("mounting a loop device is not permitted here: %v: %s", err, out)
	}
	// Cleanups run last-in first-out: unmount before losetup -d, and both
	// before t.TempDir removes the image.
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", mnt, err, out)
		}
	})
	return mnt
}

// hookSnapperConfig sets up snapper config name for root entirely inside
// root, as snapshot's writeSnapperConfig does: `snapper create-config`
// writes the host's /etc/snapper/configs and /etc/default/snapper even with
// --root, so the test writes both files from snapper's own template and
// creates the .snapshots subvolume itself.
func hookSnapperConfig(t *testing.T, root, name string) {
	t.Helper()
	tmpl, err := os.ReadFile("/usr/share/snapper/config-templates/default")
	if err != nil {
		t.Skipf("no snapper config template: %v", err)
	}
	var lines []string
	for _, l := range strings.Split(string(tmpl), "\n") {
		switch {
		case strings.HasPrefix(l, "SUBVOLUME="):
			l = `SUBVOLUME="/"`
		case strings.HasPrefix(l, "FSTYPE="):
			l = `FSTYPE="btrfs"`
		}
		lines = append(lines, l)
	}
	for _, d := range []string{"etc/snapper/configs", "etc/default"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "etc/snapper/configs", name), []byte(strings.Join(lines, "\n")), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc/default/snapper"), []byte(`SNAPPER_CONFIGS="`+name+`"`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("btrfs", "subvolume", "create", filepath.Join(root, ".snapshots")).CombinedOutput(); err != nil {
		t.Fatalf("btrfs subvolume create: %v: %s", err, out)
	}
}
