package packaging

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestManPagesRender renders every dist/man/*.scd with the real scdoc (any
// error fails) and shows the result with the real man -l.
func TestManPagesRender(t *testing.T) {
	for _, tool := range []string{"scdoc", "man"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (make deps installs it)", tool)
		}
	}
	src := sourceDir(t)
	pages, err := filepath.Glob(filepath.Join(src, "dist/man/*.scd"))
	if err != nil || len(pages) == 0 {
		t.Fatalf("no dist/man/*.scd: %v", err)
	}
	names := map[string]bool{}
	for _, p := range pages {
		names[strings.TrimSuffix(filepath.Base(p), ".scd")] = true
	}
	for _, want := range []string{"clp.1", "clp.conf.5", "clp-format.5"} {
		if !names[want] {
			t.Errorf("dist/man/%s.scd is missing", want)
		}
	}
	// A reference to one of clp's own pages must name a page that exists,
	// in the right section.
	ownRef := regexp.MustCompile(`\*(clp[a-z.-]*)\*\(([0-9])\)`)
	for _, p := range pages {
		page := strings.TrimSuffix(filepath.Base(p), ".scd")
		t.Run(page, func(t *testing.T) {
			in, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			out := filepath.Join(t.TempDir(), page)
			f, err := os.Create(out)
			if err != nil {
				t.Fatal(err)
			}
			scdoc := exec.Command("scdoc")
			scdoc.Stdin, scdoc.Stdout = in, f
			var stderr strings.Builder
			scdoc.Stderr = &stderr
			err = scdoc.Run()
			f.Close()
			if err != nil || stderr.Len() > 0 {
				t.Fatalf("scdoc < %s: %v: %s", p, err, stderr.String())
			}
			man := exec.Command("man", "-l", out)
			man.Env = append(os.Environ(), "MANWIDTH=100", "MANPAGER=cat", "PAGER=cat")
			text, err := man.CombinedOutput()
			if err != nil {
				t.Fatalf("man -l %s: %v: %s", page, err, text)
			}
			s := string(text)
			name, section := page[:strings.LastIndex(page, ".")], page[strings.LastIndex(page, ".")+1:]
			if !strings.Contains(s, name+"("+section+")") || !strings.Contains(s, "NAME") || !strings.Contains(s, "SEE ALSO") {
				t.Errorf("man -l %s does not show a page titled %s(%s) with NAME and SEE ALSO:\n%s", page, name, section, s)
			}
			data, _ := os.ReadFile(p)
			for _, m := range ownRef.FindAllStringSubmatch(string(data), -1) {
				if !names[m[1]+"."+m[2]] {
					t.Errorf("%s refers to %s(%s), which is not a page of dist/man", page, m[1], m[2])
				}
			}
		})
	}
}
