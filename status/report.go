package status

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"

	"github.com/vincentos/clp/boot"
	"github.com/vincentos/clp/hooks"
	"github.com/vincentos/clp/patch"
	"github.com/vincentos/clp/update"
)

// Report is clp status's JSON.
type Report struct {
	Version        string   `json:"clp_version"`
	PacmanVersion  string   `json:"pacman_version"`
	PacmanPath     string   `json:"pacman_path"`
	LibalpmVersion string   `json:"libalpm_version"`
	Root           string   `json:"root"`
	DBPath         string   `json:"dbpath"`
	Config         string   `json:"config"`
	CacheDirs      []string `json:"cachedirs"`
	StateDir       string   `json:"state_dir"`
	Packages       Packages `json:"packages"`
	Patches        []string `json:"applied_patches"`
	Pins           []string `json:"pins"`
	// Downgrade is what a clp downgrade killed while its pacman ran left
	// (its record); nil when nothing is left.
	Downgrade  *DowngradeLeft `json:"interrupted_downgrade"`
	LastUpdate string         `json:"last_update"`
	Timer      string         `json:"timer"`
	BootGuard  boot.Report    `json:"boot_guard"`
	// Fleet is what configuration management collects: applied patches
	// with their sequence numbers, pending, phased-out and withdrawn
	// patches, the last update and its result.
	Fleet *update.Fleet `json:"fleet"`
}

// DowngradeLeft is the record an interrupted clp downgrade left: its
// pacman was killed, and may have left local database entries half
// written until clp recover (or the next clp downgrade) mends them.
type DowngradeLeft struct {
	Record string `json:"record"`
	// Packages are the recorded moves, "name from -> to" ("name to" for
	// a package that was not installed).
	Packages []string `json:"packages"`
	// Problem is why the record cannot be read ("" when it can):
	// clp recover refuses it then, saying what to do.
	Problem string `json:"problem,omitempty"`
}

// Summary is the line clp status prints.
func (d *DowngradeLeft) Summary() string {
	if d.Problem != "" {
		return d.Problem + " (run 'clp recover' for what to do)"
	}
	return "clp downgrade of " + strings.Join(d.Packages, ", ") + " (run 'clp recover')"
}

// Packages is the installed packages' part of a Report.
type Packages struct {
	Count     int       `json:"count"`
	Installed []Package `json:"installed"`
}

// Package is one installed package.
type Package struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// FillState reads clp's own state into r: applied patches, the fleet view
// and pins. Reading never creates the state directory.
func (r *Report) FillState(eng *patch.Engine, stateDir string) error {
	applied, err := eng.List()
	if err != nil {
		return err
	}
	for _, a := range applied {
		r.Patches = append(r.Patches, a.Name+" "+a.Version)
	}
	history, err := eng.History()
	if err != nil {
		return err
	}
	if r.Fleet, err = update.ReadFleet(eng.Root, stateDir, applied, history); err != nil {
		return err
	}
	pins, err := hooks.LoadPins(eng.Root, stateDir)
	if err != nil {
		return err
	}
	for _, p := range pins {
		s := p.Name
		if p.Version != "" {
			s += " " + p.Version
		}
		if p.Until != "" {
			s += " (until " + p.Until + ")"
		}
		r.Pins = append(r.Pins, s)
	}
	return nil
}

// encode is the JSON every clp command prints: two-space indentation.
func encode(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// installedKey is the one line encode writes for an empty-marked
// Packages.Installed (null, at its depth): the only place where a line
// holds exactly this (a string cannot hold a line break).
const installedKey = "\n    \"installed\": null\n"

// WriteJSON writes r as encoding/json with two-space indentation does,
// byte for byte, but writes the installed packages' list itself: through
// encoding/json, reflection and the re-indentation of 2,000 entries cost
// more than the rest of clp status --json. Each name and version is still
// quoted as encoding/json quotes it.
func (r Report) WriteJSON(w io.Writer) error {
	pkgs := r.Packages.Installed
	if len(pkgs) == 0 {
		return encode(w, r)
	}
	r.Packages.Installed = nil
	var head bytes.Buffer
	if err := encode(&head, r); err != nil {
		return err
	}
	out := head.Bytes()
	i := bytes.Index(out, []byte(installedKey))
	if i < 0 || bytes.Count(out, []byte(installedKey)) != 1 {
		r.Packages.Installed = pkgs
		return encode(w, r)
	}
	buf := make([]byte, 0, len(out)+len(pkgs)*96)
	buf = append(buf, out[:i]...)
	buf = append(buf, "\n    \"installed\": ["...)
	for k, p := range pkgs {
		if k > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, "\n      {\n        \"name\": "...)
		buf = appendJSONString(buf, p.Name)
		buf = append(buf, ",\n        \"version\": "...)
		buf = appendJSONString(buf, p.Version)
		buf = append(buf, "\n      }"...)
	}
	buf = append(buf, "\n    ]\n"...)
	buf = append(buf, out[i+len(installedKey):]...)
	_, err := w.Write(buf)
	return err
}

// appendJSONString appends s quoted as encoding/json quotes it (HTML
// characters escaped, as encode's encoder does); plain ASCII, what
// package names and versions are made of, is quoted without it.
func appendJSONString(buf []byte, s string) []byte {
	plain := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			plain = false
			break
		}
	}
	if plain {
		buf = append(buf, '"')
		buf = append(buf, s...)
		return append(buf, '"')
	}
	q, _ := json.Marshal(s)
	return append(buf, q...)
}
