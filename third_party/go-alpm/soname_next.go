//go:build next

// soname_next.go - The default libalpm of the next build.
//
// Copyright (c) 2026 The clp authors
//
// MIT Licensed. See LICENSE for details.

package alpm

// Without GO_ALPM_SOMAJOR from the build, load.c takes libalpm 16 (pacman
// 7.1) for -tags next.

// #cgo CFLAGS: -DGO_ALPM_NEXT
import "C"
