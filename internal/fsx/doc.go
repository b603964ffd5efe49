// Package fsx holds the file-system helpers every part of clp shares: durable
// (crash-safe) writes, directory fsync and hashing. It owns no policy: callers
// decide what to write and where; fsx only makes sure a write is all-or-nothing
// once it returns.
package fsx
