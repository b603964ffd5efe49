package patch

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/vincentos/clp/internal/fsx"
	"golang.org/x/sys/unix"
)

// MaxDiffSize is the largest file (either side) Describe shows a text diff
// of; a larger one is reported as differing without its lines, so that
// `clp show` on a patch replacing a huge file stays quick and readable.
const MaxDiffSize = 4 << 20

// Description is what `clp show` prints about a patch: its metadata, every
// action as written, and, for a dry run against a system root, what each
// file action would find there and the unified diff of what it would change.
type Description struct {
	Name         string `json:"name"`
	Version      string `json:"version"`
	Format       int    `json:"format"`
	Architecture string `json:"architecture,omitempty"`
	Description  string `json:"description,omitempty"`
	Author       string `json:"author,omitempty"`
	Date         string `json:"date,omitempty"`
	// Severity is "normal" when PKGINFO.meta leaves it out, as the feed
	// policy reads it.
	Severity string `json:"severity"`
	// AppliesTo lists the conditions in words ("architecture x86_64",
	// "nvidia-utils >=560 installed", "nvidia-open not installed"); empty
	// means every system.
	AppliesTo     []string             `json:"applies_to"`
	Files         []FileDescription    `json:"files"`
	Packages      []PackageDescription `json:"packages"`
	InstallScript string               `json:"install_script,omitempty"`
	RemoveScript  string               `json:"remove_script,omitempty"`
	Entries       []string             `json:"entries"`
	DryRun        *DryRun              `json:"dry_run,omitempty"`
}

// DryRun sums up a check against a root.
type DryRun struct {
	// Root is the system root the patch was checked against.
	Root string `json:"root"`
	// Conflicts counts the file actions whose target is not what the patch
	// expects: clp apply would refuse (or, with --force, keep the current
	// file as .clpsave).
	Conflicts int `json:"conflicts"`
}

// FileDescription is one file action and, in a dry run, its check.
type FileDescription struct {
	Op      string `json:"op"`
	Target  string `json:"target"`
	Payload string `json:"payload,omitempty"`
	SHA256  string `json:"sha256,omitempty"`
	Expect  string `json:"expect,omitempty"`
	Mode    string `json:"mode,omitempty"`
	Owner   string `json:"owner,omitempty"`
	Group   string `json:"group,omitempty"`
	// Check is what the target is now (dry run only).
	Check *TargetCheck `json:"check,omitempty"`
	// Diff is the unified diff from the target now to the target after
	// the action (dry run only; "" when the content does not change or
	// cannot be shown as text, see DiffNote).
	Diff string `json:"diff,omitempty"`
	// DiffNote says why there is no Diff for a content change: "binary
	// file differs", "file too large to show a diff".
	DiffNote string `json:"diff_note,omitempty"`
}

// TargetCheck is a file action's target as it is on the system now.
type TargetCheck struct {
	Exists bool `json:"exists"`
	// SHA256, Mode ("0644"), UID and GID describe the file when it exists
	// and is a regular file.
	SHA256 string `json:"sha256,omitempty"`
	Mode   string `json:"mode,omitempty"`
	UID    int    `json:"uid"`
	GID    int    `json:"gid"`
	// Matches is true when the target is what the action expects (absent
	// for add, sha256 equal to expect otherwise): apply goes ahead.
	Matches bool `json:"matches"`
	// Problem says, when it does not match, what apply would find wrong.
	Problem string `json:"problem,omitempty"`
}

// PackageDescription is one package action as written.
type PackageDescription struct {
	Op      string `json:"op"`
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	File    string `json:"file,omitempty"`
	Payload string `json:"payload,omitempty"`
	SHA256  string `json:"sha256,omitempty"`
	Until   string `json:"until,omitempty"`
}

// Describe tells everything about the opened patch a: its metadata, its
// actions and its entries. With a root ("/" or a sandbox root), it is also a
// dry run: each file action's target is looked at under root, whether it is
// what the patch expects is reported, and the unified diff of every text
// file the patch would change is included (binary or oversized files are
// noted instead). Describe only reads: it never writes, creates or locks
// anything, and it does not follow a symbolic link at or above a target,
// so a dry run never reads outside root.
func Describe(a Archive, root string) (*Description, error) {
	m := a.Manifest()
	d := &Description{
		Name: m.Name, Version: m.Version, Format: m.Format, Architecture: m.Architecture,
		Description: m.Description, Author: m.Author, Date: m.Date, Severity: m.Severity,
		AppliesTo:     describeAppliesTo(m.AppliesTo),
		Files:         []FileDescription{},
		Packages:      []PackageDescription{},
		InstallScript: m.InstallScript, RemoveScript: m.RemoveScript,
		Entries: append([]string{}, a.Entries()...),
	}
	if d.Severity == "" {
		d.Severity = SeverityNormal
	}
	for _, p := range m.Packages {
		d.Packages = append(d.Packages, PackageDescription{Op: p.Op, Name: p.Name, Version: p.Version,
			File: p.File, Payload: p.Payload, SHA256: p.SHA256, Until: p.Until})
	}
	if root != "" {
		d.DryRun = &DryRun{Root: root}
	}
	for _, f := range m.Files {
		fd := FileDescription{Op: f.Op, Target: f.Target, Payload: f.Payload, SHA256: f.SHA256,
			Expect: f.Expect, Mode: f.Mode, Owner: f.Owner, Group: f.Group}
		if root != "" {
			if err := dryRunFile(a, root, f, &fd); err != nil {
				return nil, err
			}
			if !fd.Check.Matches {
				d.DryRun.Conflicts++
			}
		}
		d.Files = append(d.Files, fd)
	}
	return d, nil
}

func describeAppliesTo(at AppliesTo) []string {
	out := []string{}
	if len(at.Architectures) > 0 {
		out = append(out, "architecture "+strings.Join(at.Architectures, " or "))
	}
	for _, c := range at.Packages {
		switch {
		case c.Absent:
			out = append(out, c.Name+" not installed")
		case c.Constraint != "":
			out = append(out, c.Name+" "+c.Constraint+" installed")
		default:
			out = append(out, c.Name+" installed")
		}
	}
	return out
}

// dryRunFile fills in fd.Check and the diff for one file action.
func dryRunFile(a Archive, root string, f FileAction, fd *FileDescription) error {
	chk, cur, err := lookAtTarget(root, f.Target)
	if err != nil {
		return err
	}
	fd.Check = chk
	switch {
	case chk.Problem != "":
		// Not a regular file, or a link on the way: apply refuses.
	case f.Op == OpAdd && chk.Exists:
		chk.Problem = "exists already, but the patch adds it as a new file: apply refuses (with --force it keeps this file as " + f.Target + ".clpsave)"
	case f.Op != OpAdd && !chk.Exists:
		chk.Problem = "does not exist, but the patch expects to " + f.Op + " it: apply refuses"
	case f.Op != OpAdd && !strings.EqualFold(chk.SHA256, f.Expect):
		chk.Problem = fmt.Sprintf("has sha256 %s, but the patch expects %s (changed since the patch was made): apply refuses", chk.SHA256, f.Expect)
		if f.Op != OpMode && f.Op != OpOwner {
			// Mode and owner keep the content, so --force has no copy to save.
			chk.Problem += " (with --force it keeps this file as " + f.Target + ".clpsave)"
		}
	}
	chk.Matches = chk.Problem == ""

	var after []byte
	var afterTooBig bool
	switch f.Op {
	case OpAdd, OpReplace:
		after, afterTooBig, err = readEntryCapped(a, f.Payload)
		if err != nil {
			return err
		}
	case OpRemove:
		after = nil
	default:
		// Mode and owner actions leave the content as it is.
		return nil
	}
	if chk.Exists && cur == nil {
		// Not a regular file: nothing to diff against.
		return nil
	}
	if curTooBig(cur) || afterTooBig {
		fd.DiffNote = "file too large to show a diff"
		return nil
	}
	oldName, newName := "a"+f.Target, "b"+f.Target
	if !chk.Exists {
		oldName = "/dev/null"
	}
	if f.Op == OpRemove {
		newName = "/dev/null"
	}
	oldData := cur.data()
	if bytes.Equal(oldData, after) && chk.Exists {
		return nil
	}
	if !IsText(oldData) || !IsText(after) {
		fd.DiffNote = "binary file differs"
		return nil
	}
	fd.Diff = UnifiedDiff(oldName, oldData, newName, after)
	return nil
}

// currentContent is a target's content as read for a diff; tooBig means it
// was over MaxDiffSize and data is not kept.
type currentContent struct {
	content []byte
	tooBig  bool
}

func (c *currentContent) data() []byte {
	if c == nil {
		return nil
	}
	return c.content
}

func curTooBig(c *currentContent) bool { return c != nil && c.tooBig }

// lookAtTarget reads target under root without following a symbolic link
// at or above it: a link there would make the dry run read outside root,
// and apply refuses such a target anyway.
func lookAtTarget(root, target string) (*TargetCheck, *currentContent, error) {
	chk := &TargetCheck{}
	p := fsx.UnderRoot(root, target)
	// Every look is resolved inside the root (os.Root): a folder swapped
	// for a link out of it after the checks below makes the look fail
	// instead of reading outside.
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, nil, fmt.Errorf("dry run: open the root %s: %w", root, err)
	}
	defer r.Close()
	// Every existing parent must be a real directory.
	parts := strings.Split(strings.TrimPrefix(path.Clean("/"+target), "/"), "/")
	for i := range parts[:len(parts)-1] {
		fi, err := r.Lstat(filepath.Join(parts[:i+1]...))
		if errors.Is(err, fs.ErrNotExist) {
			return chk, nil, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("dry run: %w", err)
		}
		if !fi.IsDir() {
			chk.Exists = true
			chk.Problem = fmt.Sprintf("parent /%s is %s, not a directory: apply refuses", strings.Join(parts[:i+1], "/"), fileKind(fi.Mode()))
			return chk, nil, nil
		}
	}
	name := tname(target)
	fi, err := r.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return chk, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("dry run: %w", err)
	}
	chk.Exists = true
	if !fi.Mode().IsRegular() {
		chk.Problem = "is " + fileKind(fi.Mode()) + ", not a regular file: apply refuses"
		return chk, nil, nil
	}
	chk.Mode = fmt.Sprintf("%04o", uint32(fi.Mode().Perm())|extraModeBits(fi.Mode()))
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		chk.UID, chk.GID = int(st.Uid), int(st.Gid)
	}
	if lookHook != nil {
		lookHook(p)
	}
	// Opened inside the root without following a link at the target: the
	// file was checked with Lstat above; a swap for a link in between (of
	// the file or a folder above it) must not make us read elsewhere.
	fh, err := openNoFollowIn(r, name, unix.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("dry run: look at %s: %w", p, err)
	}
	defer fh.Close()
	if fi2, err := fh.Stat(); err != nil || !os.SameFile(fi, fi2) {
		return nil, nil, fmt.Errorf("dry run: %s changed while clp looked at it", p)
	}
	h := sha256.New()
	var buf bytes.Buffer
	lim := &limitedBuffer{buf: &buf, max: MaxDiffSize}
	if _, err := io.Copy(io.MultiWriter(h, lim), fh); err != nil {
		return nil, nil, fmt.Errorf("dry run: read %s: %w", p, err)
	}
	chk.SHA256 = hex.EncodeToString(h.Sum(nil))
	cur := &currentContent{tooBig: lim.over}
	if !lim.over {
		cur.content = buf.Bytes()
	}
	return chk, cur, nil
}

// lookHook, when set (tests), is called with a target's path just before
// the dry run opens it.
var lookHook func(p string)

// extraModeBits maps Go's setuid, setgid and sticky flags back to their
// octal bits, so a mode reads as ls and chmod write it.
func extraModeBits(m fs.FileMode) uint32 {
	var b uint32
	if m&fs.ModeSetuid != 0 {
		b |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		b |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		b |= 0o1000
	}
	return b
}

func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a fifo"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m.IsRegular():
		return "a regular file"
	}
	return "a special file"
}

// limitedBuffer keeps at most max bytes and notes when there were more; it
// never fails, so the hash beside it still sees the whole file.
type limitedBuffer struct {
	buf  *bytes.Buffer
	max  int
	over bool
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if !l.over {
		if l.buf.Len()+len(p) > l.max {
			l.over = true
			l.buf.Reset()
		} else {
			l.buf.Write(p)
		}
	}
	return len(p), nil
}

// readEntryCapped reads an archive entry for a diff, keeping it only when
// it is at most MaxDiffSize (the whole entry is still read, so Archive.Open
// checks its sha256).
func readEntryCapped(a Archive, name string) (data []byte, tooBig bool, err error) {
	rc, err := a.Open(name)
	if err != nil {
		return nil, false, err
	}
	defer rc.Close()
	var buf bytes.Buffer
	lim := &limitedBuffer{buf: &buf, max: MaxDiffSize}
	if _, err := io.Copy(lim, rc); err != nil {
		return nil, false, fmt.Errorf("read %s from the patch: %w", name, err)
	}
	if lim.over {
		return nil, true, nil
	}
	return buf.Bytes(), false, nil
}
