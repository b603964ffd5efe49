package main

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/vincentos/clp/internal/config"
)

// Script commands for the update, feed and migrate scripts:
//
//	feedserve VAR DIR        serve DIR over HTTP on loopback for the rest of
//	                         the script; VAR is set to its base URL
//	feedserve-endless VAR    a server whose every answer is endless; VAR is
//	                         set to its URL
//	deadurl VAR              VAR is set to a loopback URL nobody listens on
//	appendline FILE WORDS... append WORDS (joined by spaces) and a newline to
//	                         FILE, creating it and its folder (for clp.conf
//	                         lines that name $FEEDURL)
//	feedts DIR expired|foreign|KEYFILE
//	                         re-sign DIR's timestamp as an attacker would:
//	                         expired one hour ago (freeze), with a key
//	                         the feed's root does not list, or with the
//	                         private key in KEYFILE (a revoked one)
//	feedforge DIR FILE       re-sign DIR's targets metadata FILE with a key
//	                         the feed's root does not list
func init() {
	scriptCmds["feedserve"] = cmdFeedserve
	scriptCmds["feedserve-endless"] = cmdFeedserveEndless
	scriptCmds["deadurl"] = cmdDeadurl
	scriptCmds["appendline"] = cmdAppendline
	scriptCmds["feedts"] = cmdFeedts
	scriptCmds["feedforge"] = cmdFeedforge
}

// cmdFeedforge re-signs the published targets metadata FILE (under
// DIR/repository/metadata) with a key the feed's root does not list: a
// change, such as a withdrawal, made by someone without the targets key.
func cmdFeedforge(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: feedforge DIR FILE")
	}
	path := filepath.Join(ts.MkAbs(args[0]), "repository", "metadata", args[1])
	tm, err := metadata.Targets().FromFile(path)
	ts.Check(err)
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	ts.Check(err)
	signer, err := signature.LoadSigner(priv, crypto.Hash(0))
	ts.Check(err)
	tm.ClearSignatures()
	_, err = tm.Sign(signer)
	ts.Check(err)
	data, err := tm.ToBytes(true)
	ts.Check(err)
	ts.Check(os.WriteFile(path, data, 0o644))
}

func cmdFeedserve(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: feedserve VAR DIR")
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(ts.MkAbs(args[1]))))
	ts.Defer(srv.Close)
	ts.Setenv(args[0], srv.URL)
}

func cmdFeedserveEndless(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: feedserve-endless VAR")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := []byte(strings.Repeat("{", 32<<10))
		for {
			if _, err := w.Write(buf); err != nil {
				return
			}
		}
	}))
	ts.Defer(srv.Close)
	ts.Setenv(args[0], srv.URL)
}

func cmdDeadurl(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: deadurl VAR")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	addr := l.Addr().String()
	l.Close()
	ts.Setenv(args[0], "http://"+addr)
}

func cmdAppendline(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 {
		ts.Fatalf("usage: appendline FILE WORDS...")
	}
	p := ts.MkAbs(args[0])
	ts.Check(os.MkdirAll(filepath.Dir(p), 0o755))
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	ts.Check(err)
	_, err = fmt.Fprintln(f, strings.Join(args[1:], " "))
	ts.Check(err)
	ts.Check(f.Close())
}

func cmdFeedts(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: feedts DIR expired|foreign|KEYFILE")
	}
	dir := ts.MkAbs(args[0])
	path := filepath.Join(dir, "repository", "metadata", "timestamp.json")
	tm, err := metadata.Timestamp().FromFile(path)
	ts.Check(err)
	var priv ed25519.PrivateKey
	tm.Signed.Version++
	switch args[1] {
	case "expired":
		tm.Signed.Expires = time.Now().UTC().Add(-time.Hour)
		data, err := os.ReadFile(filepath.Join(dir, "keys", "timestamp.pem"))
		ts.Check(err)
		block, _ := pem.Decode(data)
		if block == nil {
			ts.Fatalf("timestamp.pem is not PEM")
		}
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		ts.Check(err)
		priv = k.(ed25519.PrivateKey)
	case "foreign":
		tm.Signed.Expires = time.Now().UTC().Add(24 * time.Hour)
		_, priv, err = ed25519.GenerateKey(rand.Reader)
		ts.Check(err)
	default:
		// A private key file: a timestamp signed by a key that was
		// rotated out (keys/timestamp.pem.retired-N).
		tm.Signed.Expires = time.Now().UTC().Add(24 * time.Hour)
		data, err := os.ReadFile(ts.MkAbs(args[1]))
		if err != nil {
			ts.Fatalf("feedts: want expired, foreign or a key file, got %q", args[1])
		}
		block, _ := pem.Decode(data)
		if block == nil {
			ts.Fatalf("%s is not PEM", args[1])
		}
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		ts.Check(err)
		priv = k.(ed25519.PrivateKey)
	}
	signer, err := signature.LoadSigner(priv, crypto.Hash(0))
	ts.Check(err)
	tm.ClearSignatures()
	_, err = tm.Sign(signer)
	ts.Check(err)
	data, err := tm.ToBytes(true)
	ts.Check(err)
	ts.Check(os.WriteFile(path, data, 0o644))
}

// The shipped clp.conf states every default: as shipped (all commented)
// and with every "#Key = value" line uncommented, it reads as the defaults,
// except FeedMirror, whose lines are examples.
func TestShippedClpConf(t *testing.T) {
	data, err := os.ReadFile("../../dist/clp.conf")
	if err != nil {
		t.Fatal(err)
	}
	c, err := config.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, config.Default()) {
		t.Fatalf("shipped clp.conf is not the defaults: %+v", c)
	}
	var b strings.Builder
	keys := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "#"); ok && strings.Contains(rest, " = ") && !strings.HasPrefix(rest, " ") {
			key, _, _ := strings.Cut(rest, " = ")
			keys[key] = true
			if key == "FeedMirror" {
				continue
			}
			line = rest
		}
		b.WriteString(line + "\n")
	}
	c, err = config.Parse([]byte(b.String()))
	if err != nil {
		t.Fatalf("uncommented clp.conf: %v", err)
	}
	if !reflect.DeepEqual(c, config.Default()) {
		t.Fatalf("a commented default in dist/clp.conf is not the real default: %+v", c)
	}
	for _, k := range []string{"AllowedPaths", "ArchiveServer", "SnapshotKeep", "ScriptTimeout", "FeedMirror", "UpdatePolicy", "AllowLegacyFeed", "MaxDownloadSize"} {
		if !keys[k] {
			t.Errorf("dist/clp.conf does not show %s", k)
		}
	}
}

// clp help update names the command the timer's unit really runs.
func TestUpdateHelpMatchesTimerUnit(t *testing.T) {
	unit, err := os.ReadFile("../../dist/systemd/core-livepatch-update.service")
	if err != nil {
		t.Fatal(err)
	}
	var run string
	for _, line := range strings.Split(string(unit), "\n") {
		if v, ok := strings.CutPrefix(line, "ExecStart=/usr/bin/"); ok {
			run = strings.TrimSpace(v)
		}
	}
	if run == "" {
		t.Fatal("no ExecStart=/usr/bin/... in the unit")
	}
	help := usageText("update")
	for _, want := range []string{"core-livepatch-update.timer runs '" + run + "'", run + "   # what the timer runs"} {
		if !strings.Contains(strings.Join(strings.Fields(help), " "), strings.Join(strings.Fields(want), " ")) {
			t.Errorf("clp help update does not say %q (the unit runs %q)", want, run)
		}
	}
}
