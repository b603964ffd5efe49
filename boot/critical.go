package boot

import (
	"path"
	"sort"
)

// Critical returns the names among changed that match one of globs (shell
// patterns, path.Match), sorted and each once. A bad pattern matches
// nothing (clp.conf refuses them on load).
func Critical(globs, changed []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, name := range changed {
		if seen[name] {
			continue
		}
		for _, g := range globs {
			if ok, err := path.Match(g, name); err == nil && ok {
				seen[name] = true
				out = append(out, name)
				break
			}
		}
	}
	sort.Strings(out)
	return out
}
