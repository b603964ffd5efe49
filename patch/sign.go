package patch

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"aead.dev/minisign"
	"golang.org/x/crypto/blake2b"

	"github.com/vincentos/clp/internal/fail"
	"github.com/vincentos/clp/internal/fsx"
)

// PublicKey and PrivateKey are minisign keys; their files are minisign's own
// formats, so keys made by `minisign -G` work with clp and the other way
// round.
type (
	PublicKey  = minisign.PublicKey
	PrivateKey = minisign.PrivateKey
)

// SigSuffix is appended to a patch's file name to find its signature.
const SigSuffix = ".minisig"

// Errors of signature checking. Each returned error wraps exactly one of
// them, so callers (the CLI's exit codes) can tell them apart with errors.Is.
var (
	// ErrNoSignature: the .minisig file is missing.
	ErrNoSignature = errors.New("patch is not signed")
	// ErrUntrustedKey: the signature is from a key not in the trusted set.
	ErrUntrustedKey = errors.New("signature is not from a trusted key")
	// ErrBadSignature: the signature does not match the file or its trusted
	// comment, or cannot be read.
	ErrBadSignature = errors.New("bad signature")
)

// GenerateKey makes a new minisign key pair.
func GenerateKey() (PublicKey, PrivateKey, error) {
	return minisign.GenerateKey(nil)
}

// KeyID formats a key id the way minisign prints it (upper-case hex).
func KeyID(id uint64) string { return strings.ToUpper(strconv.FormatUint(id, 16)) }

// WritePublicKey writes pub in minisign's public key file format (the file
// `minisign -G` writes as minisign.pub), durably, mode 0644.
func WritePublicKey(path string, pub PublicKey) error {
	text, _ := pub.MarshalText()
	return fsx.WriteFile(path, append(text, '\n'), 0o644)
}

// Caps on what clp reads of a key or a signature: a minisign key is about
// 100 bytes and a signature about 300 (with its trusted comment, up to a
// few KiB); anything bigger is not one.
const (
	maxKeyFile = 64 << 10
	maxSigFile = 64 << 10
)

// ReadSigFile reads a .minisig file: a regular file of a signature's size
// at most.
func ReadSigFile(path string) ([]byte, error) { return fsx.ReadFileCapped(path, maxSigFile) }

// ReadPublicKey reads a minisign public key file.
func ReadPublicKey(path string) (PublicKey, error) {
	data, err := fsx.ReadFileCapped(path, maxKeyFile)
	if err != nil {
		return PublicKey{}, err
	}
	var pub PublicKey
	if err := pub.UnmarshalText(bytes.TrimSpace(data)); err != nil {
		return PublicKey{}, fmt.Errorf("%s: not a minisign public key: %w", path, err)
	}
	return pub, nil
}

// WritePrivateKey writes priv in minisign's secret key file format, mode
// 0600, refusing to overwrite an existing file. With a password the key is
// encrypted as minisign does it (scrypt, libsodium's "sensitive" cost: about
// a second and 1 GiB of memory to open). With an empty password it is stored
// unencrypted, like `minisign -G -W`, including the checksum minisign
// checks, so that `minisign -S -s` accepts it.
func WritePrivateKey(path string, priv PrivateKey, password string) error {
	var text []byte
	var err error
	if password != "" {
		text, err = minisign.EncryptKey(password, priv)
	} else {
		text, err = unencryptedKeyText(priv)
	}
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(text, '\n')); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return fsx.SyncDir(filepath.Dir(path))
}

// unencryptedKeyText is aead.dev/minisign's unencrypted form plus the
// checksum field, which that library leaves zero but minisign (C) verifies:
// blake2b-256(signature algorithm || key id || secret key).
func unencryptedKeyText(priv PrivateKey) ([]byte, error) {
	text, err := priv.MarshalText()
	if err != nil {
		return nil, err
	}
	comment, b64, _ := bytes.Cut(text, []byte("\n"))
	raw, err := base64.StdEncoding.DecodeString(string(b64))
	if err != nil || len(raw) != 158 {
		return nil, fmt.Errorf("unexpected minisign secret key encoding")
	}
	h, _ := blake2b.New256(nil)
	h.Write(raw[0:2])
	h.Write(raw[54:126])
	copy(raw[126:], h.Sum(nil))
	out := append(comment, '\n')
	return append(out, base64.StdEncoding.EncodeToString(raw)...), nil
}

// ReadPrivateKey reads a minisign secret key file, decrypting it with
// password when it is encrypted.
func ReadPrivateKey(path, password string) (PrivateKey, error) {
	data, err := fsx.ReadFileCapped(path, maxKeyFile)
	if err != nil {
		return PrivateKey{}, err
	}
	data = bytes.TrimSpace(data)
	if minisign.IsEncrypted(data) {
		if password == "" {
			return PrivateKey{}, fmt.Errorf("%s: secret key is encrypted and no password was given", path)
		}
		priv, err := minisign.DecryptKey(password, data)
		if err != nil {
			return PrivateKey{}, fmt.Errorf("%s: wrong password or damaged key: %w", path, err)
		}
		return priv, nil
	}
	var priv PrivateKey
	if err := priv.UnmarshalText(data); err != nil {
		return PrivateKey{}, fmt.Errorf("%s: not a minisign secret key: %w", path, err)
	}
	return priv, nil
}

// LoadTrustedKeys is LoadTrustedKeysIn with dir anchored to itself, for a
// keys folder that belongs to no root (a publisher's, a test's). Every
// *.pub in it is read; a missing dir means no trusted keys; an unreadable,
// malformed or untrusted (fsx.CheckTrusted) key file is an error. clp's
// commands read a system's keys with LoadTrustedKeysIn and its root.
func LoadTrustedKeys(dir string) ([]PublicKey, error) {
	return LoadTrustedKeysIn(dir, dir)
}

// SignFile signs the file at path and writes path+".minisig", in minisign's
// pre-hashed mode (BLAKE2b-512, what `minisign -S` does since 0.11), read as
// a stream. The trusted comment is minisign's: the time and the file name.
func SignFile(path string, priv PrivateKey) (string, error) {
	f, err := openPatchFile(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	r := minisign.NewReader(f)
	if _, err := io.Copy(io.Discard, r); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	trusted := fmt.Sprintf("timestamp:%d\tfile:%s\thashed", time.Now().Unix(), filepath.Base(path))
	untrusted := "signature from clp secret key " + KeyID(priv.ID())
	sig := r.SignWithComments(priv, trusted, untrusted)
	sigPath := path + SigSuffix
	if err := fsx.WriteFile(sigPath, sig, 0o644); err != nil {
		return "", err
	}
	return sigPath, nil
}

// Verified is what a good signature tells: which trusted key made it and
// its trusted comment (minisign's "timestamp:... file:...").
type Verified struct {
	KeyID          string
	TrustedComment string
}

// maxLegacyMessage bounds a file signed in minisign's legacy (not
// pre-hashed) mode, which must be held whole in memory to verify.
const maxLegacyMessage = 64 << 20

// VerifyFile checks the minisign signature at sigPath over the file at path
// against keys, streaming the file. It returns the id of the key that
// signed it.
func VerifyFile(path, sigPath string, keys []PublicKey) (keyID string, err error) {
	f, err := openPatchFile(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	v, err := verifyStream(f, nil, path, sigPath, keys)
	return v.KeyID, err
}

// Verify checks sig (the content of a .minisig file) over everything r
// yields. name is only for messages.
func Verify(r io.Reader, sig []byte, name string, keys []PublicKey) (Verified, error) {
	return verifyStreamSig(r, nil, name, sig, keys)
}

func readSig(sigPath string) ([]byte, error) {
	sig, err := ReadSigFile(sigPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s is missing", ErrNoSignature, sigPath)
	}
	var big *fsx.TooLargeError
	var odd *fsx.NotRegularError
	if errors.As(err, &big) || errors.As(err, &odd) {
		return nil, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	if err != nil {
		return nil, err
	}
	return sig, nil
}

// verifyStream verifies while copying everything it reads to copyTo (nil:
// nowhere), so that OpenVerified checks and keeps the very same bytes.
func verifyStream(r io.Reader, copyTo io.Writer, name, sigPath string, keys []PublicKey) (Verified, error) {
	sig, err := readSig(sigPath)
	if err != nil {
		return Verified{}, err
	}
	return verifyStreamSig(r, copyTo, name, sig, keys)
}

func verifyStreamSig(r io.Reader, copyTo io.Writer, name string, sigText []byte, keys []PublicKey) (Verified, error) {
	var sig minisign.Signature
	if err := sig.UnmarshalText(bytes.TrimSpace(sigText)); err != nil {
		return Verified{}, fmt.Errorf("%w: signature for %s cannot be read: %v", ErrBadSignature, name, err)
	}
	var pub []byte
	for _, k := range keys {
		if k.ID() == sig.KeyID {
			raw, _ := base64.StdEncoding.DecodeString(k.String())
			pub = raw[10:]
		}
	}
	if pub == nil {
		return Verified{}, fmt.Errorf("%w: %s is signed by key %s, which is not in the trusted keys", ErrUntrustedKey, name, KeyID(sig.KeyID))
	}
	var message []byte
	switch sig.Algorithm {
	case minisign.HashEdDSA:
		h, _ := blake2b.New512(nil)
		if err := hashCopy(h, copyTo, r); err != nil {
			return Verified{}, fmt.Errorf("read %s: %w", name, err)
		}
		message = h.Sum(nil)
	case minisign.EdDSA:
		if copyTo == nil {
			copyTo = io.Discard
		}
		var buf bytes.Buffer
		n, err := io.Copy(io.MultiWriter(&buf, copyTo), io.LimitReader(r, maxLegacyMessage+1))
		if err != nil {
			return Verified{}, fmt.Errorf("read %s: %w", name, err)
		}
		if n > maxLegacyMessage {
			return Verified{}, fmt.Errorf("%w: %s is over %d MiB and signed in minisign's legacy mode; sign it again with `clp sign` or minisign 0.11 or later", ErrBadSignature, name, maxLegacyMessage>>20)
		}
		message = buf.Bytes()
	default:
		return Verified{}, fmt.Errorf("%w: unknown signature algorithm %#x", ErrBadSignature, sig.Algorithm)
	}
	if !ed25519.Verify(pub, message, sig.Signature[:]) {
		return Verified{}, fmt.Errorf("%w: %s does not match its signature (file or signature altered)", ErrBadSignature, name)
	}
	global := append(append([]byte{}, sig.Signature[:]...), sig.TrustedComment...)
	if !ed25519.Verify(pub, global, sig.CommentSignature[:]) {
		return Verified{}, fmt.Errorf("%w: the trusted comment of the signature for %s was altered", ErrBadSignature, name)
	}
	return Verified{KeyID: KeyID(sig.KeyID), TrustedComment: sig.TrustedComment}, nil
}

// hashBuf is hashCopy's read size: large reads keep the per-read cost
// (a syscall, the copy's bookkeeping) far below the hash's own, where
// io.Copy's 32 KiB would not.
const hashBuf = 1 << 20

// hashCopy streams r once into h and, when copyTo is not nil, copyTo: one
// read, one hash, one write per block, with no MultiWriter in between. With
// copyTo, the writes run in a goroutine of their own, beside the hash of
// the next blocks (on a large patch each takes about as long as the other);
// a failed write stops the reading at once, as it stops the loop without
// one (a capped copy must not read an endless file to its end), and is the
// error returned, before any read error.
func hashCopy(h hash.Hash, copyTo io.Writer, r io.Reader) error {
	if copyTo == nil {
		return hashReadAhead(h, r)
	}
	const blocks = 4
	free := make(chan []byte, blocks)
	for range blocks {
		free <- make([]byte, hashBuf)
	}
	full := make(chan []byte, blocks)
	var failed atomic.Bool
	werr := make(chan error, 1)
	go func() {
		var err error
		for b := range full {
			if err == nil {
				if _, err = copyTo.Write(b); err != nil {
					failed.Store(true)
				}
			}
			free <- b[:cap(b)]
		}
		werr <- err
	}()
	var rerr error
	for !failed.Load() {
		buf := <-free
		n, err := r.Read(buf)
		if n > 0 {
			// The writer and the hash only read the block; it is
			// reused once the writer hands it back.
			full <- buf[:n]
			h.Write(buf[:n])
		} else {
			free <- buf
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			rerr = err
			break
		}
	}
	close(full)
	if err := <-werr; err != nil {
		return err
	}
	return rerr
}

// hashReadAhead streams r once into h, reading the next blocks in a
// goroutine while h hashes the last: from the page cache a 1 MiB read
// costs about a tenth of the hash of it (BenchmarkVerify100MB against
// BenchmarkBlake2b512Floor), which the read-ahead takes off the
// critical path on a machine with a second core. The goroutine has
// returned when hashReadAhead returns: it stops at the first read that
// ends the stream (io.EOF or an error), and hashReadAhead returns only
// after taking that read.
func hashReadAhead(h hash.Hash, r io.Reader) error {
	type block struct {
		b   []byte
		err error
	}
	const blocks = 3
	free := make(chan []byte, blocks)
	for range blocks {
		free <- make([]byte, hashBuf)
	}
	full := make(chan block, blocks)
	go func() {
		for {
			buf := <-free
			n, err := r.Read(buf)
			full <- block{buf[:n], err}
			if err != nil {
				return
			}
		}
	}()
	for {
		blk := <-full
		h.Write(blk.b)
		if blk.err == io.EOF {
			return nil
		}
		if blk.err != nil {
			return blk.err
		}
		free <- blk.b[:cap(blk.b)]
	}
}

// OpenVerified checks the signature of the .clp at path and only then opens
// it. The file is copied, while it is hashed, into a private unlinked file in
// lim.TempDir, and that copy is what is verified and parsed: whatever
// happens to path meanwhile, the archive returned is the one that was
// signed. Nothing of the patch is parsed before the signature checks out.
func OpenVerified(path, sigPath string, keys []PublicKey, lim Limits) (Archive, Verified, error) {
	a, v, err := openVerified(path, sigPath, keys, lim, false)
	if err != nil {
		return nil, v, err
	}
	return a, v, nil
}

// CheckVerified checks what OpenVerified checks, in the same order and
// with the same errors, for a caller that wants the verdict and the
// manifest, not the archive (clp verify): a tar.gz payload OpenVerified
// would spill to a second file in lim.TempDir is hashed and dropped.
func CheckVerified(path, sigPath string, keys []PublicKey, lim Limits) (*Manifest, Verified, error) {
	a, v, err := openVerified(path, sigPath, keys, lim, true)
	if err != nil {
		return nil, v, err
	}
	m := a.Manifest()
	a.Close()
	return m, v, nil
}

func openVerified(path, sigPath string, keys []PublicKey, lim Limits, checkOnly bool) (*archive, Verified, error) {
	lim = lim.withDefaults()
	sig, err := readSig(sigPath)
	if err != nil {
		return nil, Verified{}, err
	}
	f, err := openPatchFile(path)
	if err != nil {
		return nil, Verified{}, err
	}
	defer f.Close()
	priv, err := os.CreateTemp(lim.TempDir, ".clp-verified-*")
	if err != nil {
		return nil, Verified{}, fmt.Errorf("create private copy of %s: %w", path, err)
	}
	if err := os.Remove(priv.Name()); err != nil {
		priv.Close()
		return nil, Verified{}, fmt.Errorf("unlink private copy: %w", err)
	}
	fail := func(err error) (*archive, Verified, error) {
		priv.Close()
		return nil, Verified{}, err
	}
	cw := &cappedWriter{w: priv, max: lim.MaxArchiveSize}
	v, err := verifyStreamSig(f, cw, path, sig, keys)
	if cw.over {
		return fail(formatErr("", "archive is over the %d byte cap", lim.MaxArchiveSize))
	}
	if err != nil {
		return fail(err)
	}
	a, err := openReaderMode(priv, cw.n, lim, checkOnly)
	if err != nil {
		return fail(err)
	}
	a.closers = append(a.closers, priv)
	return a, v, nil
}

// cappedWriter stops a copy at max bytes (an endless file is refused, not
// copied until the disk is full).
type cappedWriter struct {
	w    io.Writer
	n    int64
	max  int64
	over bool
}

func (c *cappedWriter) Write(p []byte) (int, error) {
	if c.n+int64(len(p)) > c.max {
		c.over = true
		return 0, errors.New("archive over size cap")
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// SignChecked signs path (SignFile) and checks the new signature at once
// with the key's own public half, which also yields the trusted comment
// to show. It returns the signature's path and what it verified.
func SignChecked(path string, priv PrivateKey) (string, Verified, error) {
	sigPath, err := SignFile(path, priv)
	if err != nil {
		return "", Verified{}, fmt.Errorf("sign %s: %w", path, err)
	}
	pub, ok := priv.Public().(minisign.PublicKey)
	if !ok {
		return "", Verified{}, fmt.Errorf("sign %s: secret key has no minisign public key", path)
	}
	sig, err := ReadSigFile(sigPath)
	if err != nil {
		return "", Verified{}, err
	}
	f, err := openPatchFile(path)
	if err != nil {
		return "", Verified{}, err
	}
	defer f.Close()
	v, err := Verify(f, sig, path, []PublicKey{pub})
	if err != nil {
		return "", Verified{}, fmt.Errorf("the new signature does not verify: %w", err)
	}
	return sigPath, v, nil
}

// NewKeyPairPaths are the files of a new key pair named base: base.key
// and base.pub, neither of which may exist yet (a key is never
// overwritten).
func NewKeyPairPaths(base string) (secPath, pubPath string, err error) {
	secPath, pubPath = base+".key", base+".pub"
	for _, p := range []string{secPath, pubPath} {
		if _, err := os.Lstat(p); err == nil {
			return "", "", fail.Hint(fmt.Errorf("%s already exists; not overwriting a key", p), "give another -o KEYBASE, or move the old key away first")
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", "", err
		}
	}
	return secPath, pubPath, nil
}

// WriteKeyPair makes a new key pair and writes its secret half to secPath
// (encrypted with password unless it is "") and its public half to
// pubPath. A secret key whose public half could not be written is taken
// back: it is of no use, and a second try would refuse to overwrite it.
func WriteKeyPair(secPath, pubPath, password string) (PublicKey, error) {
	pub, priv, err := GenerateKey()
	if err != nil {
		return PublicKey{}, err
	}
	if err := WritePrivateKey(secPath, priv, password); err != nil {
		return PublicKey{}, fmt.Errorf("write secret key: %w", err)
	}
	if err := WritePublicKey(pubPath, pub); err != nil {
		os.Remove(secPath)
		return PublicKey{}, fmt.Errorf("write public key: %w", err)
	}
	return pub, nil
}
