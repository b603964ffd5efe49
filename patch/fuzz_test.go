package patch

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// seedArchives adds every corpus file and sample patch as a seed.
func seedArchives(f *testing.F) {
	for _, dir := range []string{corpusDir, samplesDir} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.clp"))
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil && len(b) < 64<<10 {
				f.Add(b)
			}
		}
	}
}

// FuzzOpenArchive: no input may crash the reader, and whatever it accepts
// must be self-consistent (every entry readable with its validated bytes).
func FuzzOpenArchive(f *testing.F) {
	seedArchives(f)
	tmp := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		lim := Limits{MaxTotalSize: 8 << 20, MaxEntrySize: 4 << 20, MaxEntries: 500, TempDir: tmp}
		a, err := OpenReader(bytes.NewReader(data), int64(len(data)), lim)
		if err != nil {
			return
		}
		defer a.Close()
		if a.Manifest() == nil {
			t.Fatal("accepted without a manifest")
		}
		if err := ValidateManifest(a.Manifest(), nil); err != nil {
			t.Fatalf("accepted an invalid manifest: %v", err)
		}
		readEntries(t, a)
	})
}

func seedManifests(f *testing.F) {
	f.Add([]byte(goodMeta))
	f.Add([]byte("[Package]\nName=CLP0250101\nVersion=1\nArchitechture=x86_64\n"))
	b, _ := os.ReadFile(filepath.Join(samplesDir, "example", ManifestName))
	f.Add(b)
}

// FuzzParseXML: no crash; and a parsed, valid manifest survives
// MarshalManifest and parsing again unchanged.
func FuzzParseXML(f *testing.F) {
	seedManifests(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseXML(data)
		if err != nil || ValidateManifest(m, nil) != nil {
			return
		}
		out, err := MarshalManifest(m)
		if err != nil {
			t.Fatalf("marshal a valid manifest: %v", err)
		}
		back, err := ParseXML(out)
		if err != nil {
			t.Fatalf("reparse: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(back, m) {
			t.Fatalf("round trip changed the manifest\n%+v\n%+v", m, back)
		}
	})
}

// FuzzParseINI: no crash; a valid INI manifest says the same in XML.
func FuzzParseINI(f *testing.F) {
	seedManifests(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseINI(data)
		if err != nil || ValidateManifest(m, nil) != nil {
			return
		}
		out, err := MarshalManifest(m)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseXML(out)
		if err != nil || !reflect.DeepEqual(back, m) {
			t.Fatalf("INI manifest does not survive XML: %v\n%+v\n%+v", err, m, back)
		}
	})
}
