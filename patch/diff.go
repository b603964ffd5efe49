package patch

import (
	"bytes"
	"unicode/utf8"

	"github.com/rogpeppe/go-internal/diff"
)

// UnifiedDiff returns the unified diff, with three lines of context, that
// turns old into new, headed "--- oldName" and "+++ newName" as diff -u and
// patch(1) read them; "" when the two are equal. A last line without a
// newline is marked "\ No newline at end of file", as GNU diff does.
//
// It is go-internal's anchored diff (the Go project's own): it runs in
// O(n log n), so a large file cannot make `clp show` hang, at the price of
// sometimes showing a few more changed lines than a minimal diff would.
func UnifiedDiff(oldName string, old []byte, newName string, new []byte) string {
	d := diff.Diff(oldName, old, newName, new)
	if d == nil {
		return ""
	}
	// Drop go-internal's "diff OLD NEW" line: it is not part of the
	// unified format, and a name with spaces would make it ambiguous.
	if i := bytes.IndexByte(d, '\n'); i >= 0 && bytes.HasPrefix(d, []byte("diff ")) {
		d = d[i+1:]
	}
	return string(d)
}

// textSniffLen is how much of a file IsText looks at, as git does.
const textSniffLen = 8000

// IsText reports whether data is worth showing as a text diff: no NUL byte
// in its first 8000 bytes (git's rule) and valid UTF-8 there. A multi-byte
// character cut at the 8000th byte does not count against it.
func IsText(data []byte) bool {
	head := data
	if len(head) > textSniffLen {
		head = head[:textSniffLen]
		// Back off to the start of a character cut by the slice.
		for i := 0; i < utf8.UTFMax && len(head) > 0 && !utf8.RuneStart(data[len(head)]); i++ {
			head = head[:len(head)-1]
		}
	}
	return bytes.IndexByte(head, 0) < 0 && utf8.Valid(head)
}
