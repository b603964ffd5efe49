// Package status is what `clp status` reports of one installation: clp's
// and pacman's versions, the pacman paths, the installed packages, the
// applied patches and pins, the last update and the fleet view, the update
// timer and the boot guard (Report), gathered from the domain packages
// that own each part (FillState), and its JSON (Report.WriteJSON), which
// writes the installed list itself so a 2,000-package --json stays cheap.
//
// It must not: print to a terminal or colour (cmd prints the fields), or
// change anything (recovery, which status runs first, is the engine's and
// happens before).
package status
