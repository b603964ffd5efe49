package patch

import "io"

// Severity of a patch, as the feed's update policy reads it.
const (
	SeverityCritical  = "critical"
	SeverityImportant = "important"
	SeverityNormal    = "normal"
	SeverityLow       = "low"
)

// File action operations.
const (
	OpAdd     = "add"     // create a file that must not exist yet
	OpReplace = "replace" // replace a file whose sha256 is Expect
	OpRemove  = "remove"  // remove a file whose sha256 is Expect
	OpMode    = "mode"    // set the mode of a file whose sha256 is Expect
	OpOwner   = "owner"   // set owner/group of a file whose sha256 is Expect
)

// Package action operations.
const (
	OpDowngrade = "downgrade" // install exactly Version (file pinned by SHA256)
	OpPin       = "pin"       // keep the package from upgrading until Until
)

// Manifest is PKGINFO.meta, whichever form it was written in. Format 0 is the
// original tool's (INI, or XML with only Name/Version/Architecture/
// Description); format 1 is clp's and carries actions and hashes.
type Manifest struct {
	Format       int
	Name         string
	Version      string
	Architecture string
	Description  string
	Author       string
	Date         string
	Severity     string
	AppliesTo    AppliesTo
	Files        []FileAction
	Packages     []PackageAction
	// InstallScript and RemoveScript are archive entry names ("" if none).
	InstallScript string
	RemoveScript  string
}

// AppliesTo says which systems a patch is for. Empty means every system.
type AppliesTo struct {
	Architectures []string
	// Conditions on installed packages; all must hold.
	Packages []PackageCondition
}

// PackageCondition is "package NAME is installed (with a version matching
// Constraint, e.g. ">=560", "=560.35.03-1", "<561")" or, with Absent,
// "NAME is not installed".
type PackageCondition struct {
	Name       string
	Constraint string
	Absent     bool
}

// FileAction is one change to one file on the target system.
type FileAction struct {
	Op string
	// Target is the absolute path on the system (never under a sandbox
	// root here; callers join it with --root).
	Target string
	// Payload is the archive entry holding the new content (add, replace).
	Payload string
	// SHA256 is the payload's sha256 (add, replace).
	SHA256 string
	// Expect is the sha256 the target must have before the action
	// (replace, remove, mode, owner); add requires the target be absent.
	Expect string
	// Mode is the octal permission bits to set, e.g. "0644" ("" keeps the
	// existing mode for replace, 0644 for add).
	Mode string
	// Owner and Group are names or numeric ids ("" keeps / root).
	Owner string
	Group string
}

// PackageAction is one change to one package.
type PackageAction struct {
	Op      string
	Name    string
	Version string // downgrade: exact pkgver-pkgrel (with epoch if any)
	// File is the package file name (downgrade); Payload, when set, is the
	// archive entry that carries it, else it comes from the pacman cache or
	// the archive server.
	File    string
	Payload string
	SHA256  string // downgrade: sha256 of the package file
	Until   string // pin: lift once the sync dbs offer a version >= Until
}

// Archive is an opened, fully validated .clp file. Nothing is extracted to
// the system by opening it.
type Archive interface {
	Manifest() *Manifest
	// Entries lists every entry name, PKGINFO.meta included.
	Entries() []string
	// Open returns an entry's content.
	Open(name string) (io.ReadCloser, error)
	Close() error
}
