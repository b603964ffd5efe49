//go:build !linux

package cache

import "strings"

// readNamesWithPrefix lists the entry names in dir that start with one of
// prefixes (the portable version; Linux reads getdents64 directly).
func readNamesWithPrefix(root, dir string, prefixes []string) ([]string, error) {
	all, err := readNames(root, dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, n := range all {
		for _, p := range prefixes {
			if strings.HasPrefix(n, p) {
				names = append(names, n)
				break
			}
		}
	}
	return names, nil
}
