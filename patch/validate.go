package patch

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/vincentos/clp/internal/config"
)

// FormatError is every refusal of a .clp file or its PKGINFO.meta: what is
// wrong (Problem) and with which archive entry or metadata item (Entry, ""
// when the problem is the archive as a whole). The CLI and tests match on the
// type with errors.As; people read Error().
type FormatError struct {
	Entry   string
	Problem string
	// Err is the underlying cause, if any (an I/O or decompression error).
	Err error
}

func (e *FormatError) Error() string {
	msg := e.Problem
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	if e.Entry == "" {
		return msg
	}
	return fmt.Sprintf("entry %q: %s", e.Entry, msg)
}

func (e *FormatError) Unwrap() error { return e.Err }

func formatErr(entry, format string, args ...any) *FormatError {
	return &FormatError{Entry: entry, Problem: fmt.Sprintf(format, args...)}
}

// ManifestName is the metadata entry every .clp holds exactly once, at the top.
const ManifestName = "PKGINFO.meta"

var (
	// Patch names: the original's CLPRYYMMDD and any other safe name. Not
	// starting with '.' or '-' keeps them from being hidden files or flags
	// when they become /opt/CLP/<name>/.
	nameRE = lazyRegexp(`^[A-Za-z0-9_+][A-Za-z0-9._+-]{0,63}$`)
	// Patch versions: "1", "2.0", "20250101.1", "1:2.3-4".
	versionRE = lazyRegexp(`^[A-Za-z0-9][A-Za-z0-9._+~:-]{0,63}$`)
	archRE    = lazyRegexp(`^[A-Za-z0-9_]{1,32}$`)
	sha256RE  = lazyRegexp(`^[0-9a-f]{64}$`)
	// pacman's package name rule (alpm's db.c/libmakepkg lint_pkgbuild).
	pkgNameRE = lazyRegexp(`^[a-z0-9@_+][a-z0-9@._+-]{0,127}$`)
	// pacman version: [epoch:]pkgver-pkgrel; pkgver has no ':', '/', '-' or spaces.
	pkgVersionRE = lazyRegexp(`^([0-9]+:)?[A-Za-z0-9._+~]+-[0-9]+(\.[0-9]+)?$`)
	// A constraint's version may leave out the pkgrel (">=560").
	pkgVersionLooseRE = lazyRegexp(`^([0-9]+:)?[A-Za-z0-9._+~]+(-[0-9]+(\.[0-9]+)?)?$`)
	pkgFileRE         = lazyRegexp(`^[A-Za-z0-9@._+:-]+\.pkg\.tar(\.(zst|xz|gz|bz2|lz4|lrz|lzo|Z))?$`)
	// Owner and group: a user/group name as shadow's useradd accepts it, or a number.
	ownerRE = lazyRegexp(`^([a-z_][a-z0-9_-]{0,31}\$?|[0-9]{1,10})$`)
	modeRE  = lazyRegexp(`^0?[0-7]{3,4}$`)
)

// maxNameLen bounds an entry name so that a hostile archive cannot make
// clp build huge paths under /opt/CLP/<name>/.
const maxNameLen = 1024

// cleanEntryName checks an archive entry name and returns its canonical form
// ("a/./b" and "./a/b" become "a/b"; a directory's trailing '/' is dropped).
// isDir reports whether the name ended in '/'. A name that is the archive's
// own root ("./") comes back as "".
func cleanEntryName(name string) (clean string, isDir bool, err error) {
	bad := func(problem string) (string, bool, error) {
		return "", false, &FormatError{Entry: name, Problem: problem}
	}
	switch {
	case name == "":
		return bad("empty entry name")
	case len(name) > maxNameLen:
		return bad(fmt.Sprintf("name longer than %d bytes", maxNameLen))
	case !utf8.ValidString(name):
		return bad("name is not valid utf-8")
	case strings.ContainsRune(name, 0):
		return bad("NUL character in name")
	case strings.ContainsRune(name, '\\'):
		return bad("backslash in name (entries use '/')")
	case strings.HasPrefix(name, "/"):
		return bad("absolute path (entries are relative to the patch)")
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return bad("control character in name")
		}
	}
	isDir = strings.HasSuffix(name, "/")
	for _, part := range strings.Split(strings.TrimSuffix(name, "/"), "/") {
		if part == ".." {
			return bad("path escapes the patch (\"..\")")
		}
		if len(part) > 255 {
			return bad("path component longer than 255 bytes")
		}
	}
	clean = path.Clean(name)
	if clean == "." {
		return "", true, nil
	}
	return clean, isDir, nil
}

// ValidPackageName says whether s is a pacman package name.
func ValidPackageName(s string) bool { return pkgNameRE.MatchString(s) }

// ValidPackageVersion says whether s is a pacman version, with or without
// its pkgrel ("560.35.03-2", "1:2.0", "560").
func ValidPackageVersion(s string) bool { return pkgVersionLooseRE.MatchString(s) }

// validSHA256 reports whether s is a lower-case hex sha256, as sha256RE
// says, without the regexp: an applied record of 1,000 files holds 2,000
// of them, checked on every read (TestValidSHA256AsRegexp).
func validSHA256(s string) bool { return lowerHex(s, 64) }

// validTxID reports whether s is a transaction id clp makes, as txIDRE
// says: checked for every staged file of a record on each read.
func validTxID(s string) bool { return lowerHex(s, 16) }

// lowerHex reports whether s is n lower-case hex digits.
func lowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// parseMode reads an octal mode string as written in PKGINFO.meta.
func parseMode(s string) (uint32, error) {
	if !modeRE.MatchString(s) {
		return 0, fmt.Errorf("mode %q is not octal permission bits such as 0644", s)
	}
	n, err := strconv.ParseUint(s, 8, 32)
	if err != nil || n > 0o7777 {
		return 0, fmt.Errorf("mode %q is not octal permission bits such as 0644", s)
	}
	return uint32(n), nil
}

func hasControl(s string, allowNewline bool) bool {
	for _, r := range s {
		if allowNewline && (r == '\n' || r == '\t' || r == '\r') {
			continue
		}
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}

// defaultPathAllowed is clp.conf's default list: /etc, /usr, /opt, /boot,
// never /proc, /sys, /dev, /run or clp's own state.
var defaultPathAllowed = config.Default().PathAllowed

// ValidateManifest checks every field of m on its own, without the archive:
// names, versions, hashes, modes, owners, operations, and that every file
// target is one pathAllowed accepts (nil means clp.conf's defaults). It
// returns a *FormatError naming the field ("PKGINFO.meta: Files[2]") at fault.
// Open and Build call it; callers that make a Manifest by hand can too.
func ValidateManifest(m *Manifest, pathAllowed func(string) bool) error {
	return validateManifest(m, pathAllowed, false)
}

// validateManifest is ValidateManifest; building allows "auto" (or empty)
// hashes that Build fills in.
func validateManifest(m *Manifest, pathAllowed func(string) bool, building bool) error {
	if pathAllowed == nil {
		pathAllowed = defaultPathAllowed
	}
	bad := func(item, format string, args ...any) error {
		return formatErr(ManifestName, "%s: %s", item, fmt.Sprintf(format, args...))
	}
	if m.Format != 0 && m.Format != 1 {
		return bad("format", "unsupported format %d (this clp reads 0 and 1)", m.Format)
	}
	if m.Name == "" {
		return bad("Name", "missing")
	}
	if !nameRE.MatchString(m.Name) {
		return bad("Name", "%q is not a valid patch name (1-64 of A-Z a-z 0-9 . _ + -, not starting with '.' or '-')", m.Name)
	}
	if m.Version == "" {
		return bad("Version", "missing")
	}
	if !versionRE.MatchString(m.Version) {
		return bad("Version", "%q is not a valid version", m.Version)
	}
	if m.Architecture != "" && !archRE.MatchString(m.Architecture) {
		return bad("Architecture", "%q is not a valid architecture", m.Architecture)
	}
	if len(m.Description) > 8192 || hasControl(m.Description, true) {
		return bad("Description", "longer than 8192 bytes or holds control characters")
	}
	if len(m.Author) > 256 || hasControl(m.Author, false) {
		return bad("Author", "longer than 256 bytes or holds control characters")
	}
	if m.Date != "" {
		if _, err := time.Parse(time.DateOnly, m.Date); err != nil {
			if _, err := time.Parse(time.RFC3339, m.Date); err != nil {
				return bad("Date", "%q is neither YYYY-MM-DD nor RFC 3339", m.Date)
			}
		}
	}
	switch m.Severity {
	case "", SeverityCritical, SeverityImportant, SeverityNormal, SeverityLow:
	default:
		return bad("Severity", "%q is not critical, important, normal or low", m.Severity)
	}
	for i, a := range m.AppliesTo.Architectures {
		if !archRE.MatchString(a) {
			return bad(fmt.Sprintf("AppliesTo.Architecture[%d]", i), "%q is not a valid architecture", a)
		}
	}
	for i, c := range m.AppliesTo.Packages {
		item := fmt.Sprintf("AppliesTo package %q", c.Name)
		if !pkgNameRE.MatchString(c.Name) {
			return bad(fmt.Sprintf("AppliesTo.Packages[%d]", i), "%q is not a valid package name", c.Name)
		}
		if c.Absent && c.Constraint != "" {
			return bad(item, "NotInstalled takes no version")
		}
		if c.Constraint != "" {
			if _, _, err := ParseConstraint(c.Constraint); err != nil {
				return bad(item, "%v", err)
			}
		}
	}
	if m.Format == 0 && (len(m.Files) > 0 || len(m.Packages) > 0 || len(m.AppliesTo.Architectures) > 0 || len(m.AppliesTo.Packages) > 0) {
		return bad("format", "format 0 cannot carry actions; write <Package format=\"1\">")
	}
	targets := map[string]int{}
	for i, f := range m.Files {
		item := fmt.Sprintf("Files[%d] (%s %s)", i, f.Op, f.Target)
		if err := validateFileAction(f, pathAllowed, building); err != nil {
			return bad(item, "%s", err)
		}
		if j, dup := targets[f.Target]; dup {
			return bad(item, "target already changed by Files[%d]; use one action per file (replace takes mode, owner and group)", j)
		}
		targets[f.Target] = i
	}
	seenPkg := map[string]string{}
	for i, p := range m.Packages {
		item := fmt.Sprintf("Packages[%d] (%s %s)", i, p.Op, p.Name)
		if err := validatePackageAction(p, building); err != nil {
			return bad(item, "%s", err)
		}
		if prev, dup := seenPkg[p.Op+" "+p.Name]; dup {
			return bad(item, "package already has a %s action (%s)", p.Op, prev)
		}
		seenPkg[p.Op+" "+p.Name] = fmt.Sprintf("Packages[%d]", i)
	}
	for _, s := range []struct{ item, name string }{{"Scripts.Install", m.InstallScript}, {"Scripts.Remove", m.RemoveScript}} {
		if s.name == "" {
			continue
		}
		if c, _, err := cleanEntryName(s.name); err != nil || c != s.name {
			return bad(s.item, "%q is not a clean entry name", s.name)
		}
		if s.name == ManifestName {
			return bad(s.item, "script cannot be %s", ManifestName)
		}
	}
	return nil
}

func validateFileAction(f FileAction, pathAllowed func(string) bool, building bool) error {
	if f.Target == "" {
		return fmt.Errorf("target missing")
	}
	if !strings.HasPrefix(f.Target, "/") || path.Clean(f.Target) != f.Target || hasControl(f.Target, false) ||
		strings.ContainsRune(f.Target, '\\') || !utf8.ValidString(f.Target) || len(f.Target) > 4096 {
		return fmt.Errorf("target %q is not a clean absolute path", f.Target)
	}
	if !pathAllowed(f.Target) {
		return fmt.Errorf("target %q is outside the paths a patch may change (AllowedPaths in clp.conf)", f.Target)
	}
	hash := func(attr, v string) error {
		if building && (v == "" || v == "auto") {
			return nil
		}
		if v == "" {
			return fmt.Errorf("%s missing", attr)
		}
		if !validSHA256(v) {
			return fmt.Errorf("%s %q is not a lower-case hex sha256", attr, v)
		}
		return nil
	}
	none := func(attr, v string) error {
		if v != "" {
			return fmt.Errorf("%s does not apply to %s", attr, f.Op)
		}
		return nil
	}
	var errs []error
	switch f.Op {
	case OpAdd:
		errs = append(errs, payloadName(f.Payload), hash("sha256", f.SHA256), none("expect", f.Expect))
	case OpReplace:
		errs = append(errs, payloadName(f.Payload), hash("sha256", f.SHA256), hash("expect", f.Expect))
	case OpRemove:
		errs = append(errs, hash("expect", f.Expect), none("payload", f.Payload), none("sha256", f.SHA256),
			none("mode", f.Mode), none("owner", f.Owner), none("group", f.Group))
	case OpMode:
		errs = append(errs, hash("expect", f.Expect), none("payload", f.Payload), none("sha256", f.SHA256),
			none("owner", f.Owner), none("group", f.Group))
		if f.Mode == "" {
			errs = append(errs, fmt.Errorf("mode missing"))
		}
	case OpOwner:
		errs = append(errs, hash("expect", f.Expect), none("payload", f.Payload), none("sha256", f.SHA256), none("mode", f.Mode))
		if f.Owner == "" && f.Group == "" {
			errs = append(errs, fmt.Errorf("owner or group missing"))
		}
	default:
		return fmt.Errorf("unknown operation %q", f.Op)
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	if f.Mode != "" {
		if _, err := parseMode(f.Mode); err != nil {
			return err
		}
	}
	for _, o := range []struct{ attr, v string }{{"owner", f.Owner}, {"group", f.Group}} {
		if o.v != "" && !ownerRE.MatchString(o.v) {
			return fmt.Errorf("%s %q is not a user/group name or number", o.attr, o.v)
		}
	}
	return nil
}

func payloadName(p string) error {
	if p == "" {
		return fmt.Errorf("payload missing")
	}
	c, isDir, err := cleanEntryName(p)
	if err != nil || isDir || c != p {
		return fmt.Errorf("payload %q is not a clean entry name", p)
	}
	if p == ManifestName {
		return fmt.Errorf("payload cannot be %s", ManifestName)
	}
	return nil
}

func validatePackageAction(p PackageAction, building bool) error {
	if !pkgNameRE.MatchString(p.Name) {
		return fmt.Errorf("%q is not a valid package name", p.Name)
	}
	switch p.Op {
	case OpDowngrade:
		if !pkgVersionRE.MatchString(p.Version) {
			return fmt.Errorf("version %q is not an exact pacman version ([epoch:]pkgver-pkgrel)", p.Version)
		}
		if !pkgFileRE.MatchString(p.File) {
			return fmt.Errorf("file %q is not a package file name (NAME-VERSION-ARCH.pkg.tar.zst)", p.File)
		}
		if !strings.HasPrefix(p.File, p.Name+"-"+p.Version+"-") {
			return fmt.Errorf("file %q does not match %s-%s", p.File, p.Name, p.Version)
		}
		if p.Payload != "" {
			if err := payloadName(p.Payload); err != nil {
				return err
			}
		}
		if !(building && (p.SHA256 == "" || p.SHA256 == "auto")) && !validSHA256(p.SHA256) {
			return fmt.Errorf("sha256 %q is not a lower-case hex sha256", p.SHA256)
		}
		if p.Until != "" {
			return fmt.Errorf("until applies to pin, not downgrade")
		}
	case OpPin:
		if p.Until != "" && !pkgVersionLooseRE.MatchString(p.Until) {
			return fmt.Errorf("until %q is not a pacman version", p.Until)
		}
		if p.Version != "" || p.File != "" || p.Payload != "" || p.SHA256 != "" {
			return fmt.Errorf("pin takes only name and until")
		}
	default:
		return fmt.Errorf("unknown operation %q", p.Op)
	}
	return nil
}

// ParseConstraint splits a version constraint such as ">=560.35.03-1" into
// its operator ("=", "<", "<=", ">", ">=") and version. An empty string
// means "any version" and returns "", "".
func ParseConstraint(c string) (op, version string, err error) {
	if c == "" {
		return "", "", nil
	}
	for _, o := range []string{">=", "<=", "=", "<", ">"} {
		if strings.HasPrefix(c, o) {
			op, version = o, c[len(o):]
			break
		}
	}
	if op == "" || !pkgVersionLooseRE.MatchString(version) {
		return "", "", fmt.Errorf("version constraint %q is not one of =V, <V, <=V, >V, >=V", c)
	}
	return op, version, nil
}

// lazyRE is a regular expression compiled on first use: clp runs on every
// pacman transaction (the hooks) and for every status, most of which never
// validate a patch, and compiling them all at start-up cost milliseconds.
type lazyRE struct {
	once sync.Once
	expr string
	re   *regexp.Regexp
}

func lazyRegexp(expr string) *lazyRE { return &lazyRE{expr: expr} }

// MatchString reports whether s matches.
func (l *lazyRE) MatchString(s string) bool {
	l.once.Do(func() { l.re = regexp.MustCompile(l.expr) })
	return l.re.MatchString(s)
}
