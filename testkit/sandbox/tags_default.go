//go:build !next

package sandbox

const goTags = ""
