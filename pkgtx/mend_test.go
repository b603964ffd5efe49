package pkgtx

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vincentos/clp/cache"
	"github.com/vincentos/clp/pacman"
	"github.com/vincentos/clp/testkit/sandbox"
)

// entryDamage finds each way a killed pacman leaves an entry (libalpm
// writes the folder's files, then desc, then files), and nothing in a
// whole one.
func TestEntryDamage(t *testing.T) {
	dir := t.TempDir()
	local := "local"
	desc := "%NAME%\nnvidia-dkms\n\n%VERSION%\n560.35.03-1\n\n%REASON%\n1\n\n"
	files := "%FILES%\nusr/\nusr/src/nvidia-560.35.03/dkms.conf\n\n"
	for name, c := range map[string]struct {
		desc, files *string
		want        string
	}{
		"whole":         {&desc, &files, ""},
		"no files kept": {&desc, ptr(""), ""},
		"nodesc":        {nil, nil, "it has no desc"},
		"nofiles":       {&desc, nil, "it has no files list"},
		"cut":           {&desc, ptr("%FILES%\nusr/\nusr/src/nvi"), "its files list is cut short"},
		"other":         {ptr(strings.Replace(desc, "560.35.03-1", "550.78-1", 1)), &files, `its desc names "nvidia-dkms" "550.78-1", not the folder's nvidia-dkms 560.35.03-1`},
	} {
		e := filepath.Join(dir, local, name)
		must(t, os.MkdirAll(e, 0o755))
		if c.desc != nil {
			must(t, os.WriteFile(filepath.Join(e, "desc"), []byte(*c.desc), 0o644))
		}
		if c.files != nil {
			must(t, os.WriteFile(filepath.Join(e, "files"), []byte(*c.files), 0o644))
		}
		r, err := os.OpenRoot(dir)
		must(t, err)
		if got := entryDamage(r, local, name, "nvidia-dkms", "560.35.03-1"); got != c.want {
			t.Errorf("%s: %q, want %q", name, got, c.want)
		}
		r.Close()
	}
}

func ptr(s string) *string { return &s }

func TestEntryDirs(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"nvidia-560.35.03-1", "nvidia-dkms-560.35.03-1", "nvidia-utils-1:2.0-3", "nvidia-dkms"} {
		must(t, os.Mkdir(filepath.Join(dir, n), 0o755))
	}
	must(t, os.WriteFile(filepath.Join(dir, "nvidia-1.0-1"), nil, 0o644)) // not a folder
	r, err := os.OpenRoot(dir)
	must(t, err)
	defer r.Close()
	ents, err := localEntries(r, ".")
	must(t, err)
	for name, want := range map[string][]string{
		"nvidia":       {"nvidia-560.35.03-1"},
		"nvidia-dkms":  {"nvidia-dkms-560.35.03-1"},
		"nvidia-utils": {"nvidia-utils-1:2.0-3"},
		"nvidia-set":   nil,
	} {
		if got := entryDirs(ents, name); !slices.Equal(got, want) {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
}

// The reinstall overwrites the package's own files, literally (glob
// characters escaped, a leading "!" not a negation), never a folder or a
// file another package owns; a folder no other package has a file in is
// one pattern.
func TestOverwriteArgs(t *testing.T) {
	got, err := overwriteArgs([]string{"usr/", "usr/bin/a", "usr/bin/b", "usr/share/x[1]*?", "usr/share/y", "!neg", `usr/back\slash`}, map[string]bool{"usr/bin/b": true})
	must(t, err)
	want := []string{"--overwrite", "usr/bin/a", "--overwrite", "usr/share/*", "--overwrite", `\!neg`, "--overwrite", `usr/back\\slash`}
	if !slices.Equal(got, want) {
		t.Fatalf("%q\nwant %q", got, want)
	}
}

// A package of tens of thousands of files gets a few patterns, not one
// argument per file (the command line would overflow); what cannot be
// made small is refused, not run.
func TestOverwriteArgsBounded(t *testing.T) {
	long := strings.Repeat("n", 100)
	var files []string
	for i := range 30000 {
		files = append(files, fmt.Sprintf("usr/share/clp-many/d%d/%s%05d", i%10, long, i))
	}
	owned := map[string]bool{"usr/share/other/x": true, "usr/share/clp-many/owned": true}
	got, err := overwriteArgs(append(files, "usr/share/clp-many/top"), owned)
	must(t, err)
	var want []string
	for i := range 10 {
		want = append(want, "--overwrite", fmt.Sprintf("usr/share/clp-many/d%d/*", i))
	}
	want = append(want, "--overwrite", "usr/share/clp-many/top")
	if !slices.Equal(got, want) {
		t.Fatalf("%q\nwant %q", got, want)
	}
	// Another package's file in each folder: every file by name.
	for i := range 10 {
		owned[fmt.Sprintf("usr/share/clp-many/d%d/owned", i)] = true
	}
	got, err = overwriteArgs(files, owned)
	if err == nil || !strings.Contains(err.Error(), "the --overwrite patterns for its 30000 files take ") || !strings.Contains(err.Error(), "more than the 1048576 a command line can safely carry") {
		t.Fatalf("got %d args, err %v", len(got), err)
	}
}

// pacman splits an --overwrite value at commas: a comma is "?", unless
// that pattern matches another package's file.
func TestOverwriteArgsComma(t *testing.T) {
	owned := map[string]bool{"usr/bin/other": true}
	got, err := overwriteArgs([]string{"usr/bin/a,b", "usr/lib/x,y/f", "usr/lib/x,y/g"}, owned)
	must(t, err)
	want := []string{"--overwrite", "usr/bin/a?b", "--overwrite", "usr/lib/*"}
	if !slices.Equal(got, want) {
		t.Fatalf("%q\nwant %q", got, want)
	}
	owned["usr/lib/other"] = true
	got, err = overwriteArgs([]string{"usr/bin/a,b", "usr/lib/x,y/f", "usr/lib/x,y/g"}, owned)
	must(t, err)
	want = []string{"--overwrite", "usr/bin/a?b", "--overwrite", "usr/lib/x?y/*"}
	if !slices.Equal(got, want) {
		t.Fatalf("%q\nwant %q", got, want)
	}
	owned["usr/bin/a/b"] = true
	_, err = overwriteArgs([]string{"usr/bin/a,b"}, owned)
	if want := `its file /usr/bin/a,b has a comma, which pacman's --overwrite cannot take, and the pattern "usr/bin/a?b" standing for it matches /usr/bin/a/b, another package's`; err == nil || err.Error() != want {
		t.Fatalf("err %v\nwant %s", err, want)
	}
}

// ListFiles gives what pacman lists in the entry's %FILES%.
func TestListFilesMatchesPacman(t *testing.T) {
	sandbox.RequireRoot(t)
	r, f := sandbox.NewNVIDIA(t)
	for _, n := range sandbox.NVIDIA {
		info, files, err := cache.ListFiles(f.Path(n, sandbox.Broken))
		must(t, err)
		if info.Name != n || info.Version != sandbox.Broken {
			t.Fatalf("%s: .PKGINFO says %s %s", n, info.Name, info.Version)
		}
		data, err := os.ReadFile(filepath.Join(r.Dir, "var/lib/pacman/local", n+"-"+sandbox.Broken, "files"))
		must(t, err)
		want := strings.Split(strings.TrimSuffix(strings.TrimPrefix(string(data), "%FILES%\n"), "\n\n"), "\n")
		if !slices.Equal(files, want) {
			t.Fatalf("%s: %q\npacman lists %q", n, files, want)
		}
	}
}

// checkContents, the mend's last check, compares what is on disk with the
// package file itself (not pacman -Qkk, whose md5 check on pacman 6.0
// fails every package makepkg 7 built): a real install passes, a changed,
// missing or replaced file is named, a changed backup=() file is not.
func TestCheckContents(t *testing.T) {
	sandbox.RequireRoot(t)
	r, f := sandbox.NewNVIDIA(t)
	name := "nvidia-utils"
	file := f.Path(name, sandbox.Broken)
	info, files, err := cache.ListFiles(file)
	must(t, err)
	var regular []string
	for _, p := range files {
		if !strings.HasSuffix(p, "/") {
			regular = append(regular, p)
		}
	}
	if len(regular) < 2 {
		t.Fatalf("%s ships %q: too few files for this test", name, files)
	}
	a := &Actor{Paths: &pacman.Paths{Root: r.Dir}}
	m := &mending{Name: name, Version: sandbox.Broken, File: file, Files: files, Backup: info.Backup}
	if err := a.checkContents(m); err != nil {
		t.Fatalf("as pacman installed it: %v", err)
	}
	changed, gone := regular[0], regular[1]
	must(t, os.WriteFile(filepath.Join(r.Dir, changed), []byte("not what the package ships\n"), 0o755))
	must(t, os.Remove(filepath.Join(r.Dir, gone)))
	err = a.checkContents(m)
	want := "/" + changed + ", /" + gone + " does not hold what " + name + " " + sandbox.Broken + " ships"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %q", err, want)
	}
	// The same files declared backup=(): pacman keeps such a file when
	// it was changed, so it is not checked.
	m.Backup = []string{changed, gone}
	if err := a.checkContents(m); err != nil {
		t.Fatalf("backup files were checked: %v", err)
	}
}

// sectionCut finds a files list cut where a section ends, by the package
// file it was written from: empty while the package installs files, or
// %FILES% whole and %BACKUP% missing while the package has backup lines.
// A list libalpm could not have written from that file (another %FILES%,
// or a %BACKUP% of its own) is another build's whole entry, not cut.
func TestSectionCut(t *testing.T) {
	sandbox.RequireRoot(t)
	f := sandbox.TestFixtures(t)
	conf := f.Path("clp-testconf", "1.0-1")
	info, files, err := cache.ListFiles(conf)
	must(t, err)
	if len(info.Backup) == 0 {
		t.Fatalf("%s has no backup lines", conf)
	}
	plain := f.Path("nvidia-settings", sandbox.Good)
	pinfo, pfiles, err := cache.ListFiles(plain)
	must(t, err)
	if len(pinfo.Backup) != 0 {
		t.Fatalf("%s has backup lines", plain)
	}
	list := func(files []string) string { return "%FILES%\n" + strings.Join(files, "\n") + "\n\n" }
	backup := "%BACKUP%\n" + info.Backup[0] + "\t0123456789abcdef0123456789abcdef\n\n"
	nfiles := fmt.Sprint(len(files))
	for name, c := range map[string]struct{ files, file, want string }{
		"whole":              {list(files) + backup, conf, ""},
		"cut after files":    {list(files), conf, "its files list ends after %FILES%, without the %BACKUP% of the package's 1 backup files"},
		"empty":              {"", conf, "its files list is empty, and its package file installs " + nfiles + " paths"},
		"other build":        {list(append(slices.Clone(files), "usr/share/other")), conf, ""},
		"no file at hand":    {list(files), "", ""},
		"no backup lines":    {list(pfiles), plain, ""},
		"empty, no backup":   {"", plain, "its files list is empty, and its package file installs " + fmt.Sprint(len(pfiles)) + " paths"},
		"only backup, whole": {backup, conf, ""},
	} {
		dir := t.TempDir()
		must(t, os.MkdirAll(filepath.Join(dir, "local", "e"), 0o755))
		must(t, os.WriteFile(filepath.Join(dir, "local", "e", "files"), []byte(c.files), 0o644))
		r, err := os.OpenRoot(dir)
		must(t, err)
		if got := sectionCut("/", r, "local", "e", func() string { return c.file }); got != c.want {
			t.Errorf("%s: %q, want %q", name, got, c.want)
		}
		r.Close()
	}

	// Under a mounted root, the package file is read inside it: one
	// reached through a folder linked out of the root is not read, and
	// the list that would be called cut by it is not.
	root, outside := t.TempDir(), t.TempDir()
	data, err := os.ReadFile(conf)
	must(t, err)
	must(t, os.WriteFile(filepath.Join(outside, filepath.Base(conf)), data, 0o644))
	must(t, os.Symlink(outside, filepath.Join(root, "cache")))
	must(t, os.MkdirAll(filepath.Join(root, "local", "e"), 0o755))
	must(t, os.WriteFile(filepath.Join(root, "local", "e", "files"), []byte(list(files)), 0o644))
	r, err := os.OpenRoot(root)
	must(t, err)
	defer r.Close()
	through := filepath.Join(root, "cache", filepath.Base(conf))
	if got := sectionCut(root, r, "local", "e", func() string { return through }); got != "" {
		t.Errorf("a package file outside the root was read: %q", got)
	}
	if got := sectionCut("/", r, "local", "e", func() string { return through }); got == "" {
		t.Errorf("the same file read as a plain path calls nothing cut: the check above proves nothing")
	}
}
