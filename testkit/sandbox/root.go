package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/vincentos/clp/pacman"
)

// Root is a throwaway pacman installation. Its pacman.conf names every
// directory absolutely inside Dir, so neither pacman nor clp falls back to
// the host's /var/lib/pacman or /var/cache/pacman.
type Root struct {
	Dir      string
	DBPath   string
	CacheDir string
	Config   string
	LogFile  string
	GPGDir   string
	HookDir  string
}

// Create lays out a new root in dir (which must exist and should be empty):
// the standard folders, an empty local database and pacman.conf with
// SigLevel = Never (tests that check signatures write their own).
func Create(dir string) (*Root, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	r := &Root{
		Dir:      dir,
		DBPath:   filepath.Join(dir, "var/lib/pacman"),
		CacheDir: filepath.Join(dir, "var/cache/pacman/pkg"),
		Config:   filepath.Join(dir, "etc/pacman.conf"),
		LogFile:  filepath.Join(dir, "var/log/pacman.log"),
		GPGDir:   filepath.Join(dir, "etc/pacman.d/gnupg"),
		HookDir:  filepath.Join(dir, "etc/pacman.d/hooks"),
	}
	for _, d := range []string{"etc/pacman.d/hooks", "etc/pacman.d/gnupg", "var/lib/pacman/local", "var/lib/pacman/sync", "var/cache/pacman/pkg", "var/log", "tmp", "usr/bin", "usr/lib", "opt"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	os.Chmod(filepath.Join(dir, "tmp"), 0o1777)
	// A real root has its users and groups (Arch's filesystem package);
	// patches name owners that are looked up there, not on the host.
	for name, content := range map[string]string{
		"etc/passwd": "root:x:0:0::/root:/bin/bash\nbin:x:1:1::/:/usr/bin/nologin\nnobody:x:65534:65534:Kernel Overflow User:/:/usr/bin/nologin\n",
		"etc/group":  "root:x:0:root\nbin:x:1:root,bin,daemon\nwheel:x:998:\nnobody:x:65534:\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return nil, err
		}
	}
	if err := r.WriteConfig(""); err != nil {
		return nil, err
	}
	// A sandbox never reaches the network: no archive server unless a test
	// starts one on loopback and names it here.
	if err := os.MkdirAll(filepath.Join(dir, "etc/clp"), 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "etc/clp/clp.conf"), []byte(SandboxClpConf), 0o644); err != nil {
		return nil, err
	}
	return r, nil
}

// SandboxClpConf is the clp.conf every sandbox root starts with.
const SandboxClpConf = "# clp.conf of a clp sandbox root\n[options]\nArchiveServer =\n"

// WriteConfig (re)writes pacman.conf; extra is appended verbatim (repository
// sections, more options).
func (r *Root) WriteConfig(extra string) error {
	conf := fmt.Sprintf(`# pacman.conf of a clp sandbox root
[options]
RootDir     = %s
DBPath      = %s/
CacheDir    = %s/
LogFile     = %s
GPGDir      = %s/
HookDir     = %s/
Architecture = x86_64
SigLevel    = Never
LocalFileSigLevel = Never
%s`, r.Dir, r.DBPath, r.CacheDir, r.LogFile, r.GPGDir, r.HookDir, extra)
	return os.WriteFile(r.Config, []byte(conf), 0o644)
}

// Paths resolves the root the way clp does for --root.
func (r *Root) Paths() (*pacman.Paths, error) {
	return pacman.Resolve(pacman.Options{Root: r.Dir})
}

// Pacman runs real pacman on the root through clp's own runner, returning
// its combined output.
func (r *Root) Pacman(op ...string) (string, error) {
	return r.PacmanTargets(op, nil)
}

// PacmanTargets runs pacman with an operation and targets.
func (r *Root) PacmanTargets(op []string, targets []string) (string, error) {
	p, err := r.Paths()
	if err != nil {
		return "", err
	}
	var out bytes.Buffer
	run := &pacman.Runner{Paths: p, LockWait: 5 * time.Second, Stdout: &out, Stderr: &out}
	err = run.Run(context.Background(), op, targets...)
	if err != nil {
		return out.String(), fmt.Errorf("%v: %w\n%s", op, err, out.String())
	}
	return out.String(), nil
}

// PacmanQuery runs a pacman operation that only reads (-Q...), through
// clp's runner (which hands pacman the paths it needs on pacman 6 and 7
// alike), returning its standard output; pacman's messages go into the
// error.
func (r *Root) PacmanQuery(op ...string) (string, error) {
	out, stderr, err := r.query(op)
	if err != nil {
		return out, fmt.Errorf("%v: %w\n%s", op, err, stderr)
	}
	return out, nil
}

func (r *Root) query(op []string) (stdout, stderr string, err error) {
	p, err := r.Paths()
	if err != nil {
		return "", "", err
	}
	var out, errb bytes.Buffer
	run := &pacman.Runner{Paths: p, Stdout: &out, Stderr: &errb}
	err = run.Query(context.Background(), op)
	return out.String(), errb.String(), err
}

// Install installs package files with pacman -U.
func (r *Root) Install(files ...string) error {
	_, err := r.PacmanTargets([]string{"-U"}, files)
	return err
}

// Query returns `pacman -Q` as name -> version.
func (r *Root) Query() (map[string]string, error) {
	out, stderr, err := r.query([]string{"-Q"})
	if err != nil {
		// pacman -Q on an empty database exits 1 with no output.
		var pe *pacman.PacmanError
		if errors.As(err, &pe) && out == "" && strings.TrimSpace(stderr) == "" {
			return map[string]string{}, nil
		}
		return nil, fmt.Errorf("pacman -Q: %w\n%s", err, stderr)
	}
	m := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if n, v, ok := strings.Cut(line, " "); ok {
			m[n] = v
		}
	}
	return m, nil
}

// Cache copies package files into the root's package cache.
func (r *Root) Cache(files ...string) error {
	for _, f := range files {
		if err := CopyFile(f, filepath.Join(r.CacheDir, filepath.Base(f)), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// AddRepo makes a file:// repository named name from package files (with
// the real repo-add), adds it to pacman.conf and syncs it (pacman -Sy).
func (r *Root) AddRepo(name string, files ...string) error {
	dir := filepath.Join(r.Dir, "srv/repo", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var local []string
	for _, f := range files {
		dst := filepath.Join(dir, filepath.Base(f))
		if err := CopyFile(f, dst, 0o644); err != nil {
			return err
		}
		local = append(local, dst)
	}
	args := append([]string{"-q", filepath.Join(dir, name+".db.tar.gz")}, local...)
	if out, err := exec.Command("repo-add", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("repo-add: %v\n%s", err, out)
	}
	data, err := os.ReadFile(r.Config)
	if err != nil {
		return err
	}
	section := fmt.Sprintf("\n[%s]\nSigLevel = Never\nServer = file://%s\n", name, dir)
	if !bytes.Contains(data, []byte("["+name+"]")) {
		if err := os.WriteFile(r.Config, append(data, section...), 0o644); err != nil {
			return err
		}
	}
	_, err = r.Pacman("-Sy")
	return err
}

// RepoDir is where AddRepo keeps repository name.
func (r *Root) RepoDir(name string) string { return filepath.Join(r.Dir, "srv/repo", name) }

// Versions formats a Query result as sorted "name version" lines.
func Versions(m map[string]string) string {
	var lines []string
	for n, v := range m {
		lines = append(lines, n+" "+v)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
