package pacman

import (
	"bufio"
	"bytes"
	"fmt"
	"github.com/vincentos/clp/internal/fsx"
	"os"
	"path/filepath"
	"strings"
)

// What pacman is handed for one run.
//
// clp names every path of the installation on pacman's command line, so
// that nothing falls back to this machine's defaults. Two things about
// pacman make that alone not enough:
//
//   - pacman reads the directories and Includes written in pacman.conf as
//     paths of the machine it runs on, never under --root; pacman 7 also
//     resolves them (realpath) and refuses one that does not exist here, and
//     adds a CacheDir or HookDir of pacman.conf to those of the command line.
//     On a mounted installation (its own pacman.conf, naming /etc/pacman.d/
//     mirrorlist, /etc/pacman.d/clp-pins.conf, a HookDir) pacman would then
//     read this machine's files, or refuse.
//   - pacman 7 refuses a --gpgdir, --hookdir or --cachedir that does not
//     exist; pacman 6 takes it.
//
// So for a root other than "/", pacman gets a copy of pacman.conf (and of
// each file it includes) in a private temporary folder, with the directory
// lines turned into comments (their values, mapped under the root, are on
// the command line) and every Include naming the copy of the root's file.
// Everything else is kept byte for byte: pacman reads the options it knows,
// clp need not. And a directory that does not exist is replaced: a missing
// keyring or hook folder by an empty private one (pacman never reads this
// machine's), missing cache folders are left out, and when none is left the
// first is created, as pacman 6 creates its cache.

// prepared is what one pacman run is given, and how to clean up after it.
type prepared struct {
	paths *Paths
	tmp   string
}

func (p *prepared) cleanup() {
	if p.tmp != "" {
		os.RemoveAll(p.tmp)
	}
}

// dirOptions are the pacman.conf directives clp always passes on pacman's
// command line.
var dirOptions = map[string]bool{"RootDir": true, "DBPath": true, "CacheDir": true, "HookDir": true, "GPGDir": true, "LogFile": true}

// prepare makes what pacman needs for one run on p.
func prepare(p *Paths) (*prepared, error) {
	eff := *p
	eff.CacheDirs = append([]string(nil), p.CacheDirs...)
	eff.HookDirs = append([]string(nil), p.HookDirs...)
	pr := &prepared{paths: &eff}
	tmp := func() (string, error) {
		if pr.tmp == "" {
			d, err := os.MkdirTemp("", "clp-pacman-")
			if err != nil {
				return "", fmt.Errorf("prepare pacman's configuration: %w", err)
			}
			pr.tmp = d
		}
		return pr.tmp, nil
	}
	fail := func(err error) (*prepared, error) {
		pr.cleanup()
		return nil, err
	}
	if p.Root != "/" {
		d, err := tmp()
		if err != nil {
			return fail(err)
		}
		w := &confWriter{root: p.Root, dir: d}
		conf, err := w.rewrite(p.Config, "", 0)
		if err != nil {
			return fail(fmt.Errorf("%w %s: %v", ErrConfig, p.Config, err))
		}
		eff.Config = conf
	}
	empty := func(name string) (string, error) {
		d, err := tmp()
		if err != nil {
			return "", err
		}
		e := filepath.Join(d, name)
		return e, os.MkdirAll(e, 0o700)
	}
	if !isDir(eff.GPGDir) {
		e, err := empty("empty-gnupg")
		if err != nil {
			return fail(err)
		}
		eff.GPGDir = e
	}
	var hooks []string
	for _, h := range eff.HookDirs {
		if isDir(h) {
			hooks = append(hooks, h)
		}
	}
	if len(hooks) == 0 {
		e, err := empty("empty-hooks")
		if err != nil {
			return fail(err)
		}
		hooks = []string{e}
	}
	eff.HookDirs = hooks
	var caches []string
	for _, c := range eff.CacheDirs {
		if isDir(c) {
			caches = append(caches, c)
		}
	}
	if len(caches) == 0 && len(eff.CacheDirs) > 0 {
		if err := fsx.MkdirAllUnder(p.Root, eff.CacheDirs[0], 0o755); err != nil {
			return fail(fmt.Errorf("create pacman's package cache: %w", err))
		}
		caches = eff.CacheDirs[:1]
	}
	eff.CacheDirs = caches
	return pr, nil
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// confWriter copies pacman.conf and its includes for a root.
type confWriter struct {
	root, dir string
	n         int
}

// maxConfSize bounds one pacman.conf or included file.
const maxConfSize = 1 << 20

// rewrite copies the file at path (a path on this machine) into w.dir and
// returns the copy's path. section is the section its first lines belong
// to: an included file continues the including file's section.
func (w *confWriter) rewrite(path, section string, depth int) (string, error) {
	if depth > 10 {
		return "", fmt.Errorf("%s: Include nested too deeply", path)
	}
	data, err := readCapped(w.root, path, maxConfSize)
	if err != nil {
		return "", err
	}
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4<<10), maxConfSize) // grows to the longest line
	for sc.Scan() {
		line := sc.Text()
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]") {
			section = t[1 : len(t)-1]
		}
		key, val, ok := strings.Cut(t, "=")
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		switch {
		case t == "" || t[0] == '#' || !ok:
		case key == "Include":
			pattern := mapUnder(w.root, val)
			matches, err := filepath.Glob(pattern)
			if err != nil || len(matches) == 0 {
				// pacman fails on it, as it would have on the original.
				fmt.Fprintf(&out, "Include = %s\n", pattern)
				continue
			}
			for _, m := range matches {
				c, err := w.rewrite(m, section, depth+1)
				if err != nil {
					return "", err
				}
				fmt.Fprintf(&out, "Include = %s\n", c)
			}
			continue
		case section == "options" && dirOptions[key]:
			fmt.Fprintf(&out, "# clp: given on pacman's command line: %s\n", t)
			continue
		case section != "options" && key == "Server" && strings.HasPrefix(val, "file://"):
			fmt.Fprintf(&out, "Server = file://%s\n", mapUnder(w.root, strings.TrimPrefix(val, "file://")))
			continue
		}
		out.WriteString(line)
		out.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	w.n++
	dst := filepath.Join(w.dir, fmt.Sprintf("%02d-%s", w.n, filepath.Base(path)))
	if err := os.WriteFile(dst, out.Bytes(), 0o600); err != nil {
		return "", err
	}
	return dst, nil
}

// readCapped reads a regular file of at most limit bytes (the one
// bounded reader, internal/fsx), resolved inside root when it is under it
// (a mounted installation's pacman.conf and its includes: a folder on the
// way swapped for a link out of the root makes the read fail).
func readCapped(root, path string, limit int64) ([]byte, error) {
	return fsx.ReadFileCappedUnder(root, path, limit)
}
