package snapshot

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// genPkgs makes n packages with realistic-looking names and versions (not
// "pkg0001", which would compress unrealistically well).
func genPkgs(rng *rand.Rand, n int) []Pkg {
	syll := []string{"lib", "x", "gtk", "py", "perl", "font", "qt", "kde", "gnome", "ttf", "lua", "go", "rust", "java", "ruby", "node", "core", "util", "tools", "data", "firm", "ware", "net", "cups", "mesa", "vulk", "an", "pulse", "pipe", "wire", "sys", "tem", "d", "boost", "icu", "zstd", "xz", "gz", "ssl", "crypt", "gpg", "me", "ncurses", "read", "line", "bash", "zsh", "fish", "vim", "emacs"}
	seen := map[string]bool{}
	out := make([]Pkg, 0, n)
	for len(out) < n {
		var b strings.Builder
		k := 2 + rng.IntN(3)
		for i := 0; i < k; i++ {
			if i > 0 && rng.IntN(3) == 0 {
				b.WriteByte('-')
			}
			b.WriteString(syll[rng.IntN(len(syll))])
		}
		name := b.String()
		if seen[name] {
			continue
		}
		seen[name] = true
		reason := ReasonDependency
		if rng.IntN(5) == 0 {
			reason = ReasonExplicit
		}
		arch := "x86_64"
		if rng.IntN(6) == 0 {
			arch = "any"
		}
		out = append(out, Pkg{Name: name, Version: randVersion(rng), Arch: arch, Reason: reason})
	}
	return out
}

func randVersion(rng *rand.Rand) string {
	v := fmt.Sprintf("%d.%d.%d-%d", rng.IntN(30), rng.IntN(20), rng.IntN(200), 1+rng.IntN(3))
	if rng.IntN(10) == 0 {
		v = "1:" + v
	}
	return v
}

// evolve returns a copy of pkgs with k small changes: mostly upgrades, some
// installs and removals, like one pacman transaction.
func evolve(rng *rand.Rand, pkgs []Pkg, k int) []Pkg {
	out := append([]Pkg(nil), pkgs...)
	for i := 0; i < k; i++ {
		switch r := rng.IntN(10); {
		case r < 7:
			j := rng.IntN(len(out))
			out[j].Version = randVersion(rng)
		case r < 9:
			extra := genPkgs(rng, 1)[0]
			extra.Name += fmt.Sprintf("-n%d", rng.IntN(1e6))
			out = append(out, extra)
		default:
			j := rng.IntN(len(out))
			out = append(out[:j], out[j+1:]...)
		}
	}
	return out
}
