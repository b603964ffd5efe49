package pacman

import (
	"fmt"
	"strings"
)

// VerCmp compares two package versions exactly as libalpm's
// alpm_pkg_vercmp does (pacman's vercmp): <0 if a is older, 0 if equal,
// >0 if newer. It is a line-by-line port of lib/libalpm/version.c rather
// than a call into libalpm because sorting a cache listing calls it
// thousands of times and a cgo call with two C string copies costs far more
// than the comparison; vercmp_test.go proves it identical to the real
// library on a table of awkward cases and on random versions.
func VerCmp(a, b string) int {
	// C strings end at the first NUL; so do these.
	if k := strings.IndexByte(a, 0); k >= 0 {
		a = a[:k]
	}
	if k := strings.IndexByte(b, 0); k >= 0 {
		b = b[:k]
	}
	if a == b {
		return 0
	}
	e1, v1, r1, hasR1 := parseEVR(a)
	e2, v2, r2, hasR2 := parseEVR(b)
	ret := rpmvercmp(e1, e2)
	if ret == 0 {
		ret = rpmvercmp(v1, v2)
		if ret == 0 && hasR1 && hasR2 {
			ret = rpmvercmp(r1, r2)
		}
	}
	return ret
}

// parseEVR splits [epoch:]version[-release]; the epoch is the leading
// digits before a colon ("0" when absent or empty), the release is what
// follows the last dash after those digits.
func parseEVR(s string) (epoch, ver, rel string, hasRel bool) {
	k := 0
	for k < len(s) && isDigit(s[k]) {
		k++
	}
	se := strings.LastIndexByte(s[k:], '-')
	verStart, verEnd := 0, len(s)
	epoch = "0"
	if k < len(s) && s[k] == ':' {
		if k > 0 {
			epoch = s[:k]
		}
		verStart = k + 1
	}
	if se >= 0 {
		verEnd = k + se
		rel, hasRel = s[k+se+1:], true
	}
	return epoch, s[verStart:verEnd], rel, hasRel
}

// rpmvercmp compares alternating runs of digits and letters, ignoring the
// separators between them except for their length; see version.c.
func rpmvercmp(a, b string) int {
	if a == b {
		return 0
	}
	one, two := 0, 0   // start of the current segment
	ptr1, ptr2 := 0, 0 // end of the previous segment
	for one < len(a) && two < len(b) {
		for one < len(a) && !isAlnum(a[one]) {
			one++
		}
		for two < len(b) && !isAlnum(b[two]) {
			two++
		}
		if one >= len(a) || two >= len(b) {
			break
		}
		// Different separator lengths decide ("1.0" vs "1..0").
		if d1, d2 := one-ptr1, two-ptr2; d1 != d2 {
			if d1 < d2 {
				return -1
			}
			return 1
		}
		ptr1, ptr2 = one, two
		isnum := isDigit(a[ptr1])
		if isnum {
			for ptr1 < len(a) && isDigit(a[ptr1]) {
				ptr1++
			}
			for ptr2 < len(b) && isDigit(b[ptr2]) {
				ptr2++
			}
		} else {
			for ptr1 < len(a) && isAlpha(a[ptr1]) {
				ptr1++
			}
			for ptr2 < len(b) && isAlpha(b[ptr2]) {
				ptr2++
			}
		}
		s1, s2 := a[one:ptr1], b[two:ptr2]
		if s2 == "" {
			// Segments of different types: a number beats letters.
			if isnum {
				return 1
			}
			return -1
		}
		if isnum {
			s1 = strings.TrimLeft(s1, "0")
			s2 = strings.TrimLeft(s2, "0")
			if len(s1) != len(s2) {
				if len(s1) > len(s2) {
					return 1
				}
				return -1
			}
		}
		if c := strings.Compare(s1, s2); c != 0 {
			return c
		}
		one, two = ptr1, ptr2
	}
	if one >= len(a) && two >= len(b) {
		return 0
	}
	// A remaining letter run never beats the end of the other string
	// ("1.0a" < "1.0"), anything else remaining does ("1.0.1" > "1.0").
	if one >= len(a) && !(two < len(b) && isAlpha(b[two])) || one < len(a) && isAlpha(a[one]) {
		return -1
	}
	return 1
}

// SatisfiesConstraint reports whether version satisfies a pacman-style
// constraint: "", "=V", ">=V", "<=V", ">V", "<V" ("V" alone means "=V").
// A constraint version without pkgrel matches any pkgrel, as in pacman's
// dependency checks.
func SatisfiesConstraint(version, constraint string) (bool, error) {
	constraint = strings.TrimSpace(constraint)
	if constraint == "" {
		return true, nil
	}
	op := "="
	for _, o := range []string{">=", "<=", "=", ">", "<"} {
		if strings.HasPrefix(constraint, o) {
			op = o
			constraint = strings.TrimSpace(constraint[len(o):])
			break
		}
	}
	if constraint == "" {
		return false, fmt.Errorf("version constraint %q names no version", op)
	}
	v := version
	if !strings.Contains(constraint, "-") {
		if i := strings.LastIndex(v, "-"); i > 0 {
			v = v[:i]
		}
	}
	c := VerCmp(v, constraint)
	switch op {
	case "=":
		return c == 0, nil
	case ">=":
		return c >= 0, nil
	case "<=":
		return c <= 0, nil
	case ">":
		return c > 0, nil
	default:
		return c < 0, nil
	}
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isAlnum(c byte) bool { return isDigit(c) || isAlpha(c) }
