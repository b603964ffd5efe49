package snapshot

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/vincentos/clp/internal/fsx"
)

// Keeping pacman's db.lck out of a rollback.
//
// A pre snapshot is taken while pacman holds its lock, so every snapper
// snapshot of / contains /var/lib/pacman/db.lck, and booting into a rolled
// back snapshot leaves pacman "unable to lock database" (snap-pac's users
// hit this after every rollback). Moving /var/lib/pacman to its own
// subvolume would avoid it but would also keep the package database out of
// the rollback, so the database would no longer describe the files: worse.
//
// clp's rule instead: db.lck is a plain file, not a kernel lock, and pacman
// creates it fresh for every transaction, so a db.lck last modified before
// the current boot cannot belong to a running pacman. RemoveStaleDBLock
// deletes exactly such a file. It is meant to be called at boot (a clp unit)
// and before each pacman run clp makes; a rolled-back root is only used
// after a reboot, so its inherited lock is always older than the boot.

// bootTime reads the boot time from /proc/stat; a variable for tests.
var bootTime = func() (time.Time, error) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return time.Time{}, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "btime "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return time.Time{}, fmt.Errorf("parse /proc/stat btime: %w", err)
			}
			return time.Unix(n, 0), nil
		}
	}
	return time.Time{}, errors.New("/proc/stat has no btime line")
}

// RemoveStaleDBLock removes dbpath/db.lck when it predates the current
// boot, and reports whether it did. A lock from this boot is left alone:
// pacman may be running. The lock is looked at and removed anchored to
// root, the system root dbpath belongs to: a folder on the way swapped
// for a link out of it makes the removal fail.
func RemoveStaleDBLock(root, dbpath string) (bool, error) {
	path := filepath.Join(dbpath, "db.lck")
	fi, err := fsx.LstatUnder(root, path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("stat %s: %w", path, err)
	}
	boot, err := bootTime()
	if err != nil {
		return false, fmt.Errorf("cannot tell whether %s is stale: %w", path, err)
	}
	if !fi.ModTime().Before(boot) {
		return false, nil
	}
	if err := fsx.RemoveUnder(root, path); err != nil {
		return false, fmt.Errorf("remove stale %s: %w", path, err)
	}
	return true, fsx.SyncDirUnder(root, dbpath)
}
