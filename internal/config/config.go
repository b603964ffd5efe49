// Package config reads clp.conf, clp's own settings file (pacman's settings
// stay in pacman.conf and are read through alpm). The format is pacman.conf's:
// "[section]" headers, "Key = value" lines, "#" comments; repeated keys add to
// a list. Unknown keys are an error so that a typo never silently weakens a
// safety setting.
package config

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"github.com/vincentos/clp/internal/fsx"
	"io/fs"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// DefaultPath is where clp.conf lives under the root.
const DefaultPath = "/etc/clp/clp.conf"

// Config is clp.conf after defaults are applied.
type Config struct {
	// AllowedPaths are the directories a patch may change files under.
	AllowedPaths []string
	// ArchiveServers are Arch-Linux-Archive-style servers for old packages.
	ArchiveServers []string
	// SnapshotKeep is how many package-state snapshots to keep.
	SnapshotKeep int
	// ScriptTimeoutSec bounds a patch script's run time.
	ScriptTimeoutSec int
	// FeedMirrors are the TUF feed base URLs, tried in order.
	FeedMirrors []string
	// UpdatePolicy is "all", "critical" or "none".
	UpdatePolicy string
	// PhasedUpdates is how this machine takes part in phased rollouts:
	// "follow" (its bucket decides), "always" (the first phase: every
	// patch whose rollout has started) or "never" (only at 100%).
	PhasedUpdates string
	// WithdrawnPatches is what clp update does with an applied patch the
	// feed withdrew: "rollback" (the default) or "report".
	WithdrawnPatches string
	// AllowLegacyFeed enables the original tool's unsigned CLP.db feed
	// (each legacy patch must still carry a minisign signature).
	AllowLegacyFeed bool
	// MaxDownloadBytes caps any single download.
	MaxDownloadBytes int64
	// BootGuard turns the boot guard on ([boot] Guard).
	BootGuard bool
	// BootCritical are the globs of packages whose change arms the boot
	// guard: DefaultBootCritical plus the CriticalPackages an admin adds.
	BootCritical []string
	// BootFailures is how many failed or silent boots trigger the restore
	// ([boot] FailedBoots).
	BootFailures int
	// BootTimeoutSec bounds how long a boot may take to be judged good
	// ([boot] CheckTimeout).
	BootTimeoutSec int
	// Path is the file this was read from ("" for defaults only).
	Path string
}

// NeverAllowed are paths no patch may touch whatever clp.conf says.
var NeverAllowed = []string{"/proc", "/sys", "/dev", "/run", "/var/lib/clp"}

// DefaultBootCritical are the packages whose change arms the boot guard
// (shell globs, as path.Match reads them): kernels and firmware, graphics
// drivers, the display server and display managers, init and initramfs
// generators, boot loaders. An admin adds to them with CriticalPackages.
var DefaultBootCritical = []string{
	"linux", "linux-*", "*-firmware", "*-ucode",
	"*nvidia*", "mesa", "mesa-*", "lib32-mesa", "vulkan-*", "libdrm", "xf86-video-*",
	"xorg-server", "xorg-server-*", "wayland", "egl-wayland",
	"gdm", "sddm", "lightdm", "lightdm-*", "lxdm", "ly", "greetd", "greetd-*", "plymouth",
	"systemd", "systemd-*", "dbus", "dbus-broker",
	"mkinitcpio", "mkinitcpio-*", "dracut", "booster",
	"grub", "refind", "syslinux", "limine", "efibootmgr", "shim", "shim-*",
}

// Default returns the built-in settings.
func Default() *Config {
	return &Config{
		AllowedPaths:     []string{"/etc", "/usr", "/opt", "/boot"},
		ArchiveServers:   []string{"https://archive.archlinux.org"},
		SnapshotKeep:     100,
		ScriptTimeoutSec: 300,
		UpdatePolicy:     "all",
		PhasedUpdates:    "follow",
		WithdrawnPatches: "rollback",
		MaxDownloadBytes: 2 << 30,
		BootGuard:        true,
		BootCritical:     append([]string(nil), DefaultBootCritical...),
		BootFailures:     2,
		BootTimeoutSec:   300,
	}
}

// Load reads the file at path; a missing file yields the defaults.
func Load(path string) (*Config, error) { return LoadUnder("/", path) }

// LoadUnder is Load for path under the system root root, read inside it
// (fsx's *Under helpers; a path outside the root, --config, is read as
// it is).
func LoadUnder(root, path string) (*Config, error) {
	data, err := fsx.ReadFileCappedUnder(root, path, fsx.SmallFileMax)
	if err == nil {
		// clp.conf says which paths patches may change and which
		// feeds to trust: only root may have written it.
		err = fsx.CheckTrusted(path)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return Default(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	c, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c.Path = path
	return c, nil
}

// Parse reads clp.conf content.
func Parse(data []byte) (*Config, error) {
	c := Default()
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	lineNo := 0
	section := ""
	for sc.Scan() {
		lineNo++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			section = strings.TrimSpace(line[1 : len(line)-1])
			if section != "options" && section != "update" && section != "boot" {
				return nil, fmt.Errorf("line %d: unknown section [%s]", lineNo, section)
			}
			continue
		}
		key, val, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("line %d: expected 'Key = value', got %q", lineNo, line)
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		list := func(dst *[]string) {
			if !seen[key] {
				*dst = nil
				seen[key] = true
			}
			*dst = append(*dst, strings.Fields(val)...)
		}
		var err error
		switch key {
		case "AllowedPaths":
			list(&c.AllowedPaths)
		case "ArchiveServer":
			list(&c.ArchiveServers)
		case "FeedMirror", "Mirror":
			list(&c.FeedMirrors)
		case "SnapshotKeep":
			c.SnapshotKeep, err = positive(val)
		case "ScriptTimeout":
			c.ScriptTimeoutSec, err = positive(val)
		case "MaxDownloadSize":
			var n int
			n, err = positive(val)
			c.MaxDownloadBytes = int64(n) << 20
		case "UpdatePolicy":
			switch val {
			case "all", "critical", "none":
				c.UpdatePolicy = val
			default:
				err = fmt.Errorf("must be all, critical or none")
			}
		case "PhasedUpdates":
			switch val {
			case "follow", "always", "never":
				c.PhasedUpdates = val
			default:
				err = fmt.Errorf("must be follow, always or never")
			}
		case "WithdrawnPatches":
			switch val {
			case "rollback", "report":
				c.WithdrawnPatches = val
			default:
				err = fmt.Errorf("must be rollback or report")
			}
		case "AllowLegacyFeed":
			c.AllowLegacyFeed, err = parseBool(val)
		case "Guard":
			c.BootGuard, err = parseBool(val)
		case "CriticalPackages":
			// Adds to the defaults, never replaces them: a line meant
			// to add one driver must not drop the kernel.
			for _, g := range strings.Fields(val) {
				if _, merr := path.Match(g, ""); merr != nil {
					err = fmt.Errorf("%q is not a valid glob: %w", g, merr)
					break
				}
				c.BootCritical = append(c.BootCritical, g)
			}
		case "FailedBoots":
			c.BootFailures, err = positive(val)
		case "CheckTimeout":
			c.BootTimeoutSec, err = positive(val)
		default:
			return nil, fmt.Errorf("line %d: unknown setting %q", lineNo, key)
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %s: %w", lineNo, key, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, p := range c.AllowedPaths {
		if !filepath.IsAbs(p) || filepath.Clean(p) != p || p == "/" {
			return nil, fmt.Errorf("AllowedPaths: %q must be a clean absolute directory other than /", p)
		}
		for _, n := range NeverAllowed {
			if p == n || strings.HasPrefix(p, n+"/") || strings.HasPrefix(n, p+"/") && n != "/var/lib/clp" {
				return nil, fmt.Errorf("AllowedPaths: %q is never allowed", p)
			}
		}
	}
	return c, nil
}

func positive(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a positive whole number", s)
	}
	return n, nil
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "yes", "true", "1", "on":
		return true, nil
	case "no", "false", "0", "off":
		return false, nil
	}
	return false, fmt.Errorf("%q is not yes or no", s)
}

// PathAllowed reports whether a patch may change the absolute path p
// (a path on the target system, not under a sandbox root).
func (c *Config) PathAllowed(p string) bool {
	p = filepath.Clean(p)
	for _, n := range NeverAllowed {
		if p == n || strings.HasPrefix(p, n+"/") {
			return false
		}
	}
	for _, a := range c.AllowedPaths {
		if strings.HasPrefix(p, a+"/") {
			return true
		}
	}
	return false
}
