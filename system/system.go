// Package system is the one value for "the installation clp manages":
// built once from the global flags (--root, --dbpath, --config, --cachedir,
// --state-dir) and clp.conf, and passed down, so that no command maps a
// path under --root on its own.
//
// It knows where things are (pacman's overrides, clp's state directory,
// clp.conf, the trusted keys, /opt/CLP, the logs) and reads clp.conf once.
// It must not open libalpm (cmd does, through alpm, so this stays pure Go
// for every package that needs a path), print, or exit.
package system

import (
	"path/filepath"
	"sync"

	"github.com/vincentos/clp/internal/config"
	"github.com/vincentos/clp/internal/fsx"
	"github.com/vincentos/clp/pacman"
)

// Where clp keeps its files, relative to the root.
const (
	DefaultStateDir = "/var/lib/clp"
	KeysDir         = "/etc/clp/keys"
	OptDir          = "/opt/CLP"
	// PatchLog is where patch scripts log, as the original clpctl did.
	PatchLog = "/var/log/CLP.log"
	// ClpLog is clp's own log of lifted pins.
	ClpLog = "/var/log/clp.log"
)

// System is one installation clp manages.
type System struct {
	// Root is the installation's root directory ("/" for this machine).
	Root string
	// Pacman are pacman's paths as the command line overrides them.
	Pacman pacman.Options
	// StateDir is clp's state directory (<root>/var/lib/clp unless
	// --state-dir moved it).
	StateDir string

	once sync.Once
	cfg  *config.Config
	err  error
}

// New is the installation at o.Root (already absolute), with clp's state
// in stateDir ("" for the default under the root).
func New(o pacman.Options, stateDir string) *System {
	if o.Root == "" {
		o.Root = "/"
	}
	s := &System{Root: o.Root, Pacman: o, StateDir: stateDir}
	if s.StateDir == "" {
		s.StateDir = s.Under(DefaultStateDir)
	}
	// Under a mounted root, clp's own folder is taken where that system
	// has it (an absolute link there is resolved against the root:
	// fsx.ResolveInRoot); everything under it is then anchored to the root.
	s.StateDir = fsx.ResolveInRoot(s.Root, s.StateDir)
	return s
}

// own is clp's own path p (its folders under /opt, /var/log) on the
// managed system, resolved as StateDir is.
func (s *System) own(p string) string { return fsx.ResolveInRoot(s.Root, s.Under(p)) }

// Under maps a path on the managed system under the root.
func (s *System) Under(p string) string { return fsx.UnderRoot(s.Root, p) }

// ConfigPath is clp.conf.
func (s *System) ConfigPath() string { return s.Under(config.DefaultPath) }

// KeysDir holds the minisign keys trusted for hand-carried patches.
func (s *System) KeysDir() string { return s.Under(KeysDir) }

// OptDir is /opt/CLP, where unpacked patches live for their scripts.
func (s *System) OptDir() string { return s.own(OptDir) }

// PatchLog is /var/log/CLP.log under the root.
func (s *System) PatchLog() string {
	return filepath.Join(s.own(filepath.Dir(PatchLog)), filepath.Base(PatchLog))
}

// ClpLog is /var/log/clp.log under the root.
func (s *System) ClpLog() string {
	return filepath.Join(s.own(filepath.Dir(ClpLog)), filepath.Base(ClpLog))
}

// Config reads clp.conf (defaults when it is missing), once.
func (s *System) Config() (*config.Config, error) {
	s.once.Do(func() { s.cfg, s.err = config.LoadUnder(s.Root, s.ConfigPath()) })
	return s.cfg, s.err
}

// Paths resolves pacman's paths (pacman.conf read natively).
func (s *System) Paths() (*pacman.Paths, error) { return pacman.Resolve(s.Pacman) }
