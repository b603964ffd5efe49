package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// dist/man/clp.1.scd is written by hand except for its COMMANDS section,
// which is generated here from the registry (each command's Usage text and
// flags), between two scdoc comment lines.
const (
	manBegin = "; BEGIN GENERATED COMMANDS"
	manEnd   = "; END GENERATED COMMANDS"
	manPage  = "../../dist/man/clp.1.scd"
)

// TestManPage fails when clp.1.scd's COMMANDS section is not what the
// registry says; -update rewrites it.
func TestManPage(t *testing.T) {
	old, err := os.ReadFile(manPage)
	if err != nil {
		t.Fatal(err)
	}
	want, err := spliceManCommands(string(old), manCommands())
	if err != nil {
		t.Fatal(err)
	}
	if want == string(old) {
		return
	}
	if updateGolden() {
		if err := os.WriteFile(manPage, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote %s", manPage)
		return
	}
	t.Errorf("dist/man/clp.1.scd is stale (a command, flag or help text changed): run 'go test ./cmd/clp -run TestManPage -update'\n%s", firstDiff(string(old), want))
}

// TestManPageRenders renders clp.1 with the real scdoc and man, and checks
// that every command, every flag and every example line made it through
// (roff eats lines that start with a dot and some backslashes).
func TestManPageRenders(t *testing.T) {
	for _, tool := range []string{"scdoc", "man"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (make deps installs it)", tool)
		}
	}
	src, err := os.ReadFile(manPage)
	if err != nil {
		t.Fatal(err)
	}
	page, err := spliceManCommands(string(src), manCommands())
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "clp.1")
	var stderr bytes.Buffer
	cmd := exec.Command("scdoc")
	cmd.Stdin = strings.NewReader(page)
	cmd.Stderr = &stderr
	roff, err := cmd.Output()
	if err != nil {
		t.Fatalf("scdoc: %v: %s", err, stderr.String())
	}
	if err := os.WriteFile(out, roff, 0o644); err != nil {
		t.Fatal(err)
	}
	man := exec.Command("man", "-l", out)
	man.Env = append(os.Environ(), "MANWIDTH=200", "MANPAGER=cat", "PAGER=cat", "LANG=C.UTF-8")
	text, err := man.CombinedOutput()
	if err != nil {
		t.Fatalf("man -l: %v: %s", err, text)
	}
	// man may use hyphenation and special dashes; compare without them.
	norm := func(s string) string {
		s = strings.NewReplacer("‐", "-", "−", "-", "’", "'", "‘", "'").Replace(s)
		return strings.Join(strings.Fields(s), " ")
	}
	rendered := norm(string(text))
	for _, c := range completionModel().Commands {
		if c.Name == "help" {
			continue
		}
		cmd := commands[c.Name]
		for _, f := range c.Flags {
			if !strings.Contains(rendered, "--"+f.Long) {
				t.Errorf("rendered clp(1) lacks %s's flag --%s", c.Name, f.Long)
			}
		}
		_, _, examples := splitUsage(cmd.Usage)
		for _, ex := range examples {
			if !strings.Contains(rendered, norm(ex)) {
				t.Errorf("rendered clp(1) lacks %s's example %q", c.Name, strings.TrimSpace(ex))
			}
		}
		if !strings.Contains(strings.ToLower(rendered), strings.ToLower(norm(c.Summary))) {
			t.Errorf("rendered clp(1) lacks %s's summary %q", c.Name, c.Summary)
		}
	}
	for _, s := range []string{"EXIT STATUS", "FILES", "SEE ALSO", "/etc/clp/keys/*.pub"} {
		if !strings.Contains(rendered, s) {
			t.Errorf("rendered clp(1) lacks %q", s)
		}
	}
}

func spliceManCommands(page, section string) (string, error) {
	i := strings.Index(page, manBegin+"\n")
	j := strings.Index(page, manEnd+"\n")
	if i < 0 || j < i {
		return "", fmt.Errorf("%s has no %q ... %q lines", manPage, manBegin, manEnd)
	}
	return page[:i+len(manBegin)+1] + section + page[j:], nil
}

// manCommands renders every visible command as an scdoc subsection: the
// synopsis, the summary, the description paragraphs, the options and the
// examples, all taken from the registry.
func manCommands() string {
	var b strings.Builder
	for _, c := range completionModel().Commands {
		if c.Name == "help" {
			continue
		}
		cmd := commands[c.Name]
		synopsis, desc, examples := splitUsage(cmd.Usage)
		title := c.Name
		if len(c.Aliases) > 0 {
			title += " (" + strings.Join(c.Aliases, ", ") + ")"
		}
		fmt.Fprintf(&b, "\n## %s\n\n%s.\n\n", title, scdocEscape(upperFirst(c.Summary)))
		writeLiteral(&b, synopsis)
		for _, block := range desc {
			if block.literal {
				writeLiteral(&b, block.lines)
				continue
			}
			fmt.Fprintf(&b, "%s\n\n", scdocEscape(strings.Join(trimAll(block.lines), " ")))
		}
		if len(c.Flags) > 0 {
			b.WriteString("Options:\n\n")
			for _, f := range c.Flags {
				names := "*--" + f.Long + "*"
				if f.Short != "" {
					names = "*-" + f.Short + "*, " + names
				}
				if f.TakesArg {
					names += " _" + strings.ToUpper(f.ValueName) + "_"
				}
				fmt.Fprintf(&b, "%s\n\t%s\n\n", names, scdocEscape(upperFirst(f.Usage))+".")
			}
		}
		if len(examples) > 0 {
			b.WriteString("Examples:\n\n")
			writeLiteral(&b, examples)
		}
	}
	return b.String()
}

type usageBlock struct {
	literal bool
	lines   []string
}

// splitUsage cuts a command's Usage into its synopsis lines, its
// description (paragraphs, and indented runs kept as they are) and its
// example lines.
func splitUsage(usage string) (synopsis []string, desc []usageBlock, examples []string) {
	lines := strings.Split(strings.TrimSpace(usage), "\n")
	i := 0
	if i < len(lines) && strings.TrimSpace(lines[i]) == "Usage:" {
		i++
		for ; i < len(lines) && strings.TrimSpace(lines[i]) != ""; i++ {
			synopsis = append(synopsis, lines[i])
		}
	}
	var cur *usageBlock
	for ; i < len(lines); i++ {
		l := lines[i]
		if strings.TrimSpace(l) == "Examples:" {
			for i++; i < len(lines); i++ {
				if strings.TrimSpace(lines[i]) != "" {
					examples = append(examples, lines[i])
				}
			}
			break
		}
		if strings.TrimSpace(l) == "" {
			cur = nil
			continue
		}
		literal := strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t")
		if cur == nil || cur.literal != literal {
			desc = append(desc, usageBlock{literal: literal})
			cur = &desc[len(desc)-1]
		}
		cur.lines = append(cur.lines, l)
	}
	return synopsis, desc, examples
}

// writeLiteral writes lines as an scdoc literal block, their common
// indentation replaced by the block's tab.
func writeLiteral(b *strings.Builder, lines []string) {
	if len(lines) == 0 {
		return
	}
	indent := -1
	for _, l := range lines {
		n := len(l) - len(strings.TrimLeft(l, " "))
		if indent < 0 || n < indent {
			indent = n
		}
	}
	b.WriteString("```\n")
	for _, l := range lines {
		fmt.Fprintf(b, "\t%s\n", strings.TrimRight(l[indent:], " "))
	}
	b.WriteString("```\n\n")
}

func trimAll(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = strings.TrimSpace(l)
	}
	return out
}

// scdocEscape escapes scdoc's inline markup; a paragraph is one line, so
// list, table and roff syntax at the start of a line cannot come from the
// middle of a sentence.
func scdocEscape(s string) string {
	s = strings.NewReplacer(`\`, `\\`, `*`, `\*`, `_`, `\_`).Replace(s)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = "\u200b" + s // roff would read the line as a request
	}
	return s
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("first difference at line %d:\n  committed: %q\n  generated: %q", i+1, x, y)
		}
	}
	return ""
}
