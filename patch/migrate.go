package patch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
)

// Taking over a machine that ran the original clpctl. clpctl left each
// installed patch unpacked in OptDir/<name>/ (PKGINFO.meta, its scripts,
// and the backup/ folder its scripts keep) and recorded nothing else. clp
// adopts such a folder as an applied patch so that it is listed, not
// applied again, and can be rolled back, with one limit: clp never saw what
// the patch changed, so it has no backups and rolling it back is running
// its remove script, nothing more.

// LegacyRemoveScripts are the names clpctl's patches use for their remove
// script: the wiki's and the original code's.
var LegacyRemoveScripts = []string{"Remove-Script.ps1", "Remove-Patch.ps1"}

// LegacyCandidates lists the patches clpctl installed that clp does not
// know: folders OptDir/<name>/ holding a PKGINFO.meta, with a usable name,
// and no applied record. It only reads.
func (e *Engine) LegacyCandidates() ([]string, error) {
	if err := e.check(); err != nil {
		return nil, err
	}
	ents, err := e.readDirAnchored(e.OptDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, d := range ents {
		if !d.IsDir() || checkName(d.Name()) != nil {
			continue
		}
		if fi, err := e.lstatAnchored(filepath.Join(e.OptDir, d.Name(), ManifestName)); err != nil || !fi.Mode().IsRegular() {
			continue
		}
		ap, err := e.readApplied(d.Name())
		if err != nil {
			return nil, err
		}
		if ap == nil {
			out = append(out, d.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

// legacyRemoveScript is the remove script in a clpctl patch's folder (""
// for none).
func (e *Engine) legacyRemoveScript(dir string) string {
	for _, s := range LegacyRemoveScripts {
		if fi, err := e.lstatAnchored(filepath.Join(dir, s)); err == nil && fi.Mode().IsRegular() {
			return s
		}
	}
	return ""
}

// Migration is what clp migrate records as applied (or, in a dry run,
// would), and which of those patches have no remove script: clp cannot
// roll them back.
type Migration struct {
	Adopted        []string
	NoRemoveScript []string
}

// Migrate adopts every patch of LegacyCandidates (AdoptLegacy); with
// dryRun it only lists them.
func (e *Engine) Migrate(ctx context.Context, dryRun bool) (*Migration, error) {
	names, err := e.LegacyCandidates()
	if err != nil {
		return nil, err
	}
	m := &Migration{Adopted: []string{}, NoRemoveScript: []string{}}
	for _, name := range names {
		script := ""
		if dryRun {
			script = e.legacyRemoveScript(e.optPatchDir(name))
		} else {
			ap, err := e.AdoptLegacy(ctx, name)
			if err != nil {
				return nil, fmt.Errorf("record %s (installed by clpctl): %w", name, err)
			}
			script = ap.RemoveScript
		}
		m.Adopted = append(m.Adopted, name)
		if script == "" {
			m.NoRemoveScript = append(m.NoRemoveScript, name)
		}
	}
	return m, nil
}

// AdoptLegacy records the clpctl-installed patch in OptDir/<name>/ as
// applied (Applied.Legacy), taking its version and description from its
// PKGINFO.meta and its remove script from the folder. It changes nothing
// outside the state dir. Adopting a patch clp already knows is an error
// naming it, so callers that want idempotence check LegacyCandidates first.
func (e *Engine) AdoptLegacy(ctx context.Context, name string) (*Applied, error) {
	if err := e.check(); err != nil {
		return nil, err
	}
	if err := checkName(name); err != nil {
		return nil, err
	}
	dir := e.optPatchDir(name)
	meta := filepath.Join(dir, ManifestName)
	fi, err := e.lstatAnchored(meta)
	if err != nil {
		return nil, fmt.Errorf("adopt %s: %w", name, err)
	}
	if !fi.Mode().IsRegular() || fi.Size() > DefaultLimits().MaxManifestSize {
		return nil, fmt.Errorf("adopt %s: %s is not a regular file of a sane size", name, meta)
	}
	data, err := e.readAnchored(meta, DefaultLimits().MaxManifestSize)
	if err != nil {
		return nil, fmt.Errorf("adopt %s: %w", name, err)
	}
	ap := &Applied{Name: name, Version: "unknown", Legacy: true}
	// The PKGINFO.meta clpctl left is informational only here (nothing in
	// it decides what clp does), so one clp cannot parse does not stop the
	// adoption.
	if m, err := ParseManifest(data); err == nil {
		if m.Version != "" {
			ap.Version = m.Version
		}
		ap.Description, ap.Severity = m.Description, m.Severity
		if m.Name != "" && m.Name != name {
			e.rep().Warn(fmt.Sprintf("%s names the patch %s; recording it under its folder's name %s", meta, m.Name, name))
		}
	} else {
		e.rep().Warn(fmt.Sprintf("%s cannot be read (%v); recording %s with version unknown", meta, err, name))
	}
	ap.RemoveScript = e.legacyRemoveScript(dir)

	l, err := e.lockRecovered(ctx)
	if err != nil {
		return nil, err
	}
	defer l.Release()
	if old, err := e.readApplied(name); err != nil {
		return nil, err
	} else if old != nil {
		return nil, fmt.Errorf("patch %s is already applied (version %s); nothing to adopt", name, old.Version)
	}
	if ap.Seq, err = e.nextSeq(); err != nil {
		return nil, err
	}
	ap.TxID = newTxID()
	// When clpctl installed it is not recorded anywhere; the folder's
	// time is the best guess and says so in the history's detail.
	ap.AppliedAt = e.now()
	if st, err := e.lstatAnchored(dir); err == nil {
		ap.AppliedAt = st.ModTime().UTC()
	}
	if err := e.writeApplied(ap); err != nil {
		return nil, fmt.Errorf("adopt %s: %w", name, err)
	}
	if err := e.addEvent(Event{Event: EventApplied, Name: name, Version: ap.Version, TxID: ap.TxID, Detail: "installed by clpctl, adopted by clp migrate"}); err != nil {
		e.rep().Warn(fmt.Sprintf("patch %s is adopted but the history could not be written: %v", name, err))
	}
	return ap, nil
}

// checkLegacyRollback refuses, before anything changes, to roll back an
// adopted clpctl patch that has no remove script: with no backups of its
// own, clp would only delete the folder holding clpctl's backups.
func (e *Engine) checkLegacyRollback(ap *Applied) error {
	if ap.RemoveScript == "" {
		return fmt.Errorf("cannot roll back %s: it was installed by clpctl and has no remove script (%s), and clp has no backups of what it changed", ap.Name, filepath.Join(e.optPatchDir(ap.Name), LegacyRemoveScripts[0]))
	}
	script := filepath.Join(e.optPatchDir(ap.Name), ap.RemoveScript)
	if fi, err := e.lstatAnchored(script); err != nil || !fi.Mode().IsRegular() {
		return fmt.Errorf("cannot roll back %s: it was installed by clpctl and its remove script %s is missing, and clp has no backups of what it changed", ap.Name, script)
	}
	return nil
}
