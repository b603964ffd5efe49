package hooks

import (
	"embed"
	"io/fs"
	"slices"
)

// files holds the hook files. Each starts with a "# clp-managed
// sha256:HEX" line, HEX being the sha256 of the rest of the file: that is
// how Remove and Status tell clp's own files (of any clp version) from a
// file the user wrote or edited, without a list of every past version.
//
//go:embed files/*.hook
var files embed.FS

// File is one embedded hook file.
type File struct {
	Name    string // e.g. "00-clp-pre.hook"
	Content []byte
}

// HookBinary is what the hook files run: clp-hook, the hook handlers
// without the rest of clp (cmd/clp-hook), where the package installs it.
const HookBinary = "/usr/lib/clp/clp-hook"

// Hook file names. pacman runs hooks in file-name order: the guard first
// (a refused transaction then leaves no snapshot behind), the pre snapshot
// next, before any other PreTransaction hook changes anything, and the post
// snapshot after every other PostTransaction hook.
const (
	GuardHook = "00-clp-guard.hook"
	PreHook   = "00-clp-pre.hook"
	PostHook  = "zz-clp-post.hook"
)

// Files returns the embedded hook files, sorted by name.
func Files() []File {
	des, err := fs.ReadDir(files, "files")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory
	}
	var out []File
	for _, de := range des {
		b, err := fs.ReadFile(files, "files/"+de.Name())
		if err != nil {
			panic(err)
		}
		out = append(out, File{Name: de.Name(), Content: b})
	}
	slices.SortFunc(out, func(a, b File) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	return out
}
