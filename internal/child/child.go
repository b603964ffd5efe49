// Package child makes sure nothing clp starts (pacman, a patch's scripts,
// and whatever they start in turn) outlives clp unnoticed.
//
// A child runs in its own process group with a parent-death signal
// (SIGKILL when clp dies), and carries a marker in its environment that
// its own children inherit. Beside it runs its reaper (reaper.go), which
// ends every process carrying the marker (a pacman hook, a script's
// background job, even one that left the group) as soon as clp dies.
// Before the child starts, the marker is recorded durably in
// <state>/children; when it ends, the record goes. A clp killed mid-way
// leaves the record: the next clp (EndLeftovers, called before any
// recovery) ends whatever still carries the marker (where the reaper was
// killed too), removes the db.lck a dead pacman left, and waits until
// nothing is left, so recovery never runs beside a pacman hook or a script
// that is still writing.
//
// The record is read and written through an os.Root of the system root
// (Dir): a symbolic link swapped in for the state folder or a folder above
// it cannot make clp write, read or remove it outside the root.
//
// It must not decide what to recover: it only ends what was left running.
package child

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vincentos/clp/internal/fsx"
)

// EnvVar is the environment variable that marks a child and its
// descendants.
const EnvVar = "CLP_CHILD"

// FileName is the record file in clp's state directory.
const FileName = "children"

// Record is one running child as recorded.
type Record struct {
	Token string `json:"token"`
	What  string `json:"what"`
	// Lock is a lock file the child holds while it runs (pacman's
	// db.lck): once the child and its group are ended, a Lock no live
	// process has open is theirs, and is removed.
	Lock string `json:"lock,omitempty"`
}

var mu sync.Mutex

// Dir is where the record is kept: clp's state folder Path, resolved
// inside the system root Root (fsx.Anchor; a state folder named outside
// the root with --state-dir is anchored to itself). A zero Path records
// nothing.
type Dir struct {
	Root string
	Path string
}

// In is the Dir for the state folder stateDir of the system at root.
func In(root, stateDir string) Dir { return Dir{Root: root, Path: stateDir} }

func (d Dir) open(create bool) (*os.Root, string, error) {
	return fsx.Anchor(d.Root, d.Path, filepath.Join(d.Path, FileName), create)
}

// Prepare readies cmd to run as a tracked child: its own process group,
// SIGKILL when clp dies, the marker in its environment (which it sets from
// os.Environ when cmd.Env is nil). It keeps the SysProcAttr fields already
// set (a chroot). cmd must come from exec.CommandContext (Prepare sets
// its Cancel to kill the whole group). It returns the marker's token.
func Prepare(cmd *exec.Cmd) string {
	b := make([]byte, 12)
	rand.Read(b)
	token := hex.EncodeToString(b)
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	env := cmd.Env
	if env == nil {
		env = os.Environ()
	}
	cmd.Env = append(env[:len(env):len(env)], EnvVar+"="+token)
	// Ending the child ends its group: a hook's or a script's own
	// children must not be left behind.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	return token
}

// Run runs cmd as a tracked child: Prepare, record it (rec, with its
// token filled in) in stateDir (a zero Dir records nothing), run, then
// drop the record. When it ends, whatever it left in its process group is
// ended too.
func Run(stateDir Dir, rec Record, cmd *exec.Cmd) error {
	token := Prepare(cmd)
	if stateDir.Path != "" {
		rec.Token = token
		if err := add(stateDir, rec); err != nil {
			return err
		}
	}
	// The parent-death signal fires when the thread that started the
	// child ends, not the process: keep this goroutine on its thread for
	// the child's whole life so the Go scheduler cannot retire it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	// The reaper ends the child's own children at once if clp dies
	// (reaper.go); it starts first, so there is no moment when the child
	// runs unwatched.
	stopReaper := startReaper(token)
	err := cmd.Start()
	if err == nil {
		pgid := cmd.Process.Pid
		err = cmd.Wait()
		// The group outlives its leader when a child of it was left
		// behind (a daemon a hook started): end it with the leader.
		syscall.Kill(-pgid, syscall.SIGKILL)
	}
	stopReaper()
	if stateDir.Path != "" {
		if rerr := remove(stateDir, token); err == nil && rerr != nil {
			err = rerr
		}
	}
	return err
}

func load(stateDir Dir) ([]Record, error) {
	r, name, err := stateDir.open(false)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer r.Close()
	data, err := fsx.ReadFileCappedIn(r, name, fsx.SmallFileMax)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Record
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var r Record
		if json.Unmarshal(sc.Bytes(), &r) == nil && validToken(r.Token) {
			out = append(out, r)
		}
	}
	return out, nil
}

func validToken(t string) bool {
	if len(t) != 24 {
		return false
	}
	_, err := hex.DecodeString(t)
	return err == nil
}

func save(stateDir Dir, recs []Record) error {
	r, name, err := stateDir.open(len(recs) > 0)
	if errors.Is(err, fs.ErrNotExist) && len(recs) == 0 {
		return nil
	}
	if err != nil {
		return err
	}
	defer r.Close()
	if len(recs) == 0 {
		err := r.Remove(name)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	var b bytes.Buffer
	for _, rec := range recs {
		line, _ := json.Marshal(rec)
		b.Write(append(line, '\n'))
	}
	if err := r.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", stateDir.Path, err)
	}
	return fsx.WriteFileIn(r, name, b.Bytes(), 0o600)
}

func add(stateDir Dir, r Record) error {
	mu.Lock()
	defer mu.Unlock()
	recs, err := load(stateDir)
	if err != nil {
		return fmt.Errorf("record child process: %w", err)
	}
	if err := save(stateDir, append(recs, r)); err != nil {
		return fmt.Errorf("record child process: %w", err)
	}
	return nil
}

func remove(stateDir Dir, token string) error {
	mu.Lock()
	defer mu.Unlock()
	recs, err := load(stateDir)
	if err != nil {
		return err
	}
	var keep []Record
	for _, r := range recs {
		if r.Token != token {
			keep = append(keep, r)
		}
	}
	return save(stateDir, keep)
}

// Leftovers returns the recorded children of a clp that did not finish
// (empty when there are none).
func Leftovers(stateDir Dir) ([]Record, error) { return load(stateDir) }

// EndLeftovers ends every process still carrying the marker of a child
// recorded in stateDir (and the process group it leads), waits until none
// is left (up to wait), then drops the records. It returns the number of
// processes it ended. Call it with clp's state lock held.
func EndLeftovers(stateDir Dir, wait time.Duration) (int, error) {
	mu.Lock()
	defer mu.Unlock()
	recs, err := load(stateDir)
	if err != nil || len(recs) == 0 {
		return 0, err
	}
	tokens := map[string]bool{}
	for _, r := range recs {
		tokens[r.Token] = true
	}
	ended, left := endMarked(tokens, wait)
	if len(left) > 0 {
		return len(ended), fmt.Errorf("processes left by an interrupted clp are still running after %s: %v", wait, left)
	}
	for _, r := range recs {
		if r.Lock == "" || !filepath.IsAbs(r.Lock) || filepath.Base(r.Lock) != "db.lck" {
			continue
		}
		if err := removeLock(stateDir.Root, r); err != nil {
			return len(ended), err
		}
	}
	return len(ended), save(stateDir, nil)
}

// Marked lists the live processes whose environment carries one of the
// tokens. Zombies (already dead, waiting for their parent) are not listed.
func Marked(tokens map[string]bool) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil {
			continue
		}
		for _, kv := range bytes.Split(env, []byte{0}) {
			v, ok := bytes.CutPrefix(kv, []byte(EnvVar+"="))
			if ok && tokens[string(v)] && !zombie(pid) {
				out = append(out, pid)
				break
			}
		}
	}
	return out
}

func zombie(pid int) bool {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return true
	}
	// pid (comm) state ...: comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 || i+2 >= len(data) {
		return false
	}
	return data[i+2] == 'Z'
}

// HeldOpen says whether a live process has path open (pacman keeps its
// db.lck open while it holds the lock; a db.lck no process has open was
// left by a pacman that died).
func HeldOpen(path string) bool {
	abs, err := filepath.Abs(path)
	if err != nil {
		return true
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return true
	}
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		fdDir := filepath.Join("/proc", e.Name(), "fd")
		fds, err := os.ReadDir(fdDir)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			if l, err := os.Readlink(filepath.Join(fdDir, fd.Name())); err == nil && strings.TrimSuffix(l, " (deleted)") == abs {
				return true
			}
		}
	}
	return false
}

// removeLock removes the db.lck a child left when no live process holds
// it: inside the root when it is under it (pacman's own database), else
// where --dbpath put it (the admin's choice).
func removeLock(root string, r Record) error {
	rt, name, err := fsx.Anchor(root, filepath.Dir(r.Lock), r.Lock, false)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("remove the lock %s left by %s: %w", r.Lock, r.What, err)
	}
	defer rt.Close()
	if _, err := rt.Lstat(name); err == nil && !HeldOpen(r.Lock) {
		if err := rt.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove the lock %s left by %s: %w", r.Lock, r.What, err)
		}
	}
	return nil
}
