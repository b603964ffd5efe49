// load.go - Loads libalpm at the first call, not at program start.
//
// Copyright (c) 2026 The clp authors
//
// MIT Licensed. See LICENSE for details.

package alpm

// #cgo LDFLAGS: -ldl
// #include "load.h"
import "C"

// The trampolines, one per libalpm function this package calls, are
// generated from the header of each build (see gen_trampolines.go):
//go:generate go run gen_trampolines.go -tag six -o trampolines_six.c
//go:generate sh -c "go run gen_trampolines.go -tag next -I ${PACMAN71:-/opt/clp-pacman-7.1}/include -o trampolines_next.c"

// LoadError says why libalpm could not be loaded.
type LoadError struct {
	Soname string // the file asked for, libalpm.so.N
	Reason string // the dynamic loader's message
}

func (e *LoadError) Error() string { return "cannot load " + e.Soname + ": " + e.Reason }

// Load loads libalpm now, if it is not loaded yet. Every function of this
// package loads it on its first call anyway, and ends the process with a
// message when it cannot (no error can be returned from there): a program
// calls Load first to get that as an error instead.
func Load() error {
	var why *C.char
	if C.go_alpm_load(&why) != 0 {
		return &LoadError{Soname: Soname(), Reason: C.GoString(why)}
	}
	return nil
}

// Path is where the dynamic loader found libalpm, loading it first; ""
// when it cannot be loaded or the loader cannot say.
func Path() string {
	p := C.go_alpm_path()
	if p == nil {
		return ""
	}
	return C.GoString(p)
}

// Soname is the libalpm this package loads, libalpm.so.N: the one the
// linker saw at build time (load.c says how it is chosen).
func Soname() string { return C.GoString(C.go_alpm_soname()) }
