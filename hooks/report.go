package hooks

// Report is clp's hook files as 'clp hooks status' shows them.
type Report struct {
	HookDir    string            `json:"hookdir"`
	Files      []FileStatus      `json:"files"`
	PackageDir string            `json:"package_dir"`
	Package    []FileStatus      `json:"package_files"`
	Active     map[string]string `json:"active"` // file name -> path pacman runs ("" none)
}

// ReadReport reads the hook files in the user's hook directory and the
// package's (Active), inside root.
func ReadReport(root, hookDir, packageDir string) (*Report, error) {
	r := &Report{HookDir: hookDir, PackageDir: packageDir}
	var err error
	if r.Files, r.Package, r.Active, err = Active(root, hookDir, packageDir); err != nil {
		return nil, err
	}
	return r, nil
}

// Rows are the rows of 'clp hooks status': each hook file's name, its
// state in the hook directory and in the package's, and what pacman runs
// ("none" for nothing).
func (r *Report) Rows() [][]string {
	var out [][]string
	for i, f := range r.Files {
		runs := r.Active[f.Name]
		if runs == "" {
			runs = "none"
		}
		out = append(out, []string{f.Name, f.State, r.Package[i].State, runs})
	}
	return out
}
