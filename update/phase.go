package update

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/vincentos/clp/feed"
	"github.com/vincentos/clp/internal/fsx"
	"github.com/vincentos/clp/system"
)

// MachineIDPath is where systemd keeps the machine's id (under the root).
const MachineIDPath = "/etc/machine-id"

// Buckets is how many buckets machines are spread over: a patch at N%
// reaches the machines whose bucket is below N.
const Buckets = 100

// Bucket is where a machine stands in the rollout of the patch called
// name: 0 to Buckets-1, from a SHA-256 of the machine id and the name, the
// way Ubuntu's phased updates derive theirs. The same machine always lands
// in the same bucket for a patch; another patch lands it somewhere
// unrelated, so no machine is always among the first. The hash is one-way:
// the bucket says nothing about the id, and clp never sends either.
func Bucket(machineID, name string) int {
	sum := sha256.Sum256([]byte("clp-phase\x00" + machineID + "\x00" + name))
	return int(binary.BigEndian.Uint64(sum[:8]) % Buckets)
}

// readMachineID reads <root>/etc/machine-id; "" when there is none (a
// fresh image before first boot), which keeps the machine out of every
// phase short of 100%.
func readMachineID(sys *system.System) (string, error) {
	data, err := fsx.ReadFileCappedUnder(sys.Root, sys.Under(MachineIDPath), 4096)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read the machine id: %w", err)
	}
	return strings.TrimSpace(string(data)), nil
}

// inPhase decides whether this machine takes t now, and says why not.
// PhasedUpdates = always puts the machine in the first phase: it takes
// every patch whose rollout has started (above 0%; 0% is a halt for
// everyone). never keeps it out until a patch reaches 100%.
func (u *Updater) inPhase(t feed.Target) (bool, string) {
	pct := t.Rollout()
	switch {
	case pct >= 100:
		return true, ""
	case pct <= 0:
		return false, "rollout halted at 0%"
	}
	switch u.Config.PhasedUpdates {
	case "always":
		return true, ""
	case "never":
		return false, fmt.Sprintf("rollout at %d%%; PhasedUpdates = never waits for 100%%", pct)
	}
	if u.machineID == "" {
		return false, fmt.Sprintf("rollout at %d%%; no %s, so this machine waits for 100%%", pct, MachineIDPath)
	}
	b := Bucket(u.machineID, t.Name)
	if b < pct {
		return true, ""
	}
	return false, fmt.Sprintf("rollout at %d%%; this machine joins above %d%%", pct, b)
}
