package hooks

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vincentos/clp/cache"
)

func TestGuard(t *testing.T) {
	pins := []Pin{
		{Name: "nvidia-utils", Version: "550.78-1", Until: "560.35.03-2", Patch: "nvidia-blackscreen"},
		{Name: "linux", Version: "6.9.1-1"},
		{Name: "mesa"}, // held at whatever is installed
	}
	world := map[string]Versions{
		"nvidia-utils": {Installed: "550.78-1", Sync: "560.35.03-1"},
		"linux":        {Installed: "6.9.1-1", Sync: "6.9.1-1"},
		"mesa":         {Installed: "24.1-1", Sync: "24.2-1"},
		"vim":          {Installed: "9.1-1", Sync: "9.2-1"},
	}
	lookup := func(n string) (Versions, error) { return world[n], nil }
	cases := []struct {
		name    string
		targets []string
		world   map[string]Versions
		allow   *Allow
		refused []string
	}{
		{"no pinned target", []string{"vim"}, nil, nil, nil},
		{"upgrade past the pin", []string{"vim", "nvidia-utils"}, nil, nil, []string{"nvidia-utils"}},
		{"reinstall at the pinned version", []string{"linux"}, nil, nil, nil},
		{"pin on installed version", []string{"mesa"}, nil, nil, []string{"mesa"}},
		{"listed twice", []string{"mesa", "mesa"}, nil, nil, []string{"mesa"}},
		{"clp's own call", []string{"nvidia-utils", "mesa"}, nil, &Allow{Names: []string{"nvidia-utils"}}, []string{"mesa"}},
		{"pin lifted by the fixed version", []string{"nvidia-utils"}, map[string]Versions{"nvidia-utils": {Installed: "550.78-1", Sync: "560.35.03-2"}}, nil, nil},
		{"not in any repository (pacman -U)", []string{"nvidia-utils"}, map[string]Versions{"nvidia-utils": {Installed: "550.78-1"}}, nil, []string{"nvidia-utils"}},
		{"downgrade below the pin", []string{"linux"}, map[string]Versions{"linux": {Installed: "6.9.1-1", Sync: "6.8-1"}}, nil, []string{"linux"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := lookup
			if c.world != nil {
				l = func(n string) (Versions, error) { return c.world[n], nil }
			}
			got, err := Guard(c.targets, pins, c.allow, l, cache.VerCmp)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, r := range got {
				names = append(names, r.Pin.Name)
			}
			if strings.Join(names, ",") != strings.Join(c.refused, ",") {
				t.Fatalf("refused %v, want %v", names, c.refused)
			}
		})
	}
}

// With no pins the guard must not look anything up: that is what keeps it
// free on a system that pins nothing.
func TestGuardNoPinsLooksNothingUp(t *testing.T) {
	got, err := Guard([]string{"a", "b"}, nil, nil, func(string) (Versions, error) {
		t.Fatal("looked up versions with no pins")
		return Versions{}, nil
	}, cache.VerCmp)
	if err != nil || got != nil {
		t.Fatalf("got %v, %v", got, err)
	}
}

func TestGuardLookupError(t *testing.T) {
	_, err := Guard([]string{"a"}, []Pin{{Name: "a"}}, nil, func(string) (Versions, error) {
		return Versions{}, errors.New("db broken")
	}, cache.VerCmp)
	if err == nil || !strings.Contains(err.Error(), "versions of pinned a: db broken") {
		t.Fatalf("err = %v", err)
	}
}

func TestRefusalMessage(t *testing.T) {
	r := Refusal{Pin: Pin{Name: "nvidia-utils", Version: "550.78-1", Until: "560.35.03-2", Patch: "nvidia-blackscreen"}, Held: "550.78-1", Sync: "560.35.03-1"}
	want := "nvidia-utils is pinned at 550.78-1 (until a repository offers 560.35.03-2, set by patch nvidia-blackscreen) and this transaction would replace it (the repositories offer 560.35.03-1); to lift the pin: clp unpin nvidia-utils"
	if got := r.Message(); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	r = Refusal{Pin: Pin{Name: "mesa"}, Held: "24.1-1"}
	want = "mesa is pinned at 24.1-1 (set by 'clp pin') and this transaction would replace it with a package file clp cannot check; to lift the pin: clp unpin mesa"
	if got := r.Message(); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestAllowFile(t *testing.T) {
	dir := t.TempDir()
	if a := LoadAllow("/", dir, time.Now()); a != nil {
		t.Fatalf("no file allowed %v", a)
	}
	remove, err := WriteAllow("/", dir, []string{"b", "a"}, "downgrade", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	a := LoadAllow("/", dir, time.Now())
	if a == nil || strings.Join(a.Names, ",") != "a,b" || a.Why != "downgrade" {
		t.Fatalf("allow = %+v", a)
	}
	if LoadAllow("/", dir, time.Now().Add(2*time.Hour)) != nil {
		t.Fatal("an expired allow file still allows")
	}
	if err := remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, AllowFile)); !os.IsNotExist(err) {
		t.Fatalf("allow file left behind: %v", err)
	}
	if err := remove(); err != nil {
		t.Fatalf("second remove: %v", err)
	}
	os.WriteFile(filepath.Join(dir, AllowFile), []byte("{garbage"), 0o600)
	if LoadAllow("/", dir, time.Now()) != nil {
		t.Fatal("a damaged allow file allows")
	}
}
