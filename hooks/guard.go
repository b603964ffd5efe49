package hooks

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/vincentos/clp/internal/fsx"
)

// The guard's problem: pacman hands a PreTransaction hook only the names of
// the packages it is about to install or upgrade (NeedsTargets), never the
// versions, and the hook cannot ask libalpm for the transaction (it runs in
// another process while pacman holds the lock). So the guard decides from
// what it can read:
//
//   - a pinned target whose pin has lifted (a sync database offers a version
//     at or above Until) passes;
//   - a pinned target that clp itself is installing passes: clp writes an
//     allow file (AllowFile, see WriteAllow) naming the packages for the
//     duration of its own pacman call;
//   - a pinned target whose newest sync version equals the pinned version
//     passes: `pacman -S` of it reinstalls the pinned version;
//   - every other pinned target is refused: an upgrade or downgrade from a
//     repository, or a `pacman -U` of a file, which the hook cannot see and
//     so must assume moves the package off its pin.
//
// The third rule lets `pacman -U` of some other file with the pinned
// package's name through when the repositories happen to offer exactly the
// pinned version; the IgnorePkg include file still stops `pacman -Syu`.

// AllowFile, in clp's state directory, names the pinned packages clp's own
// pacman call may change (a downgrade to a pinned version, a restore).
const AllowFile = "guard-allow.json"

// Allow is the content of AllowFile.
type Allow struct {
	// Names are the packages the guard lets through.
	Names []string `json:"names"`
	// Why says which clp operation wrote the file, for the log.
	Why string `json:"why,omitempty"`
	// Expires bounds the file's life: a clp killed before it could remove
	// the file must not leave the guard open for good.
	Expires time.Time `json:"expires"`
}

// WriteAllow writes the allow file for clp's own pacman call, valid for ttl,
// and returns the function that removes it; call it as soon as pacman
// returns.
func WriteAllow(root, stateDir string, names []string, why string, ttl time.Duration) (remove func() error, err error) {
	a := Allow{Names: slices.Clone(names), Why: why, Expires: time.Now().Add(ttl).Round(0)}
	slices.Sort(a.Names)
	data, err := json.Marshal(a)
	if err != nil {
		return nil, err
	}
	if err := fsx.MkdirAllUnder(root, stateDir, 0o755); err != nil {
		return nil, fmt.Errorf("create state directory: %w", err)
	}
	path := filepath.Join(stateDir, AllowFile)
	if err := fsx.WriteFileUnder(root, path, append(data, '\n'), 0o600); err != nil {
		return nil, fmt.Errorf("write guard allow file: %w", err)
	}
	return func() error {
		if err := fsx.RemoveUnder(root, path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove guard allow file: %w", err)
		}
		return nil
	}, nil
}

// LoadAllow reads the allow file (inside root). A missing, expired or
// unreadable one allows nothing: the guard fails closed.
func LoadAllow(root, stateDir string, now time.Time) *Allow {
	data, err := fsx.ReadFileCappedUnder(root, filepath.Join(stateDir, AllowFile), fsx.SmallFileMax)
	if err != nil {
		return nil
	}
	var a Allow
	if json.Unmarshal(data, &a) != nil || !now.Before(a.Expires) {
		return nil
	}
	return &a
}

func (a *Allow) allows(name string) bool {
	return a != nil && slices.Contains(a.Names, name)
}

// Versions is what the guard knows of one target: the installed version and
// the newest version a sync database offers ("" when there is none).
type Versions struct {
	Installed string
	Sync      string
}

// Refusal is one pinned target the guard stops.
type Refusal struct {
	Pin       Pin
	Held      string // the version the pin holds (Pin.Version, or what is installed)
	Installed string
	Sync      string
}

// Message says which package is held where, by whom, what the transaction
// would do and how to lift the pin.
func (r Refusal) Message() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s is pinned at %s", r.Pin.Name, orUnknown(r.Held))
	var why []string
	if r.Pin.Until != "" {
		why = append(why, "until a repository offers "+r.Pin.Until)
	}
	if r.Pin.Patch != "" {
		why = append(why, "set by patch "+r.Pin.Patch)
	} else {
		why = append(why, "set by 'clp pin'")
	}
	fmt.Fprintf(&b, " (%s)", strings.Join(why, ", "))
	switch {
	case r.Sync != "" && r.Sync != r.Held:
		fmt.Fprintf(&b, " and this transaction would replace it (the repositories offer %s)", r.Sync)
	default:
		b.WriteString(" and this transaction would replace it with a package file clp cannot check")
	}
	fmt.Fprintf(&b, "; to lift the pin: clp unpin %s", r.Pin.Name)
	return b.String()
}

func orUnknown(v string) string {
	if v == "" {
		return "the installed version"
	}
	return v
}

// Guard decides, for the targets of a transaction, which pinned ones to
// refuse (see the rules at the top of this file). versions is only called
// for pinned targets; vercmp compares pacman versions. A transaction passes
// when the result is empty.
func Guard(targets []string, pins []Pin, allow *Allow, versions func(name string) (Versions, error), vercmp func(a, b string) int) ([]Refusal, error) {
	if len(pins) == 0 || len(targets) == 0 {
		return nil, nil
	}
	byName := make(map[string]Pin, len(pins))
	for _, p := range pins {
		byName[p.Name] = p
	}
	var out []Refusal
	seen := map[string]bool{}
	for _, t := range targets {
		pin, ok := byName[t]
		if !ok || seen[t] {
			continue
		}
		seen[t] = true
		if allow.allows(t) {
			continue
		}
		v, err := versions(t)
		if err != nil {
			return nil, fmt.Errorf("guard: versions of pinned %s: %w", t, err)
		}
		held := pin.Version
		if held == "" {
			held = v.Installed
		}
		if pin.Until != "" && v.Sync != "" && vercmp(v.Sync, pin.Until) >= 0 {
			continue // the fixed version has shipped: the pin has lifted
		}
		if held != "" && v.Sync != "" && vercmp(v.Sync, held) == 0 {
			continue // reinstalling the pinned version
		}
		out = append(out, Refusal{Pin: pin, Held: held, Installed: v.Installed, Sync: v.Sync})
	}
	return out, nil
}
