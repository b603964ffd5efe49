package patch

// State files are data, not commands. The journal and the applied records
// carry a sha256 of their content (the journal one per line), so a flipped
// byte is found before anything acts on it; and every name and path read
// back from them is checked as strictly as a patch's own, so a record that
// was tampered with (or written by a bug) cannot lead clp out of the root,
// out of its state folder, or to packages the patch never touched. A
// damaged state file is never deleted or acted on: DamagedError says which
// file and why, and the CLI refuses (exit 7) pointing at 'clp recover --show'.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/vincentos/clp/internal/config"
	"github.com/vincentos/clp/internal/fail"
)

// DamagedError is a state file (the journal or an applied record) that
// fails its checksum or holds a value no clp would have written. clp keeps
// the file as it is and refuses to act on it.
type DamagedError struct {
	Path    string
	Problem string
	// Journal says the file is the journal (else an applied record).
	Journal bool
}

func (e *DamagedError) Error() string {
	return fmt.Sprintf("%s is damaged (%s); clp keeps it and will not act on it", e.Path, e.Problem)
}

// Unwrap gives the error its kind (fail.ErrDamaged), which the CLI maps to
// its exit code.
func (e *DamagedError) Unwrap() error { return fail.ErrDamaged }

// NextStep is the hint under the error.
func (e *DamagedError) NextStep() string {
	how := "it is JSON: read it with 'cat " + e.Path + "'"
	if e.Journal {
		how = "inspect it with 'clp recover --show'"
	}
	return how + "; once the system is checked by hand, move the file away (clp never deletes it)"
}

func damaged(path, format string, a ...any) error {
	return &DamagedError{Path: path, Problem: fmt.Sprintf(format, a...)}
}

// sealLine is the journal line of a record: "<sha256 of json> <json>\n".
func sealLine(rec []byte) []byte {
	sum := sha256.Sum256(rec)
	out := make([]byte, 0, 66+len(rec))
	out = append(out, hex.EncodeToString(sum[:])...)
	out = append(out, ' ')
	out = append(out, rec...)
	return append(out, '\n')
}

// openSealed returns the record in a sealed line (without its newline) and
// whether its checksum holds.
func openSealed(line []byte) (rec []byte, ok bool) {
	if len(line) < 66 || line[64] != ' ' {
		return nil, false
	}
	want, err := hex.DecodeString(string(line[:64]))
	if err != nil {
		return nil, false
	}
	rec = line[65:]
	sum := sha256.Sum256(rec)
	return rec, bytes.Equal(sum[:], want)
}

// canonicalApplied is the JSON the checksum of an applied record covers:
// the record without its checksum, after one round trip through JSON so
// that writing and reading it give the same bytes (invalid UTF-8 and the
// like are normalised by the first pass).
//
// The round trip changes the bytes only where json.Marshal coerced
// invalid UTF-8 (in a string or a map key) to the escape \ufffd: read
// back, that is the character U+FFFD, which Marshal then writes as its
// three UTF-8 bytes. Everything else Applied holds marshals to a fixed
// point (escapes such as \u003c and \n read back to the character they
// stand for and are written as the same escape; []byte is base64 both
// ways; map keys are sorted; times are written in RFC 3339 as parsed;
// json.RawMessage is compacted once, then copied). So the first Marshal is
// the canonical form unless it holds \ufffd, and only then is the round
// trip taken: for a 1,000-file record that saves an Unmarshal and a
// Marshal of half a megabyte on every write and every read of it
// (TestCanonicalAppliedFastPath compares both ways).
func canonicalApplied(a *Applied) ([]byte, error) {
	c := *a
	c.Checksum = ""
	return CanonicalJSON(&c)
}

// CanonicalJSON is the JSON a sealed state record's checksum covers, for
// a record of strings, numbers, booleans, times, slices, maps and structs
// of them (the applied records, clp downgrade's record): the first
// json.Marshal, and after one round trip through a fresh T only where it
// holds \ufffd, the one escape that does not read back to itself
// (canonicalApplied says why). The caller clears the checksum field.
func CanonicalJSON[T any](v *T) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil || !bytes.Contains(data, []byte(`\ufffd`)) {
		return data, err
	}
	var back T
	if err := json.Unmarshal(data, &back); err != nil {
		return nil, err
	}
	return json.Marshal(&back)
}

// marshalUnsealed is the JSON of a without its checksum.
func marshalUnsealed(a *Applied) ([]byte, error) {
	c := *a
	c.Checksum = ""
	return json.Marshal(&c)
}

// roundTripApplied reads data back into a record and writes it again.
func roundTripApplied(data []byte) ([]byte, error) {
	var back Applied
	if err := json.Unmarshal(data, &back); err != nil {
		return nil, err
	}
	return json.Marshal(&back)
}

// appliedFile is what writeApplied writes: a sealed (sealApplied) and
// indented as json.MarshalIndent writes it, without its trailing newline.
// Where the first Marshal is canonical (canonicalApplied), the sealed
// record is those bytes with the checksum, the last field, added before
// the closing brace: the record is marshalled once, not three times more
// (round trip, then the sealed copy).
func appliedFile(a *Applied) ([]byte, error) {
	data, err := marshalUnsealed(a)
	if err != nil {
		return nil, err
	}
	if bytes.Contains(data, []byte(`\ufffd`)) || !bytes.HasSuffix(data, []byte("}")) {
		sealed, err := sealApplied(a)
		if err != nil {
			return nil, err
		}
		return json.MarshalIndent(sealed, "", "  ")
	}
	sum := sha256.Sum256(data)
	raw := make([]byte, 0, len(data)+80)
	raw = append(raw, data[:len(data)-1]...)
	raw = append(raw, `,"checksum":"`...)
	raw = hex.AppendEncode(raw, sum[:])
	raw = append(raw, `"}`...)
	var out bytes.Buffer
	out.Grow(len(raw) * 3 / 2)
	if err := json.Indent(&out, raw, "", "  "); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// sealApplied returns a copy of a with its checksum set.
func sealApplied(a *Applied) (*Applied, error) {
	data, err := canonicalApplied(a)
	if err != nil {
		return nil, err
	}
	c := *a
	sum := sha256.Sum256(data)
	c.Checksum = hex.EncodeToString(sum[:])
	return &c, nil
}

// appliedChecksumHolds says whether a's checksum matches its content. A
// record written before records were sealed has none: it is accepted (and
// validated like every other).
func appliedChecksumHolds(a *Applied) (sealed, ok bool) {
	if a.Checksum == "" {
		return false, true
	}
	data, err := canonicalApplied(a)
	if err != nil {
		return true, false
	}
	sum := sha256.Sum256(data)
	return true, strings.EqualFold(hex.EncodeToString(sum[:]), a.Checksum)
}

// cleanText refuses a value with control characters (a newline would split
// a message or a log line) or invalid UTF-8.
func cleanText(what, s string, max int) error {
	if len(s) > max {
		return fmt.Errorf("%s is longer than %d bytes", what, max)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s is not valid utf-8", what)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return fmt.Errorf("%s %q holds a control character", what, s)
		}
	}
	return nil
}

// checkSystemPath checks a system path read back from state: clean,
// absolute, printable, never "/" and never one of the paths no patch may
// touch (clp's own state among them).
func checkSystemPath(what, p string) error {
	if err := cleanText(what, p, 4096); err != nil {
		return err
	}
	if !filepath.IsAbs(p) || filepath.Clean(p) != p || p == "/" || strings.ContainsAny(p, "\\") {
		return fmt.Errorf("%s %q is not a clean absolute path", what, p)
	}
	for _, n := range config.NeverAllowed {
		if p == n || strings.HasPrefix(p, n+"/") {
			return fmt.Errorf("%s %s is under %s, which no patch may change", what, p, n)
		}
	}
	return nil
}

func checkEntry(what, name string) error {
	clean, isDir, err := cleanEntryName(name)
	if err != nil || isDir || clean != name {
		return fmt.Errorf("%s %q is not a clean archive entry name", what, name)
	}
	return nil
}

func checkState(what string, s FileState) error {
	if !s.Exists {
		return nil
	}
	if !validSHA256(s.SHA256) {
		return fmt.Errorf("%s sha256 %q is not a sha256", what, s.SHA256)
	}
	if s.Mode > 0o7777 || s.UID < 0 || s.GID < 0 {
		return fmt.Errorf("%s mode or owner is out of range", what)
	}
	return nil
}

var txIDRE = lazyRegexp(`^[0-9a-f]{16}$`)

// validateApplied checks every name and path in an applied record (from
// applied.json or a journal) as strictly as a patch's own: what recovery
// and rollback do with them (remove, rename, restore, run pacman) must stay
// inside the root, inside the patch's own state, and on the packages the
// patch changed.
func validateApplied(a *Applied) error {
	if err := checkName(a.Name); err != nil {
		return err
	}
	if a.Version == "" {
		return errors.New("the version is empty")
	}
	if err := cleanText("version", a.Version, 128); err != nil {
		return err
	}
	if strings.Contains(a.Version, "/") {
		return fmt.Errorf("version %q holds a '/'", a.Version)
	}
	if err := cleanText("description", a.Description, 64<<10); err != nil {
		return err
	}
	if err := cleanText("severity", a.Severity, 64); err != nil {
		return err
	}
	if a.TxID != "" && !validTxID(a.TxID) {
		return fmt.Errorf("transaction id %q is not one clp makes", a.TxID)
	}
	for _, sc := range []string{a.InstallScript, a.RemoveScript} {
		if sc != "" {
			if err := checkEntry("script", sc); err != nil {
				return err
			}
		}
	}
	for _, d := range a.Dirs {
		if err := checkSystemPath("directory", d); err != nil {
			return err
		}
	}
	seen := map[string]bool{}
	for i, s := range a.Steps {
		what := fmt.Sprintf("step %d", i+1)
		switch s.Op {
		case OpAdd, OpReplace, OpRemove, OpMode, OpOwner:
		default:
			return fmt.Errorf("%s: unknown file action %q", what, s.Op)
		}
		if err := checkSystemPath(what+": target", s.Target); err != nil {
			return err
		}
		if seen[s.Target] {
			return fmt.Errorf("%s: target %s appears twice", what, s.Target)
		}
		seen[s.Target] = true
		if s.Payload != "" {
			if err := checkEntry(what+": payload", s.Payload); err != nil {
				return err
			}
		}
		if s.Clpsave != "" && s.Clpsave != s.Target+".clpsave" {
			return fmt.Errorf("%s: kept copy %q is not %s.clpsave", what, s.Clpsave, s.Target)
		}
		if s.Staged != "" {
			prefix := filepath.Join(filepath.Dir(s.Target), "."+filepath.Base(s.Target)+".clp-new-")
			tag, ok := strings.CutPrefix(s.Staged, prefix)
			if !ok || !validTxID(tag) {
				return fmt.Errorf("%s: staged file %q is not one clp makes beside %s", what, s.Staged, s.Target)
			}
		}
		if s.Backup != "" && s.Backup != filepath.Join("backup", s.Target) {
			return fmt.Errorf("%s: backup %q is not backup%s", what, s.Backup, s.Target)
		}
		if err := checkState(what+": before", s.Before); err != nil {
			return err
		}
		if err := checkState(what+": after", s.After); err != nil {
			return err
		}
	}
	if a.Packages != nil {
		if err := validatePackagePlan(a.Packages); err != nil {
			return err
		}
	}
	return nil
}

// validatePackagePlan checks a journalled package plan: valid package
// names and versions, and every package it would revert or unpin is one of
// its own actions.
func validatePackagePlan(p *PackagePlan) error {
	ops := map[string]string{}
	for _, act := range p.Actions {
		if !pkgNameRE.MatchString(act.Name) {
			return fmt.Errorf("package action names %q, not a package name", act.Name)
		}
		switch act.Op {
		case OpDowngrade:
			if !pkgVersionRE.MatchString(act.Version) {
				return fmt.Errorf("downgrade of %s to %q: not a package version", act.Name, act.Version)
			}
			if act.File != "" && !pkgFileRE.MatchString(act.File) {
				return fmt.Errorf("downgrade of %s: %q is not a package file name", act.Name, act.File)
			}
			if act.Payload != "" {
				if err := checkEntry("package payload", act.Payload); err != nil {
					return err
				}
			}
		case OpPin:
			if act.Until != "" && !pkgVersionLooseRE.MatchString(act.Until) {
				return fmt.Errorf("pin of %s until %q: not a package version", act.Name, act.Until)
			}
		default:
			return fmt.Errorf("unknown package action %q", act.Op)
		}
		ops[act.Name+" "+act.Op] = act.Name
		ops[act.Name] = act.Name
	}
	for name, prev := range p.Previous {
		if _, ok := ops[name+" "+OpDowngrade]; !ok {
			return fmt.Errorf("the plan would put back package %q, which it does not downgrade", name)
		}
		if prev != "" && !pkgVersionRE.MatchString(prev) {
			return fmt.Errorf("previous version %q of %s is not a package version", prev, name)
		}
	}
	for _, name := range p.Pins {
		if _, ok := ops[name]; !ok {
			return fmt.Errorf("the plan would unpin package %q, which it has no action on", name)
		}
	}
	return nil
}
