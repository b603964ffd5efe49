package feed

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/vincentos/clp/internal/fsx"
)

// DefaultHighWaterPath is where the mark lives on a system. It is outside
// DefaultMetadataDir on purpose: deleting the metadata cache must not
// forget what was applied.
const DefaultHighWaterPath = "/var/lib/clp/feed-applied"

// HighWater is clp's own record of the highest feed patch sequence number
// applied on this system. TUF stops a mirror from rolling metadata back, but
// only relative to the metadata cache; this mark survives losing the cache,
// reinstalling clp's state from the shipped root, or a feed key compromise
// that re-lists an old patch, so an old patch is never applied twice.
type HighWater struct {
	// Path is the file holding the mark.
	Path string
	// Root is the system root Path is under: the mark and the held list
	// are read and written inside it (fsx's *Under helpers). "" is /.
	Root string
}

// NewHighWater returns the mark at DefaultHighWaterPath under root.
func NewHighWater(root string) HighWater {
	return HighWater{Path: fsx.UnderRoot(root, DefaultHighWaterPath), Root: root}
}

const highWaterHeader = "# clp feed high-water mark: highest applied patch sequence number\n"

// Load returns the mark, 0 when nothing was ever applied. A file that exists
// but cannot be read is an error, never 0: failing open would bring back
// every old patch.
func (h HighWater) Load() (uint64, error) {
	if h.Path == "" {
		return 0, errors.New("feed: high-water mark path not set")
	}
	data, err := fsx.ReadFileCappedUnder(h.Root, h.Path, fsx.SmallFileMax)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("feed: read high-water mark: %w", err)
	}
	var val string
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if val != "" {
			return 0, fmt.Errorf("feed: high-water mark %s is corrupt: more than one number; fix or remove it by hand", h.Path)
		}
		val = line
	}
	n, err := strconv.ParseUint(val, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("feed: high-water mark %s is corrupt (%q is not a sequence number); fix or remove it by hand", h.Path, val)
	}
	return n, nil
}

// Mark records that the patch with sequence seq was applied. The mark only
// rises: marking a lower number keeps the higher one. The write is durable
// (fsync of file and directory) before Mark returns, so a crash right after
// cannot forget it.
func (h HighWater) Mark(seq uint64) error {
	cur, err := h.Load()
	if err != nil {
		return err
	}
	if seq <= cur {
		return nil
	}
	if err := fsx.MkdirAllUnder(h.Root, filepath.Dir(h.Path), 0o755); err != nil {
		return fmt.Errorf("feed: %w", err)
	}
	data := highWaterHeader + strconv.FormatUint(seq, 10) + "\n"
	if err := fsx.WriteFileUnder(h.Root, h.Path, []byte(data), 0o644); err != nil {
		return fmt.Errorf("feed: record high-water mark: %w", err)
	}
	return nil
}

// The held list is the exception to the mark: patches below it that this
// machine skipped only for now, because a phased rollout had not reached
// it yet when a later patch moved the mark past them. Pending still offers
// them. It lives beside the mark, one sequence number a line, so that a
// clp from before phasing reads the mark as it always did.
func (h HighWater) heldPath() string { return h.Path + ".held" }

// Held returns the held sequence numbers. Like the mark, a file that
// cannot be read is an error, never an empty list.
func (h HighWater) Held() (map[uint64]bool, error) {
	out := map[uint64]bool{}
	if h.Path == "" {
		return nil, errors.New("feed: high-water mark path not set")
	}
	data, err := fsx.ReadFileCappedUnder(h.Root, h.heldPath(), fsx.StateFileMax)
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("feed: read held patches: %w", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		n, err := strconv.ParseUint(line, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("feed: held patches %s are corrupt (%q is not a sequence number); fix or remove it by hand", h.heldPath(), line)
		}
		out[n] = true
	}
	return out, nil
}

// Hold keeps seq pending even after the mark passes it.
func (h HighWater) Hold(seq uint64) error {
	held, err := h.Held()
	if err != nil || held[seq] {
		return err
	}
	held[seq] = true
	return h.writeHeld(held)
}

// Release drops seq from the held list (applied, or never to be applied).
func (h HighWater) Release(seq uint64) error {
	held, err := h.Held()
	if err != nil || !held[seq] {
		return err
	}
	delete(held, seq)
	return h.writeHeld(held)
}

func (h HighWater) writeHeld(held map[uint64]bool) error {
	seqs := make([]uint64, 0, len(held))
	for s := range held {
		seqs = append(seqs, s)
	}
	slices.Sort(seqs)
	var b strings.Builder
	b.WriteString("# clp feed: patches below the high-water mark still pending (phased rollouts)\n")
	for _, s := range seqs {
		b.WriteString(strconv.FormatUint(s, 10) + "\n")
	}
	if err := fsx.MkdirAllUnder(h.Root, filepath.Dir(h.Path), 0o755); err != nil {
		return fmt.Errorf("feed: %w", err)
	}
	if err := fsx.WriteFileUnder(h.Root, h.heldPath(), []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("feed: record held patches: %w", err)
	}
	return nil
}
