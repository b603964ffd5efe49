package sandbox

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// Running hooks in a sandbox root.
//
// pacman runs a hook by chroot(RootDir) and execv(Exec): inside, the hook
// sees the root as "/". So the root needs the hook's binary, every shared
// library it links and the dynamic loader, at the paths the binary names;
// /bin/sh (pacman checks for it); /dev/null (os/exec opens it for a child's
// stdin); and a pacman.conf that still makes sense from inside. Create's
// pacman.conf names host paths (<Dir>/var/lib/pacman), which do not exist in
// the chroot, so MakeChrootable rewrites it with the system's own paths;
// pacman, the sandbox helpers and clp's --root all map those under Dir from
// outside, and a hook inside reads them as they are.

// MakeChrootable makes r usable from inside a chroot: it installs bins
// (each a host path; copied to the same path in the root, or to
// /usr/bin/<name> for a path outside /usr/bin and /bin) with the shared
// libraries ldd lists, plus /bin/sh and pacman-conf, and writes the
// chroot-flavoured pacman.conf (see WriteChrootConfig). The files are
// copies (about 40 MB for clp's libraries). clp loads libalpm with dlopen,
// so ldd does not list it for clp; pacman-conf links the same libalpm, and
// it comes with pacman-conf's libraries.
func (r *Root) MakeChrootable(bins ...string) error {
	for _, l := range []struct{ name, target string }{{"bin", "usr/bin"}, {"sbin", "usr/bin"}, {"lib", "usr/lib"}, {"lib64", "usr/lib64"}} {
		p := filepath.Join(r.Dir, l.name)
		if _, err := os.Lstat(p); errors.Is(err, os.ErrNotExist) {
			if err := os.MkdirAll(filepath.Join(r.Dir, l.target), 0o755); err != nil {
				return err
			}
			if err := os.Symlink(l.target, p); err != nil {
				return err
			}
		}
	}
	pacmanConf, err := exec.LookPath("pacman-conf")
	if err != nil {
		return fmt.Errorf("make chrootable: %w", err)
	}
	want := map[string]string{"/bin/sh": "/bin/sh", "/usr/bin/pacman-conf": pacmanConf}
	for _, b := range bins {
		dst := b
		if !strings.HasPrefix(b, "/usr/bin/") && !strings.HasPrefix(b, "/bin/") {
			dst = "/usr/bin/" + filepath.Base(b)
		}
		want[dst] = b
	}
	libs := map[string]bool{}
	for dst, src := range want {
		if err := copyIn(src, filepath.Join(r.Dir, dst)); err != nil {
			return err
		}
		ls, err := sharedLibs(src)
		if err != nil {
			return err
		}
		for _, l := range ls {
			libs[l] = true
		}
	}
	for l := range libs {
		if err := copyIn(l, filepath.Join(r.Dir, l)); err != nil {
			return err
		}
	}
	// Without the loader's cache, ld.so searches only its built-in
	// directories; the host's cache names the same paths we copied to.
	if _, err := os.Stat("/etc/ld.so.cache"); err == nil {
		if err := copyIn("/etc/ld.so.cache", filepath.Join(r.Dir, "etc/ld.so.cache")); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Join(r.Dir, "dev"), 0o755); err != nil {
		return err
	}
	null := filepath.Join(r.Dir, "dev/null")
	if _, err := os.Lstat(null); errors.Is(err, os.ErrNotExist) {
		if err := syscall.Mknod(null, syscall.S_IFCHR|0o666, 1<<8|3); err != nil {
			return fmt.Errorf("make %s: %w", null, err)
		}
		os.Chmod(null, 0o666)
	}
	return r.WriteChrootConfig("")
}

// WriteChrootConfig (re)writes pacman.conf with the system's paths
// (/var/lib/pacman/ ...) and no RootDir, so that it reads the same from
// inside the chroot as from outside with --root; extra is appended
// verbatim. WriteConfig undoes it. AddRepo's Server lines name host paths,
// which only pacman outside the chroot uses.
func (r *Root) WriteChrootConfig(extra string) error {
	conf := `# pacman.conf of a clp sandbox root usable from inside a chroot
[options]
DBPath      = /var/lib/pacman/
CacheDir    = /var/cache/pacman/pkg/
LogFile     = /var/log/pacman.log
GPGDir      = /etc/pacman.d/gnupg/
HookDir     = /etc/pacman.d/hooks/
Architecture = x86_64
SigLevel    = Never
LocalFileSigLevel = Never
` + extra
	return os.WriteFile(r.Config, []byte(conf), 0o644)
}

// sharedLibs lists the libraries (and the loader) ldd says bin needs.
func sharedLibs(bin string) ([]string, error) {
	out, err := exec.Command("ldd", bin).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok && bytes.Contains(out, []byte("not a dynamic executable")) || ok && bytes.Contains(ee.Stderr, []byte("not a dynamic executable")) {
			return nil, nil // static: nothing to copy
		}
		return nil, fmt.Errorf("ldd %s: %w", bin, err)
	}
	var libs []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) >= 3 && f[1] == "=>" && strings.HasPrefix(f[2], "/"):
			libs = append(libs, f[2])
		case len(f) >= 1 && strings.HasPrefix(f[0], "/"):
			libs = append(libs, f[0]) // the loader
		case len(f) >= 3 && f[1] == "=>" && f[2] == "not":
			return nil, fmt.Errorf("ldd %s: %s is not found", bin, f[0])
		}
	}
	return libs, nil
}

// InstallAt copies the file src into the root as rel (an absolute path
// inside the root, such as /usr/lib/clp/clp-hook), for a static binary
// that needs no libraries in the chroot.
func (r *Root) InstallAt(src, rel string) error {
	return copyIn(src, filepath.Join(r.Dir, rel))
}

// copyIn copies src's content (symlinks followed) to dst, creating its
// directory, following symlinks inside the root (lib -> usr/lib). A copy,
// never a hard link: nothing a test does in the root may reach the host's
// libraries.
func copyIn(src, dst string) error {
	real, err := filepath.EvalSymlinks(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if _, err := os.Stat(dst); err == nil {
		return nil
	}
	in, err := os.Open(real)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fi.Mode().Perm())
	if err != nil {
		return err
	}
	return copyClose(out, in)
}
