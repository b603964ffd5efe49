package pacman

// PrepareForTest is prepare (the copy of a root's pacman.conf handed to
// pacman), for the external tests; it returns the cleanup.
func PrepareForTest(p *Paths) (func(), error) {
	pr, err := prepare(p)
	if pr == nil {
		return func() {}, err
	}
	return pr.cleanup, err
}
