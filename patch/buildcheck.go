package patch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/vincentos/clp/internal/fail"
	"github.com/vincentos/clp/internal/fsx"
)

// safePatchName is docs/clp-format.md's rule for Name (validate.go's
// nameRE), so a default output file name made from it stays in the
// current directory.
var safePatchName = nameRE

// CheckBuild is what clp build checks before it builds folder dir into
// out ("" for <Name>.clp): dir holds a manifest that parses, every expect
// can be known (written, or hashed from a root when haveRoot), and out
// can be written. It returns the manifest and the output path. A patch
// folder that cannot make a valid patch is a fail.ErrVerify.
func CheckBuild(dir, out string, haveRoot bool) (*Manifest, string, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, "", fail.Hint(fmt.Errorf("patch folder %s: %w", dir, errors.Unwrap(err)), "give the folder that holds PKGINFO.meta")
	}
	if !fi.IsDir() {
		return nil, "", fail.Hint(fmt.Errorf("%s is not a folder", dir), "give the folder that holds PKGINFO.meta and the payloads, not a file")
	}
	metaPath := filepath.Join(dir, ManifestName)
	meta, err := fsx.ReadFileCapped(metaPath, DefaultLimits().MaxManifestSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "", fail.Verify(fmt.Errorf("%s has no %s", dir, ManifestName),
			"write PKGINFO.meta first: docs/clp-format.md and clp-format(5) describe it")
	}
	if err != nil {
		return nil, "", err
	}
	m, err := ParseManifest(meta)
	if err != nil {
		return nil, "", fail.Verify(fmt.Errorf("%s: %w", metaPath, err), "")
	}
	if !haveRoot {
		for _, f := range m.Files {
			if f.Op != OpAdd && (f.Expect == "" || f.Expect == "auto") {
				return nil, "", fail.Verify(
					fmt.Errorf("%s: %s %s: expect is %q and there is no system to hash it from", metaPath, f.Op, f.Target, f.Expect),
					"give --root / to hash this machine's current files, or --root DIR for a copy of the target system, or write the sha256")
			}
		}
	}
	if out == "" {
		if !safePatchName.MatchString(m.Name) {
			return nil, "", fail.Verify(fmt.Errorf("%s: Name %q cannot name the patch file", metaPath, m.Name),
				"fix Name (A-Z a-z 0-9 . _ + -), or give -o FILE")
		}
		out = m.Name + ".clp"
	}
	if st, err := os.Stat(filepath.Dir(out)); err != nil || !st.IsDir() {
		return nil, "", fail.Hint(fmt.Errorf("cannot write %s: folder %s does not exist", out, filepath.Dir(out)), "create the folder, or give another -o FILE")
	}
	if st, err := os.Stat(out); err == nil && st.IsDir() {
		return nil, "", fail.Hint(fmt.Errorf("cannot write %s: it is a folder", out), "give -o FILE, a file name")
	}
	return m, out, nil
}
