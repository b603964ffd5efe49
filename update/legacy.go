package update

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/vincentos/clp/feed"
	"github.com/vincentos/clp/internal/fail"
	"github.com/vincentos/clp/internal/fsx"
	"github.com/vincentos/clp/patch"
)

// fromLegacy reads the original tool's feed. Nothing in it is signed, so
// every patch goes through the minisign check without any way to allow it
// unsigned, and a patch this machine ever applied (clp history) is never
// fetched again: the legacy feed has no sequence numbers, and a patch the
// user rolled back must not come back.
func (u *Updater) fromLegacy(ctx context.Context, mirrorsPath string) error {
	servers, err := feed.LegacyMirrors(u.Sys.Root, mirrorsPath)
	if err != nil {
		return err
	}
	c := &feed.Client{MaxTargetBytes: u.Config.MaxDownloadBytes, Reporter: u.Reporter, Root: u.Sys.Root}
	u.rpt().Step("reading the legacy feed (" + mirrorsPath + ")")
	db, err := c.FetchLegacyDB(ctx, servers)
	if err != nil {
		return feedError(err)
	}
	u.rep.Legacy = db.Server
	hist, err := u.engine().History()
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, ev := range hist {
		if ev.Event == patch.EventApplied {
			seen[ev.Name] = true
		}
	}
	applied, err := u.appliedNames()
	if err != nil {
		return err
	}
	var todo []string
	for _, name := range db.Names {
		e := Entry{Name: name, File: name + ".CLP", Source: "legacy", Action: "apply"}
		switch {
		case applied[name]:
			e.Action, e.Reason = "skip", "already applied"
		case seen[name]:
			e.Action, e.Reason = "skip", "applied before (see 'clp history')"
		default:
			if _, err := fsx.LstatUnder(u.Sys.Root, filepath.Join(u.Sys.OptDir(), name)); err == nil {
				e.Action, e.Reason = "skip", "installed by clpctl; run 'clp migrate'"
			}
		}
		u.rep.Patches = append(u.rep.Patches, e)
		if e.Action == "apply" {
			todo = append(todo, name)
		}
	}
	u.listed("legacy", db.Server)
	if !u.changes() || len(todo) == 0 {
		return nil
	}
	dir, err := u.downloadDir()
	if err != nil {
		return err
	}
	for _, name := range todo {
		e := &u.rep.Patches[u.entry("legacy", name+".CLP")]
		err := u.applyLegacy(ctx, c, db.Server, name, dir, e)
		if err != nil {
			e.Action, e.Reason = "failed", err.Error()
			return err
		}
	}
	return nil
}

func (u *Updater) applyLegacy(ctx context.Context, c *feed.Client, server, name, dir string, e *Entry) error {
	path, _, err := c.FetchLegacyPatch(ctx, server, name, dir)
	if err != nil {
		if errors.Is(err, feed.ErrUnreachable) {
			return fail.Hint(err, "check the network and "+feed.LegacyMirrorsPath)
		}
		return fail.Verify(err, "the legacy feed is unsigned: each patch needs NAME.CLP.minisig from a key in "+u.Sys.KeysDir())
	}
	defer u.removeDownload(path)
	a, trust, err := u.Apply.OpenSigned(path)
	if err != nil {
		return err
	}
	defer a.Close()
	m := a.Manifest()
	// The unsigned list chose the name; the signed patch must agree, or
	// a forged list could install one signed patch under another's name.
	if m.Name != name {
		return fail.Verify(fmt.Errorf("legacy patch %s: CLP.db lists it as %s but its PKGINFO.meta names %s", path, name, m.Name), "")
	}
	if u.Config.UpdatePolicy == "critical" && m.Severity != patch.SeverityCritical {
		e.Action, e.Reason = "skip", "UpdatePolicy = critical"
		return nil
	}
	if err := u.Apply.Apply(ctx, a, trust+", legacy feed", path); err != nil {
		return err
	}
	e.Action = "applied"
	u.rep.Applied = append(u.rep.Applied, m.Name)
	return nil
}
