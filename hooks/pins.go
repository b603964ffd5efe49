package hooks

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"time"

	"github.com/vincentos/clp/internal/fsx"
)

// Pin holds a package at a version: pacman must not upgrade it (IgnorePkg)
// and the guard hook aborts a transaction that would take it past the pin.
// The pin list in the state directory is the truth; clp-pins.conf is
// generated from it.
type Pin struct {
	Name string `json:"name"`
	// Version is the version the package is held at ("" pins whatever is
	// installed when the guard runs).
	Version string `json:"version,omitempty"`
	// Until lifts the pin once a sync database offers a version at or above
	// it ("" never lifts by itself).
	Until string `json:"until,omitempty"`
	// Patch is the patch that set the pin ("" for clp pin); rolling the
	// patch back removes it.
	Patch   string    `json:"patch,omitempty"`
	Created time.Time `json:"created"`
}

// PinsFile is where the pins live inside clp's state directory.
const PinsFile = "pins.json"

// LoadPins reads the pins from stateDir, resolved inside root (the
// system root it is under: fsx's *Under helpers); no file means no pins.
func LoadPins(root, stateDir string) ([]Pin, error) {
	data, err := fsx.ReadFileCappedUnder(root, filepath.Join(stateDir, PinsFile), fsx.SmallFileMax)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read pins: %w", err)
	}
	var pins []Pin
	if err := json.Unmarshal(data, &pins); err != nil {
		return nil, fmt.Errorf("read pins %s: %w", filepath.Join(stateDir, PinsFile), err)
	}
	return pins, nil
}

// SavePins writes the pins durably, sorted by name, inside root.
func SavePins(root, stateDir string, pins []Pin) error {
	sort.Slice(pins, func(i, j int) bool { return pins[i].Name < pins[j].Name })
	if pins == nil {
		pins = []Pin{}
	}
	data, err := json.MarshalIndent(pins, "", "  ")
	if err != nil {
		return err
	}
	if err := fsx.MkdirAllUnder(root, stateDir, 0o755); err != nil {
		return fmt.Errorf("create state directory: %w", err)
	}
	return fsx.WriteFileUnder(root, filepath.Join(stateDir, PinsFile), append(data, '\n'), 0o644)
}
