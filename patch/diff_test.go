package patch

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestUnifiedDiffEqual(t *testing.T) {
	if d := UnifiedDiff("a", []byte("x\ny\n"), "b", []byte("x\ny\n")); d != "" {
		t.Fatalf("equal inputs gave a diff:\n%s", d)
	}
	if d := UnifiedDiff("a", nil, "b", []byte{}); d != "" {
		t.Fatalf("two empty inputs gave a diff:\n%s", d)
	}
}

// TestUnifiedDiffExact pins the format: headers, hunk ranges, three lines
// of context, separate hunks for far-apart changes, and additions to and
// removals from empty files as diff -u writes them.
func TestUnifiedDiffExact(t *testing.T) {
	lines := func(from, to int) string {
		var b strings.Builder
		for i := from; i <= to; i++ {
			fmt.Fprintf(&b, "line %d\n", i)
		}
		return b.String()
	}
	tests := []struct {
		name     string
		old, new string
		want     string
	}{
		{
			name: "one line changed in the middle",
			old:  lines(1, 10),
			new:  strings.Replace(lines(1, 10), "line 5\n", "LINE FIVE\n", 1),
			want: "--- a/f\n+++ b/f\n@@ -2,7 +2,7 @@\n line 2\n line 3\n line 4\n-line 5\n+LINE FIVE\n line 6\n line 7\n line 8\n",
		},
		{
			name: "two changes far apart make two hunks",
			old:  lines(1, 20),
			new:  strings.Replace(strings.Replace(lines(1, 20), "line 2\n", "two\n", 1), "line 19\n", "nineteen\n", 1),
			want: "--- a/f\n+++ b/f\n@@ -1,5 +1,5 @@\n line 1\n-line 2\n+two\n line 3\n line 4\n line 5\n" +
				"@@ -16,5 +16,5 @@\n line 16\n line 17\n line 18\n-line 19\n+nineteen\n line 20\n",
		},
		{
			name: "new file",
			old:  "",
			new:  "a\nb\n",
			want: "--- a/f\n+++ b/f\n@@ -0,0 +1,2 @@\n+a\n+b\n",
		},
		{
			name: "file emptied",
			old:  "a\nb\n",
			new:  "",
			want: "--- a/f\n+++ b/f\n@@ -1,2 +0,0 @@\n-a\n-b\n",
		},
		{
			name: "missing newline at the end",
			old:  "a\nb",
			new:  "a\nb\n",
			want: "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := UnifiedDiff("a/f", []byte(tt.old), "b/f", []byte(tt.new))
			if got != tt.want {
				t.Fatalf("got:\n%s\nwant:\n%s", got, tt.want)
			}
			checkDiffApplies(t, tt.old, tt.new, got)
		})
	}
}

// TestUnifiedDiffApplies is the correctness property: for many random
// pairs of texts (few distinct lines, so that repeated lines and moved
// blocks are common), applying the diff to old gives new.
func TestUnifiedDiffApplies(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	vocab := []string{"a", "b", "c", "}", "", "return nil", "x = 1", "# comment"}
	randText := func() string {
		var b strings.Builder
		n := rng.Intn(40)
		for i := 0; i < n; i++ {
			b.WriteString(vocab[rng.Intn(len(vocab))])
			b.WriteByte('\n')
		}
		s := b.String()
		if rng.Intn(5) == 0 {
			s = strings.TrimSuffix(s, "\n")
		}
		return s
	}
	mutate := func(s string) string {
		ls := strings.SplitAfter(s, "\n")
		for k := rng.Intn(6); k > 0; k-- {
			i := rng.Intn(len(ls) + 1)
			switch rng.Intn(3) {
			case 0:
				ls = append(ls[:i], append([]string{vocab[rng.Intn(len(vocab))] + "\n"}, ls[i:]...)...)
			case 1:
				if i < len(ls) {
					ls = append(ls[:i], ls[i+1:]...)
				}
			case 2:
				if i < len(ls) {
					ls[i] = "changed " + strconv.Itoa(i) + "\n"
				}
			}
		}
		return strings.Join(ls, "")
	}
	for i := 0; i < 2000; i++ {
		old := randText()
		var new string
		if i%2 == 0 {
			new = mutate(old)
		} else {
			new = randText()
		}
		d := UnifiedDiff("a/f", []byte(old), "b/f", []byte(new))
		if (d == "") != (old == new) {
			t.Fatalf("case %d: diff empty=%v but texts equal=%v", i, d == "", old == new)
		}
		if d != "" {
			checkDiffApplies(t, old, new, d)
		}
	}
}

// TestUnifiedDiffGNUPatch feeds the diffs to the real patch(1): what clp
// shows is what a maintainer's tools read.
func TestUnifiedDiffGNUPatch(t *testing.T) {
	if _, err := exec.LookPath("patch"); err != nil {
		t.Skip("patch(1) is not installed")
	}
	pairs := [][2]string{
		{"PermitRootLogin yes\nPort 22\nX11Forwarding yes\n", "PermitRootLogin no\nPort 22\nX11Forwarding yes\nUsePAM yes\n"},
		{"a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\n", "a\nB\nc\nd\ne\nf\ng\nh\ni\nJ\nk"},
		{"", "new\n"},
		{"only\n", ""},
	}
	for i, p := range pairs {
		dir := t.TempDir()
		f := filepath.Join(dir, "f")
		if err := os.WriteFile(f, []byte(p[0]), 0o644); err != nil {
			t.Fatal(err)
		}
		d := UnifiedDiff("a/f", []byte(p[0]), "b/f", []byte(p[1]))
		cmd := exec.Command("patch", "--quiet", "--posix", "-p1", "-i", "-")
		cmd.Dir = dir
		cmd.Stdin = strings.NewReader(d)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("pair %d: patch(1) refused the diff: %v\n%s\ndiff:\n%s", i, err, out, d)
		}
		got, _ := os.ReadFile(f)
		if string(got) != p[1] {
			t.Fatalf("pair %d: patch(1) made %q, want %q\ndiff:\n%s", i, got, p[1], d)
		}
	}
}

// checkDiffApplies applies the unified diff d to old with a strict reader of
// the format and fails unless it gives new: every context and removed line
// must match old at its place, and every hunk's counts must add up.
func checkDiffApplies(t *testing.T, old, new, d string) {
	t.Helper()
	got, err := applyUnifiedDiff(old, d)
	if err != nil {
		t.Fatalf("diff does not apply: %v\nold %q\nnew %q\ndiff:\n%s", err, old, new, d)
	}
	if got != new {
		t.Fatalf("applying the diff gave %q, want %q\ndiff:\n%s", got, new, d)
	}
}

func applyUnifiedDiff(old, d string) (string, error) {
	oldLines := strings.SplitAfter(old, "\n")
	if oldLines[len(oldLines)-1] == "" {
		oldLines = oldLines[:len(oldLines)-1]
	}
	dl := strings.SplitAfter(d, "\n")
	if len(dl) < 3 || !strings.HasPrefix(dl[0], "--- ") || !strings.HasPrefix(dl[1], "+++ ") {
		return "", fmt.Errorf("no --- +++ header")
	}
	dl = dl[2:]
	var out []string
	pos := 0
	for i := 0; i < len(dl) && dl[i] != ""; {
		var os1, oc, ns, nc int
		if _, err := fmt.Sscanf(dl[i], "@@ -%d,%d +%d,%d @@\n", &os1, &oc, &ns, &nc); err != nil {
			return "", fmt.Errorf("bad hunk header %q", dl[i])
		}
		i++
		start := os1 - 1
		if oc == 0 {
			start = os1
		}
		if start < pos {
			return "", fmt.Errorf("hunks overlap or go backwards")
		}
		out = append(out, oldLines[pos:start]...)
		pos = start
		var gotOld, gotNew int
		for i < len(dl) && dl[i] != "" && !strings.HasPrefix(dl[i], "@@") {
			line := dl[i]
			i++
			text := line[1:]
			if i < len(dl) && strings.HasPrefix(dl[i], `\ No newline at end of file`) {
				text = strings.TrimSuffix(text, "\n")
				i++
			}
			switch line[0] {
			case ' ', '-':
				if pos >= len(oldLines) || oldLines[pos] != text {
					return "", fmt.Errorf("line %d of old is not %q", pos+1, text)
				}
				pos++
				gotOld++
				if line[0] == ' ' {
					out = append(out, text)
					gotNew++
				}
			case '+':
				out = append(out, text)
				gotNew++
			default:
				return "", fmt.Errorf("bad diff line %q", line)
			}
		}
		if gotOld != oc || gotNew != nc {
			return "", fmt.Errorf("hunk says -%d +%d lines, has -%d +%d", oc, nc, gotOld, gotNew)
		}
	}
	out = append(out, oldLines[pos:]...)
	return strings.Join(out, ""), nil
}

func TestIsText(t *testing.T) {
	long := bytes.Repeat([]byte("a"), textSniffLen-1)
	cut := append(append([]byte{}, long...), "é"...) // é straddles byte 8000
	tests := []struct {
		name string
		data []byte
		want bool
	}{
		{"empty", nil, true},
		{"ascii", []byte("PermitRootLogin no\n"), true},
		{"utf-8", []byte("Grüße\n"), true},
		{"nul byte", []byte("ELF\x00\x01"), false},
		{"latin-1", []byte("Gr\xfc\xdfe\n"), false},
		{"character cut at the sniff limit", cut, true},
		{"nul after the sniff limit", append(bytes.Repeat([]byte("a"), textSniffLen), 0), true},
	}
	for _, tt := range tests {
		if got := IsText(tt.data); got != tt.want {
			t.Errorf("%s: IsText = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// BenchmarkUnifiedDiff diffs a 20,000-line config file against a copy with
// a change every 100 lines.
func BenchmarkUnifiedDiff(b *testing.B) {
	var old, new strings.Builder
	for i := 0; i < 20000; i++ {
		fmt.Fprintf(&old, "option%d = value %d\n", i, i%7)
		if i%100 == 0 {
			fmt.Fprintf(&new, "option%d = changed\n", i)
		} else {
			fmt.Fprintf(&new, "option%d = value %d\n", i, i%7)
		}
	}
	o, n := []byte(old.String()), []byte(new.String())
	b.SetBytes(int64(len(o) + len(n)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if UnifiedDiff("a/f", o, "b/f", n) == "" {
			b.Fatal("no diff")
		}
	}
}
