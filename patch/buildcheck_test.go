package patch

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vincentos/clp/internal/fail"
)

func TestCheckBuild(t *testing.T) {
	dir := t.TempDir()
	folder := filepath.Join(dir, "p")
	write := func(meta string) {
		t.Helper()
		if err := os.MkdirAll(folder, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(folder, ManifestName), []byte(meta), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	check := func(out string, haveRoot bool, verify bool, msg string) {
		t.Helper()
		_, _, err := CheckBuild(folder, out, haveRoot)
		if err == nil || !strings.Contains(err.Error(), msg) || errors.Is(err, fail.ErrVerify) != verify {
			t.Errorf("CheckBuild(%q, %v) = %v; want %q (verify %v)", out, haveRoot, err, msg, verify)
		}
	}
	check("", false, false, "patch folder "+folder)
	if err := os.WriteFile(folder, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	check("", false, false, "is not a folder")
	os.Remove(folder)
	if err := os.Mkdir(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	check("", false, true, "has no "+ManifestName)
	write("<Package")
	check("", false, true, ManifestName+": ")
	write(metaXML(`    <Replace target="/etc/hello.conf" payload="files/hello.conf" sha256="` + sum(helloBody) + `" expect="auto"/>`))
	check("", false, true, `expect is "auto" and there is no system to hash it from`)
	check(filepath.Join(dir, "nowhere", "x.clp"), true, false, "folder "+filepath.Join(dir, "nowhere")+" does not exist")
	check(dir, true, false, "it is a folder")
	write(strings.Replace(goodMeta, "CLP0250101", "../evil", 1))
	check("", false, true, `Name "../evil" cannot name the patch file`)
	write(goodMeta)
	m, out, err := CheckBuild(folder, "", false)
	if err != nil || m.Name != "CLP0250101" || out != "CLP0250101.clp" {
		t.Errorf("good folder: %v, %q, %v", m, out, err)
	}
}
