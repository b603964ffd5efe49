package cache

import (
	"strings"
	"testing"
)

func TestParseFileName(t *testing.T) {
	good := []struct{ file, name, version, arch string }{
		{"nvidia-utils-550.78-1-x86_64.pkg.tar.zst", "nvidia-utils", "550.78-1", "x86_64"},
		{"nvidia-utils-560.35.03-1-x86_64.pkg.tar.xz", "nvidia-utils", "560.35.03-1", "x86_64"},
		{"lib32-nvidia-utils-550.78-1-x86_64.pkg.tar.gz", "lib32-nvidia-utils", "550.78-1", "x86_64"},
		{"linux-firmware-20240409.1addd7dc-1-any.pkg.tar.zst", "linux-firmware", "20240409.1addd7dc-1", "any"},
		{"systemd-2:255.5-3-x86_64.pkg.tar.zst", "systemd", "2:255.5-3", "x86_64"},
		{"go-2:1.22.2-1-x86_64.pkg.tar", "go", "2:1.22.2-1", "x86_64"},
		{"gtk2+extra-2.24_1.0-1.1-aarch64.pkg.tar.bz2", "gtk2+extra", "2.24_1.0-1.1", "aarch64"},
		{"libc++-18.1.3-1-x86_64.pkg.tar.zst", "libc++", "18.1.3-1", "x86_64"},
		{"foo@bar_baz.qux-1.0+r3.g1a2b-2-any.pkg.tar.zst", "foo@bar_baz.qux", "1.0+r3.g1a2b-2", "any"},
		{"python-3-foo-1.0-1-any.pkg.tar.zst", "python-3-foo", "1.0-1", "any"},
		{"a-0-0-x.pkg.tar.zst", "a", "0-0", "x"},
		{"vim-runtime-9.1.0-1-armv7h.pkg.tar.xz", "vim-runtime", "9.1.0-1", "armv7h"},
	}
	for _, g := range good {
		e, err := ParseFileName(g.file)
		if err != nil {
			t.Errorf("ParseFileName(%q): %v", g.file, err)
			continue
		}
		if e.Name != g.name || e.Version != g.version || e.Arch != g.arch || e.File != g.file {
			t.Errorf("ParseFileName(%q) = %q %q %q %q, want %q %q %q", g.file, e.Name, e.Version, e.Arch, e.File, g.name, g.version, g.arch)
		}
	}
	bad := []struct{ file, why string }{
		{"nvidia-utils-550.78-1-x86_64.pkg.tar.zst.sig", "is a signature"},
		{"nvidia-utils-550.78-1-x86_64.pkg.tar.zst.part", "partial download"},
		{"download-Ab12cD", "no .pkg.tar"},
		{"README", "no .pkg.tar"},
		{"nvidia-utils-550.78-1-x86_64.pkg.tar.lz4", "unsupported package suffix"},
		{"nvidia-utils-550.78-1-x86_64.pkg.tar.zstd", "unsupported package suffix"},
		{"nvidia-utils.pkg.tar.zst", "expected name-pkgver-pkgrel-arch"},
		{"550.78-1-x86_64.pkg.tar.zst", "expected name-pkgver-pkgrel-arch"},
		{"-550.78-1-x86_64.pkg.tar.zst", "empty package name"},
		{"-foo-1.0-1-any.pkg.tar.zst", "starts with"},
		{".foo-1.0-1-any.pkg.tar.zst", "starts with"},
		{"foo bar-1.0-1-any.pkg.tar.zst", "invalid character"},
		{"foo-1.0-x-any.pkg.tar.zst", "pkgrel \"x\" is not a number"},
		{"foo-1.0-1.-any.pkg.tar.zst", "pkgrel \"1.\" is not a number"},
		{"foo-1.0-1.2.3-any.pkg.tar.zst", "pkgrel \"1.2.3\" is not a number"},
		{"foo-a:1.0-1-any.pkg.tar.zst", "epoch \"a\" is not a number"},
		{"foo-:1.0-1-any.pkg.tar.zst", "epoch \"\" is not a number"},
		{"foo-1:-1-any.pkg.tar.zst", "empty pkgver"},
		{"foo-1:2:3-1-any.pkg.tar.zst", "invalid character ':'"},
		{"foo-1.0-1-x86-64.pkg.tar.zst", "pkgrel \"x86\" is not a number"},
		{"foo-1.0-1-x86.64.pkg.tar.zst", "arch \"x86.64\" has invalid character"},
		{"foo-1.0-1-.pkg.tar.zst", "empty arch"},
		{"../foo-1.0-1-any.pkg.tar.zst", "not a plain file name"},
		{"foo-1.0-1-any.pkg.tar.zst\x00", "not a plain file name"},
	}
	for _, b := range bad {
		_, err := ParseFileName(b.file)
		if err == nil {
			t.Errorf("ParseFileName(%q) succeeded, want error %q", b.file, b.why)
			continue
		}
		if !strings.Contains(err.Error(), b.why) {
			t.Errorf("ParseFileName(%q) = %v, want it to say %q", b.file, err, b.why)
		}
	}
}

func FuzzParseFileName(f *testing.F) {
	for _, s := range []string{"nvidia-utils-550.78-1-x86_64.pkg.tar.zst", "systemd-2:255.5-3-x86_64.pkg.tar.zst", "a-0-0-x.pkg.tar", "x.pkg.tar.sig"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, file string) {
		e, err := ParseFileName(file)
		if err != nil {
			return
		}
		// A parsed name rebuilds to exactly the file name.
		if !strings.HasPrefix(file, e.Name+"-"+e.Version+"-"+e.Arch+pkgTar) {
			t.Errorf("ParseFileName(%q) = %q %q %q does not rebuild it", file, e.Name, e.Version, e.Arch)
		}
	})
}
