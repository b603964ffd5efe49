package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"os"

	"github.com/rogpeppe/go-internal/testscript"
	"golang.org/x/crypto/scrypt"
)

func init() {
	scriptCmds["weakkey"] = cmdWeakKey
}

// cmdWeakKey (weakkey IN OUT PASSWORD) writes OUT, the unencrypted minisign
// secret key IN encrypted with PASSWORD at the lowest scrypt cost the
// format allows. A key from clp keygen costs 1 GiB and seconds to open
// (minisign's "sensitive" cost, read from the key file); this one opens in
// a millisecond, so the scripts can test encrypted keys and passwords
// quickly. It is the same file format with other cost fields.
func cmdWeakKey(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: weakkey IN OUT PASSWORD")
	}
	text, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	comment, b64, _ := bytes.Cut(bytes.TrimSpace(text), []byte("\n"))
	raw, err := base64.StdEncoding.DecodeString(string(b64))
	ts.Check(err)
	if len(raw) != 158 || raw[2] != 0 || raw[3] != 0 {
		ts.Fatalf("weakkey: %s is not an unencrypted minisign secret key", args[0])
	}
	// Layout: sig alg (2) kdf alg (2) checksum alg (2) salt (32) ops (8)
	// mem (8), then key id, secret key and checksum (104), XORed with the
	// scrypt keystream when encrypted.
	copy(raw[2:4], "Sc")
	_, err = rand.Read(raw[6:38])
	ts.Check(err)
	binary.LittleEndian.PutUint64(raw[38:], 0)
	binary.LittleEndian.PutUint64(raw[46:], 0)
	// ops=0, mem=0 are what aead.dev/minisign turns into N=2, r=8, p=512.
	ks, err := scrypt.Key([]byte(args[2]), raw[6:38], 2, 8, 512, 104)
	ts.Check(err)
	for i := range ks {
		raw[54+i] ^= ks[i]
	}
	comment = []byte("untrusted comment: minisign encrypted secret key")
	out := append(append(comment, '\n'), base64.StdEncoding.EncodeToString(raw)...)
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), append(out, '\n'), 0o600))
}
