package pacman

// Package is what clp needs to know of one package. alpm copies it out of
// libalpm (no cgo pointer escapes); it is declared here, in pure Go, so that
// the packages that query through a small interface link no cgo.
type Package struct {
	Name     string
	Version  string
	Arch     string
	Base     string
	Explicit bool
	Depends  []string
	Provides []string
	// Repo is the sync database it came from ("" for the local db).
	Repo string
}

// Reason is "explicit" or "dependency", as pacman -Qi says.
func (p Package) Reason() string {
	if p.Explicit {
		return "explicit"
	}
	return "dependency"
}
