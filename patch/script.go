package patch

// Scripts. A patch's install and remove scripts run:
//   - with OptDir/<name>/ (the unpacked patch) as working directory, as the
//     original clpctl did;
//   - through the interpreter the file names: a "#!" first line is honoured
//     (interpreter plus at most one argument, as the kernel does), a .ps1
//     without one runs as "pwsh -NoProfile -NonInteractive -File SCRIPT",
//     anything else as "/bin/sh SCRIPT";
//   - with a clean environment: PATH, LANG=C, CLP_PATCH_NAME, CLP_PATCH_DIR,
//     CLP_ROOT and nothing else;
//   - in their own process group, killed as a group when the time limit
//     (clp.conf ScriptTimeout) passes or the caller's context is cancelled;
//   - with stdout and stderr appended to LogPath after a header line, and
//     passed line by line to the Reporter.
//
// Root. When Root is "/" a script runs as is. When Root is another
// directory, the script runs chrooted into Root (so /opt/CLP/<name>, /etc
// and the interpreter are the root's own) if clp runs as root and Root has
// /bin/sh; CLP_ROOT is then "/" and CLP_PATCH_DIR /opt/CLP/<name>. Otherwise
// (not root, or a bare root with no shell) it runs on the host with its
// working directory under Root and CLP_ROOT set to Root: such a script must
// prefix the paths it changes with $CLP_ROOT. Scripts written for clpctl
// (which only knew "/") are safe only in the first two cases.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/vincentos/clp/internal/child"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

const scriptPATH = "/usr/local/sbin:/usr/local/bin:/usr/bin:/usr/sbin:/bin:/sbin"

// scriptCommand is one script run, fully decided: what runCommand executes.
type scriptCommand struct {
	// Argv[0] is the program as seen inside Chroot (or on the host).
	Argv []string
	// Dir is the working directory as the script sees it.
	Dir string
	// DirFile, when set, is Dir opened inside the root (anchor.go): the
	// script starts in that very folder (through /proc/self/fd), so a
	// link swapped in on Dir's path cannot move it out of the root.
	DirFile *os.File
	Env     []string
	// Chroot is the directory to chroot into ("" for none).
	Chroot  string
	Timeout time.Duration
	// Output receives stdout and stderr, interleaved.
	Output io.Writer
	// Children is the state directory where the running script is
	// recorded (internal/child), so a clp killed mid-script leaves it
	// findable by the next one.
	Children child.Dir
}

// errScriptTimeout is wrapped by runCommand's error when the time limit
// killed the script.
var errScriptTimeout = errors.New("time limit reached")

// runCommand runs a script command. It is a variable so that a unit test can
// check the exact argv, directory and environment of a .ps1 run (pwsh is
// not installed on the test machines); the real tests run real shell
// scripts through it.
var runCommand = execCommand

func execCommand(ctx context.Context, c *scriptCommand) error {
	path, err := lookInPath(c.Argv[0], c.Chroot)
	if err != nil {
		return err
	}
	tctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	cmd := exec.CommandContext(tctx, path)
	cmd.Args = c.Argv
	cmd.Dir = c.Dir
	if c.DirFile != nil {
		// The child changes into it after fork, where the descriptor is
		// still open (it closes on exec).
		cmd.Dir = fmt.Sprintf("/proc/self/fd/%d", c.DirFile.Fd())
	}
	cmd.Env = c.Env
	cmd.Stdout = c.Output
	cmd.Stderr = c.Output
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: c.Chroot}
	// A daemon the script left behind could hold the output pipe open
	// forever; stop waiting for it shortly after the script ended.
	cmd.WaitDelay = 2 * time.Second
	// Its own process group, killed whole on cancel and when it ends (a
	// script's children, a sleep or a pacman, must not outlive it), and
	// killed with clp (internal/child).
	err = child.Run(c.Children, child.Record{What: "script " + c.Argv[len(c.Argv)-1]}, cmd)
	if err != nil && tctx.Err() != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted: %w", ctx.Err())
		}
		return fmt.Errorf("%w: did not finish within %s and was killed", errScriptTimeout, c.Timeout)
	}
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf("exited with status %d", ee.ExitCode())
		}
	}
	return err
}

// lookInPath finds a program without a slash in scriptPATH, inside chroot
// when there is one, and returns it as the child will see it.
func lookInPath(prog, chroot string) (string, error) {
	if strings.Contains(prog, "/") {
		return prog, nil
	}
	stat := os.Stat
	if chroot != "" {
		// Looked up inside the chroot as the kernel will.
		r, err := os.OpenRoot(chroot)
		if err != nil {
			return "", err
		}
		defer r.Close()
		stat = func(p string) (os.FileInfo, error) { return r.Stat(tname(p)) }
	}
	for _, d := range filepath.SplitList(scriptPATH) {
		p := filepath.Join(d, prog)
		fi, err := stat(p)
		if err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	where := "PATH"
	if chroot != "" {
		where = "PATH of " + chroot
	}
	return "", fmt.Errorf("%s is not installed (not found in the %s)", prog, where)
}

// runScript runs the install or remove script (entry) of patch name.
func (e *Engine) runScript(ctx context.Context, name, which, entry string) error {
	hostDir := e.optPatchDir(name)
	hostScript := filepath.Join(hostDir, filepath.FromSlash(entry))
	c, err := e.scriptCommand(name, hostDir, hostScript)
	if err != nil {
		return fmt.Errorf("%s script %s of %s: %w", which, entry, name, err)
	}
	if c.Chroot == "" && filepath.Clean(e.Root) != "/" {
		// On the host, the folder is opened inside the root and the
		// script named from it (a chroot is anchored by the kernel).
		d, err := e.openDirAnchored(hostDir)
		if err != nil {
			return fmt.Errorf("%s script %s of %s: %w", which, entry, name, err)
		}
		defer d.Close()
		c.DirFile = d
		c.Argv[len(c.Argv)-1] = "./" + filepath.ToSlash(filepath.Clean(filepath.FromSlash(entry)))
	}
	log, err := e.openLog()
	if err != nil {
		return err
	}
	defer log.Close()
	fmt.Fprintf(log, "==> %s clp: %s script %s of %s: %s\n", e.now().Format(time.RFC3339), which, entry, name, strings.Join(c.Argv, " "))
	lw := &lineReporter{prefix: entry + ": ", report: e.rep().Step}
	c.Output = &lockedWriter{w: io.MultiWriter(log, lw)}
	e.rep().Step(fmt.Sprintf("running %s script %s", which, entry))
	err = runCommand(ctx, c)
	lw.flush()
	if err != nil {
		fmt.Fprintf(log, "==> %s clp: %s script %s of %s failed: %v\n", e.now().Format(time.RFC3339), which, entry, name, err)
		return fmt.Errorf("%s script %s of %s %w (output in %s)", which, entry, name, err, e.LogPath)
	}
	fmt.Fprintf(log, "==> %s clp: %s script %s of %s succeeded\n", e.now().Format(time.RFC3339), which, entry, name)
	return nil
}

// openLog opens the script log for appending, anchored to the root
// (anchor.go): a symlink at <root>/var/log/CLP.log or <root>/var/log
// cannot make script output land outside the root.
func (e *Engine) openLog() (*os.File, error) {
	f, r, err := e.openAppendAnchored(e.LogPath, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open log: %w", err)
	}
	r.Close()
	return f, nil
}

// useChroot says whether scripts run chrooted into Root (see the top of
// this file).
func (e *Engine) useChroot() bool {
	if filepath.Clean(e.Root) == "/" || os.Geteuid() != 0 {
		return false
	}
	if e.sysPath(e.OptDir) == "" {
		return false
	}
	r, err := e.openRoot()
	if err != nil {
		return false
	}
	defer closeRoot(r)
	fi, err := r.Stat("bin/sh")
	return err == nil && !fi.IsDir()
}

// scriptCommand decides argv, directory and environment for a script.
func (e *Engine) scriptCommand(name, hostDir, hostScript string) (*scriptCommand, error) {
	head, err := e.readHead(hostScript)
	if err != nil {
		return nil, err
	}
	c := &scriptCommand{Children: e.children()}
	dir, script, root := hostDir, hostScript, filepath.Clean(e.Root)
	if e.useChroot() {
		c.Chroot = root
		dir, script, root = e.sysPath(hostDir), e.sysPath(hostScript), "/"
	}
	c.Dir = dir
	switch {
	case bytes.HasPrefix(head, []byte("#!")):
		line := strings.TrimSpace(string(head[2:]))
		interp, arg, _ := strings.Cut(line, " ")
		arg = strings.TrimSpace(arg)
		if interp == "" {
			return nil, fmt.Errorf("empty #! line")
		}
		c.Argv = []string{interp}
		if arg != "" {
			c.Argv = append(c.Argv, arg)
		}
		c.Argv = append(c.Argv, script)
	case strings.EqualFold(filepath.Ext(hostScript), ".ps1"):
		c.Argv = []string{"pwsh", "-NoProfile", "-NonInteractive", "-File", script}
	default:
		c.Argv = []string{"/bin/sh", script}
	}
	c.Env = []string{
		"PATH=" + scriptPATH,
		"LANG=C",
		"CLP_PATCH_NAME=" + name,
		"CLP_PATCH_DIR=" + dir,
		"CLP_ROOT=" + root,
	}
	c.Timeout = time.Duration(e.cfg().ScriptTimeoutSec) * time.Second
	if c.Timeout <= 0 {
		c.Timeout = 300 * time.Second
	}
	return c, nil
}

// readHead returns the first line of a script (up to 256 bytes), read
// inside the root.
func (e *Engine) readHead(path string) ([]byte, error) {
	f, err := e.openAnchored(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, 256)
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	buf = buf[:n]
	buf = bytes.TrimPrefix(buf, []byte("\xef\xbb\xbf")) // a BOM, common in .ps1
	if i := bytes.IndexAny(buf, "\r\n"); i >= 0 {
		buf = buf[:i]
	}
	return buf, nil
}

// lineReporter passes complete output lines to the Reporter.
type lineReporter struct {
	prefix string
	report func(string)
	buf    []byte
}

func (l *lineReporter) Write(p []byte) (int, error) {
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		l.report(l.prefix + strings.TrimRight(string(l.buf[:i]), "\r"))
		l.buf = l.buf[i+1:]
	}
	if len(l.buf) > 64<<10 { // a very long line: pass it on in pieces
		l.flush()
	}
	return len(p), nil
}

func (l *lineReporter) flush() {
	if len(l.buf) > 0 {
		l.report(l.prefix + string(l.buf))
		l.buf = nil
	}
}

// lockedWriter serialises writes (os/exec may copy stdout and stderr from
// two goroutines when they are different pipes).
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
