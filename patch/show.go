package patch

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	"aead.dev/minisign"
)

// SigStatus is a patch's signature as clp show reports it.
type SigStatus struct {
	// Status is "trusted", "untrusted", "unsigned" or "bad".
	Status         string `json:"status"`
	KeyID          string `json:"key_id,omitempty"`
	TrustedComment string `json:"trusted_comment,omitempty"`
	// Detail is the reason for a status other than trusted.
	Detail string `json:"detail,omitempty"`
}

// CheckSignature reports the signature of file (file+SigSuffix) against
// the keys trusted in keysDir (read inside root: LoadTrustedKeysIn),
// never failing: what is wrong goes in Detail. It only reports: nothing
// acts on the file it read.
func CheckSignature(file, root, keysDir string) SigStatus {
	sigPath := file + SigSuffix
	raw, err := ReadSigFile(sigPath)
	if errors.Is(err, os.ErrNotExist) {
		return SigStatus{Status: "unsigned", Detail: sigPath + " is missing"}
	}
	if err != nil {
		return SigStatus{Status: "bad", Detail: err.Error()}
	}
	var s minisign.Signature
	if err := s.UnmarshalText(bytes.TrimSpace(raw)); err != nil {
		return SigStatus{Status: "bad", Detail: sigPath + " is not a minisign signature"}
	}
	st := SigStatus{KeyID: KeyID(s.KeyID), TrustedComment: s.TrustedComment}
	keys, err := LoadTrustedKeysIn(root, keysDir)
	if err != nil {
		st.Status, st.Detail = "untrusted", err.Error()
		return st
	}
	_, err = VerifyFile(file, sigPath, keys)
	switch {
	case err == nil:
		st.Status = "trusted"
	case errors.Is(err, ErrUntrustedKey):
		st.Status, st.Detail = "untrusted", "not in "+keysDir
		// The comment of a signature from an unknown key proves nothing.
		st.TrustedComment = ""
	default:
		st.Status, st.Detail, st.TrustedComment = "bad", err.Error(), ""
	}
	return st
}

// Lines is f as clp show prints it: the action and target, then what is
// set, and in a dry run what the target is now. The verdict of the check
// (Check.Matches) is the caller's to print.
func (f FileDescription) Lines() []string {
	out := []string{fmt.Sprintf("%-8s %s", f.Op, f.Target)}
	var meta []string
	for _, m := range [][2]string{{"mode", f.Mode}, {"owner", f.Owner}, {"group", f.Group}} {
		if m[1] != "" {
			meta = append(meta, m[0]+" "+m[1])
		}
	}
	for _, l := range [][2]string{{"payload", f.Payload}, {"expect", f.Expect}, {"new", f.SHA256}, {"set", strings.Join(meta, ", ")}} {
		if l[1] != "" {
			out = append(out, fmt.Sprintf("    %-7s %s", l[0], l[1]))
		}
	}
	c := f.Check
	if c == nil {
		return out
	}
	now := "absent"
	if c.Exists && c.SHA256 != "" {
		now = fmt.Sprintf("sha256 %s, mode %s, uid %d, gid %d", c.SHA256, c.Mode, c.UID, c.GID)
	} else if c.Exists {
		now = "present"
	}
	return append(out, fmt.Sprintf("    %-7s %s", "now", now))
}

// Lines is p as clp show prints it.
func (p PackageDescription) Lines() []string {
	switch p.Op {
	case OpDowngrade:
		src := "from the pacman cache or the archive server"
		if p.Payload != "" {
			src = "in the patch as " + p.Payload
		}
		return []string{fmt.Sprintf("downgrade %s to %s", p.Name, p.Version),
			fmt.Sprintf("    file    %s (%s)", p.File, src),
			"    sha256  " + p.SHA256}
	case OpPin:
		until := "until the patch is rolled back"
		if p.Until != "" {
			until = "until " + p.Until + " or later is available"
		}
		return []string{fmt.Sprintf("pin %s %s", p.Name, until)}
	}
	return []string{fmt.Sprintf("%s %s", p.Op, p.Name)}
}
