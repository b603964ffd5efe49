package feed

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/vincentos/clp/internal/fsx"
)

// RotateOptions tunes Rotate; zero values take the defaults.
type RotateOptions struct {
	RootExpiry time.Duration
	ResignOptions
}

// RotateResult says what Rotate wrote.
type RotateResult struct {
	// RootVersion is the new root's version (N.root.json).
	RootVersion int64
	// Retired is where the replaced private key was moved.
	Retired string
	// Resigned are the roles whose metadata was re-signed with a new
	// version after root (none for a root rotation).
	Resigned []string
}

// Rotate replaces role's key: it makes a new key, writes the next root
// version listing it in place of the old one (signed by the current root
// key, and for a root rotation by the new root key too, so that clients
// that trust the old root follow the chain and the new root verifies
// itself), then re-signs what the new key must now vouch for: timestamp
// for timestamp; snapshot and timestamp for snapshot; targets, snapshot and
// timestamp for targets; nothing else for root. The old private key is
// moved to keys/<role>.pem.retired-<root version>: it no longer signs
// anything clients accept, and can be destroyed.
//
// It needs the root key (bring it back from offline for the run) and the
// keys of the roles it re-signs.
func Rotate(dir, role string, opts RotateOptions) (*RotateResult, error) {
	if !contains(Roles, role) {
		return nil, fmt.Errorf("feed: role %q must be one of root, targets, snapshot, timestamp", role)
	}
	l, err := lockFeed(dir)
	if err != nil {
		return nil, err
	}
	defer l.Release()
	newPath := keyPath(dir, role) + ".new"
	if _, err := os.Lstat(newPath); err == nil {
		return nil, fmt.Errorf("feed: %s exists: an earlier rotation was interrupted; compare its public key with root.json, then remove it or make it %s by hand", newPath, keyPath(dir, role))
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("feed: %w", err)
	}
	md := metadataDir(dir)
	root, err := metadata.Root().FromFile(filepath.Join(md, "root.json"))
	if err != nil {
		return nil, fmt.Errorf("feed: read root: %w", err)
	}
	rootSigner, err := loadSigner(dir, metadata.ROOT)
	if err != nil {
		return nil, err
	}
	// Every signer the re-signing needs is loaded before anything is
	// written: a missing key must refuse the rotation, not break it
	// halfway.
	resign := map[string][]string{
		metadata.ROOT:      nil,
		metadata.TIMESTAMP: {metadata.TIMESTAMP},
		metadata.SNAPSHOT:  {metadata.SNAPSHOT, metadata.TIMESTAMP},
		metadata.TARGETS:   {metadata.TARGETS, metadata.SNAPSHOT, metadata.TIMESTAMP},
	}[role]
	signers := map[string]signature.Signer{}
	for _, r := range resign {
		if r == role {
			continue
		}
		if signers[r], err = loadSigner(dir, r); err != nil {
			return nil, err
		}
	}

	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("feed: generate %s key: %w", role, err)
	}
	newSigner, err := signature.LoadSigner(priv, crypto.Hash(0))
	if err != nil {
		return nil, fmt.Errorf("feed: %s key: %w", role, err)
	}
	signers[role] = newSigner
	key, err := metadata.KeyFromPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("feed: %s key: %w", role, err)
	}
	for _, id := range append([]string(nil), root.Signed.Roles[role].KeyIDs...) {
		if err := root.Signed.RevokeKey(id, role); err != nil {
			return nil, fmt.Errorf("feed: revoke the old %s key: %w", role, err)
		}
	}
	if err := root.Signed.AddKey(key, role); err != nil {
		return nil, fmt.Errorf("feed: add the new %s key: %w", role, err)
	}
	root.Signed.Version++
	root.Signed.Expires = time.Now().UTC().Add(or(opts.RootExpiry, DefaultRootExpiry))
	root.ClearSignatures()
	if _, err := root.Sign(rootSigner); err != nil {
		return nil, fmt.Errorf("feed: sign root: %w", err)
	}
	if role == metadata.ROOT {
		if _, err := root.Sign(newSigner); err != nil {
			return nil, fmt.Errorf("feed: sign root with the new root key: %w", err)
		}
	}

	// The new key is on disk before the root that names it, so that a
	// crash never leaves a published root whose key is lost.
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("feed: encode %s key: %w", role, err)
	}
	if err := fsx.WriteFile(newPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, fmt.Errorf("feed: write the new %s key: %w", role, err)
	}
	if err := writeMeta(dir, root, fmt.Sprintf("%d.root.json", root.Signed.Version), "root.json"); err != nil {
		return nil, err
	}
	res := &RotateResult{RootVersion: root.Signed.Version, Retired: fmt.Sprintf("%s.retired-%d", keyPath(dir, role), root.Signed.Version)}
	if err := os.Rename(keyPath(dir, role), res.Retired); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("feed: retire the old %s key: %w", role, err)
	}
	if err := os.Rename(newPath, keyPath(dir, role)); err != nil {
		return nil, fmt.Errorf("feed: install the new %s key: %w", role, err)
	}
	if len(resign) > 0 {
		if err := resignRoles(dir, opts.ResignOptions, signers, resign); err != nil {
			return nil, err
		}
	}
	res.Resigned = resign
	return res, nil
}

// resignRoles re-signs the given roles (a suffix of targets, snapshot,
// timestamp) with new versions, in that order, each pointing at the one
// before. The caller holds the feed lock.
func resignRoles(dir string, opts ResignOptions, signers map[string]signature.Signer, roles []string) error {
	md := metadataDir(dir)
	now := time.Now().UTC()
	var targetsVersion, snapshotVersion int64
	if contains(roles, metadata.TARGETS) {
		targets, err := metadata.Targets().FromFile(filepath.Join(md, "targets.json"))
		if err != nil {
			return fmt.Errorf("feed: read targets: %w", err)
		}
		targets.Signed.Version++
		targets.Signed.Expires = now.Add(or(opts.TargetsExpiry, DefaultTargetsExpiry))
		targets.ClearSignatures()
		if _, err := targets.Sign(signers[metadata.TARGETS]); err != nil {
			return fmt.Errorf("feed: sign targets: %w", err)
		}
		if err := writeMeta(dir, targets, fmt.Sprintf("%d.targets.json", targets.Signed.Version), "targets.json"); err != nil {
			return err
		}
		targetsVersion = targets.Signed.Version
	}
	if contains(roles, metadata.SNAPSHOT) {
		snapshot, err := metadata.Snapshot().FromFile(filepath.Join(md, "snapshot.json"))
		if err != nil {
			return fmt.Errorf("feed: read snapshot: %w", err)
		}
		snapshot.Signed.Version++
		snapshot.Signed.Expires = now.Add(or(opts.SnapshotExpiry, DefaultSnapshotExpiry))
		if targetsVersion != 0 {
			snapshot.Signed.Meta["targets.json"] = metadata.MetaFile(targetsVersion)
		}
		snapshot.ClearSignatures()
		if _, err := snapshot.Sign(signers[metadata.SNAPSHOT]); err != nil {
			return fmt.Errorf("feed: sign snapshot: %w", err)
		}
		if err := writeMeta(dir, snapshot, fmt.Sprintf("%d.snapshot.json", snapshot.Signed.Version), "snapshot.json"); err != nil {
			return err
		}
		snapshotVersion = snapshot.Signed.Version
	}
	timestamp, err := metadata.Timestamp().FromFile(filepath.Join(md, "timestamp.json"))
	if err != nil {
		return fmt.Errorf("feed: read timestamp: %w", err)
	}
	timestamp.Signed.Version++
	timestamp.Signed.Expires = now.Add(or(opts.TimestampExpiry, DefaultTimestampExpiry))
	if snapshotVersion != 0 {
		timestamp.Signed.Meta["snapshot.json"] = metadata.MetaFile(snapshotVersion)
	}
	timestamp.ClearSignatures()
	if _, err := timestamp.Sign(signers[metadata.TIMESTAMP]); err != nil {
		return fmt.Errorf("feed: sign timestamp: %w", err)
	}
	return writeMeta(dir, timestamp, "timestamp.json")
}
