package cache

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/vincentos/clp/alpm"
)

// vercmpCases are the awkward corners of rpmvercmp, most from pacman's own
// test/util/vercmptest.sh plus epochs, pkgrels and separators.
var vercmpCases = [][2]string{
	{"1.5.0", "1.5.0"}, {"1.5.1", "1.5.0"}, {"1.5.1", "1.5"},
	{"1.5.0-1", "1.5.0-1"}, {"1.5.0-1", "1.5.0-2"}, {"1.5.0-1", "1.5.1-1"},
	{"1.5.0-2", "1.5.1-1"}, {"1.5-1", "1.5"}, {"1.1-1", "1.1"}, {"1.0-1", "1.1"},
	{"1.1-1", "1.0"}, {"1.5b-1", "1.5-1"}, {"1.5b", "1.5"}, {"1.5b-1", "1.5"},
	{"1.5b", "1.5.1"}, {"1.0a", "1.0alpha"}, {"1.0alpha", "1.0b"}, {"1.0b", "1.0beta"},
	{"1.0beta", "1.0rc"}, {"1.0rc", "1.0"}, {"1.5.a", "1.5"}, {"1.5.b", "1.5.a"},
	{"1.5.1", "1.5.b"}, {"1.5.b-1", "1.5.b"}, {"1.5-1", "1.5.b"}, {"2.0", "2_0"},
	{"2.0_a", "2_0.a"}, {"2.0a", "2.0.a"}, {"2___a", "2_a"}, {"0:1.0", "0:1.0"},
	{"0:1.0", "0:1.1"}, {"1:1.0", "0:1.0"}, {"1:1.0", "0:1.1"}, {"1:1.0", "2:1.1"},
	{"0:1.0", "1.0"}, {"0:1.0", "1.1"}, {"0:1.1", "1.0"}, {"1:1.0", "1.0"},
	{"1:1.0", "1.1"}, {"1:1.1", "1.1"}, {"1.0", "1.0."}, {"1.0.", "1.0.."},
	{"1..0", "1.0"}, {"", ""}, {"", "0"}, {"a", ""}, {"1", "a"}, {"a", "b"},
	{"01", "1"}, {"001.002", "1.2"}, {"1.0-01", "1.0-1"}, {"12345678901234567890", "1234567890123456789"},
	{"550.78-1", "560.35.03-1"}, {"560.35.03-1", "560.35.03-2"}, {"2:550.78-1", "1:560.35.03-1"},
	{":1.0", "0:1.0"}, {"1:", "1"}, {"1:-1", "0-1"}, {"1.0-1.1", "1.0-1"}, {"r123.gabc-1", "r99.gzzz-1"},
	{"1.0+git", "1.0"}, {"1.0~rc1", "1.0"}, {"1.0~", "1.0"}, {"1.0-", "1.0"}, {"-", "0"},
	{"1.0é", "1.0"}, {"1.0\xff1", "1.0.1"}, {"2.0-1", "2.0-1-1"}, {"a1b2", "a1b3"}, {"1a2b", "1a2"},
}

// realVercmp runs pacman's vercmp (libalpm's alpm_pkg_vercmp) on each pair
// through one shell, so hundreds of pairs cost one process.
func realVercmp(t testing.TB, pairs [][2]string) []int {
	t.Helper()
	if _, err := exec.LookPath("vercmp"); err != nil {
		t.Skip("pacman's vercmp is not installed")
	}
	var script strings.Builder
	for _, p := range pairs {
		fmt.Fprintf(&script, "vercmp %s %s\n", shellQuote(p[0]), shellQuote(p[1]))
	}
	out, err := exec.Command("sh", "-c", script.String()).Output()
	if err != nil {
		t.Fatalf("vercmp: %v", err)
	}
	var res []int
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		n, err := strconv.Atoi(strings.TrimSpace(sc.Text()))
		if err != nil {
			t.Fatalf("vercmp printed %q", sc.Text())
		}
		res = append(res, n)
	}
	if len(res) != len(pairs) {
		t.Fatalf("vercmp gave %d answers for %d pairs", len(res), len(pairs))
	}
	return res
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

func checkAgainstLibalpm(t *testing.T, pairs [][2]string) {
	t.Helper()
	// Both directions: an asymmetric port would pass one and fail the other.
	var all [][2]string
	for _, p := range pairs {
		all = append(all, p, [2]string{p[1], p[0]})
	}
	want := realVercmp(t, all)
	for i, p := range all {
		if got := sign(VerCmp(p[0], p[1])); got != want[i] {
			t.Errorf("VerCmp(%q, %q) = %d, libalpm says %d", p[0], p[1], got, want[i])
		}
	}
}

func TestVerCmpMatchesLibalpmTable(t *testing.T) {
	checkAgainstLibalpm(t, vercmpCases)
}

func TestVerCmpMatchesLibalpmRandom(t *testing.T) {
	// Versions built from the characters that matter to rpmvercmp: digits
	// (with leading zeros), letters, separators of different lengths,
	// colons and dashes in odd places.
	alphabet := []string{"0", "1", "2", "9", "00", "10", "a", "b", "z", "rc", ".", "..", "_", "+", "~", ":", "-", "1:", "-1"}
	r := rand.New(rand.NewPCG(4, 2))
	gen := func() string {
		var b strings.Builder
		for n := r.IntN(6); n >= 0; n-- {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		return b.String()
	}
	var pairs [][2]string
	for range 250 {
		a := gen()
		b := gen()
		if r.IntN(3) == 0 { // near misses share a prefix
			b = a + gen()
		}
		pairs = append(pairs, [2]string{a, b})
	}
	checkAgainstLibalpm(t, pairs)
}

func FuzzVerCmp(f *testing.F) {
	for _, c := range vercmpCases {
		f.Add(c[0], c[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		// Antisymmetry and reflexivity; libalpm agreement is checked above.
		if sign(VerCmp(a, b)) != -sign(VerCmp(b, a)) {
			t.Errorf("VerCmp(%q, %q) and reverse disagree", a, b)
		}
		if VerCmp(a, a) != 0 {
			t.Errorf("VerCmp(%q, itself) != 0", a)
		}
	})
}

func BenchmarkVerCmp(b *testing.B) {
	for b.Loop() {
		VerCmp("1:560.35.03-1", "1:560.35.3-2")
	}
}

// TestVerCmpMatchesAlpmPackage checks the port against the go-alpm binding
// that the alpm package exposes (the same libalpm, called in process).
func TestVerCmpMatchesAlpmPackage(t *testing.T) {
	for _, p := range vercmpCases {
		for _, q := range [][2]string{p, {p[1], p[0]}} {
			if got, want := sign(VerCmp(q[0], q[1])), sign(alpm.VerCmp(q[0], q[1])); got != want {
				t.Errorf("VerCmp(%q, %q) = %d, alpm.VerCmp says %d", q[0], q[1], got, want)
			}
		}
	}
}

func BenchmarkVerCmpAlpm(b *testing.B) {
	for b.Loop() {
		alpm.VerCmp("1:560.35.03-1", "1:560.35.3-2")
	}
}

func TestSatisfiesConstraint(t *testing.T) {
	for _, c := range []struct {
		v, c string
		want bool
	}{
		{"560.35.03-1", "", true},
		{"560.35.03-1", ">=560", true},
		{"550.78-1", ">=560", false},
		{"550.78-1", "<560", true},
		{"560.35.03-1", "=560.35.03", true},
		{"560.35.03-2", "=560.35.03-1", false},
		{"560.35.03-1", "560.35.03-1", true},
		{"560.35.03-1", "<=560.35.03-1", true},
		{"560.35.03-1", ">560.35.03-1", false},
	} {
		got, err := SatisfiesConstraint(c.v, c.c)
		if err != nil || got != c.want {
			t.Errorf("SatisfiesConstraint(%q, %q) = %v, %v; want %v", c.v, c.c, got, err, c.want)
		}
	}
	if _, err := SatisfiesConstraint("1-1", ">="); err == nil {
		t.Error("an operator without a version must be an error")
	}
}
