package pacman

import (
	"errors"
	"fmt"
	"github.com/vincentos/clp/internal/fsx"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	pacmanconf "github.com/Morganamilo/go-pacmanconf"
)

// Options are the command-line overrides (clp's --root, --dbpath, --config,
// --cachedir). Empty fields take pacman.conf's values, mapped under Root.
type Options struct {
	Root      string
	DBPath    string
	Config    string
	CacheDirs []string
}

// Paths is where everything of one pacman installation lives, resolved to
// real paths on this machine (so under Root for a sandbox).
type Paths struct {
	Root      string
	DBPath    string
	Config    string
	LogFile   string
	GPGDir    string
	CacheDirs []string
	HookDirs  []string
	// Conf is pacman.conf as pacman-conf printed it.
	Conf *pacmanconf.Config
}

// Lockfile is pacman's database lock.
func (p *Paths) Lockfile() string { return filepath.Join(p.DBPath, "db.lck") }

// Errors that callers map to exit codes.
var (
	ErrNoRoot = errors.New("root does not exist")
	ErrConfig = errors.New("cannot read pacman configuration")
)

// ResolveDirs says that the pacman clp runs resolves every directory that
// pacman.conf names (RootDir, DBPath, GPGDir, CacheDir, HookDir) with
// realpath and refuses one that does not exist, as pacman 7 does (libalpm
// 15 and newer); pacman 6 takes them as written. Package alpm sets it from
// the libalpm clp is linked with, so clp reads pacman.conf exactly as the
// pacman beside it does, refusals included.
var ResolveDirs bool

// ReadConfig reads pacman.conf for the system it belongs to ("/").
func ReadConfig(path string) (*pacmanconf.Config, error) { return ReadConfigUnder(path, "/") }

// ReadConfigUnder reads the pacman.conf of the installation at root: its
// Include paths are that system's paths, so they are read under root (a
// path already inside root, as a sandbox's own pacman.conf names them, is
// kept). clp's own reader answers when it understands the file; anything
// it does not goes to pacman-conf, which reads Includes literally.
func ReadConfigUnder(path, root string) (*pacmanconf.Config, error) {
	return readConfigUnder(path, root)
}

// readConfigUnder is a variable so that unit tests of path mapping do not
// need pacman-conf.
var readConfigUnder = func(path, root string) (*pacmanconf.Config, error) {
	// pacman 7 resolves pacman.conf's directories where it runs. For the
	// running system that is the file pacman is handed; for another root,
	// pacman gets a copy without them (their values, mapped under the
	// root, go on its command line: see effective.go), so only "/" is
	// refused as pacman would refuse it.
	conf, err := parseConfigNative(path, root, ResolveDirs && (root == "" || root == "/"))
	if err == nil {
		return conf, nil
	}
	var refused *dirError
	if errors.As(err, &refused) || fsx.IsEscape(err) {
		// (A file that leads out of the root is not handed to
		// pacman-conf, which would follow the link.)
		return nil, fmt.Errorf("%w %s: %v", ErrConfig, path, err)
	}
	return readConfigPacmanConf(path)
}

// readConfigPacmanConf asks pacman-conf (through go-pacmanconf), the
// reference for what pacman itself reads.
func readConfigPacmanConf(path string) (*pacmanconf.Config, error) {
	conf, stderr, err := pacmanconf.PacmanConf("--config", path)
	if err != nil {
		// pacman-conf says it on several "error: " lines; clp's error
		// is one line.
		var parts []string
		for _, l := range strings.Split(stderr, "\n") {
			if l = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "error:")); l != "" {
				parts = append(parts, l)
			}
		}
		msg := strings.Join(parts, "; ")
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("%w %s: %s", ErrConfig, path, msg)
	}
	return conf, nil
}

// Resolve finds pacman.conf (Options.Config, else <root>/etc/pacman.conf),
// reads it and maps every path in it under the root. A path in pacman.conf
// that already lies inside the root (a sandbox's own pacman.conf names its
// directories absolutely) is kept as it is.
func Resolve(o Options) (*Paths, error) {
	root := o.Root
	if root == "" {
		root = "/"
	}
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(root)
	if err != nil || !st.IsDir() {
		return nil, fmt.Errorf("%w: %s", ErrNoRoot, root)
	}
	cfg := o.Config
	if cfg == "" {
		cfg = under(root, "/etc/pacman.conf")
	}
	// pacman-conf reports a missing or unreadable file badly ("config file
	// ... could not be read" at best), so check first for a clear error.
	f, err := fsx.OpenRegular(cfg, maxConfSize)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s does not exist", ErrConfig, cfg)
		}
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	f.Close()
	conf, err := readConfigUnder(cfg, root)
	if err != nil {
		return nil, err
	}
	p := &Paths{Root: root, Config: cfg, Conf: conf}
	p.DBPath = pick(o.DBPath, root, conf.DBPath, "/var/lib/pacman/")
	p.LogFile = pick("", root, conf.LogFile, "/var/log/pacman.log")
	p.GPGDir = pick("", root, conf.GPGDir, "/etc/pacman.d/gnupg/")
	if len(o.CacheDirs) > 0 {
		p.CacheDirs = o.CacheDirs
	} else {
		dirs := conf.CacheDir
		if len(dirs) == 0 {
			dirs = []string{"/var/cache/pacman/pkg/"}
		}
		for _, d := range dirs {
			p.CacheDirs = append(p.CacheDirs, pick("", root, d, ""))
		}
	}
	hooks := conf.HookDir
	if len(hooks) == 0 {
		hooks = []string{"/etc/pacman.d/hooks/"}
	}
	for _, d := range hooks {
		p.HookDirs = append(p.HookDirs, pick("", root, d, ""))
	}
	return p, nil
}

func pick(explicit, root, fromConf, def string) string {
	if explicit != "" {
		return filepath.Clean(explicit)
	}
	v := fromConf
	if v == "" {
		v = def
	}
	if root == "/" || within(root, v) {
		return filepath.Clean(v)
	}
	return under(root, v)
}

// mapUnder is where path p of the system at root is on this machine: p
// itself for the running system or a path already inside root (a sandbox's
// pacman.conf names its folders absolutely), else p under root.
func mapUnder(root, p string) string {
	if root == "" || root == "/" || within(root, p) {
		return p
	}
	return under(root, p)
}

func under(root, p string) string {
	return filepath.Join(root, filepath.Clean("/"+p))
}

func within(root, p string) bool {
	p = filepath.Clean(p)
	return p == root || strings.HasPrefix(p, root+"/")
}
