package patch

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestCheckSignature(t *testing.T) {
	dir := t.TempDir()
	keys, other := filepath.Join(dir, "keys"), filepath.Join(dir, "other")
	for _, d := range []string{keys, other} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	file := writeSample(t, dir)
	if st := CheckSignature(file, dir, keys); st.Status != "unsigned" || !strings.HasSuffix(st.Detail, SigSuffix+" is missing") {
		t.Errorf("unsigned: %+v", st)
	}
	if err := os.WriteFile(file+SigSuffix, []byte("not a signature\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if st := CheckSignature(file, dir, keys); st.Status != "bad" || !strings.Contains(st.Detail, "is not a minisign signature") {
		t.Errorf("garbage: %+v", st)
	}
	_, priv := newKeys(t, keys, "trusted")
	newKeys(t, other, "someone")
	if _, err := SignFile(file, priv); err != nil {
		t.Fatal(err)
	}
	st := CheckSignature(file, dir, keys)
	if st.Status != "trusted" || st.KeyID == "" || st.TrustedComment == "" {
		t.Errorf("trusted: %+v", st)
	}
	st = CheckSignature(file, dir, other)
	if st.Status != "untrusted" || st.Detail != "not in "+other || st.TrustedComment != "" {
		t.Errorf("untrusted: %+v", st)
	}
	if err := os.WriteFile(file, append(mkTarGz(t, withMeta(goodMeta)...), 0), 0o644); err != nil {
		t.Fatal(err)
	}
	if st := CheckSignature(file, dir, keys); st.Status != "bad" || st.TrustedComment != "" {
		t.Errorf("changed file: %+v", st)
	}
}

func TestDescriptionLines(t *testing.T) {
	f := FileDescription{Op: OpReplace, Target: "/etc/x", Payload: "files/x", Expect: "aa", SHA256: "bb", Mode: "0644", Group: "wheel",
		Check: &TargetCheck{Exists: true, SHA256: "cc", Mode: "0600", UID: 1, GID: 2}}
	want := []string{"replace  /etc/x", "    payload files/x", "    expect  aa", "    new     bb", "    set     mode 0644, group wheel",
		"    now     sha256 cc, mode 0600, uid 1, gid 2"}
	if got := f.Lines(); !reflect.DeepEqual(got, want) {
		t.Errorf("file Lines =\n%q\nwant\n%q", got, want)
	}
	if got := (FileDescription{Op: OpAdd, Target: "/etc/y", Check: &TargetCheck{}}).Lines(); !reflect.DeepEqual(got, []string{"add      /etc/y", "    now     absent"}) {
		t.Errorf("add Lines = %q", got)
	}
	for _, tc := range []struct {
		p    PackageDescription
		want []string
	}{
		{PackageDescription{Op: OpDowngrade, Name: "a", Version: "1-1", File: "a.pkg", SHA256: "dd"},
			[]string{"downgrade a to 1-1", "    file    a.pkg (from the pacman cache or the archive server)", "    sha256  dd"}},
		{PackageDescription{Op: OpDowngrade, Name: "a", Version: "1-1", File: "a.pkg", Payload: "pkgs/a.pkg", SHA256: "dd"},
			[]string{"downgrade a to 1-1", "    file    a.pkg (in the patch as pkgs/a.pkg)", "    sha256  dd"}},
		{PackageDescription{Op: OpPin, Name: "b"}, []string{"pin b until the patch is rolled back"}},
		{PackageDescription{Op: OpPin, Name: "b", Until: "2-1"}, []string{"pin b until 2-1 or later is available"}},
	} {
		if got := tc.p.Lines(); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%+v Lines = %q, want %q", tc.p, got, tc.want)
		}
	}
}
