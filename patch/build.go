package patch

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/vincentos/clp/internal/fsx"
)

// BuildOptions tune Build.
type BuildOptions struct {
	// Zip writes a zip archive instead of the default tar.gz.
	Zip bool
	// Root is the system whose current files resolve expect="auto" (the
	// target is read at Root joined with its path). Empty: expect="auto"
	// is an error, as there is nothing to hash.
	Root string
	// CacheDirs are that system's package caches (real paths): a
	// downgrade without a payload and with sha256="auto" is hashed from
	// its package file there. Empty: such a sha256 is an error.
	CacheDirs []string
	// Limits validate the result exactly as OpenFile will on the systems
	// that receive it (PathAllowed included).
	Limits Limits
	// ModTime is stamped on every entry; zero means 2000-01-01 00:00 UTC.
	// A fixed time (with sorted entries, uid/gid 0 and no gzip name) makes
	// a build reproducible: the same folder gives the same bytes.
	ModTime time.Time
}

var defaultModTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// Build makes the .clp at out from the folder dir, which holds PKGINFO.meta,
// the payload files and the scripts; every regular file in dir goes into the
// archive under its path relative to dir. For format 1, Build fills in what
// the author left empty or "auto": each payload's sha256 (a sha256 that is
// given must match the file, so a stale one is caught) and, with
// opts.Root, each expect="auto" from the target's current content; it
// rewrites PKGINFO.meta in canonical form (comments are not kept). A format
// 0 PKGINFO.meta is copied as it is. The result is opened and validated
// with OpenFile before it replaces out, so Build never writes a patch that
// clp would refuse.
func Build(dir, out string, opts BuildOptions) error {
	lim := opts.Limits.withDefaults()
	mt := opts.ModTime
	if mt.IsZero() {
		mt = defaultModTime
	}
	metaPath := filepath.Join(dir, ManifestName)
	meta, err := readSmallFile(metaPath, lim.MaxManifestSize)
	if err != nil {
		return err
	}
	m, err := ParseManifest(meta)
	if err != nil {
		return fmt.Errorf("%s: %w", metaPath, err)
	}
	if err := validateManifest(m, lim.PathAllowed, true); err != nil {
		return fmt.Errorf("%s: %w", metaPath, err)
	}
	if m.Format == 1 {
		if err := fillHashes(dir, m, opts.Root, opts.CacheDirs); err != nil {
			return err
		}
		if err := ValidateManifest(m, lim.PathAllowed); err != nil {
			return fmt.Errorf("%s: %w", metaPath, err)
		}
		if meta, err = MarshalManifest(m); err != nil {
			return err
		}
	}
	files, err := collectFiles(dir, out)
	if err != nil {
		return err
	}

	tmp, err := os.CreateTemp(filepath.Dir(out), ".clp-build-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if opts.Zip {
		err = writeZip(tmp, dir, meta, files, mt)
	} else {
		err = writeTarGz(tmp, dir, meta, files, mt)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	a, err := OpenFile(tmp.Name(), lim)
	if err != nil {
		return fmt.Errorf("built patch does not validate: %w", err)
	}
	a.Close()
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return err
	}
	return fsx.SyncDir(filepath.Dir(out))
}

func readSmallFile(path string, max int64) ([]byte, error) {
	return fsx.ReadFileCapped(path, max)
}

func fillHashes(dir string, m *Manifest, root string, cacheDirs []string) error {
	payloadSum := func(payload, given, what string) (string, error) {
		sum, err := fsx.SHA256File(filepath.Join(dir, filepath.FromSlash(payload)))
		if err != nil {
			return "", fmt.Errorf("%s: payload %q: %w", what, payload, err)
		}
		if given != "" && given != "auto" && given != sum {
			return "", fmt.Errorf("%s: payload %q has sha256 %s, but PKGINFO.meta says %s (write sha256=\"auto\" to have it filled in)", what, payload, sum, given)
		}
		return sum, nil
	}
	for i := range m.Files {
		f := &m.Files[i]
		what := fmt.Sprintf("%s %s", f.Op, f.Target)
		if f.Payload != "" {
			sum, err := payloadSum(f.Payload, f.SHA256, what)
			if err != nil {
				return err
			}
			f.SHA256 = sum
		}
		if f.Expect == "auto" || (f.Expect == "" && f.Op != OpAdd) {
			if root == "" {
				return fmt.Errorf("%s: expect is %q; give the hash, or a root to read the current file from", what, f.Expect)
			}
			sum, err := fsx.SHA256File(fsx.UnderRoot(root, f.Target))
			if err != nil {
				return fmt.Errorf("%s: expect=\"auto\": %w", what, err)
			}
			f.Expect = sum
		}
	}
	for i := range m.Packages {
		p := &m.Packages[i]
		switch {
		case p.Op != OpDowngrade:
		case p.Payload != "":
			sum, err := payloadSum(p.Payload, p.SHA256, "downgrade "+p.Name)
			if err != nil {
				return err
			}
			p.SHA256 = sum
		case p.SHA256 == "" || p.SHA256 == "auto":
			sum, err := cachedPackageSum(p.File, cacheDirs)
			if err != nil {
				return fmt.Errorf("downgrade %s: sha256=%q: %w", p.Name, p.SHA256, err)
			}
			p.SHA256 = sum
		}
	}
	return nil
}

// cachedPackageSum hashes the package file name from the first of the
// package caches that holds it as a regular file: a downgrade that ships
// no payload is pinned to the file the author's system has.
func cachedPackageSum(name string, cacheDirs []string) (string, error) {
	if len(cacheDirs) == 0 {
		return "", fmt.Errorf("the patch carries no payload for it and no system was given to hash %s from; give the hash, a payload, or --root (its pacman cache is searched)", name)
	}
	for _, d := range cacheDirs {
		p := filepath.Join(d, name)
		if st, err := os.Lstat(p); err == nil && st.Mode().IsRegular() {
			return fsx.SHA256File(p)
		}
	}
	return "", fmt.Errorf("%s is not in the package cache (%s); give the hash, or a payload", name, strings.Join(cacheDirs, ", "))
}

type buildFile struct {
	name string // slash path relative to dir
	mode int64
	size int64
}

// collectFiles lists the regular files under dir, sorted, leaving out
// PKGINFO.meta (written first, from memory) and out itself. Links and
// special files are refused: the reader would refuse them anyway.
func collectFiles(dir, out string) ([]buildFile, error) {
	outInfo, _ := os.Stat(out)
	var files []buildFile
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		if rel == "." || d.IsDir() {
			return nil
		}
		name := filepath.ToSlash(rel)
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s: only regular files can go into a patch (found %v)", p, d.Type())
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if outInfo != nil && os.SameFile(info, outInfo) || name == ManifestName {
			return nil
		}
		if c, _, err := cleanEntryName(name); err != nil || c != name {
			return fmt.Errorf("%s: file name cannot go into a patch: %v", p, err)
		}
		mode := int64(0o644)
		if info.Mode()&0o111 != 0 {
			mode = 0o755
		}
		files = append(files, buildFile{name: name, mode: mode, size: info.Size()})
		return nil
	})
	sort.Slice(files, func(i, j int) bool { return files[i].name < files[j].name })
	return files, err
}

func copyFileInto(w io.Writer, dir string, f buildFile) error {
	src, err := os.Open(filepath.Join(dir, filepath.FromSlash(f.name)))
	if err != nil {
		return err
	}
	defer src.Close()
	n, err := io.Copy(w, io.LimitReader(src, f.size+1))
	if err == nil && n != f.size {
		err = fmt.Errorf("%s changed size while the patch was being built", f.name)
	}
	return err
}

func writeTarGz(w io.Writer, dir string, meta []byte, files []buildFile, mt time.Time) error {
	gz, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(gz)
	hdr := func(name string, mode, size int64) *tar.Header {
		return &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: size, ModTime: mt,
			Uname: "root", Gname: "root", Format: tar.FormatPAX}
	}
	if err := tw.WriteHeader(hdr(ManifestName, 0o644, int64(len(meta)))); err != nil {
		return err
	}
	if _, err := tw.Write(meta); err != nil {
		return err
	}
	for _, f := range files {
		if err := tw.WriteHeader(hdr(f.name, f.mode, f.size)); err != nil {
			return err
		}
		if err := copyFileInto(tw, dir, f); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

func writeZip(w io.Writer, dir string, meta []byte, files []buildFile, mt time.Time) error {
	zw := zip.NewWriter(w)
	create := func(name string, mode int64) (io.Writer, error) {
		h := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: mt}
		h.SetMode(fs.FileMode(mode))
		return zw.CreateHeader(h)
	}
	mw, err := create(ManifestName, 0o644)
	if err != nil {
		return err
	}
	if _, err := mw.Write(meta); err != nil {
		return err
	}
	for _, f := range files {
		fw, err := create(f.name, f.mode)
		if err != nil {
			return err
		}
		if err := copyFileInto(fw, dir, f); err != nil {
			return err
		}
	}
	return zw.Close()
}
