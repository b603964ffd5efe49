package snapshot

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

type call struct {
	bin  string
	args []string
}

// stubSnapper replaces runSnapper, recording each argv and answering from
// replies in order.
func stubSnapper(t *testing.T, replies ...string) *[]call {
	var calls []call
	oldRun, oldLook := runSnapper, lookPath
	runSnapper = func(_ context.Context, bin string, args ...string) ([]byte, error) {
		calls = append(calls, call{bin, args})
		if len(replies) == 0 {
			return nil, errors.New("no reply left")
		}
		r := replies[0]
		replies = replies[1:]
		return []byte(r), nil
	}
	lookPath = func(string) (string, error) { return "/usr/bin/snapper", nil }
	t.Cleanup(func() { runSnapper, lookPath = oldRun, oldLook })
	return &calls
}

func TestSnapperArgv(t *testing.T) {
	calls := stubSnapper(t, "7\n", "8\n", `{"root":[{"number":0,"type":"single","pre-number":null,"description":"current","userdata":null},
		{"number":7,"type":"pre","pre-number":null,"date":"2026-05-01 12:00:00","description":"pre: a","userdata":{"clp":"41"}},
		{"number":8,"type":"post","pre-number":7,"description":"post: a","userdata":{"clp":"42"}}]}`)
	s := &Snapper{Root: "/mnt/sys", Config: "root"}
	ctx := context.Background()
	pre, err := s.CreatePre(ctx, "pre: a", 41)
	if err != nil || pre != 7 {
		t.Fatalf("pre %d %v", pre, err)
	}
	post, err := s.CreatePost(ctx, pre, "post: a", 42)
	if err != nil || post != 8 {
		t.Fatalf("post %d %v", post, err)
	}
	list, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []call{
		{"snapper", []string{"--no-dbus", "--root", "/mnt/sys", "-c", "root", "create", "-t", "pre", "-p", "-d", "pre: a", "--cleanup-algorithm", "number", "--userdata", "clp=41"}},
		{"snapper", []string{"--no-dbus", "--root", "/mnt/sys", "-c", "root", "create", "-t", "post", "--pre-number", "7", "-p", "-d", "post: a", "--cleanup-algorithm", "number", "--userdata", "clp=42"}},
		{"snapper", []string{"--no-dbus", "--root", "/mnt/sys", "-c", "root", "--jsonout", "list", "--disable-used-space"}},
	}
	if !reflect.DeepEqual(*calls, want) {
		t.Fatalf("argv:\n got %q\nwant %q", *calls, want)
	}
	if len(list) != 2 || list[1].PreNumber != 7 || list[1].ClpID() != 42 || list[0].Type != "pre" || list[0].ClpID() != 41 {
		t.Fatalf("list %+v", list)
	}
	// The running system gets no --root.
	*calls = nil
	calls2 := stubSnapper(t, "3\n")
	(&Snapper{Root: "/", Config: "root"}).CreatePre(ctx, "d", 1)
	if got := (*calls2)[0].args[:3]; !reflect.DeepEqual(got, []string{"--no-dbus", "-c", "root"}) {
		t.Fatalf("argv for /: %q", got)
	}
}

func TestSnapperBadOutput(t *testing.T) {
	stubSnapper(t, "Creating snapshot failed\n")
	_, err := (&Snapper{Config: "root"}).CreatePre(context.Background(), "d", 1)
	if err == nil || err.Error() != `snapper create printed "Creating snapshot failed", not a snapshot number` {
		t.Fatalf("err = %v", err)
	}
	if _, err := (&Snapper{}).CreatePre(context.Background(), "d", 1); err == nil || err.Error() != "snapper: no config chosen" {
		t.Fatalf("no config: %v", err)
	}
}

func TestDetectSnapperNotBtrfs(t *testing.T) {
	calls := stubSnapper(t)
	dir := t.TempDir()
	if ok, _ := IsBtrfs(dir); ok {
		t.Skip("the temp dir is on btrfs")
	}
	_, err := DetectSnapper(context.Background(), dir)
	if !errors.Is(err, ErrNoSnapper) || err.Error() != dir+" is not on btrfs: no snapper config for this root" {
		t.Fatalf("err = %v", err)
	}
	if len(*calls) != 0 {
		t.Fatal("snapper was run for a non-btrfs root")
	}
}

// btrfsRoot makes a 300 MB btrfs on a loop device, mounted in a temp dir,
// and cleans it all up. It skips with the reason where that is impossible.
func btrfsRoot(t *testing.T) string {
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
	if err := os.Truncate(createFile(t, img), 300<<20); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("losetup", "-f", "--show", img).CombinedOutput()
	if err != nil {
		t.Skipf("loop devices are not permitted here: losetup: %v: %s", err, out)
	}
	loop := strings.TrimSpace(string(out))
	t.Cleanup(func() { exec.Command("losetup", "-d", loop).Run() })
	if out, err := exec.Command("mkfs.btrfs", "-q", loop).CombinedOutput(); err != nil {
		t.Fatalf("mkfs.btrfs: %v: %s", err, out)
	}
	mnt := filepath.Join(tmp, "mnt")
	os.Mkdir(mnt, 0o755)
	if out, err := exec.Command("mount", loop, mnt).CombinedOutput(); err != nil {
		t.Skipf("mounting a loop device is not permitted here: %v: %s", err, out)
	}
	// Cleanups run last-in first-out: unmount before losetup -d.
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", mnt, err, out)
		}
	})
	return mnt
}

func createFile(t *testing.T, path string) string {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	return path
}

// writeSnapperConfig sets up snapper config name for root entirely inside
// root. `snapper create-config` cannot do this: even with --root it writes
// the host's /etc/snapper/configs and /etc/default/snapper (checked with
// strace on snapper 0.10.4), so the test writes the two files itself, from
// snapper's own template, and creates the .snapshots subvolume.
func writeSnapperConfig(t *testing.T, root, name string) {
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
	os.MkdirAll(filepath.Join(root, "etc/snapper/configs"), 0o755)
	os.MkdirAll(filepath.Join(root, "etc/default"), 0o755)
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

func TestSnapperOnLoopBtrfs(t *testing.T) {
	root := btrfsRoot(t)
	ctx := context.Background()
	if ok, err := IsBtrfs(root); !ok || err != nil {
		t.Fatalf("IsBtrfs(%s) = %v %v", root, ok, err)
	}
	if _, err := DetectSnapper(ctx, root); !errors.Is(err, ErrNoSnapper) {
		t.Fatalf("detect before config: %v", err)
	}
	writeSnapperConfig(t, root, "clptest")
	sn, err := DetectSnapper(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	if sn.Config != "clptest" || sn.Root != root {
		t.Fatalf("detected %+v", sn)
	}

	// Two transactions, each a clp pre/post pair linked to a snapper pair.
	store := mustOpen(t, filepath.Join(root, "var/lib/clp/snapshots"))
	pkgs := genPkgs(newRNG(), 50)
	type pair struct{ clpPre, clpPost, pre, post int }
	var pairs []pair
	for i, target := range []string{"nvidia-utils", "linux"} {
		os.WriteFile(filepath.Join(root, "marker"), []byte(target), 0o644)
		p, err := store.Pre(pkgs, []string{target}, "")
		if err != nil {
			t.Fatal(err)
		}
		n, err := sn.CreatePre(ctx, p.Description, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := store.SetSnapper(p.ID, SnapperRef{Config: sn.Config, Number: n}); err != nil {
			t.Fatal(err)
		}
		pkgs[i].Version += ".1"
		q, err := store.Post(pkgs, []string{target})
		if err != nil {
			t.Fatal(err)
		}
		m, err := sn.CreatePost(ctx, n, q.Description, q.ID)
		if err != nil {
			t.Fatal(err)
		}
		store.SetSnapper(q.ID, SnapperRef{Config: sn.Config, Number: m})
		pairs = append(pairs, pair{p.ID, q.ID, n, m})
	}
	list, err := sn.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 4 {
		t.Fatalf("snapper list: %+v", list)
	}
	for i, p := range pairs {
		pre, post := list[2*i], list[2*i+1]
		if pre.Number != p.pre || pre.Type != "pre" || pre.ClpID() != p.clpPre {
			t.Errorf("pair %d pre: %+v", i, pre)
		}
		if post.Number != p.post || post.Type != "post" || post.PreNumber != p.pre || post.ClpID() != p.clpPost {
			t.Errorf("pair %d post: %+v", i, post)
		}
	}
	for _, s := range mustOpen(t, store.Dir()).List() {
		if s.Snapper == nil || s.Snapper.Config != "clptest" {
			t.Fatalf("clp snapshot %d not linked: %+v", s.ID, s)
		}
	}
	// The snapshot really holds the root as it was: the first pre has the
	// first marker.
	got, err := os.ReadFile(filepath.Join(root, ".snapshots", "1", "snapshot", "marker"))
	if err != nil || string(got) != "nvidia-utils" {
		t.Fatalf("snapshot content: %q %v", got, err)
	}
}
