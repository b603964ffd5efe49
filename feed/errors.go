package feed

import (
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"
	"github.com/theupdateframework/go-tuf/v2/metadata/trustedmetadata"
)

// Sentinels naming what a refused feed looks like. Errors from this package
// wrap one of them, so cmd/clp can tell "verification failed" (an attack or a
// broken feed) from "mirror down" without reading messages.
var (
	ErrTampered    = errors.New("tampered data")
	ErrUnknownKey  = errors.New("signature from a key not in root")
	ErrRollback    = errors.New("rollback attack")
	ErrFreeze      = errors.New("expired metadata")
	ErrMixAndMatch = errors.New("mix-and-match attack")
	ErrTooLarge    = errors.New("response too large")
	ErrUnreachable = errors.New("mirror unreachable")
)

// IsAttack reports whether err is a verification failure (as opposed to a
// mirror that could not be reached): the feed served something clp refused.
func IsAttack(err error) bool {
	for _, s := range []error{ErrTampered, ErrUnknownKey, ErrRollback, ErrFreeze, ErrMixAndMatch, ErrTooLarge} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// VerifyError is a refusal with a message that names the attack. Kind is one
// of the sentinels above; Err is go-tuf's original error, kept for %+v
// debugging and errors.As.
type VerifyError struct {
	Kind error
	Msg  string
	Err  error
}

func (e *VerifyError) Error() string   { return e.Msg }
func (e *VerifyError) Unwrap() []error { return []error{e.Kind, e.Err} }

func refuse(kind error, cause error, format string, args ...any) *VerifyError {
	return &VerifyError{Kind: kind, Msg: fmt.Sprintf(format, args...), Err: cause}
}

// TooLargeError is a response cut off at its cap: an endless-data attack or
// a misconfigured mirror.
type TooLargeError struct {
	URL   string
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("response exceeds %d bytes (endless data?): %s", e.Limit, e.URL)
}
func (e *TooLargeError) Unwrap() error { return ErrTooLarge }

// UnreachableError is a network failure talking to a mirror.
type UnreachableError struct {
	URL string
	Err error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot fetch %s: %v", e.URL, e.Err)
}
func (e *UnreachableError) Unwrap() []error { return []error{ErrUnreachable, e.Err} }

// roleOf names the TUF role a metadata URL is for: "timestamp.json",
// "3.snapshot.json", "7.root.json".
func roleOf(url string) string {
	base := strings.TrimSuffix(path.Base(url), ".json")
	if v, r, ok := strings.Cut(base, "."); ok && strings.Trim(v, "0123456789") == "" {
		return r
	}
	return base
}

// explain turns an error from go-tuf's update workflow into one that names the
// attack. go-tuf's own messages say what check failed ("bad version number
// error: expected 3, got 2") but not what it means, and some even print the
// numbers the wrong way round; so the facts are re-read here from what the
// mirror served (f.lastData) and what was trusted before (trusted).
func explain(err error, f *tufFetcher, trusted *trustedmetadata.TrustedMetadata) error {
	var vErr *VerifyError
	if errors.As(err, &vErr) {
		return err
	}
	var tooLarge *TooLargeError
	var unreachable *UnreachableError
	var httpErr *metadata.ErrDownloadHTTP
	switch {
	case errors.As(err, &tooLarge), errors.As(err, &unreachable):
		return err
	case errors.As(err, &httpErr):
		return explainHTTP(err)
	}
	role := roleOf(f.lastURL)
	data := f.lastData
	switch {
	case errors.Is(err, &metadata.ErrExpiredMetadata{}):
		return explainExpired(err, data, trusted)
	case errors.Is(err, &metadata.ErrBadVersionNumber{}):
		return explainVersion(err, role, data, trusted)
	case errors.Is(err, &metadata.ErrUnsignedMetadata{}):
		return explainSignature(err, role, data, trusted)
	case errors.Is(err, &metadata.ErrLengthOrHashMismatch{}):
		return refuse(ErrTampered, err, "%s metadata does not match the length or hash its parent lists (tampered?)", role)
	case errors.Is(err, &metadata.ErrRepository{}):
		return refuse(ErrTampered, err, "%s metadata refused: %v", role, err)
	}
	if data != nil {
		// A body that is not metadata of the right type: JSON errors,
		// a wrong _type, duplicate signatures.
		return refuse(ErrTampered, err, "%s metadata malformed (tampered?): %v", role, err)
	}
	return err
}

func explainExpired(err error, data []byte, trusted *trustedmetadata.TrustedMetadata) error {
	msg := err.Error()
	var role string
	var expires time.Time
	switch {
	case strings.Contains(msg, "root.json"):
		role, expires = "root", trusted.Root.Signed.Expires
	case strings.Contains(msg, "timestamp.json") && trusted.Timestamp != nil:
		role, expires = "timestamp", trusted.Timestamp.Signed.Expires
	case strings.Contains(msg, "snapshot.json") && trusted.Snapshot != nil:
		role, expires = "snapshot", trusted.Snapshot.Signed.Expires
	default:
		role = "targets"
		if t, perr := metadata.Targets().FromBytes(data); perr == nil {
			expires = t.Signed.Expires
		}
	}
	if expires.IsZero() {
		return refuse(ErrFreeze, err, "metadata expired (freeze attack?): %s expired", role)
	}
	return refuse(ErrFreeze, err, "metadata expired (freeze attack?): %s expired at %s", role, expires.UTC().Format(time.RFC3339))
}

func explainVersion(err error, role string, data []byte, trusted *trustedmetadata.TrustedMetadata) error {
	switch role {
	case metadata.TIMESTAMP:
		remote, perr := metadata.Timestamp().FromBytes(data)
		if perr != nil || trusted.Timestamp == nil {
			break
		}
		if remote.Signed.Version < trusted.Timestamp.Signed.Version {
			return refuse(ErrRollback, err, "rollback attack: remote timestamp version %d is older than trusted version %d",
				remote.Signed.Version, trusted.Timestamp.Signed.Version)
		}
		rs, ts := remote.Signed.Meta["snapshot.json"], trusted.Timestamp.Signed.Meta["snapshot.json"]
		if rs != nil && ts != nil && rs.Version < ts.Version {
			return refuse(ErrRollback, err, "rollback attack: remote timestamp lists snapshot version %d, older than trusted version %d",
				rs.Version, ts.Version)
		}
	case metadata.SNAPSHOT:
		remote, perr := metadata.Snapshot().FromBytes(data)
		if perr != nil || trusted.Timestamp == nil {
			break
		}
		if want := trusted.Timestamp.Signed.Meta["snapshot.json"]; want != nil && want.Version != remote.Signed.Version {
			return refuse(ErrMixAndMatch, err, "timestamp lists snapshot version %d but got version %d (mix-and-match)",
				want.Version, remote.Signed.Version)
		}
		if trusted.Snapshot != nil {
			for name, old := range trusted.Snapshot.Signed.Meta {
				if nw := remote.Signed.Meta[name]; nw != nil && nw.Version < old.Version {
					return refuse(ErrRollback, err, "rollback attack: remote snapshot lists %s version %d, older than trusted version %d",
						strings.TrimSuffix(name, ".json"), nw.Version, old.Version)
				}
			}
		}
	case metadata.ROOT:
		remote, perr := metadata.Root().FromBytes(data)
		if perr == nil {
			return refuse(ErrRollback, err, "root metadata has version %d where %d was expected (rollback?)",
				remote.Signed.Version, trusted.Root.Signed.Version+1)
		}
	default:
		remote, perr := metadata.Targets().FromBytes(data)
		if perr != nil || trusted.Snapshot == nil {
			break
		}
		if want := trusted.Snapshot.Signed.Meta[role+".json"]; want != nil {
			return refuse(ErrMixAndMatch, err, "snapshot lists %s version %d but got version %d (mix-and-match)",
				role, want.Version, remote.Signed.Version)
		}
	}
	return refuse(ErrRollback, err, "%s metadata has an unexpected version (rollback or mix-and-match?): %v", role, err)
}

// explainSignature tells a signature that does not verify (the bytes were
// changed after signing) from one made by a key root does not trust for the
// role (a stolen or made-up key).
func explainSignature(err error, role string, data []byte, trusted *trustedmetadata.TrustedMetadata) error {
	sigs, perr := signaturesOf(role, data)
	var roleKeys []string
	if perr == nil {
		if r := trusted.Root.Signed.Roles[role]; r != nil {
			roleKeys = r.KeyIDs
		}
	}
	trustedSig := false
	var strangers, otherRole []string
	for _, s := range sigs {
		known := false
		for _, k := range roleKeys {
			if k == s.KeyID {
				known = true
			}
		}
		switch {
		case known:
			trustedSig = true
		case perr == nil && trusted.Root.Signed.Keys[s.KeyID] != nil:
			otherRole = append(otherRole, "root's "+rolesOfKey(trusted, s.KeyID)+" key "+shortKeyID(s.KeyID))
		default:
			strangers = append(strangers, shortKeyID(s.KeyID))
		}
	}
	if perr == nil && !trustedSig && len(strangers) > 0 {
		return refuse(ErrUnknownKey, err, "signature from a key not in root: %s metadata is signed by key %s, which root does not trust for %s",
			role, strings.Join(strangers, ", "), role)
	}
	if perr == nil && !trustedSig && len(otherRole) > 0 {
		return refuse(ErrUnknownKey, err, "signature from a key not trusted for %s: %s metadata is signed by %s",
			role, role, strings.Join(otherRole, ", "))
	}
	if perr == nil && len(sigs) == 0 {
		return refuse(ErrTampered, err, "%s metadata is not signed (tampered?)", role)
	}
	return refuse(ErrTampered, err, "%s metadata signature invalid (tampered?)", role)
}

func signaturesOf(role string, data []byte) ([]metadata.Signature, error) {
	switch role {
	case metadata.ROOT:
		m, err := metadata.Root().FromBytes(data)
		if err != nil {
			return nil, err
		}
		return m.Signatures, nil
	case metadata.TIMESTAMP:
		m, err := metadata.Timestamp().FromBytes(data)
		if err != nil {
			return nil, err
		}
		return m.Signatures, nil
	case metadata.SNAPSHOT:
		m, err := metadata.Snapshot().FromBytes(data)
		if err != nil {
			return nil, err
		}
		return m.Signatures, nil
	default:
		m, err := metadata.Targets().FromBytes(data)
		if err != nil {
			return nil, err
		}
		return m.Signatures, nil
	}
}

func shortKeyID(id string) string {
	if _, err := hex.DecodeString(id); err == nil && len(id) > 16 {
		return id[:16]
	}
	return fmt.Sprintf("%q", id)
}

func rolesOfKey(trusted *trustedmetadata.TrustedMetadata, id string) string {
	var roles []string
	for name, r := range trusted.Root.Signed.Roles {
		for _, k := range r.KeyIDs {
			if k == id {
				roles = append(roles, name)
			}
		}
	}
	sort.Strings(roles)
	return strings.Join(roles, "/")
}
