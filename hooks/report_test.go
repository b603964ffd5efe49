package hooks

import (
	"path/filepath"
	"testing"
)

// ReadReport: the user's hook directory wins over the package's for a
// file of the same name; a name in neither runs nothing.
func TestReadReport(t *testing.T) {
	base := t.TempDir()
	user, pkg := filepath.Join(base, "etc/pacman.d/hooks"), filepath.Join(base, "usr/share/libalpm/hooks")
	if err := Install("/", pkg); err != nil {
		t.Fatal(err)
	}
	r, err := ReadReport("/", user, pkg)
	if err != nil {
		t.Fatal(err)
	}
	rows := r.Rows()
	if len(rows) == 0 || len(rows) != len(r.Files) {
		t.Fatalf("rows %q for files %+v", rows, r.Files)
	}
	for _, row := range rows {
		if row[1] != StateMissing || row[2] != StateInstalled || row[3] != filepath.Join(pkg, row[0]) {
			t.Errorf("package hooks only: row %q", row)
		}
	}
	if err := Install("/", user); err != nil {
		t.Fatal(err)
	}
	if r, err = ReadReport("/", user, pkg); err != nil {
		t.Fatal(err)
	}
	for _, row := range r.Rows() {
		if row[1] != StateInstalled || row[3] != filepath.Join(user, row[0]) {
			t.Errorf("both: row %q", row)
		}
	}
	if r, err = ReadReport("/", filepath.Join(base, "none1"), filepath.Join(base, "none2")); err != nil {
		t.Fatal(err)
	}
	for _, row := range r.Rows() {
		if row[3] != "none" {
			t.Errorf("no hooks: row %q", row)
		}
	}
}
