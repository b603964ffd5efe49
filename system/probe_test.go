package system

import (
	"os"
	"path/filepath"
	"testing"
)

// On an Arch-based host the pacman binary's version comes from the host's
// local database without running it; only the package that owns
// /usr/bin/pacman counts.
func TestPacmanFromHostDB(t *testing.T) {
	local := t.TempDir()
	mk := func(dir, files string) {
		os.MkdirAll(filepath.Join(local, dir), 0o755)
		os.WriteFile(filepath.Join(local, dir, "files"), []byte(files), 0o644)
	}
	if v := pacmanFromHostDB(local); v != "" {
		t.Fatalf("empty db: %q", v)
	}
	mk("pacman-contrib-1.10.6-2", "%FILES%\nusr/bin/\nusr/bin/paccache\n")
	mk("pacman-mirrorlist-20250101-1", "%FILES%\netc/pacman.d/mirrorlist\n")
	if v := pacmanFromHostDB(local); v != "" {
		t.Fatalf("pacman-contrib is not pacman: %q", v)
	}
	mk("pacman-7.1.0.r9.g54d9411-2", "%FILES%\nusr/\nusr/bin/\nusr/bin/pacman\nusr/bin/pacman-conf\n")
	if v := pacmanFromHostDB(local); v != "7.1.0.r9.g54d9411" {
		t.Fatalf("got %q", v)
	}
}
