// Package patch owns the .clp patch: its format, its checking, its signing
// and its application.
//
//   - The format: reading .clp archives (tar.gz and zip, told apart by their
//     magic bytes) and PKGINFO.meta in all its forms (XML format 1, the
//     original tool's XML and INI), and writing them (Build,
//     MarshalManifest). docs/clp-format.md is the reference.
//   - Validation: everything a patch says is checked before any of it is
//     used (entry names and types, duplicates, size and ratio caps, every
//     payload's sha256, targets against clp.conf's allowed paths), and each
//     refusal is a *FormatError naming the entry at fault.
//   - Trust: minisign keys and signatures (GenerateKey, WriteKeyPair,
//     SignFile, SignChecked, VerifyFile, OpenVerified, and CheckSignature,
//     which reports and never fails), compatible with the minisign tool
//     both ways.
//   - Inspection: Describe, and UnifiedDiff for its dry run, which read and
//     never write; CheckBuild, what clp build checks of a patch folder.
//   - Views: what the CLI prints, worded as strings and plain structs
//     (Applied.View, ListRow and UndoText, Event.Line, JournalReport.Text,
//     FileDescription.Lines, PackageDescription.Lines).
//   - The apply engine (Engine): plan, journal, stage, commit, run the
//     scripts, roll back and recover after a crash, so that a patch either
//     completes or leaves the system exactly as it was; and the adoption
//     of the original clpctl's patches (Migrate, AdoptLegacy).
//
// What it must not do: print to the terminal or exit (it returns errors,
// and reports progress through internal/report; the CLI in cmd/clp words
// them for people); run pacman or open libalpm itself (package actions go
// through the PackageActor and PackageQuery interfaces the caller backs:
// pkgtx's Actor, given as Engine.Packages, and a libalpm query); parse a byte of a patch from outside before its
// signature has been checked (OpenVerified); decide where a file lands
// from anything but the signed PKGINFO.meta; or touch any path outside the
// root and state directory it was given.
package patch
