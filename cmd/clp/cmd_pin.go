package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/vincentos/clp/alpm"
	"github.com/vincentos/clp/hooks"
	"github.com/vincentos/clp/pkgtx"
)

func init() {
	registerOpts(&command{
		Name:    "pin",
		Summary: "hold packages at their installed version",
		Usage:   usageText("pin"),
		Args:    minArgs(1, "at least one package name"),
	}, func(fs *pflag.FlagSet, o *pinOptions) {
		fs.StringVar(&o.Until, "until", "", "lift the pin once the repositories offer `VERSION` or newer")
	}, runPin)
	register(&command{
		Name:    "unpin",
		Summary: "release pinned packages",
		Usage:   usageText("unpin"),
		Args:    minArgs(1, "at least one package name"),
		Run:     runUnpin,
	})
	registerOpts(&command{
		Name:    "pins",
		Summary: "list pins, lift those whose fixed version shipped",
		Usage:   usageText("pins"),
		Args:    noArgs,
	}, func(fs *pflag.FlagSet, o *pinsOptions) {
		fs.BoolVar(&o.Check, "check", false, "lift every pin whose --until version the sync databases now offer (logged in /var/log/clp.log)")
		fs.BoolVar(&o.RemoveInclude, "remove-include", false, "take clp's Include out of pacman.conf (every other byte stays) and delete clp-pins.conf; the pins stay listed, and the next pin change adds the Include again")
	}, runPins)
}

type pinOptions struct{ Until string }
type pinsOptions struct{ Check, RemoveInclude bool }

func runPin(ctx context.Context, env *Env, o pinOptions, names []string) error {
	if err := pkgtx.CheckNames(names); err != nil {
		return err
	}
	h, err := env.openDB()
	if err != nil {
		return err
	}
	defer h.Close()
	add, err := hooks.NewPins(h, alpm.VerCmp, names, o.Until, time.Now())
	if err != nil {
		return err
	}
	if err := hooks.CheckPinsConf(h.Paths); err != nil {
		return err
	}
	l, err := env.stateLock(ctx)
	if err != nil {
		return err
	}
	defer l.Release()
	pins, taken, err := hooks.AddPins(h.Paths, env.State(), add)
	for _, t := range taken {
		env.Warnf("%s was pinned by patch %s; the pin is yours now", t.Name, t.Patch)
	}
	if err != nil {
		return err
	}
	if env.JSON {
		return printJSON(env.Stdout, hooks.OrEmpty(pins))
	}
	for _, a := range add {
		fmt.Fprintln(env.Stdout, a.PinnedLine())
	}
	fmt.Fprintf(env.Stdout, "   IgnorePkg in %s; clp's guard hook refuses transactions that move a pinned package\n", hooks.PinsConfFile(h.Paths))
	return nil
}

func runUnpin(ctx context.Context, env *Env, names []string) error {
	if err := pkgtx.CheckNames(names); err != nil {
		return err
	}
	p, err := env.System().Paths()
	if err != nil {
		return err
	}
	cur, err := hooks.LoadPins(env.System().Root, env.State())
	if err != nil {
		return err
	}
	if err := hooks.CheckPinned(cur, names); err != nil {
		return err
	}
	l, err := env.stateLock(ctx)
	if err != nil {
		return err
	}
	defer l.Release()
	pins, released, err := hooks.RemovePins(p, env.State(), names)
	for _, r := range released {
		env.Warnf("%s was pinned by patch %s; it is released now", r.Name, r.Patch)
	}
	if err != nil {
		return err
	}
	if env.JSON {
		return printJSON(env.Stdout, hooks.OrEmpty(pins))
	}
	fmt.Fprintf(env.Stdout, ":: unpinned %s\n", strings.Join(names, ", "))
	return nil
}

// pinsReport is clp pins' JSON.
type pinsReport struct {
	Pins           []hooks.Pin    `json:"pins"`
	Lifted         []hooks.Lifted `json:"lifted,omitempty"`
	IncludeRemoved bool           `json:"include_removed,omitempty"`
}

func runPins(ctx context.Context, env *Env, o pinsOptions, _ []string) error {
	rep := pinsReport{}
	if o.Check || o.RemoveInclude {
		l, err := env.stateLock(ctx)
		if err != nil {
			return err
		}
		defer l.Release()
	}
	if o.Check {
		lifted, err := checkPins(ctx, env)
		if err != nil {
			return err
		}
		rep.Lifted = lifted
	}
	if o.RemoveInclude {
		p, err := env.System().Paths()
		if err != nil {
			return err
		}
		changed, err := hooks.RemoveInclude(p)
		if err != nil {
			return err
		}
		rep.IncludeRemoved = changed
	}
	pins, err := hooks.LoadPins(env.System().Root, env.State())
	if err != nil {
		return err
	}
	rep.Pins = hooks.OrEmpty(pins)
	if env.JSON {
		return printJSON(env.Stdout, rep)
	}
	for _, l := range rep.Lifted {
		fmt.Fprintln(env.Stdout, l.Line())
	}
	if o.RemoveInclude {
		if rep.IncludeRemoved {
			fmt.Fprintln(env.Stdout, ":: removed clp's Include from pacman.conf")
		} else {
			fmt.Fprintln(env.Stdout, ":: pacman.conf has no Include of clp's pins")
		}
		if len(pins) > 0 {
			env.Warnf("%d pin(s) stay listed but pacman no longer ignores them; the next 'clp pin' or 'clp unpin' adds the Include again", len(pins))
		}
	}
	if len(pins) == 0 {
		fmt.Fprintln(env.Stdout, "no pins")
		return nil
	}
	for _, p := range pins {
		fmt.Fprintln(env.Stdout, p.Line())
	}
	return nil
}

// checkPins lifts every pin whose Until version the sync databases offer,
// logging each in <root>/var/log/clp.log. The caller holds the state lock.
// clp update calls it after an update (cmd_update.go's checkPins).
func checkPins(ctx context.Context, env *Env) ([]hooks.Lifted, error) {
	h, err := env.openDB()
	if err != nil {
		return nil, err
	}
	defer h.Close()
	return hooks.LiftPins(ctx, h.Paths, env.State(), h, env.System().ClpLog(), time.Now())
}
