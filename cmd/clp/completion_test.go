package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/vincentos/clp/patch"
	"github.com/vincentos/clp/testkit/sandbox"
)

// -update rewrites the generated files (completions, the man page's
// COMMANDS section) instead of failing. Another test file of this package
// may define -update too: then share its flag rather than panic on a
// second definition. (A file initialised after this one must do the same.)
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the generated files under dist/")
	}
}

func updateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

var completionFiles = map[string]string{
	"bash": "../../dist/completions/clp.bash",
	"zsh":  "../../dist/completions/_clp",
	"fish": "../../dist/completions/clp.fish",
}

// TestCompletions fails when a committed completion script differs from
// what the registry generates now: a command or a flag was added, renamed
// or removed. -update (or 'make completions') rewrites them.
func TestCompletions(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		var buf bytes.Buffer
		if err := writeCompletion(&buf, shell); err != nil {
			t.Fatal(err)
		}
		path := completionFiles[shell]
		old, err := os.ReadFile(path)
		if err != nil && !updateGolden() {
			t.Errorf("%s: %v: run 'go test ./cmd/clp -run TestCompletions -update'", path, err)
			continue
		}
		if bytes.Equal(old, buf.Bytes()) {
			continue
		}
		if updateGolden() {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("rewrote %s", path)
			continue
		}
		t.Errorf("%s is stale (a command or flag changed): run 'go test ./cmd/clp -run TestCompletions -update'\n%s", path, firstDiff(string(old), buf.String()))
	}
}

// TestCompletionsNameEverything checks the generator itself: every visible
// command, alias and flag appears in every shell's script.
func TestCompletionsNameEverything(t *testing.T) {
	m := completionModel()
	if len(m.Commands) < 5 {
		t.Fatalf("only %d commands in the model", len(m.Commands))
	}
	for _, shell := range []string{"bash", "zsh", "fish"} {
		var buf bytes.Buffer
		if err := writeCompletion(&buf, shell); err != nil {
			t.Fatal(err)
		}
		script := buf.String()
		for n, c := range commands {
			if c.Hidden {
				if shell == "bash" && strings.Contains(script, "|"+n+")") {
					t.Errorf("%s: hidden command %s is offered", shell, n)
				}
				continue
			}
			if !strings.Contains(script, n) {
				t.Errorf("%s: command %s is missing", shell, n)
			}
		}
		for _, c := range m.Commands {
			for _, f := range append(c.Flags, m.Globals...) {
				want := "--" + f.Long
				if shell == "fish" {
					want = "-l " + f.Long
				}
				if !strings.Contains(script, want) {
					t.Errorf("%s: flag --%s of %s is missing", shell, f.Long, c.Name)
				}
			}
		}
	}
}

func TestCompletionUnknownShell(t *testing.T) {
	var out, errb bytes.Buffer
	code := Main(t.Context(), []string{"completion", "tcsh"}, strings.NewReader(""), &out, &errb)
	if code != ExitUsage || !strings.Contains(errb.String(), `unknown shell "tcsh"`) || out.Len() != 0 {
		t.Fatalf("code %d, stdout %q, stderr %q", code, out.String(), errb.String())
	}
}

// completionDir makes a folder to complete in: a patch, a key, other files
// and a directory.
func completionDir(t *testing.T) string {
	dir := t.TempDir()
	for _, f := range []string{"fix.clp", "notes.txt", "vincentos.pub"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "patchdir"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// writeScript writes the generated script for shell into dir.
func writeScript(t *testing.T, dir, shell string) string {
	var buf bytes.Buffer
	if err := writeCompletion(&buf, shell); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "clp-completion."+shell)
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// stateWithPatches writes an empty sandbox root whose clp state lists two
// applied patches, for completing 'clp rollback'.
func stateWithPatches(t *testing.T) (root string) {
	root = t.TempDir()
	if _, err := sandbox.Create(root); err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"CLP1250601", "CLP2250714"} {
		a := patch.Applied{Name: name, Version: "1", Seq: int64(i + 1), Steps: []patch.Step{}}
		data, err := json.MarshalIndent(a, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(root, "var/lib/clp/patches", name)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "applied.json"), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

type compCase struct {
	line string
	want []string // exactly these candidates, sorted
}

func completionCases(root string) []compCase {
	return []compCase{
		{"clp ap", []string{"apply"}},
		{"clp --root /mnt st", []string{"status"}},
		{"clp -r /mnt st", []string{"status"}},
		{"clp apply --dr", []string{"--dry-run"}},
		{"clp --col", []string{"--color"}},
		{"clp --color ", []string{"always", "auto", "never"}},
		{"clp snapshot ", []string{"create", "delete", "diff", "list", "restore", "show"}},
		{"clp snapshot list ", nil},
		{"clp hooks ", []string{"install", "remove", "status"}},
		{"clp build ", []string{"patchdir"}},
		{"clp help sn", []string{"snapshot"}},
		{"clp status ", nil},
		{"clp hoo", []string{"hooks"}}, // hook is hidden
		{"clp --root " + root + " rollback ", []string{"CLP1250601", "CLP2250714"}},
		{"clp --root " + root + " rollback CLP2", []string{"CLP2250714"}},
	}
}

// TestCompletionBash runs the generated bash completion with the real
// bash-completion library, as bash does on <TAB>; 'clp' is the test binary
// (testscript.Main puts it on PATH), so rollback's names come from a real
// 'clp list --json'.
func TestCompletionBash(t *testing.T) {
	lib := "/usr/share/bash-completion/bash_completion"
	if _, err := os.Stat(lib); err != nil {
		t.Skip("bash-completion is not installed")
	}
	dir := completionDir(t)
	script := writeScript(t, t.TempDir(), "bash")
	cases := append(completionCases(stateWithPatches(t)),
		compCase{"clp apply ", []string{"fix.clp", "patchdir"}},
		compCase{"clp verify --key ", []string{"patchdir", "vincentos.pub"}},
		compCase{"clp --root=", []string{"patchdir"}},
	)
	for _, tc := range cases {
		prog := `source ` + lib + `
source ` + script + `
line=$1
read -ra COMP_WORDS <<<"$line"
[[ $line == *" " || $line == *= ]] && COMP_WORDS+=("")
if [[ $line == *= ]]; then w=${COMP_WORDS[-2]}; COMP_WORDS[-2]=${w%=}; COMP_WORDS[-1]==; COMP_WORDS+=(""); fi
COMP_LINE=$line COMP_POINT=${#line} COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
_clp clp "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}"
`
		cmd := exec.Command("bash", "-c", prog, "bash", tc.line)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("%q: %v: %s", tc.line, err, out)
			continue
		}
		checkCandidates(t, "bash", tc, strings.TrimSuffix(string(out), "\n"), func(s string) string { return s })
	}
}

// TestCompletionFish asks the real fish for its candidates.
func TestCompletionFish(t *testing.T) {
	if _, err := exec.LookPath("fish"); err != nil {
		t.Skip("fish is not installed")
	}
	dir := completionDir(t)
	script := writeScript(t, t.TempDir(), "fish")
	cases := append(completionCases(stateWithPatches(t)),
		compCase{"clp build patch", []string{"patchdir"}},
	)
	for _, tc := range cases {
		cmd := exec.Command("fish", "--no-config", "-c", "source "+script+"; complete -C $argv[1]", tc.line)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("%q: %v: %s", tc.line, err, out)
			continue
		}
		checkCandidates(t, "fish", tc, strings.TrimSuffix(string(out), "\n"), func(s string) string {
			c, _, _ := strings.Cut(s, "\t") // fish prints a description after a tab
			return c
		})
	}
}

// TestCompletionZsh checks the zsh script's syntax and that zsh's
// completion system accepts it as a completion function.
func TestCompletionZsh(t *testing.T) {
	if _, err := exec.LookPath("zsh"); err != nil {
		t.Skip("zsh is not installed")
	}
	dir := t.TempDir()
	script := writeScript(t, dir, "zsh")
	if out, err := exec.Command("zsh", "-n", script).CombinedOutput(); err != nil {
		t.Fatalf("zsh -n: %v: %s", err, out)
	}
	fdir := filepath.Join(dir, "functions")
	if err := os.Mkdir(fdir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(script, filepath.Join(fdir, "_clp")); err != nil {
		t.Fatal(err)
	}
	prog := `fpath=(` + fdir + ` $fpath); autoload -Uz compinit; compinit -u -d ` + filepath.Join(dir, "zcompdump") + `; print -r -- $_comps[clp]`
	out, err := exec.Command("zsh", "-f", "-c", prog).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "_clp" {
		t.Fatalf("compinit did not register _clp for clp: %v: %q", err, out)
	}
}

func checkCandidates(t *testing.T, shell string, tc compCase, out string, clean func(string) string) {
	t.Helper()
	var got []string
	if out != "" {
		for _, l := range strings.Split(out, "\n") {
			// bash marks directories itself when it shows them; fish
			// adds the slash: compare without it.
			got = append(got, strings.TrimSuffix(clean(l), "/"))
		}
	}
	sort.Strings(got)
	if strings.Join(got, " ") != strings.Join(tc.want, " ") {
		t.Errorf("%s: %q completes to %q, want %q", shell, tc.line, got, tc.want)
	}
}
