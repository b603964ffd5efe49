package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/vincentos/clp/cache"
	"github.com/vincentos/clp/testkit/sandbox"
)

// Script commands for the downgrade_* and pin_* scripts:
//
//	archsrv ROOT [STATUS [NAME]]
//	                        serve every fixture package in the Arch Linux
//	                        Archive layout on 127.0.0.1 and name it in
//	                        ROOT/etc/clp/clp.conf; with STATUS, every
//	                        directory listing (only NAME's, with NAME)
//	                        answers that HTTP status
//	addrepo ROOT NAME VER   a sync repository NAME offering the NVIDIA
//	                        fixtures at VER (real repo-add, pacman -Sy)
func init() {
	scriptCmds["archsrv"] = cmdArchsrv
	scriptCmds["addrepo"] = cmdAddrepo
}

// fixtures builds (or finds) the fixture packages once; scripts run in
// parallel, so it is guarded (cmdMkroot's scriptFixtures is not: see the
// report to the lead).
func fixtures(ts *testscript.TestScript) *sandbox.Fixtures {
	dgFixturesOnce.Do(func() { dgFixtures, dgFixturesErr = sandbox.BuildFixtures("", nil) })
	ts.Check(dgFixturesErr)
	return dgFixtures
}

var (
	dgFixturesOnce sync.Once
	dgFixtures     *sandbox.Fixtures
	dgFixturesErr  error
)

func cmdArchsrv(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 3 {
		ts.Fatalf("usage: archsrv ROOT [STATUS [NAME]]")
	}
	fail, only := 0, ""
	if len(args) >= 2 {
		n, err := strconv.Atoi(args[1])
		ts.Check(err)
		fail = n
	}
	if len(args) == 3 {
		only = args[2]
	}
	h, err := archiveHandler(fixtures(ts).All(), fail, only)
	ts.Check(err)
	srv := httptest.NewServer(h)
	ts.Defer(srv.Close)
	root := ts.MkAbs(args[0])
	ts.Check(os.MkdirAll(filepath.Join(root, "etc/clp"), 0o755))
	ts.Check(os.WriteFile(filepath.Join(root, "etc/clp/clp.conf"), []byte("[options]\nArchiveServer = "+srv.URL+"\n"), 0o644))
	ts.Setenv("ARCHIVE", srv.URL)
}

func scriptRoot(dir string) *sandbox.Root {
	return &sandbox.Root{
		Dir: dir, DBPath: filepath.Join(dir, "var/lib/pacman"), CacheDir: filepath.Join(dir, "var/cache/pacman/pkg"),
		Config: filepath.Join(dir, "etc/pacman.conf"), LogFile: filepath.Join(dir, "var/log/pacman.log"),
		GPGDir: filepath.Join(dir, "etc/pacman.d/gnupg"), HookDir: filepath.Join(dir, "etc/pacman.d/hooks"),
	}
}

func cmdAddrepo(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: addrepo ROOT NAME VERSION")
	}
	r := scriptRoot(ts.MkAbs(args[0]))
	ts.Check(r.AddRepo(args[1], fixtures(ts).Paths(args[2], sandbox.NVIDIA...)...))
}

// archiveHandler serves package files in the Arch Linux Archive's layout
// (packages/<letter>/<name>/ listings, each file with a placeholder .sig
// beside it); with status != 0 every listing (only's, when only is set)
// answers that HTTP status.
func archiveHandler(files []string, status int, only string) (http.Handler, error) {
	byName := map[string]string{} // name/file -> path
	for _, p := range files {
		e, err := cache.ParseFileName(filepath.Base(p))
		if err != nil {
			return nil, err
		}
		byName[e.Name+"/"+e.File] = p
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/packages/"), "/")
		if len(parts) != 3 {
			http.NotFound(w, r)
			return
		}
		if parts[2] == "" {
			if status != 0 && (only == "" || only == parts[1]) {
				http.Error(w, "backend down", status)
				return
			}
			fmt.Fprint(w, "<html><body><pre><a href=\"../\">../</a>\n")
			for k := range byName {
				if n, f, _ := strings.Cut(k, "/"); n == parts[1] {
					// nginx autoindex's columns: date and size.
					fi, err := os.Stat(byName[k])
					if err != nil {
						http.Error(w, err.Error(), 500)
						return
					}
					fmt.Fprintf(w, "<a href=\"%s\">%s</a>   %s   %d\n<a href=\"%s.sig\">%s.sig</a>\n",
						f, f, fi.ModTime().UTC().Format("02-Jan-2006 15:04"), fi.Size(), f, f)
				}
			}
			fmt.Fprint(w, "</pre></body></html>\n")
			return
		}
		if strings.HasSuffix(parts[2], ".sig") {
			if _, ok := byName[parts[1]+"/"+strings.TrimSuffix(parts[2], ".sig")]; ok {
				w.Write([]byte("not a real signature\n"))
				return
			}
		}
		p, ok := byName[parts[1]+"/"+parts[2]]
		if !ok {
			http.NotFound(w, r)
			return
		}
		http.ServeFile(w, r, p)
	}), nil
}
