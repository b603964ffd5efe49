package pkgtx

import (
	"time"

	"github.com/vincentos/clp/hooks"
)

// Repin pins the moved packages with --pin, and moves an existing pin of
// a moved package to its new version (else the guard would hold it at a
// version that is no longer installed).
func (d *Downgrader) Repin(plan *Plan, pin bool) ([]string, error) {
	var out []string
	pins, err := hooks.LoadPins(d.Paths.Root, d.StateDir)
	if err != nil {
		return nil, err
	}
	moved := map[string]string{}
	for _, m := range plan.Moves {
		moved[m.Name] = m.To
	}
	touched := pin
	for _, x := range pins {
		if _, ok := moved[x.Name]; ok {
			touched = true
		}
	}
	if !touched {
		return nil, nil
	}
	_, err = hooks.UpdatePins(d.Paths, d.StateDir, func(pins []hooks.Pin) ([]hooks.Pin, error) {
		have := map[string]bool{}
		for i := range pins {
			if v, ok := moved[pins[i].Name]; ok {
				pins[i].Version = v
				have[pins[i].Name] = true
				out = append(out, pins[i].Name)
			}
		}
		if pin {
			for _, m := range plan.Moves {
				if !have[m.Name] {
					pins = append(pins, hooks.Pin{Name: m.Name, Version: m.To, Created: time.Now().UTC().Round(time.Second)})
					out = append(out, m.Name)
				}
			}
		}
		return pins, nil
	})
	return out, err
}
