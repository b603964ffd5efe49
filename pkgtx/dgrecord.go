package pkgtx

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/vincentos/clp/cache"
	"github.com/vincentos/clp/hooks"
	"github.com/vincentos/clp/internal/fail"
	"github.com/vincentos/clp/internal/fsx"
	"github.com/vincentos/clp/pacman"
	"github.com/vincentos/clp/patch"
)

// clp downgrade has no journal, but a pacman killed with it may leave a
// package's local database entry half written (see the top of mend.go).
// Before its pacman runs, RunRecorded writes what that pacman is about to
// do to <state>/downgrade.json (durably, sealed with a sha256 of its
// content like the applied records), and removes it once pacman finished
// (done, or failed cleanly: pacman itself then leaves every entry whole).
// A record left means clp was killed while its pacman ran:
// RecoverDowngrade mends every half-written entry of its packages from
// the package file it recorded, then removes it.

// DowngradeRecordFile is the record's name in clp's state folder.
const DowngradeRecordFile = "downgrade.json"

// downgradeAside is the folder of <state>/damaged-db where the entries a
// downgrade's recovery mends are moved (then renamed downgrade-<time>).
// A patch's name cannot hold "@" (patch.ValidateManifest), so it is
// never a patch's.
const downgradeAside = "@downgrade"

// DowngradeRecord is what an interrupted clp downgrade's pacman was doing.
type DowngradeRecord struct {
	Format   int                `json:"format"`
	Why      string             `json:"why"`
	Packages []DowngradeRecMove `json:"packages"`
	// Checksum is the hex sha256 of the record's JSON without it.
	Checksum string `json:"checksum"`
}

// DowngradeRecMove is one package of the recorded transaction.
type DowngradeRecMove struct {
	Name string `json:"name"`
	// From is the version installed before ("" when none).
	From string `json:"from,omitempty"`
	To   string `json:"to"`
	// File is the package file pacman installs, SHA256 its hex sha256.
	File   string `json:"file"`
	SHA256 string `json:"sha256"`
	// Reason is "explicit" or "dependency": the reinstall keeps it.
	Reason string `json:"reason"`
}

func downgradeRecordPath(stateDir string) string {
	return filepath.Join(stateDir, DowngradeRecordFile)
}

// sum is the record's checksum: the sha256 of its canonical JSON without
// it, as the applied records' (patch.CanonicalJSON).
func (r *DowngradeRecord) sum() (string, error) {
	c := *r
	c.Checksum = ""
	data, err := patch.CanonicalJSON(&c)
	if err != nil {
		return "", err
	}
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:]), nil
}

// validate refuses a record no clp would have written: every name and
// version as strict as a patch's, the files absolute and clean, the
// sha256 hex, the reason one of two.
func (r *DowngradeRecord) validate() error {
	if r.Format != 1 {
		return fmt.Errorf("format %d, not 1", r.Format)
	}
	if len(r.Packages) == 0 {
		return errors.New("it names no package")
	}
	if strings.ContainsFunc(r.Why, func(c rune) bool { return c < 0x20 || c == 0x7f }) || len(r.Why) > 200 {
		return errors.New("its reason holds a control character or is too long")
	}
	seen := map[string]bool{}
	for _, m := range r.Packages {
		switch {
		case !patch.ValidPackageName(m.Name):
			return fmt.Errorf("%q is not a package name", m.Name)
		case seen[m.Name]:
			return fmt.Errorf("%s is named twice", m.Name)
		case !patch.ValidPackageVersion(m.To) || m.From != "" && !patch.ValidPackageVersion(m.From):
			return fmt.Errorf("%s: %q or %q is not a package version", m.Name, m.From, m.To)
		case !filepath.IsAbs(m.File) || filepath.Clean(m.File) != m.File || strings.ContainsFunc(m.File, func(c rune) bool { return c < 0x20 || c == 0x7f }):
			return fmt.Errorf("%s: %q is not a clean absolute path", m.Name, m.File)
		case len(m.SHA256) != 64 || strings.Trim(m.SHA256, "0123456789abcdef") != "":
			return fmt.Errorf("%s: %q is not a sha256", m.Name, m.SHA256)
		case m.Reason != "explicit" && m.Reason != "dependency":
			return fmt.Errorf("%s: install reason %q", m.Name, m.Reason)
		}
		seen[m.Name] = true
	}
	return nil
}

// writeDowngradeRecord records p durably before its pacman runs.
func (d *Downgrader) writeDowngradeRecord(p *Plan, why string) error {
	// A record left by a clp killed earlier says what to mend: never
	// overwritten.
	switch old, err := ReadDowngradeRecord(d.root(), d.StateDir); {
	case err != nil:
		return err
	case old != nil:
		return ErrDowngradeLeft(d.StateDir)
	}
	rec := &DowngradeRecord{Format: 1, Why: why}
	for _, m := range p.Moves {
		sum, err := fsx.SHA256FileUnder(d.root(), m.Path)
		if err != nil {
			return fmt.Errorf("%s %s: %w", m.Name, m.To, err)
		}
		reason := "explicit"
		if cur, ok, err := d.installed(m.Name); err != nil {
			return err
		} else if ok {
			reason = cur.Reason()
		}
		rec.Packages = append(rec.Packages, DowngradeRecMove{Name: m.Name, From: m.From, To: m.To, File: filepath.Clean(m.Path), SHA256: sum, Reason: reason})
	}
	if err := rec.validate(); err != nil {
		return fmt.Errorf("record the downgrade: %w", err)
	}
	var err error
	if rec.Checksum, err = rec.sum(); err != nil {
		return err
	}
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	if err := fsx.MkdirAllUnder(d.root(), d.StateDir, 0o755); err != nil {
		return err
	}
	return fsx.WriteFileUnder(d.root(), downgradeRecordPath(d.StateDir), append(data, '\n'), 0o600)
}

// ErrDowngradeLeft refuses a clp downgrade while an interrupted one's
// record is left (exit 7: recovery has not run).
func ErrDowngradeLeft(stateDir string) error {
	return &fail.Error{Err: fmt.Errorf("an interrupted clp downgrade left %s: its pacman was killed, and may have left local database entries half written", downgradeRecordPath(stateDir)), Kind: fail.ErrDamaged,
		Hint: "run 'clp recover' first"}
}

// removeDowngradeRecord removes the record, durably.
func removeDowngradeRecord(root, stateDir string) error {
	if err := fsx.RemoveUnder(root, downgradeRecordPath(stateDir)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return fsx.SyncDirUnder(root, stateDir)
}

// RunRecorded is Run for clp downgrade: the transaction is recorded
// before pacman runs and the record removed once pacman finished, so
// that 'clp recover' can mend what a pacman killed with clp left half
// written (RecoverDowngrade). A pacman killed by a signal leaves it.
func (d *Downgrader) RunRecorded(ctx context.Context, p *Plan, why string) error {
	for _, m := range p.Moves {
		if m.Path == "" {
			return fmt.Errorf("%s %s: file not fetched", m.Name, m.To)
		}
	}
	if len(p.Moves) == 0 {
		return nil
	}
	if err := d.writeDowngradeRecord(p, why); err != nil {
		return err
	}
	err := d.Run(ctx, p, why)
	var pe *pacman.PacmanError
	if err == nil || errors.As(err, &pe) && pe.Code >= 0 {
		if rerr := removeDowngradeRecord(d.root(), d.StateDir); rerr != nil && err == nil {
			err = rerr
		}
	}
	return err
}

// ReadDowngradeRecord reads the record an interrupted clp downgrade left
// (nil when none), validated; a damaged one is a fail.ErrDamaged naming
// the file, which is kept.
func ReadDowngradeRecord(root, stateDir string) (*DowngradeRecord, error) {
	path := downgradeRecordPath(stateDir)
	data, err := fsx.ReadFileCappedUnder(root, path, fsx.StateFileMax)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	bad := func(problem string) error {
		return &fail.Error{Err: fmt.Errorf("%s is damaged (%s); clp keeps it and will not act on it", path, problem), Kind: fail.ErrDamaged,
			Hint: "it is JSON: read it with 'cat " + path + "'; check its packages with 'pacman -Qkk NAME'; once the system is checked by hand, move the file away (clp never deletes it)"}
	}
	var rec DowngradeRecord
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rec); err != nil {
		return nil, bad("not clp's JSON: " + err.Error())
	}
	sum, err := rec.sum()
	if err != nil || !strings.EqualFold(sum, rec.Checksum) {
		return nil, bad("its checksum does not hold")
	}
	if err := rec.validate(); err != nil {
		return nil, bad(err.Error())
	}
	return &rec, nil
}

// DowngradeRecovery is what RecoverDowngrade did.
type DowngradeRecovery struct {
	Packages []string `json:"packages"`
	// Mended are the entries reinstalled ("name version").
	Mended []string `json:"mended"`
}

// RecoverDowngrade finishes what an interrupted clp downgrade left: with
// its record there, every half-written entry of the recorded packages is
// mended (as Revert mends a patch's: moved aside, reinstalled from the
// recorded file, verified by its sha256, and checked), then the record
// is removed. nil when there is no record. A file that is not there (or
// not the recorded one) refuses before anything is changed (exit 7).
func (a *Actor) RecoverDowngrade(ctx context.Context) (*DowngradeRecovery, error) {
	root := a.root()
	rec, err := ReadDowngradeRecord(root, a.StateDir)
	if err != nil || rec == nil {
		return nil, err
	}
	ms, err := a.planDowngradeMends(rec)
	if err != nil {
		return nil, err
	}
	// The killed clp downgrade left the guard's allow file (its Why is
	// the record's); pacman is gone, so it goes, as Revert drops a
	// patch's, and with its temporary files.
	if err := dropTemps(root, filepath.Join(a.StateDir, hooks.AllowFile)); err != nil {
		return nil, err
	}
	if err := dropAllowWhy(root, a.StateDir, rec.Why); err != nil {
		return nil, err
	}
	st := actorState{Patch: downgradeAside}
	out := &DowngradeRecovery{Mended: []string{}}
	for _, m := range rec.Packages {
		out.Packages = append(out.Packages, m.Name)
	}
	for _, m := range ms {
		if err := a.mendAs(ctx, st, m, "recovery of "+rec.Why, a.Runner, "the record "+downgradeRecordPath(a.StateDir)+" is kept"); err != nil {
			return nil, err
		}
		out.Mended = append(out.Mended, m.Name+" "+m.Version)
	}
	if err := a.finishMends(downgradeAside); err != nil {
		return nil, err
	}
	if err := removeDowngradeRecord(root, a.StateDir); err != nil {
		return nil, err
	}
	return out, nil
}

// planDowngradeMends finds the half-written entries of rec's packages and
// the file each is mended from. It changes nothing.
func (a *Actor) planDowngradeMends(rec *DowngradeRecord) ([]*mending, error) {
	r, local, err := a.localDB()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	ents, err := localEntries(r, local)
	if err != nil {
		return nil, fmt.Errorf("read the local database: %w", err)
	}
	ld := &lazyDowngrader{a: a, patch: downgradeAside}
	defer ld.Close()
	// cached is version's file of name in pacman's cache ("" when none).
	cached := func(name, version string) string {
		d, err := ld.get()
		if err != nil {
			return ""
		}
		ix, err := d.scan(name)
		if err != nil {
			return ""
		}
		if e, ok := ix.Find(name, version); ok {
			return e.Path()
		}
		return ""
	}
	recorded := func(m DowngradeRecMove) (string, error) {
		sum, err := fsx.SHA256FileUnder(a.root(), m.File)
		if err != nil {
			return "", err
		}
		if sum != m.SHA256 {
			return "", fmt.Errorf("%s is not the file the downgrade installed (sha256 %s, recorded %s)", m.File, sum, m.SHA256)
		}
		return m.File, nil
	}
	hint := "put the package file back (" + downgradeRecordPath(a.StateDir) + " names it and its sha256), then run 'clp recover'"
	var out []*mending
	for _, mv := range rec.Packages {
		dirs := entryDirs(ents, mv.Name)
		m := &mending{Name: mv.Name, Deps: mv.Reason == "dependency"}
		switch {
		case len(dirs) > 1:
			return nil, damaged(fmt.Errorf("the local database holds %d entries of %s (%s) after an interrupted pacman; clp mends one half-written entry, not this", len(dirs), mv.Name, strings.Join(dirs, ", ")),
				"check them with 'pacman -Qkk "+mv.Name+"'; the record "+downgradeRecordPath(a.StateDir)+" is kept")
		case len(dirs) == 1:
			m.Dir = dirs[0]
			m.Version = strings.TrimPrefix(dirs[0], mv.Name+"-")
			m.Why = entryDamage(r, local, m.Dir, mv.Name, m.Version)
			if m.Why == "" && (m.Version == mv.To || m.Version == mv.From) {
				fileOf := func() string {
					if m.Version == mv.To {
						f, _ := recorded(mv)
						return f
					}
					return cached(mv.Name, mv.From)
				}
				m.Why = sectionCut(a.root(), r, local, m.Dir, fileOf)
			}
			if m.Why == "" {
				continue
			}
		case mv.From == "":
			continue // not begun: a new package's folder comes first
		default:
			// The old entry is gone, the new folder not made yet.
			m.Version, m.Why = mv.To, "there is none: the old one was removed, the new one not made yet"
		}
		what := fmt.Sprintf("the local database entry of %s %s (%s)", mv.Name, m.Version, m.Why)
		switch m.Version {
		case mv.To:
			m.File, err = recorded(mv)
			if mv.From != "" {
				m.Other = cached(mv.Name, mv.From)
			}
		case mv.From:
			if m.File = cached(mv.Name, mv.From); m.File == "" {
				err = fmt.Errorf("%s %s's package file is not in the cache", mv.Name, mv.From)
			}
			m.Other, _ = recorded(mv)
		default:
			err = fmt.Errorf("%s is neither %s's version before the downgrade (%s) nor the one it installed (%s)", m.Version, mv.Name, mv.From, mv.To)
		}
		if err != nil {
			return nil, damaged(fmt.Errorf("%s was left half written by a pacman killed with clp downgrade, and cannot be mended: %w; nothing was changed", what, err), hint)
		}
		info, files, err := cache.ListFilesUnder(a.root(), m.File)
		if err != nil {
			return nil, damaged(fmt.Errorf("%s was left half written by a pacman killed with clp downgrade; its package file cannot be read: %w; nothing was changed", what, err), hint)
		}
		if info.Name != mv.Name || info.Version != m.Version {
			return nil, damaged(fmt.Errorf("%s was left half written by a pacman killed with clp downgrade; its package file %s is %s %s; nothing was changed", what, m.File, info.Name, info.Version), hint)
		}
		m.Files, m.Backup = files, info.Backup
		out = append(out, m)
	}
	return out, nil
}
