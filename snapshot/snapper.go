package snapshot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/vincentos/clp/internal/fsx"
)

// btrfsMagic is BTRFS_SUPER_MAGIC from linux/magic.h.
const btrfsMagic = 0x9123683E

// IsBtrfs reports whether path is on a btrfs file system.
func IsBtrfs(path string) (bool, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return false, fmt.Errorf("statfs %s: %w", path, err)
	}
	return uint32(st.Type) == btrfsMagic, nil
}

// runSnapper runs snapper and returns its stdout. It is a variable so unit
// tests can check the argv without snapper.
var runSnapper = func(ctx context.Context, bin string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = strings.TrimSpace(stdout.String())
		}
		return nil, fmt.Errorf("%s %s: %w: %s", bin, strings.Join(args, " "), err, msg)
	}
	return stdout.Bytes(), nil
}

// Snapper drives snapper for one root and one config. It always runs
// `snapper --no-dbus`: hooks run inside pacman's chroot and outside a
// running system, where snapperd cannot be reached over D-Bus.
type Snapper struct {
	Bin    string // "snapper" when empty
	Root   string // "/" or "" for the running system, else passed as --root
	Config string
}

func (s *Snapper) bin() string {
	if s.Bin == "" {
		return "snapper"
	}
	return s.Bin
}

func (s *Snapper) global() []string {
	a := []string{"--no-dbus"}
	if s.Root != "" && s.Root != "/" {
		a = append(a, "--root", s.Root)
	}
	return a
}

// ErrNoSnapper is returned by DetectSnapper when the root is not btrfs or no
// snapper config covers it: the caller simply makes no snapper snapshots.
var ErrNoSnapper = errors.New("no snapper config for this root")

// DetectSnapper returns the snapper config covering root (its subvolume is
// "/", relative to root), or ErrNoSnapper when root is not on btrfs, snapper
// is not installed, or no config covers root.
func DetectSnapper(ctx context.Context, root string) (*Snapper, error) {
	if root == "" {
		root = "/"
	}
	ok, err := IsBtrfs(root)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%s is not on btrfs: %w", root, ErrNoSnapper)
	}
	s := &Snapper{Root: root}
	if _, err := lookPath(s.bin()); err != nil {
		return nil, fmt.Errorf("snapper is not installed: %w", ErrNoSnapper)
	}
	// No config file, no snapper: decided without running snapper, which
	// keeps the hook cheap on the common non-snapper system (and snapper
	// fails, rather than listing nothing, when its sysconfig file is absent).
	if des, _ := fsx.ReadDirUnder(root, filepath.Join(root, "etc/snapper/configs")); len(des) == 0 {
		return nil, fmt.Errorf("%s has no snapper configs: %w", root, ErrNoSnapper)
	}
	cfgs, err := s.Configs(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range cfgs {
		if c.Subvolume == "/" {
			s.Config = c.Name
			return s, nil
		}
	}
	return nil, fmt.Errorf("no snapper config has subvolume / under %s: %w", root, ErrNoSnapper)
}

// lookPath is exec.LookPath; a variable for the unit tests that stub
// runSnapper on machines without snapper.
var lookPath = exec.LookPath

// SnapperConfig is one `snapper list-configs` entry.
type SnapperConfig struct {
	Name      string `json:"config"`
	Subvolume string `json:"subvolume"`
}

// Configs lists snapper's configs for the root.
func (s *Snapper) Configs(ctx context.Context) ([]SnapperConfig, error) {
	out, err := runSnapper(ctx, s.bin(), append(s.global(), "--jsonout", "list-configs")...)
	if err != nil {
		return nil, err
	}
	var v struct {
		Configs []SnapperConfig `json:"configs"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		return nil, fmt.Errorf("parse snapper list-configs output: %w", err)
	}
	return v.Configs, nil
}

func (s *Snapper) create(ctx context.Context, extra []string, desc string, clpID int) (int, error) {
	if s.Config == "" {
		return 0, errors.New("snapper: no config chosen")
	}
	args := append(s.global(), "-c", s.Config, "create")
	args = append(args, extra...)
	args = append(args, "-p", "-d", desc, "--cleanup-algorithm", "number", "--userdata", "clp="+strconv.Itoa(clpID))
	out, err := runSnapper(ctx, s.bin(), args...)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("snapper create printed %q, not a snapshot number", strings.TrimSpace(string(out)))
	}
	return n, nil
}

// CreatePre makes a snapper pre snapshot linked (userdata clp=ID) to clp's
// snapshot clpID and returns its number.
func (s *Snapper) CreatePre(ctx context.Context, desc string, clpID int) (int, error) {
	return s.create(ctx, []string{"-t", "pre"}, desc, clpID)
}

// CreatePost makes the snapper post snapshot of pre.
func (s *Snapper) CreatePost(ctx context.Context, pre int, desc string, clpID int) (int, error) {
	return s.create(ctx, []string{"-t", "post", "--pre-number", strconv.Itoa(pre)}, desc, clpID)
}

// SnapperSnapshot is one `snapper list` entry.
type SnapperSnapshot struct {
	Number      int               `json:"number"`
	Type        string            `json:"type"` // single, pre, post
	PreNumber   int               `json:"pre-number"`
	Date        string            `json:"date"`
	Description string            `json:"description"`
	Userdata    map[string]string `json:"userdata"`
}

// ClpID returns the clp snapshot this snapper snapshot is linked to, or 0.
func (s SnapperSnapshot) ClpID() int {
	n, _ := strconv.Atoi(s.Userdata["clp"])
	return n
}

// List returns the config's snapshots, without snapper's number 0
// ("current").
func (s *Snapper) List(ctx context.Context) ([]SnapperSnapshot, error) {
	if s.Config == "" {
		return nil, errors.New("snapper: no config chosen")
	}
	out, err := runSnapper(ctx, s.bin(), append(s.global(), "-c", s.Config, "--jsonout", "list", "--disable-used-space")...)
	if err != nil {
		return nil, err
	}
	var v map[string][]struct {
		SnapperSnapshot
		PreNumber *int `json:"pre-number"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		return nil, fmt.Errorf("parse snapper list output: %w", err)
	}
	var list []SnapperSnapshot
	for _, e := range v[s.Config] {
		if e.Number == 0 {
			continue
		}
		if e.PreNumber != nil {
			e.SnapperSnapshot.PreNumber = *e.PreNumber
		}
		list = append(list, e.SnapperSnapshot)
	}
	return list, nil
}
