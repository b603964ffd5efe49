package feed

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/vincentos/clp/internal/fsx"
	"github.com/vincentos/clp/internal/lock"
)

// Default lifetimes. The timestamp is short so that a mirror cannot freeze a
// machine on old metadata for long; it is re-signed daily by cron. Targets and
// snapshot are re-signed on every Add and by Resign; root is signed rarely,
// with a key kept offline.
const (
	DefaultRootExpiry      = 365 * 24 * time.Hour
	DefaultTargetsExpiry   = 30 * 24 * time.Hour
	DefaultSnapshotExpiry  = 30 * 24 * time.Hour
	DefaultTimestampExpiry = 24 * time.Hour
)

// Roles are the four top-level TUF roles, each with its own key.
var Roles = []string{metadata.ROOT, metadata.TARGETS, metadata.SNAPSHOT, metadata.TIMESTAMP}

// Severities a patch may declare; clp.conf's UpdatePolicy=critical applies
// only "critical" ones.
var Severities = []string{"critical", "important", "normal", "low"}

// Severity gives a severity its one name: the patch format's words, with
// "high" (what feeds before clp 0.2 wrote for "important") read as
// "important".
func Severity(s string) string {
	if s == "high" {
		return "important"
	}
	return s
}

// InitOptions tunes a new feed; zero values take the defaults above.
type InitOptions struct {
	RootExpiry, TargetsExpiry, SnapshotExpiry, TimestampExpiry time.Duration
}

// ResignOptions tunes Add and Resign; zero values take the defaults.
type ResignOptions struct {
	TargetsExpiry, SnapshotExpiry, TimestampExpiry time.Duration
}

// TargetMeta is what a client needs to know about a patch before downloading
// it; it travels signed, as the target's custom metadata {"clp": {...}}. The
// caller fills it from the patch's PKGINFO.meta (feed does not read patches).
type TargetMeta struct {
	// Sequence orders patches feed-wide; 0 means "one more than the highest".
	Sequence uint64 `json:"sequence"`
	// Severity is one of Severities; "" means "normal".
	Severity string `json:"severity"`
	// Name is the patch's name; "" means the file name without ".clp".
	Name string `json:"name"`
	// Description is the patch's one-line description (PKGINFO.meta), so
	// that 'clp update --check' can say what a patch is for before
	// downloading it.
	Description string `json:"description,omitempty"`
	// Changes says what the patch will change, one action a line ("add
	// /etc/x.conf", "downgrade nvidia-utils to 550.78-1"), from its
	// PKGINFO.meta, for the same purpose.
	Changes []string `json:"changes,omitempty"`
	// Architectures the patch applies to; empty or "any" means all.
	Architectures []string `json:"architectures,omitempty"`
	// Requires lists conditions on the system (for example installed
	// packages) the apply engine checks; feed only carries them.
	Requires []string `json:"requires,omitempty"`
	// Phase is the share of machines, in percent (0 to 100), the patch is
	// rolled out to: a machine applies it only when its bucket for the
	// patch is below Phase (package update decides). nil, in feeds from
	// before phasing, means 100; Add writes it always.
	Phase *int `json:"phase,omitempty"`
	// Withdrawn, when set, says the publisher withdrew the patch: no
	// machine applies it any more, and machines that did roll it back
	// (or report it, as their clp.conf says).
	Withdrawn *Withdrawal `json:"withdrawn,omitempty"`
}

// Withdrawal is why and when a patch was withdrawn.
type Withdrawal struct {
	Reason string    `json:"reason"`
	Time   time.Time `json:"time"`
}

// Rollout is the patch's rollout percentage: Phase, or 100 when unset.
func (m TargetMeta) Rollout() int {
	if m.Phase == nil {
		return 100
	}
	return *m.Phase
}

// DefaultPhase is the rollout a patch is published at when the publisher
// names none: everyone, as before phasing existed. A phased rollout is the
// publisher's choice (clp feed add --phase 10, then clp feed phase).
const DefaultPhase = 100

func checkPhase(p int) error {
	if p < 0 || p > 100 {
		return fmt.Errorf("feed: phase %d must be a percentage from 0 to 100", p)
	}
	return nil
}

type customMeta struct {
	CLP *TargetMeta `json:"clp,omitempty"`
}

// Layout of a feed folder.
func keysDir(dir string) string     { return filepath.Join(dir, "keys") }
func metadataDir(dir string) string { return filepath.Join(dir, "repository", "metadata") }
func targetsDir(dir string) string  { return filepath.Join(dir, "repository", "targets") }
func keyPath(dir, role string) string {
	return filepath.Join(keysDir(dir), role+".pem")
}

const keysReadme = `These are the private keys of a clp patch feed. Anyone holding them can
publish patches that run as root on every machine that trusts this feed.

root.pem      signs root.json only. MOVE IT OFFLINE NOW (an encrypted USB stick
              in a safe): it is needed again only to rotate keys or to renew
              root.json before it expires. Keep a second offline copy.
targets.pem   signs the list of patches (clp feed add).
snapshot.pem  signs the snapshot (clp feed add, clp feed resign).
timestamp.pem re-signed daily (clp feed timestamp); the only key a cron job
              on the publishing host needs.

Never copy this folder to the web server: publish only ../repository/.
`

// Init creates a new feed in dir: a key per role under dir/keys (0600) and
// version 1 of every metadata file under dir/repository/metadata, with
// consistent snapshots on so that old versions stay fetchable while mirrors
// sync. It refuses a dir that already holds a feed, because overwriting keys
// would orphan every machine that trusts the old root.
func Init(dir string, opts InitOptions) error {
	for _, p := range []string{keysDir(dir), filepath.Join(dir, "repository")} {
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("feed: %s already exists; refusing to overwrite a feed's keys", p)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("feed: %w", err)
		}
	}
	for _, d := range []string{dir, metadataDir(dir), targetsDir(dir)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("feed: %w", err)
		}
	}
	if err := os.Mkdir(keysDir(dir), 0o700); err != nil {
		return fmt.Errorf("feed: %w", err)
	}
	l, err := lockFeed(dir)
	if err != nil {
		return err
	}
	defer l.Release()

	now := time.Now().UTC()
	root := metadata.Root(now.Add(or(opts.RootExpiry, DefaultRootExpiry)))
	root.Signed.ConsistentSnapshot = true
	signers := map[string]signature.Signer{}
	for _, role := range Roles {
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return fmt.Errorf("feed: generate %s key: %w", role, err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			return fmt.Errorf("feed: encode %s key: %w", role, err)
		}
		pemData := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
		if err := fsx.WriteFile(keyPath(dir, role), pemData, 0o600); err != nil {
			return fmt.Errorf("feed: write %s key: %w", role, err)
		}
		key, err := metadata.KeyFromPublicKey(pub)
		if err != nil {
			return fmt.Errorf("feed: %s key: %w", role, err)
		}
		if err := root.Signed.AddKey(key, role); err != nil {
			return fmt.Errorf("feed: add %s key to root: %w", role, err)
		}
		if signers[role], err = signature.LoadSigner(priv, crypto.Hash(0)); err != nil {
			return fmt.Errorf("feed: %s key: %w", role, err)
		}
	}
	if err := fsx.WriteFile(filepath.Join(keysDir(dir), "README"), []byte(keysReadme), 0o600); err != nil {
		return fmt.Errorf("feed: %w", err)
	}
	if _, err := root.Sign(signers[metadata.ROOT]); err != nil {
		return fmt.Errorf("feed: sign root: %w", err)
	}
	if err := writeMeta(dir, root, "1.root.json", "root.json"); err != nil {
		return err
	}

	targets := metadata.Targets(now.Add(or(opts.TargetsExpiry, DefaultTargetsExpiry)))
	snapshot := metadata.Snapshot(now.Add(or(opts.SnapshotExpiry, DefaultSnapshotExpiry)))
	timestamp := metadata.Timestamp(now.Add(or(opts.TimestampExpiry, DefaultTimestampExpiry)))
	for _, s := range []struct {
		sign func(signature.Signer) (*metadata.Signature, error)
		role string
	}{{targets.Sign, metadata.TARGETS}, {snapshot.Sign, metadata.SNAPSHOT}, {timestamp.Sign, metadata.TIMESTAMP}} {
		if _, err := s.sign(signers[s.role]); err != nil {
			return fmt.Errorf("feed: sign %s: %w", s.role, err)
		}
	}
	if err := writeMeta(dir, targets, "1.targets.json", "targets.json"); err != nil {
		return err
	}
	if err := writeMeta(dir, snapshot, "1.snapshot.json", "snapshot.json"); err != nil {
		return err
	}
	return writeMeta(dir, timestamp, "timestamp.json")
}

// targetName is what a patch file may be called in the feed: a plain file
// name, so that it is safe as a path on every client and in a URL.
var targetName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]*\.clp$`)

// Add publishes the patch at patchPath (and patchPath+".minisig" when it
// exists, so hand-carried and feed copies verify the same way) as a new
// target, then re-signs targets, snapshot and timestamp with bumped versions.
// A patch name already in the feed, or a sequence number not above the
// highest one, is refused: clients that applied a higher sequence would never
// see it.
func Add(dir, patchPath string, meta TargetMeta) error {
	return AddWith(dir, patchPath, meta, ResignOptions{})
}

// AddWith is Add with explicit lifetimes.
//
// The target is named by the patch's Name (Name + ".clp"), not by the file
// it came from: a machine tells patches apart by Name, so the same patch
// under another file name must be refused, and two patches that merely
// share a file name must not be.
func AddWith(dir, patchPath string, meta TargetMeta, opts ResignOptions) error {
	_, err := AddPublished(dir, patchPath, meta, opts)
	return err
}

// AddPublished is AddWith that returns the metadata as published: the
// sequence and rollout it was given when the caller left them unset.
func AddPublished(dir, patchPath string, meta TargetMeta, opts ResignOptions) (TargetMeta, error) {
	err := func() error {
		if meta.Name == "" {
			base := filepath.Base(patchPath)
			if !targetName.MatchString(base) {
				return fmt.Errorf("feed: patch file name %q must be a plain name ending in .clp (letters, digits, ._+-)", base)
			}
			meta.Name = strings.TrimSuffix(base, ".clp")
		}
		name := meta.Name + ".clp"
		if !targetName.MatchString(name) {
			return fmt.Errorf("feed: patch name %q cannot name a feed target (letters, digits, ._+- only)", meta.Name)
		}
		if meta.Severity == "" {
			meta.Severity = "normal"
		}
		meta.Severity = Severity(meta.Severity)
		if !contains(Severities, meta.Severity) {
			return fmt.Errorf("feed: severity %q must be one of %s", meta.Severity, strings.Join(Severities, ", "))
		}
		if meta.Phase == nil {
			p := DefaultPhase
			meta.Phase = &p
		}
		if err := checkPhase(*meta.Phase); err != nil {
			return err
		}
		for _, list := range [][]string{meta.Architectures, meta.Requires, {meta.Name}} {
			for _, s := range list {
				if s == "" || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
					return fmt.Errorf("feed: empty or control character in %q", s)
				}
			}
		}
		data, err := fsx.ReadFileCapped(patchPath, DefaultMaxTargetBytes)
		if err != nil {
			return fmt.Errorf("feed: read patch: %w", err)
		}
		sig, err := fsx.ReadFileCapped(patchPath+".minisig", fsx.SmallFileMax)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("feed: read signature: %w", err)
		}
		return publish(dir, opts, func(t *metadata.Metadata[metadata.TargetsType]) error {
			for p, tf := range t.Signed.Targets {
				m := clpMeta(tf)
				if p == name || (m != nil && m.Name == meta.Name) {
					seq := ""
					if m != nil {
						seq = fmt.Sprintf(", sequence %d", m.Sequence)
					}
					return fmt.Errorf("feed: patch %s is already in the feed (%s%s); machines know a patch by its Name, so publish a fixed patch with a new Name in its PKGINFO.meta", meta.Name, p, seq)
				}
			}
			var highest uint64
			var highestName string
			for p, tf := range t.Signed.Targets {
				if m := clpMeta(tf); m != nil && m.Sequence >= highest {
					highest, highestName = m.Sequence, p
				}
			}
			if meta.Sequence == 0 {
				meta.Sequence = highest + 1
			} else if meta.Sequence <= highest {
				return fmt.Errorf("feed: sequence %d is not above %d (%s): machines that applied it would never see this patch", meta.Sequence, highest, highestName)
			}
			if err := addTarget(dir, t, name, data, &customMeta{CLP: &meta}); err != nil {
				return err
			}
			if sig != nil {
				return addTarget(dir, t, name+".minisig", sig, nil)
			}
			return nil
		})
	}()
	return meta, err
}

// SetPhase changes the rollout percentage of the published patch called
// name (its Name, or its target file name) to percent and re-signs
// targets, snapshot and timestamp. Raising it widens the rollout; lowering
// it, down to 0, halts it for machines that have not applied it yet
// (machines that did keep it).
func SetPhase(dir, name string, percent int, opts ResignOptions) error {
	if err := checkPhase(percent); err != nil {
		return err
	}
	return publish(dir, opts, func(t *metadata.Metadata[metadata.TargetsType]) error {
		_, tf, m, err := findPatch(t, name)
		if err != nil {
			return err
		}
		if m.Withdrawn != nil {
			return fmt.Errorf("feed: patch %s is withdrawn (%s); publish a fixed patch under a new Name instead", m.Name, m.Withdrawn.Reason)
		}
		m.Phase = &percent
		return setCustom(tf, m)
	})
}

// Withdraw marks the published patch called name withdrawn, for reason,
// and re-signs targets, snapshot and timestamp. The patch stays listed (a
// machine must learn that what it applied is withdrawn); its sequence
// number is never reused. A patch already withdrawn is refused, so the
// first reason stands.
func Withdraw(dir, name, reason string, opts ResignOptions) error {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return errors.New("feed: a withdrawal needs a reason (machines show it in clp status and clp history)")
	}
	if strings.ContainsFunc(reason, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return fmt.Errorf("feed: control character in the reason %q", reason)
	}
	return publish(dir, opts, func(t *metadata.Metadata[metadata.TargetsType]) error {
		_, tf, m, err := findPatch(t, name)
		if err != nil {
			return err
		}
		if m.Withdrawn != nil {
			return fmt.Errorf("feed: patch %s was already withdrawn on %s: %s", m.Name, m.Withdrawn.Time.Format("2006-01-02"), m.Withdrawn.Reason)
		}
		m.Withdrawn = &Withdrawal{Reason: reason, Time: time.Now().UTC().Truncate(time.Second)}
		return setCustom(tf, m)
	})
}

// findPatch finds the patch called name (its Name, or its target path).
func findPatch(t *metadata.Metadata[metadata.TargetsType], name string) (string, *metadata.TargetFiles, *TargetMeta, error) {
	for p, tf := range t.Signed.Targets {
		if m := clpMeta(tf); m != nil && (m.Name == name || p == name) {
			return p, tf, m, nil
		}
	}
	return "", nil, nil, fmt.Errorf("feed: no patch %s in the feed", name)
}

func setCustom(tf *metadata.TargetFiles, m *TargetMeta) error {
	raw, err := json.Marshal(&customMeta{CLP: m})
	if err != nil {
		return fmt.Errorf("feed: %w", err)
	}
	msg := json.RawMessage(raw)
	tf.Custom = &msg
	return nil
}

// Resign re-signs targets, snapshot and timestamp with new versions and
// lifetimes without changing what the feed holds: run it before the 30-day
// targets and snapshot metadata expire when no patch was added meanwhile.
func Resign(dir string, opts ResignOptions) error {
	return publish(dir, opts, func(*metadata.Metadata[metadata.TargetsType]) error { return nil })
}

// Timestamp re-signs only the timestamp (version + 1, expiring after expiry,
// 0 meaning one day). It needs only the timestamp key, so it is what a daily
// cron job on the publishing host runs.
func Timestamp(dir string, expiry time.Duration) error {
	if expiry < 0 {
		return fmt.Errorf("feed: timestamp expiry %s must be positive", expiry)
	}
	l, err := lockFeed(dir)
	if err != nil {
		return err
	}
	defer l.Release()
	ts, err := metadata.Timestamp().FromFile(filepath.Join(metadataDir(dir), "timestamp.json"))
	if err != nil {
		return fmt.Errorf("feed: read timestamp: %w", err)
	}
	signer, err := loadSigner(dir, metadata.TIMESTAMP)
	if err != nil {
		return err
	}
	ts.Signed.Version++
	ts.Signed.Expires = time.Now().UTC().Add(or(expiry, DefaultTimestampExpiry))
	ts.ClearSignatures()
	if _, err := ts.Sign(signer); err != nil {
		return fmt.Errorf("feed: sign timestamp: %w", err)
	}
	return writeMeta(dir, ts, "timestamp.json")
}

// publish is the one way the feed's content changes: load targets, let
// change edit it, then write targets, snapshot and timestamp in that order.
// Clients start from timestamp.json, so until it is replaced they see the old
// state, and every file the new timestamp leads to is already in place. The
// unversioned targets.json and snapshot.json are the publisher's own state;
// they are written before the timestamp so that a crash in between costs a
// version number, never reuses one.
func publish(dir string, opts ResignOptions, change func(*metadata.Metadata[metadata.TargetsType]) error) error {
	l, err := lockFeed(dir)
	if err != nil {
		return err
	}
	defer l.Release()
	md := metadataDir(dir)
	targets, err := metadata.Targets().FromFile(filepath.Join(md, "targets.json"))
	if err != nil {
		return fmt.Errorf("feed: read targets: %w", err)
	}
	snapshot, err := metadata.Snapshot().FromFile(filepath.Join(md, "snapshot.json"))
	if err != nil {
		return fmt.Errorf("feed: read snapshot: %w", err)
	}
	timestamp, err := metadata.Timestamp().FromFile(filepath.Join(md, "timestamp.json"))
	if err != nil {
		return fmt.Errorf("feed: read timestamp: %w", err)
	}
	signers := map[string]signature.Signer{}
	for _, role := range []string{metadata.TARGETS, metadata.SNAPSHOT, metadata.TIMESTAMP} {
		if signers[role], err = loadSigner(dir, role); err != nil {
			return err
		}
	}
	if err := change(targets); err != nil {
		return err
	}
	now := time.Now().UTC()
	targets.Signed.Version++
	targets.Signed.Expires = now.Add(or(opts.TargetsExpiry, DefaultTargetsExpiry))
	targets.ClearSignatures()
	if _, err := targets.Sign(signers[metadata.TARGETS]); err != nil {
		return fmt.Errorf("feed: sign targets: %w", err)
	}
	snapshot.Signed.Version++
	snapshot.Signed.Expires = now.Add(or(opts.SnapshotExpiry, DefaultSnapshotExpiry))
	snapshot.Signed.Meta["targets.json"] = metadata.MetaFile(targets.Signed.Version)
	snapshot.ClearSignatures()
	if _, err := snapshot.Sign(signers[metadata.SNAPSHOT]); err != nil {
		return fmt.Errorf("feed: sign snapshot: %w", err)
	}
	timestamp.Signed.Version++
	timestamp.Signed.Expires = now.Add(or(opts.TimestampExpiry, DefaultTimestampExpiry))
	timestamp.Signed.Meta["snapshot.json"] = metadata.MetaFile(snapshot.Signed.Version)
	timestamp.ClearSignatures()
	if _, err := timestamp.Sign(signers[metadata.TIMESTAMP]); err != nil {
		return fmt.Errorf("feed: sign timestamp: %w", err)
	}
	if err := writeMeta(dir, targets, fmt.Sprintf("%d.targets.json", targets.Signed.Version), "targets.json"); err != nil {
		return err
	}
	if err := writeMeta(dir, snapshot, fmt.Sprintf("%d.snapshot.json", snapshot.Signed.Version), "snapshot.json"); err != nil {
		return err
	}
	return writeMeta(dir, timestamp, "timestamp.json")
}

// addTarget stores data as targets/<sha256>.<name> (the consistent-snapshot
// name, so a new patch never replaces a file a client is downloading) and
// lists it in t.
func addTarget(dir string, t *metadata.Metadata[metadata.TargetsType], name string, data []byte, custom *customMeta) error {
	tf, err := metadata.TargetFile().FromBytes(name, data, "sha256")
	if err != nil {
		return fmt.Errorf("feed: hash %s: %w", name, err)
	}
	if custom != nil {
		raw, err := json.Marshal(custom)
		if err != nil {
			return fmt.Errorf("feed: %w", err)
		}
		msg := json.RawMessage(raw)
		tf.Custom = &msg
	}
	file := filepath.Join(targetsDir(dir), hex.EncodeToString(tf.Hashes["sha256"])+"."+name)
	if err := fsx.WriteFile(file, data, 0o644); err != nil {
		return fmt.Errorf("feed: %w", err)
	}
	t.Signed.Targets[name] = tf
	return nil
}

// clpMeta returns a target's clp custom metadata, or nil for targets that
// are not patches (signatures).
func clpMeta(tf *metadata.TargetFiles) *TargetMeta {
	if tf == nil || tf.Custom == nil {
		return nil
	}
	var c customMeta
	if err := json.Unmarshal(*tf.Custom, &c); err != nil {
		return nil
	}
	return c.CLP
}

type signedMeta interface {
	ToBytes(pretty bool) ([]byte, error)
}

func writeMeta(dir string, m signedMeta, names ...string) error {
	data, err := m.ToBytes(true)
	if err != nil {
		return fmt.Errorf("feed: encode %s: %w", names[0], err)
	}
	for _, n := range names {
		if err := fsx.WriteFile(filepath.Join(metadataDir(dir), n), data, 0o644); err != nil {
			return fmt.Errorf("feed: %w", err)
		}
	}
	return nil
}

func loadSigner(dir, role string) (signature.Signer, error) {
	p := keyPath(dir, role)
	data, err := fsx.ReadFileCapped(p, fsx.SmallFileMax)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("feed: %s key %s not found (is this a feed folder made by clp feed init?)", role, p)
		}
		return nil, fmt.Errorf("feed: %s key: %w", role, err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("feed: %s key %s is not a PEM private key", role, p)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("feed: %s key %s: %w", role, p, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("feed: %s key %s is not an ed25519 key", role, p)
	}
	return signature.LoadSigner(priv, crypto.Hash(0))
}

// lockFeed serialises publishers: two `clp feed add` at once would both
// write version N+1.
func lockFeed(dir string) (*lock.Lock, error) {
	l, err := lock.Acquire(context.Background(), filepath.Join(dir, ".lock"), 10*time.Second)
	if err != nil {
		return nil, fmt.Errorf("feed: %w", err)
	}
	return l, nil
}

func or(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ParseLifetime reads a metadata lifetime: a Go duration or a whole number
// of days ("7d"); "" is 0 (Timestamp's default of one day).
func ParseLifetime(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		d, err := strconv.Atoi(n)
		if err != nil || d <= 0 {
			return 0, fmt.Errorf("%q is not a positive number of days", s)
		}
		return time.Duration(d) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a positive duration (e.g. 36h or 2d)", s)
	}
	return d, nil
}
