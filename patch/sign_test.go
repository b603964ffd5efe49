package patch

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"golang.org/x/crypto/blake2b"
)

func minisignBin(t testing.TB) string {
	p, err := exec.LookPath("minisign")
	if err != nil {
		t.Skip("minisign binary not installed (Debian package minisign)")
	}
	return p
}

func run(t testing.TB, dir string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader("")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// newKeys writes a clp key pair (unencrypted) into dir.
func newKeys(t testing.TB, dir, base string) (PublicKey, PrivateKey) {
	t.Helper()
	pub, priv, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if err := WritePublicKey(filepath.Join(dir, base+".pub"), pub); err != nil {
		t.Fatal(err)
	}
	if err := WritePrivateKey(filepath.Join(dir, base+".key"), priv, ""); err != nil {
		t.Fatal(err)
	}
	return pub, priv
}

func writeSample(t testing.TB, dir string) string {
	p := filepath.Join(dir, "CLP0250101.clp")
	data := mkTarGz(t, withMeta(goodMeta)...)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// clp signs, the real minisign verifies.
func TestSignVerifiedByMinisign(t *testing.T) {
	bin := minisignBin(t)
	dir := t.TempDir()
	pub, priv := newKeys(t, dir, "clp")
	p := writeSample(t, dir)
	sig, err := SignFile(p, priv)
	if err != nil {
		t.Fatal(err)
	}
	if sig != p+".minisig" {
		t.Errorf("signature at %s", sig)
	}
	out := run(t, dir, bin, "-V", "-H", "-p", "clp.pub", "-m", p)
	if !strings.Contains(out, "Signature and comment signature verified") || !strings.Contains(out, "file:CLP0250101.clp") {
		t.Errorf("minisign output:\n%s", out)
	}
	// And with the key given as a string, as `minisign -Vm FILE -P KEY`.
	run(t, dir, bin, "-Vm", p, "-P", pub.String())
	// The clp-written unencrypted secret key is usable by minisign too.
	os.Remove(sig)
	run(t, dir, bin, "-S", "-W", "-s", "clp.key", "-m", p)
	if _, err := VerifyFile(p, sig, []PublicKey{pub}); err != nil {
		t.Errorf("clp cannot verify minisign's signature made with clp's key: %v", err)
	}
}

// The real minisign makes the key and signs; clp verifies. Both the
// default (pre-hashed) and the legacy (-l) signature forms.
func TestMinisignVerifiedByClp(t *testing.T) {
	bin := minisignBin(t)
	dir := t.TempDir()
	run(t, dir, bin, "-G", "-W", "-p", "ms.pub", "-s", "ms.key")
	p := writeSample(t, dir)
	keysDir := filepath.Join(dir, "keys")
	os.Mkdir(keysDir, 0o755)
	data, _ := os.ReadFile(filepath.Join(dir, "ms.pub"))
	os.WriteFile(filepath.Join(keysDir, "vincentos.pub"), data, 0o644)
	keys, err := LoadTrustedKeys(keysDir)
	if err != nil || len(keys) != 1 {
		t.Fatalf("LoadTrustedKeys: %d keys, %v", len(keys), err)
	}
	for _, legacy := range []bool{false, true} {
		args := []string{"-S", "-W", "-s", "ms.key", "-m", p, "-t", "clp test"}
		if legacy {
			args = append(args, "-l")
		}
		run(t, dir, bin, args...)
		id, err := VerifyFile(p, p+".minisig", keys)
		if err != nil {
			t.Fatalf("legacy=%v: %v", legacy, err)
		}
		if id != KeyID(keys[0].ID()) {
			t.Errorf("key id %s, want %s", id, KeyID(keys[0].ID()))
		}
		a, v, err := OpenVerified(p, p+".minisig", keys, Limits{TempDir: t.TempDir()})
		if err != nil {
			t.Fatalf("OpenVerified legacy=%v: %v", legacy, err)
		}
		if v.TrustedComment != "clp test" {
			t.Errorf("trusted comment %q", v.TrustedComment)
		}
		a.Close()
	}
	// The secret key minisign wrote can be read by clp and signs for it.
	priv, err := ReadPrivateKey(filepath.Join(dir, "ms.key"), "")
	if err != nil {
		t.Fatal(err)
	}
	if priv.ID() != keys[0].ID() {
		t.Error("key id differs")
	}
}

// Refusals: each checks the error, its class, and that nothing was
// written beside the patch.
func TestVerifyRefusals(t *testing.T) {
	dir := t.TempDir()
	pub, priv := newKeys(t, dir, "good")
	otherPub, otherPriv := newKeys(t, dir, "other")
	_ = otherPub
	p := writeSample(t, dir)
	sigPath, err := SignFile(p, priv)
	if err != nil {
		t.Fatal(err)
	}
	goodSig, _ := os.ReadFile(sigPath)
	orig, _ := os.ReadFile(p)
	keys := []PublicKey{pub}

	otherDir := t.TempDir()
	op := filepath.Join(otherDir, "x.clp")
	os.WriteFile(op, orig, 0o644)
	otherSigPath, _ := SignFile(op, otherPriv)
	otherSig, _ := os.ReadFile(otherSigPath)

	lines := strings.SplitN(string(goodSig), "\n", 4)
	tamperComment := strings.Join([]string{lines[0], lines[1], "trusted comment: timestamp:1\tfile:evil.clp\thashed", lines[3]}, "\n")
	flipped := []byte(lines[1])
	flipped[20] ^= 1
	if flipped[20] == '+' || flipped[20] == '/' || flipped[20] == '=' {
		flipped[20] = 'A'
	}
	tamperSig := strings.Join([]string{lines[0], string(flipped), lines[2], lines[3]}, "\n")
	tamperedFile := append([]byte{}, orig...)
	tamperedFile[len(tamperedFile)/2] ^= 0xff

	cases := []struct {
		name    string
		file    []byte
		sig     *string // nil: no .minisig
		keys    []PublicKey
		is      error
		message string
	}{
		{"unsigned", orig, nil, keys, ErrNoSignature, "is missing"},
		{"untrusted-key", orig, &[]string{string(otherSig)}[0], keys, ErrUntrustedKey, "which is not in the trusted keys"},
		{"no-keys", orig, &[]string{string(goodSig)}[0], nil, ErrUntrustedKey, "not in the trusted keys"},
		{"tampered-file", tamperedFile, &[]string{string(goodSig)}[0], keys, ErrBadSignature, "does not match its signature"},
		{"tampered-sig", orig, &tamperSig, keys, ErrBadSignature, ""},
		{"tampered-trusted-comment", orig, &tamperComment, keys, ErrBadSignature, "trusted comment of the signature"},
		{"garbage-sig", orig, &[]string{"hello\n"}[0], keys, ErrBadSignature, "cannot be read"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := t.TempDir()
			f := filepath.Join(d, "CLP0250101.clp")
			os.WriteFile(f, c.file, 0o644)
			if c.sig != nil {
				os.WriteFile(f+SigSuffix, []byte(*c.sig), 0o644)
			}
			_, err := VerifyFile(f, f+SigSuffix, c.keys)
			if !errors.Is(err, c.is) || !strings.Contains(err.Error(), c.message) {
				t.Errorf("VerifyFile: %v; want %v containing %q", err, c.is, c.message)
			}
			tmp := t.TempDir()
			a, _, err := OpenVerified(f, f+SigSuffix, c.keys, Limits{TempDir: tmp})
			if a != nil || !errors.Is(err, c.is) {
				t.Errorf("OpenVerified: %v; want %v", err, c.is)
			}
			if left, _ := os.ReadDir(tmp); len(left) != 0 {
				t.Errorf("left %d files in TempDir", len(left))
			}
			m, _, err2 := CheckVerified(f, f+SigSuffix, c.keys, Limits{TempDir: tmp})
			if m != nil || err2 == nil || err2.Error() != err.Error() {
				t.Errorf("CheckVerified: %v; OpenVerified: %v", err2, err)
			}
			if left, _ := os.ReadDir(tmp); len(left) != 0 {
				t.Errorf("CheckVerified left %d files in TempDir", len(left))
			}
			ents, _ := os.ReadDir(d)
			if got, _ := os.ReadFile(f); !bytes.Equal(got, c.file) || len(ents) > 2 {
				t.Errorf("patch folder changed: %d entries", len(ents))
			}
		})
	}
}

// OpenVerified parses its private copy: changing the file on disk after
// verification cannot change what the archive yields.
func TestOpenVerifiedPrivateCopy(t *testing.T) {
	dir := t.TempDir()
	pub, priv := newKeys(t, dir, "k")
	p := writeSample(t, dir)
	if _, err := SignFile(p, priv); err != nil {
		t.Fatal(err)
	}
	a, v, err := OpenVerified(p, p+SigSuffix, []PublicKey{pub}, Limits{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if v.KeyID != KeyID(pub.ID()) || !strings.HasPrefix(v.TrustedComment, "timestamp:") {
		t.Errorf("verified %+v", v)
	}
	// Overwrite the patch in place (same inode) with another archive.
	evil := mkTarGz(t, withMeta(goodMeta)...)
	copy(evil[len(evil)-40:], bytes.Repeat([]byte{0xff}, 10))
	os.WriteFile(p, mkTarGz(t, reg(ManifestName, goodMeta), reg("files/hello.conf", "evil\n")), 0o644)
	rc, err := a.Open("files/hello.conf")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || string(got) != helloBody {
		t.Errorf("got %q, %v; want the signed content", got, err)
	}
}

// OpenFile re-checks entries as they are read: a zip changed on disk after
// opening yields an error, not the new bytes.
func TestOpenFileDetectsLaterChange(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x.clp")
	good := mkZip(t, zreg(ManifestName, goodMeta), zipEnt{name: "files/hello.conf", raw: true, body: []byte(helloBody), declared: uint64(len(helloBody))})
	os.WriteFile(p, good, 0o644)
	a, err := OpenFile(p, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	i := bytes.Index(good, []byte(helloBody))
	f, _ := os.OpenFile(p, os.O_WRONLY, 0)
	f.WriteAt([]byte("HELLO"), int64(i))
	f.Close()
	rc, err := a.Open("files/hello.conf")
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(rc)
	rc.Close()
	if err == nil {
		t.Fatal("read changed content without error")
	}
}

func TestKeyFiles(t *testing.T) {
	dir := t.TempDir()
	pub, priv := newKeys(t, dir, "a")
	if err := WritePrivateKey(filepath.Join(dir, "a.key"), priv, ""); err == nil {
		t.Error("overwrote an existing secret key")
	}
	st, _ := os.Stat(filepath.Join(dir, "a.key"))
	if st.Mode().Perm() != 0o600 {
		t.Errorf("secret key mode %v", st.Mode())
	}
	got, err := ReadPrivateKey(filepath.Join(dir, "a.key"), "")
	if err != nil || !got.Equal(priv) {
		t.Fatalf("ReadPrivateKey: %v", err)
	}
	gp, err := ReadPublicKey(filepath.Join(dir, "a.pub"))
	if err != nil || !gp.Equal(pub) {
		t.Fatalf("ReadPublicKey: %v", err)
	}
	// A broken key in the trusted dir is an error naming it, not skipped.
	kd := t.TempDir()
	os.WriteFile(filepath.Join(kd, "broken.pub"), []byte("nonsense\n"), 0o644)
	if _, err := LoadTrustedKeys(kd); err == nil || !strings.Contains(err.Error(), "broken.pub") {
		t.Errorf("LoadTrustedKeys: %v", err)
	}
	if keys, err := LoadTrustedKeys(filepath.Join(kd, "missing")); err != nil || len(keys) != 0 {
		t.Errorf("missing dir: %v %v", keys, err)
	}
}

// An encrypted secret key costs 1 GiB of memory and seconds of scrypt to
// open (minisign's own scrypt parameters; ~50 s for this test on the CI
// machine), so it only runs when CLP_TEST_SCRYPT is set.
func TestEncryptedKey(t *testing.T) {
	if os.Getenv("CLP_TEST_SCRYPT") == "" {
		t.Skip("set CLP_TEST_SCRYPT=1: scrypt with minisign's parameters takes ~50 s here (minutes under -race)")
	}
	dir := t.TempDir()
	_, priv, _ := GenerateKey()
	p := filepath.Join(dir, "enc.key")
	if err := WritePrivateKey(p, priv, "correct horse"); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadPrivateKey(p, ""); err == nil || !strings.Contains(err.Error(), "encrypted") {
		t.Errorf("no password: %v", err)
	}
	if _, err := ReadPrivateKey(p, "wrong"); err == nil {
		t.Error("wrong password accepted")
	}
	got, err := ReadPrivateKey(p, "correct horse")
	if err != nil || !got.Equal(priv) {
		t.Errorf("right password: %v", err)
	}
}

func BenchmarkVerify100MB(b *testing.B) {
	dir := b.TempDir()
	pub, priv, _ := GenerateKey()
	p := filepath.Join(dir, "big.clp")
	f, _ := os.Create(p)
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 1<<16)
	for i := 0; i < 100; i++ {
		f.Write(chunk)
	}
	f.Close()
	if _, err := SignFile(p, priv); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(100 << 20)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := VerifyFile(p, p+SigSuffix, []PublicKey{pub}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBlake2b512Floor hashes the same 100 MB in memory, as
// VerifyFile's hash does: the floor under BenchmarkVerify100MB (what is
// left is reading the file and the two ed25519 checks).
func BenchmarkBlake2b512Floor(b *testing.B) {
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 1<<16)
	b.SetBytes(100 << 20)
	for i := 0; i < b.N; i++ {
		h, _ := blake2b.New512(nil)
		for j := 0; j < 100; j++ {
			h.Write(chunk)
		}
		h.Sum(nil)
	}
}

// TestHashCopy: hashCopy hashes and copies every byte once, through short
// reads, and passes a read or write error on.
func TestHashCopy(t *testing.T) {
	data := bytes.Repeat([]byte("clp"), 1<<20)
	want := blake2b.Sum512(data)
	h, _ := blake2b.New512(nil)
	var out bytes.Buffer
	if err := hashCopy(h, &out, iotest.HalfReader(bytes.NewReader(data))); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(h.Sum(nil), want[:]) || !bytes.Equal(out.Bytes(), data) {
		t.Fatal("hashCopy changed the bytes or the hash")
	}
	// Without a copy: the read-ahead hashes every byte once, in order,
	// through short reads, passes a read error on, and leaves no
	// goroutine behind.
	before := runtime.NumGoroutine()
	h.Reset()
	if err := hashCopy(h, nil, iotest.HalfReader(bytes.NewReader(data))); err != nil || !bytes.Equal(h.Sum(nil), want[:]) {
		t.Fatalf("hashCopy without a copy: %v, or the hash changed", err)
	}
	h.Reset()
	if err := hashCopy(h, nil, iotest.TimeoutReader(bytes.NewReader(data))); !errors.Is(err, iotest.ErrTimeout) {
		t.Fatalf("read error: %v", err)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("%d goroutines after hashCopy, %d before", n, before)
	}
	boom := errors.New("disk full")
	if err := hashCopy(h, errWriter{boom}, bytes.NewReader(data)); !errors.Is(err, boom) {
		t.Fatalf("write error: %v", err)
	}
}

// A failed write of the private copy stops the reading at once: a capped
// copy must not read an endless file to its end.
func TestHashCopyStopsOnWriteError(t *testing.T) {
	boom := errors.New("archive over size cap")
	r := &endless{max: 1000}
	h, _ := blake2b.New512(nil)
	if err := hashCopy(h, &failAfter{n: 3 * hashBuf, err: boom}, r); !errors.Is(err, boom) {
		t.Fatalf("got %v, want the write error", err)
	}
	// Three blocks were written, the fourth failed; the reader may be a
	// few blocks ahead (the ones in flight), not more.
	if r.reads > 12 {
		t.Fatalf("%d blocks read after the copy failed at the fourth", r.reads)
	}
}

// endless is a file that never ends (reads fail after max, so a test
// cannot hang).
type endless struct{ reads, max int }

func (e *endless) Read(p []byte) (int, error) {
	e.reads++
	if e.reads > e.max {
		return 0, errors.New("read past the test's bound")
	}
	return len(p), nil
}

// failAfter accepts n bytes, then fails.
type failAfter struct {
	n   int
	err error
}

func (w *failAfter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		return 0, w.err
	}
	w.n -= len(p)
	return len(p), nil
}

// CheckVerified (clp verify) checks a tar.gz whose payloads OpenVerified
// would spill without keeping them, and says what OpenVerified says: the
// same manifest for a good patch, the same refusal for a payload that
// does not match it. A manifest larger than the in-memory limit is read
// all the same.
func TestCheckVerified(t *testing.T) {
	dir := t.TempDir()
	pub, priv := newKeys(t, dir, "k")
	big := make([]byte, 3<<20) // incompressible, within the ratio cap
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := range big {
		big[i] = byte(rnd.Uint32())
	}
	bigFiles := goodFiles + `
    <Add target="/etc/big.conf" payload="files/big.conf" sha256="` + sum(string(big)) + `" mode="0644"/>`
	longMeta := strings.Replace(metaXML(bigFiles), "<Files>", "<!-- "+strings.Repeat("x", 3<<19)+" -->\n  <Files>", 1)
	for _, c := range []struct {
		name string
		meta string
		body []byte
		want string
	}{
		{"good", metaXML(bigFiles), big, ""},
		{"long manifest", longMeta, big, ""},
		{"payload changed", metaXML(bigFiles), append(append([]byte{}, big[:len(big)-1]...), 'X'), "sha256 is "},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "CLP0250101.clp")
			if err := os.WriteFile(p, mkTarGz(t, withMeta(c.meta, tarEnt{name: "files/big.conf", typ: tar.TypeReg, body: c.body})...), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := SignFile(p, priv); err != nil {
				t.Fatal(err)
			}
			lim := Limits{TempDir: t.TempDir(), MaxManifestSize: 4 << 20}
			a, v, err := OpenVerified(p, p+SigSuffix, []PublicKey{pub}, lim)
			m, v2, err2 := CheckVerified(p, p+SigSuffix, []PublicKey{pub}, lim)
			if c.want != "" {
				if err == nil || !strings.Contains(err.Error(), c.want) || err2 == nil || err2.Error() != err.Error() {
					t.Fatalf("OpenVerified: %v\nCheckVerified: %v\nwant both to say %q", err, err2, c.want)
				}
				return
			}
			if err != nil || err2 != nil {
				t.Fatalf("OpenVerified: %v; CheckVerified: %v", err, err2)
			}
			defer a.Close()
			if v != v2 || !reflect.DeepEqual(m, a.Manifest()) || len(m.Files) != 2 {
				t.Fatalf("CheckVerified: %+v %+v\nOpenVerified: %+v %+v", m, v2, a.Manifest(), v)
			}
			if left, _ := os.ReadDir(lim.TempDir); len(left) != 0 {
				t.Errorf("left %d files in TempDir", len(left))
			}
		})
	}
	// What CheckVerified drops cannot be opened (rather than read as
	// empty); the manifest can.
	data := mkTarGz(t, withMeta(metaXML(bigFiles), tarEnt{name: "files/big.conf", typ: tar.TypeReg, body: big})...)
	a, err := openReaderMode(bytes.NewReader(data), int64(len(data)), Limits{TempDir: t.TempDir()}, true)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := a.Open("files/big.conf"); err == nil || !strings.Contains(err.Error(), "not kept") {
		t.Fatalf("open a dropped entry: %v", err)
	}
	if rc, err := a.Open(ManifestName); err != nil {
		t.Fatalf("open the manifest: %v", err)
	} else {
		rc.Close()
	}
}

type errWriter struct{ err error }

func (w errWriter) Write([]byte) (int, error) { return 0, w.err }

// SignChecked signs and verifies what it signed with the key's own
// public half; a file it cannot read is an error and leaves no signature.
func TestSignChecked(t *testing.T) {
	dir := t.TempDir()
	pub, priv := newKeys(t, dir, "clp")
	p := writeSample(t, dir)
	sig, v, err := SignChecked(p, priv)
	if err != nil {
		t.Fatal(err)
	}
	if sig != p+SigSuffix || v.KeyID != KeyID(pub.ID()) || !strings.Contains(v.TrustedComment, "file:CLP0250101.clp") {
		t.Errorf("SignChecked = %q, %+v", sig, v)
	}
	if _, err := VerifyFile(p, sig, []PublicKey{pub}); err != nil {
		t.Errorf("the signature does not verify: %v", err)
	}
	missing := filepath.Join(dir, "missing.clp")
	if _, _, err := SignChecked(missing, priv); err == nil || !strings.HasPrefix(err.Error(), "sign "+missing+": ") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := os.Lstat(missing + SigSuffix); !os.IsNotExist(err) {
		t.Errorf("a signature of a missing file was written: %v", err)
	}
}

// A new key pair is written whole, never over an existing key.
func TestWriteKeyPair(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "k")
	sec, pubPath, err := NewKeyPairPaths(base)
	if err != nil || sec != base+".key" || pubPath != base+".pub" {
		t.Fatalf("NewKeyPairPaths = %q, %q, %v", sec, pubPath, err)
	}
	pub, err := WriteKeyPair(sec, pubPath, "pw")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ReadPublicKey(pubPath); err != nil || got.ID() != pub.ID() {
		t.Errorf("public key read back: %v, %v", got, err)
	}
	if _, err := ReadPrivateKey(sec, "pw"); err != nil {
		t.Errorf("secret key read back: %v", err)
	}
	if _, _, err := NewKeyPairPaths(base); err == nil || !strings.Contains(err.Error(), base+".key already exists") {
		t.Errorf("existing key: %v", err)
	}
	// The public half cannot be written (its folder is missing): the
	// secret half is taken back.
	sec2 := filepath.Join(dir, "k2.key")
	if _, err := WriteKeyPair(sec2, filepath.Join(dir, "nowhere", "k2.pub"), ""); err == nil || !strings.HasPrefix(err.Error(), "write public key: ") {
		t.Errorf("unwritable public key: %v", err)
	}
	if _, err := os.Lstat(sec2); !os.IsNotExist(err) {
		t.Errorf("the secret key stayed: %v", err)
	}
}
