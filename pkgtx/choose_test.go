package pkgtx

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vincentos/clp/internal/fail"
	"github.com/vincentos/clp/snapshot"
	"github.com/vincentos/clp/testkit/sandbox"
)

func TestParseArgs(t *testing.T) {
	got, err := ParseArgs([]string{"a", "b>=5", "c=1.2-1", "d<2:1.0"})
	want := []Arg{{"a", ""}, {"b", ">=5"}, {"c", "=1.2-1"}, {"d", "<2:1.0"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("ParseArgs = %v, %v", got, err)
	}
	if !got[2].Exact() || got[1].Exact() {
		t.Error("Exact is wrong")
	}
	for in, msg := range map[string]string{
		"a=>1": `"a=>1": a version constraint is =`,
		"a>=":  `"a>=": the constraint names no version`,
		"=1":   `"=1" names no package`,
	} {
		_, err := ParseArgs([]string{in})
		if err == nil || !strings.Contains(err.Error(), msg) || !errors.Is(err, fail.ErrUsage) {
			t.Errorf("ParseArgs(%q) = %v, want a usage error with %q", in, err, msg)
		}
	}
	if _, err := ParseArgs([]string{"a", "a>1"}); err == nil || err.Error() != "a is named twice" || !errors.Is(err, fail.ErrUsage) {
		t.Errorf("twice: %v", err)
	}
}

func TestMenuRowAndPlanLines(t *testing.T) {
	d := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	v := Version{Version: "1.0-1", Cached: "/c/x", URL: "http://a/x", Installed: true, InstalledBefore: true, Date: &d, Size: 1536}
	if got, want := v.MenuRow(3), []string{"3)", "1.0-1", "cache, archive", d.Local().Format("2006-01-02"), "1.50 KiB", "[installed, installed before]"}; !reflect.DeepEqual(got, want) {
		t.Errorf("MenuRow = %q, want %q", got, want)
	}
	if got, want := (Version{Version: "2"}).MenuRow(1), []string{"1)", "2", "", "-", "-", ""}; !reflect.DeepEqual(got, want) {
		t.Errorf("bare MenuRow = %q, want %q", got, want)
	}
	for n, want := range map[int64]string{0: "0.00 B", 1023: "1023.00 B", 1 << 20: "1.00 MiB", 5 << 40: "5.00 TiB", 3 << 50: "3072.00 TiB"} {
		if got := HumanBytes(n); got != want {
			t.Errorf("HumanBytes(%d) = %q, want %q", n, got, want)
		}
	}
	p := &Plan{Moves: []*Move{{Name: "a", From: "2", To: "1", Source: "/c/a", Why: "requested"}, {Name: "b", To: "1", Source: "http://x/b", Why: "a 1 depends on b=1"}}}
	want := []string{
		":: 2 package(s) in one transaction:",
		"   a                        2 -> 1",
		"                            from /c/a",
		"   b                        not installed -> 1",
		"                            from http://x/b",
		"                            because a 1 depends on b=1",
	}
	if got := p.Lines(); !reflect.DeepEqual(got, want) {
		t.Errorf("Lines =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestChoose picks from a real cache: the rules of --latest, --oldest,
// --latest-cached, PKG=VERSION and the menu.
func TestChoose(t *testing.T) {
	sandbox.RequireRoot(t)
	r, f := sandbox.NewNVIDIA(t)
	if err := r.Install(f.Paths(sandbox.Good, sandbox.NVIDIA...)...); err != nil {
		t.Fatal(err)
	}
	if err := r.Install(f.Paths(sandbox.Broken, sandbox.NVIDIA...)...); err != nil {
		t.Fatal(err)
	}
	d := open(t, r)
	d.Servers = nil
	a := Arg{Name: "nvidia-utils"}
	for _, tc := range []struct {
		name string
		a    Arg
		p    Pick
		want string
	}{
		{"to", a, Pick{To: "9-9"}, "9-9"},
		{"latest", a, Pick{Latest: true}, sandbox.Good},
		{"oldest", a, Pick{Oldest: true}, sandbox.Good},
		{"latest-cached", a, Pick{LatestCached: true}, sandbox.Good},
		{"exact", Arg{Name: "nvidia-utils", Constraint: "=" + sandbox.Good}, Pick{}, sandbox.Good},
	} {
		c, err := d.Choose(bg, tc.a, tc.p)
		if err != nil || c.Version != tc.want {
			t.Errorf("%s: %+v, %v; want %s", tc.name, c, err, tc.want)
		}
	}
	c, err := d.Choose(bg, a, Pick{})
	if err != nil || c.Version != "" || len(c.Menu) != 1 || c.Listing.Installed != sandbox.Broken {
		t.Errorf("menu: %+v, %v", c, err)
	}
	_, err = d.Choose(bg, Arg{Name: "nvidia-utils", Constraint: "=" + sandbox.Broken}, Pick{})
	mustContain(t, err, "other than the installed")
	_, err = d.Choose(bg, Arg{Name: "nvidia-utils", Constraint: ">="}, Pick{Latest: true})
	if !errors.Is(err, fail.ErrUsage) {
		t.Errorf("a bad constraint is not a usage error: %v", err)
	}
}

func TestCheckNames(t *testing.T) {
	if err := CheckNames([]string{"nvidia-utils", "lib32-foo", "a+b"}); err != nil {
		t.Errorf("good names refused: %v", err)
	}
	err := CheckNames([]string{"ok", "evil\nclp: error: forged"})
	if err == nil || err.Error() != `"evil\nclp: error: forged" is not a package name` || !errors.Is(err, fail.ErrUsage) {
		t.Errorf("a name with a newline: %v", err)
	}
}

func TestRestoreReportAndLines(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	r := &Restore{Target: snapshot.Snapshot{ID: 4, Time: at, Description: "before nvidia"},
		Plan:    snapshot.Plan{Remove: []string{"c"}, AsDeps: []string{"d"}},
		Changes: []snapshot.Change{{Name: "a", From: "2", To: "1", Kind: snapshot.Downgraded}, {Name: "c", From: "1", Kind: snapshot.Removed}},
		Files:   []RestoreFile{{URL: "http://arch/a-1.pkg.tar.zst"}, {}}}
	rep := r.Report(4)
	if rep.Snapshot != 4 || len(rep.Changes) != 2 || len(rep.Install) != 2 || rep.Remove[0] != "c" || rep.AsDeps[0] != "d" || rep.Done {
		t.Errorf("Report = %+v", rep)
	}
	want := []string{
		"Restoring snapshot 4 (" + at.Local().Format("2006-01-02 15:04:05") + ", before nvidia):",
		"downgrade   a 2 -> 1",
		"remove      c 1",
		"",
		"1 package file(s) to download from the archive:",
		"  http://arch/a-1.pkg.tar.zst",
		"",
	}
	if got := r.Lines(); !reflect.DeepEqual(got, want) {
		t.Errorf("Lines =\n%q\nwant\n%q", got, want)
	}
}
