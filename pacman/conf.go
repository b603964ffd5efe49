package pacman

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	pacmanconf "github.com/Morganamilo/go-pacmanconf"
)

// parseConfigNative reads pacman.conf the way pacman-conf does, for the
// settings clp uses (paths, IgnorePkg and the rest of the package lists,
// Architecture, repository names and servers), Include lines and their
// globs included. Running pacman-conf costs a process start, as much as the
// rest of `clp status` or a pacman hook; this does not. A file it does not
// understand is an error, and the caller then asks pacman-conf, whose
// message is authoritative. TestNativeConfigMatchesPacmanConf keeps the two
// in step, for pacman 6 and pacman 7 alike.
//
// root is the installation the file belongs to: Include paths are read
// under it. resolveDirs reads directories as pacman 7 does (see
// ResolveDirs); a directory that does not exist is then a *dirError, a
// refusal pacman-conf would make too, not something to ask it about.
func parseConfigNative(path, root string, resolveDirs bool) (*pacmanconf.Config, error) {
	if root == "" {
		root = "/"
	}
	c := &pacmanconf.Config{}
	st := &confState{conf: c, root: root, resolveDirs: resolveDirs}
	if err := st.parseFile(path, "", 0); err != nil {
		return nil, err
	}
	// Defaults, as pacman-conf prints them: a RootDir moves the database
	// and the log under it; everything else has a fixed default.
	if c.DBPath == "" {
		c.DBPath = joinRootDefault(c.RootDir, "/var/lib/pacman/")
	}
	if c.RootDir == "" {
		c.RootDir = "/"
	}
	if c.LogFile == "" {
		c.LogFile = joinRootDefault(c.RootDir, "/var/log/pacman.log")
	}
	if c.GPGDir == "" {
		c.GPGDir = "/etc/pacman.d/gnupg/"
	}
	if len(c.CacheDir) == 0 {
		c.CacheDir = []string{"/var/cache/pacman/pkg/"}
	}
	if len(c.HookDir) == 0 {
		c.HookDir = []string{"/etc/pacman.d/hooks/"}
	}
	for i, a := range c.Architecture {
		if a == "auto" {
			c.Architecture[i] = machine()
		}
	}
	for i := range c.Repos {
		r := &c.Repos[i]
		for j, srv := range r.Servers {
			srv = strings.ReplaceAll(srv, "$repo", r.Name)
			if len(c.Architecture) > 0 {
				srv = strings.ReplaceAll(srv, "$arch", c.Architecture[0])
			}
			r.Servers[j] = srv
		}
	}
	return c, nil
}

func joinRootDefault(root, def string) string {
	if root == "" {
		return def
	}
	return strings.TrimSuffix(root, "/") + def
}

type confState struct {
	conf        *pacmanconf.Config
	root        string
	resolveDirs bool
}

// dirError is pacman 7's refusal of a directory in pacman.conf that does
// not resolve (it says "failed to resolve path '%s' passed to '%s'").
type dirError struct {
	Path, Option string
	Err          error
}

func (e *dirError) Error() string {
	return fmt.Sprintf("failed to resolve path '%s' passed to '%s': %v", e.Path, e.Option, e.Err)
}

// dir is a directory value as pacman reads it: as written (pacman 6), or
// through realpath, which must succeed (pacman 7; like pacman, it does not
// check that the path is a directory).
func (s *confState) dir(option, val string) (string, error) {
	if !s.resolveDirs {
		return val, nil
	}
	abs, err := filepath.Abs(val)
	if err == nil {
		abs, err = filepath.EvalSymlinks(abs)
	}
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return "", &dirError{Path: val, Option: option, Err: err}
	}
	return abs, nil
}

func (s *confState) repo(name string) *pacmanconf.Repository {
	for i := range s.conf.Repos {
		if s.conf.Repos[i].Name == name {
			return &s.conf.Repos[i]
		}
	}
	s.conf.Repos = append(s.conf.Repos, pacmanconf.Repository{Name: name})
	return &s.conf.Repos[len(s.conf.Repos)-1]
}

// parseFile reads one file; section is the section its first lines belong
// to (an included file continues the including file's section, and its own
// section headers do not leak back), as pacman's parser does.
func (s *confState) parseFile(path, section string, depth int) error {
	if depth > 10 {
		return fmt.Errorf("%s: Include nested too deeply", path)
	}
	data, err := readCapped(s.root, path, maxConfSize)
	if err != nil {
		return err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4<<10), maxConfSize) // grows to the longest line
	for n := 1; sc.Scan(); n++ {
		// pacman's reader ignores only whole-line comments: a '#' after
		// a value is part of the value.
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		if strings.HasPrefix(line, "[") {
			if !strings.HasSuffix(line, "]") || len(line) < 3 {
				return fmt.Errorf("%s:%d: bad section header", path, n)
			}
			section = line[1 : len(line)-1]
			if section != "options" {
				s.repo(section)
			}
			continue
		}
		key, val, hasVal := strings.Cut(line, "=")
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		if section == "" {
			return fmt.Errorf("%s:%d: directive outside a section", path, n)
		}
		if key == "Include" {
			if !hasVal || val == "" {
				return fmt.Errorf("%s:%d: Include needs a value", path, n)
			}
			// An Include names a path of the system the file belongs
			// to: under --root, that system's file, never this
			// machine's.
			val = mapUnder(s.root, val)
			matches, err := filepath.Glob(val)
			if err != nil {
				return fmt.Errorf("%s:%d: %w", path, n, err)
			}
			if len(matches) == 0 {
				// pacman reads a pattern that matches nothing as a
				// file name, and fails on it.
				matches = []string{val}
			}
			for _, m := range matches {
				if err := s.parseFile(m, section, depth+1); err != nil {
					return err
				}
			}
			continue
		}
		if section == "options" {
			if err := s.option(key, val, hasVal); err != nil {
				var de *dirError
				if errors.As(err, &de) {
					return err
				}
				return fmt.Errorf("%s:%d: %w", path, n, err)
			}
			continue
		}
		r := s.repo(section)
		switch key {
		case "Server":
			r.Servers = append(r.Servers, val)
		case "SigLevel":
			r.SigLevel = append(r.SigLevel, strings.Fields(val)...)
		case "Usage":
			r.Usage = append(r.Usage, strings.Fields(val)...)
		default:
			return fmt.Errorf("%s:%d: directive %q in repository section [%s] is not known to clp's reader", path, n, key, section)
		}
	}
	return sc.Err()
}

func (s *confState) option(key, val string, hasVal bool) error {
	c := s.conf
	// RootDir, DBPath and GPGDir: the first one counts (pacman keeps
	// a value set on its command line, and the first in the file).
	first := func(dst *string, option string) error {
		if *dst != "" {
			return nil
		}
		v, err := s.dir(option, val)
		*dst = v
		return err
	}
	list := func(dst *[]string, option string) error {
		v, err := s.dir(option, val)
		*dst = append(*dst, strings.Fields(v)...)
		return err
	}
	switch key {
	case "RootDir":
		return first(&c.RootDir, key)
	case "DBPath":
		return first(&c.DBPath, key)
	case "LogFile":
		if c.LogFile == "" {
			c.LogFile = val
		}
	case "GPGDir":
		return first(&c.GPGDir, key)
	case "CacheDir":
		return list(&c.CacheDir, key)
	case "HookDir":
		return list(&c.HookDir, key)
	case "HoldPkg":
		c.HoldPkg = append(c.HoldPkg, strings.Fields(val)...)
	case "IgnorePkg":
		c.IgnorePkg = append(c.IgnorePkg, strings.Fields(val)...)
	case "IgnoreGroup":
		c.IgnoreGroup = append(c.IgnoreGroup, strings.Fields(val)...)
	case "NoUpgrade":
		c.NoUpgrade = append(c.NoUpgrade, strings.Fields(val)...)
	case "NoExtract":
		c.NoExtract = append(c.NoExtract, strings.Fields(val)...)
	case "Architecture":
		c.Architecture = append(c.Architecture, strings.Fields(val)...)
	case "SigLevel":
		c.SigLevel = append(c.SigLevel, strings.Fields(val)...)
	case "LocalFileSigLevel":
		c.LocalFileSigLevel = append(c.LocalFileSigLevel, strings.Fields(val)...)
	case "RemoteFileSigLevel":
		c.RemoteFileSigLevel = append(c.RemoteFileSigLevel, strings.Fields(val)...)
	case "CleanMethod":
		c.CleanMethod = append(c.CleanMethod, strings.Fields(val)...)
	case "XferCommand":
		c.XferCommand = val
	case "UseSyslog", "Color", "TotalDownload", "CheckSpace", "VerbosePkgLists",
		"DisableDownloadTimeout", "ILoveCandy", "NoProgressBar", "DisableSandbox":
		// flags clp does not need
	case "ParallelDownloads", "DownloadUser":
		// values clp does not need
	default:
		return fmt.Errorf("option %q is not known to clp's reader", key)
	}
	return nil
}

func machine() string {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		return "x86_64"
	}
	var b strings.Builder
	for _, c := range u.Machine {
		if c == 0 {
			break
		}
		b.WriteByte(byte(c))
	}
	return b.String()
}
