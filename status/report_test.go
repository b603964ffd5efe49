package status

import (
	"bytes"
	"testing"
)

// clp status --json writes the installed list itself: byte for byte what
// encoding/json writes, for plain names and for strings it must escape.
func TestWriteJSONAsEncoder(t *testing.T) {
	rep := Report{Version: "0.1", Root: "/r<oot>", Patches: []string{}, Pins: []string{"a & b"}, CacheDirs: []string{"/c"}}
	for _, pkgs := range [][]Package{
		nil,
		{},
		{{"a", "1-1"}},
		{{"glibc", "2.41+r6+gcf88351b685d-1"}, {"lib32-gcc-libs", "1:14.2.1-3"}, {"x<y", "1\"2"}, {"y>z", "2\\3"}, {"u&v", "w"}, {"é\u2028", "\x7f"}, {"ctl\x01", "1"}, {"bad\xff", "v"}},
	} {
		rep.Packages = Packages{Count: len(pkgs), Installed: pkgs}
		var want, got bytes.Buffer
		if err := encode(&want, rep); err != nil {
			t.Fatal(err)
		}
		if err := rep.WriteJSON(&got); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Fatalf("WriteJSON:\n%s\nencoding/json:\n%s", got.String(), want.String())
		}
	}
}
