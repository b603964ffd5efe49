package snapshot

import "time"

// Retention is clp.conf's SnapshotKeep with the patches that are still
// applied: Retain keeps the Keep newest snapshots, every snapshot linked
// to an applied patch, and every snapshot made by hand ('clp snapshot
// create': only 'clp snapshot delete' removes those, as snapper keeps its
// single snapshots out of its number cleanup).
type Retention struct {
	// Keep reads how many snapshots to keep (clp.conf's SnapshotKeep).
	Keep func() (int, error)
	// Applied lists the patches still applied. It is asked only when
	// there is something to prune; when it fails, every snapshot linked to
	// a patch is kept.
	Applied func() ([]string, error)
	// Protect, when set, names one more snapshot to keep whatever its age
	// (the boot guard's armed snapshot); 0 for none.
	Protect func() int
}

// Retain applies the retention to the store and returns the IDs it
// deleted.
func (s *Store) Retain(r Retention) ([]int, error) {
	keep, err := r.Keep()
	if err != nil {
		return nil, err
	}
	if len(s.List()) <= keep {
		return nil, nil // the common case: nothing to read
	}
	applied := map[string]bool{}
	names, err := r.Applied()
	protectAll := err != nil // cannot tell which are applied: keep every linked one
	for _, n := range names {
		applied[n] = true
	}
	guarded := 0
	if r.Protect != nil {
		guarded = r.Protect()
	}
	return s.Prune(keep, func(snap Snapshot) bool {
		return snap.Kind == KindManual || snap.Patch != "" && (protectAll || applied[snap.Patch]) || snap.ID == guarded
	})
}

// ReadInstalled reads the installed packages from pacman's database
// directory quickly enough for a hook (pacman is running): only the desc
// files that changed since the newest snapshot are read.
// The database is read inside the store's system root.
func (s *Store) ReadInstalled(dbpath string) ([]Pkg, error) {
	prev, meta, _ := s.Tail()
	return ReadLocalDB(s.root, dbpath, prev, meta.Time)
}

// ReadInstalledFrom is ReadInstalled from a listing of the database
// started before the store was opened (ListLocalDB).
func (s *Store) ReadInstalledFrom(l *LocalDBListing) ([]Pkg, error) {
	prev, meta, _ := s.Tail()
	return l.read(prev, meta.Time)
}

// Snapshot kinds clp records around its own patch transactions. They are
// not pacman hook pre/post snapshots (those pair through the store's
// pending pre, and a patch's pacman run records its own pair inside these).
const (
	KindPatchPre  = "patch-pre"
	KindPatchPost = "patch-post"
)

// PatchRecord records the package state before and after clp applies or
// rolls back a patch, linked to the patch, so every patch is recorded even
// when it changes only files and pacman never runs. The state before is
// read first and written only once the transaction succeeded: a refused or
// rolled-back transaction changed nothing and leaves no trace.
type PatchRecord struct {
	root, dir, dbpath, patch string
	at                       time.Time
	pkgs                     []Pkg
}

// BeginPatch reads the package state before a patch transaction. Only
// reads: opening the store would create it, and a refused transaction must
// change nothing. The database and the store (dir) are under the system
// root root, and read and written inside it.
func BeginPatch(root, dir, dbpath, patchName string) (*PatchRecord, error) {
	pr := &PatchRecord{root: root, dir: dir, dbpath: dbpath, patch: patchName, at: time.Now()}
	var err error
	pr.pkgs, err = ReadLocalDB(root, dbpath, nil, time.Time{})
	return pr, err
}

// Patch is the patch the record belongs to.
func (pr *PatchRecord) Patch() string { return pr.patch }

// Done writes the pair after the transaction succeeded ("what" names it:
// "applying X"), then applies the retention. A retention failure comes
// back as pruneErr: the pair is recorded all the same.
func (pr *PatchRecord) Done(what string, r Retention) (pruneErr, err error) {
	st, err := OpenUnder(pr.root, pr.dir)
	if err != nil {
		return nil, err
	}
	after, err := st.ReadInstalled(pr.dbpath)
	if err != nil {
		return nil, err
	}
	pre, err := st.Create(Snapshot{Time: pr.at, Kind: KindPatchPre, Patch: pr.patch, Description: "before " + what, Packages: pr.pkgs})
	if err != nil {
		return nil, err
	}
	if _, err := st.Create(Snapshot{Kind: KindPatchPost, Patch: pr.patch, Description: "after " + what, PairID: pre, Packages: after}); err != nil {
		return nil, err
	}
	_, pruneErr = st.Retain(r)
	return pruneErr, nil
}
