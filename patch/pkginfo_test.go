package patch

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseLegacyForms(t *testing.T) {
	cases := []struct {
		name, in string
		want     Manifest
	}{
		{"ini", "[Package]\nName=CLPR250101\nVersion=1\nArchitecture=x86_64\nDescription=Fix\n",
			Manifest{Name: "CLPR250101", Version: "1", Architecture: "x86_64", Description: "Fix"}},
		{"ini-misspelt-crlf-bom-comments", "\xef\xbb\xbf; original\r\n[package]\r\nname = CLP1251124\r\nVERSION=2\r\nArchitechture=x86_64\r\n# c\r\nDescription=\"install missing pacman keys\"\r\n",
			Manifest{Name: "CLP1251124", Version: "2", Architecture: "x86_64", Description: "install missing pacman keys"}},
		{"xml-format0", "<Package><Name>CLP1251124</Name><Version>1</Version><Architechture>x86_64</Architechture><Description> d </Description></Package>",
			Manifest{Name: "CLP1251124", Version: "1", Architecture: "x86_64", Description: "d"}},
		{"xml-format0-explicit", `<?xml version="1.0"?><!-- c --><Package format="0"><Name>a</Name><Version>1</Version></Package>` + "\n\n",
			Manifest{Name: "a", Version: "1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := ParseManifest([]byte(c.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*m, c.want) {
				t.Errorf("got %+v\nwant %+v", *m, c.want)
			}
			if err := ValidateManifest(m, nil); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestParseRefusals(t *testing.T) {
	for in, want := range map[string]string{
		"[Package]\nName=a\nName=b\n":                         "Name given twice",
		"[Package]\n[Package]\n":                              "second [Package] section",
		"[Other]\n":                                           "unknown section [Other]",
		"[Package]\nnovalue\n":                                "expected Key=Value",
		"<Package><Name>a<b/></Name></Package>":               "<Name> holds only text, found <b>",
		"<Package><Name x=\"1\">a</Name></Package>":           "<Name> takes no attributes",
		"<Package format=\"1\"><Files>text</Files></Package>": "<Files> holds elements, not text",
		"<Package format=\"1\"><Files><Add target=\"/etc/a\">x</Add></Files></Package>": "<Add> must be empty",
		"<Package format=\"1\"><Scripts><Install></Install></Scripts></Package>":        "<Install> is empty",
		"<?xml-stylesheet href=\"x\"?><Package/>":                                       "unexpected processing instruction",
		"<Other/>": "root element is <Other>, want <Package>",
		"<a><a><a><a><a><a><a><a><a></a></a></a></a></a></a></a></a></a>":                      "nested deeper than 8",
		"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><Package/>":                            "malformed xml",
		"<Package format=\"1\"><Packages><Pin name=\"a\" version=\"1\"/></Packages></Package>": `unknown attribute "version"`,
	} {
		_, err := ParseManifest([]byte(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v; want %q", in, err, want)
		}
	}
}
