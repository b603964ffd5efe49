package pacman

import (
	"context"
	"errors"
	"fmt"
	"github.com/vincentos/clp/internal/child"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Runner runs the pacman binary on one installation. It is the only way clp
// changes installed packages: pacman keeps its own checks (signatures,
// conflicts, file ownership, hooks) and its own log.
type Runner struct {
	Paths *Paths
	// Pacman is the binary to run ("pacman" from PATH when empty).
	Pacman string
	// LockWait bounds how long Run waits for another pacman to finish.
	LockWait time.Duration
	// Waiting is called once when Run starts waiting for db.lck.
	Waiting func(lockfile string)
	// RemoveStale, when set, is asked once whether a db.lck found before
	// running pacman is stale (left by a crash or inherited from a
	// rolled-back snapshot) and, if so, to remove it; it reports whether it
	// did (root is the system root dbpath is under). StaleRemoved is then
	// told.
	RemoveStale  func(root, dbpath string) (bool, error)
	StaleRemoved func(lockfile string)
	Stdin        io.Reader
	Stdout       io.Writer
	Stderr       io.Writer
	// Env, when non-nil, is added to pacman's environment.
	Env []string
	// Children is clp's state directory, where a running pacman is
	// recorded so that a clp killed mid-way leaves it findable
	// (internal/child); "" records nothing (pacman still dies with clp).
	Children string

	// exec runs argv; a field so unit tests can capture it.
	exec func(ctx context.Context, argv []string, r *Runner) error
}

// LockHeldError says pacman's database lock stayed held.
type LockHeldError struct {
	Lockfile string
	Waited   time.Duration
}

func (e *LockHeldError) Error() string {
	return fmt.Sprintf("pacman's database lock %s is held (waited %s): another package manager is running, or one crashed and left it behind", e.Lockfile, e.Waited.Round(time.Second))
}

// PacmanError is pacman exiting non-zero; Code is its exit status.
type PacmanError struct {
	Argv []string
	Code int
}

func (e *PacmanError) Error() string {
	return fmt.Sprintf("pacman exited with status %d", e.Code)
}

// Argv builds pacman's argument vector: the operation and its flags, every
// path of the installation explicitly (so nothing falls back to the host's
// defaults), --noconfirm, then "--" and the targets, so that a target can
// never be read as an option. Run hands pacman these paths as prepared for
// the run (see effective.go): for a root other than "/", a private copy of
// pacman.conf and stand-ins for folders that do not exist.
func (r *Runner) Argv(op []string, targets ...string) []string {
	return r.argv(r.Paths, op, targets)
}

func (r *Runner) argv(p *Paths, op, targets []string) []string {
	bin := r.Pacman
	if bin == "" {
		bin = "pacman"
	}
	argv := append([]string{bin}, op...)
	argv = append(argv,
		"--root", p.Root,
		"--dbpath", p.DBPath,
		"--config", p.Config,
		"--logfile", p.LogFile,
		"--gpgdir", p.GPGDir,
	)
	for _, d := range p.CacheDirs {
		argv = append(argv, "--cachedir", d)
	}
	for _, d := range p.HookDirs {
		argv = append(argv, "--hookdir", d)
	}
	argv = append(argv, "--noconfirm", "--")
	return append(argv, targets...)
}

// Run waits for db.lck to go away (up to LockWait), then runs pacman with
// Argv(op, targets...). A non-zero exit is a *PacmanError carrying the code.
func (r *Runner) Run(ctx context.Context, op []string, targets ...string) error {
	if err := r.waitLock(ctx); err != nil {
		return err
	}
	return r.run(ctx, op, targets, r.Children)
}

// Query runs a pacman operation that only reads (-Q, -Si ...): it does not
// wait for db.lck, which pacman takes only to change the database.
func (r *Runner) Query(ctx context.Context, op []string, targets ...string) error {
	// A query changes nothing: it still dies with clp, but is not
	// recorded (no write to the state for a read).
	return r.run(ctx, op, targets, "")
}

func (r *Runner) run(ctx context.Context, op, targets []string, children string) error {
	pr, err := prepare(r.Paths)
	if err != nil {
		return err
	}
	defer pr.cleanup()
	run := r.exec
	if run == nil {
		run = execPacman
	}
	rr := *r
	rr.Children = children
	return run(ctx, r.argv(pr.paths, op, targets), &rr)
}

func (r *Runner) waitLock(ctx context.Context) error {
	lf := r.Paths.Lockfile()
	if r.RemoveStale != nil {
		if _, err := os.Stat(lf); err == nil {
			removed, err := r.RemoveStale(r.Paths.Root, r.Paths.DBPath)
			if err != nil {
				return err
			}
			if removed && r.StaleRemoved != nil {
				r.StaleRemoved(lf)
			}
		}
	}
	start := time.Now()
	announced := false
	for {
		_, err := os.Stat(lf)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("check pacman's lock %s: %w", lf, err)
		}
		if time.Since(start) >= r.LockWait {
			return &LockHeldError{Lockfile: lf, Waited: time.Since(start)}
		}
		if !announced && r.Waiting != nil {
			r.Waiting(lf)
			announced = true
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func execPacman(ctx context.Context, argv []string, r *Runner) error {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = r.Stdin, r.Stdout, r.Stderr
	if r.Env != nil {
		cmd.Env = append(os.Environ(), r.Env...)
	}
	// pacman and its hooks die with clp, and a clp killed mid-way leaves
	// a record the next one ends them by (internal/child).
	err := child.Run(child.In(r.Paths.Root, r.Children), child.Record{What: "pacman " + strings.Join(argv[1:min(len(argv), 3)], " "), Lock: r.Paths.Lockfile()}, cmd)
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return &PacmanError{Argv: argv, Code: ee.ExitCode()}
	}
	if err != nil {
		return fmt.Errorf("run %s: %w", argv[0], err)
	}
	return nil
}
