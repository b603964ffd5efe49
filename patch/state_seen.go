package patch

import (
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// A rollback reads every target twice under the same lock: checkRollback
// (before the commit point: is anything the user's?) and finishRollback
// (after it, file by file). The second read hashes the same 20 MB again
// for a 1,000-file patch; so does an apply, in Plan (before the prompt,
// without the lock) and in verifyPlan (under it). seenFiles keeps what the first read found with
// the inode it read (device, inode number, size, modification and change
// times, mode, owner); the second looks at the inode again (one fstatat,
// anchored as statFileIn is) and takes the first answer only when all of
// that is unchanged. Any write, truncate, chmod, chown, xattr change or
// rename over the name changes one of them: the change time (ctime) cannot
// be set from user space. The one blind spot of timestamps, a second
// write within the same clock tick as a write before the first read, is
// closed the way git closes it ("racy clean"): a file whose change time is
// within racyMargin of the moment it was read (2 s on a file system that
// keeps whole seconds) is read again, never taken from the first answer.
// Recovery has no first read and reads everything (nil seenFiles).
type seenFiles map[string]seenFile

type seenFile struct {
	st FileState
	id fileID
}

// fileID is what the second look compares.
type fileID struct {
	dev, ino     uint64
	size         int64
	mtime, ctime unix.Timespec
	mode         uint32
	uid, gid     uint32
}

func idOf(st *unix.Stat_t) fileID {
	return fileID{dev: st.Dev, ino: st.Ino, size: st.Size, mtime: st.Mtim, ctime: st.Ctim, mode: st.Mode, uid: st.Uid, gid: st.Gid}
}

// racyMargin is how close to the moment of reading a change time must be
// for the answer not to be reused: a few ticks of the coarse clock the
// kernel stamps files with (4 ms at HZ=250), at least 20 ms.
var racyMargin = sync.OnceValue(func() time.Duration {
	m := 20 * time.Millisecond
	var res unix.Timespec
	if unix.ClockGetres(unix.CLOCK_REALTIME_COARSE, &res) == nil {
		m = max(m, 4*time.Duration(res.Nano()))
	}
	return m
})

// racy says whether a file with id, read at readAt, must be read again
// rather than trusted by its timestamps.
func racy(id fileID, readAt time.Time) bool {
	margin := racyMargin()
	if id.ctime.Nsec == 0 && id.mtime.Nsec == 0 {
		margin = 2 * time.Second // whole seconds (or FAT's two)
	}
	return id.ctime.Nano() >= readAt.Add(-margin).UnixNano()
}

// statFileSeen is statFileIn(r, name), remembered in seen when the answer
// may be reused (seen may be nil).
func statFileSeen(r *os.Root, name string, seen seenFiles) (FileState, error) {
	if seen == nil {
		return statFileIn(r, name)
	}
	readAt := time.Now()
	st, id, err := statFileID(r, name)
	if err == nil && st.Exists && !racy(id, readAt) {
		seen[name] = seenFile{st: st, id: id}
	}
	return st, err
}

// statFileAgain is the state of name inside r: the answer kept in seen
// when the inode is unchanged since, else read anew (statFileIn).
func statFileAgain(r *os.Root, name string, seen seenFiles) (FileState, error) {
	if s, ok := seen[name]; ok {
		if d, base, err := parentIn(r, name); err == nil {
			var st unix.Stat_t
			err = unix.Fstatat(d, base, &st, unix.AT_SYMLINK_NOFOLLOW)
			unix.Close(d)
			if err == nil && idOf(&st) == s.id {
				return s.st, nil
			}
		}
	}
	return statFileIn(r, name)
}

// seenResult is what statFilesSeen found for one name.
type seenResult struct {
	st  FileState
	err error
}

// statFilesSeen is statFileSeen for every name in names, read by up to
// GOMAXPROCS goroutines at once (at most 4), the results in the order of
// names. Reading is all it does: hashing 20 MB of targets is most of a
// 1,000-file rollback's check, and it is CPU work that a second core
// halves. What may be reused is added to seen afterwards, in order, by
// this goroutine (seen may be nil).
func statFilesSeen(r *os.Root, names []string, seen seenFiles) []seenResult {
	out := make([]seenResult, len(names))
	ids := make([]fileID, len(names))
	at := make([]time.Time, len(names))
	workers := min(runtime.GOMAXPROCS(0), 4, len(names))
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(names) {
					return
				}
				at[i] = time.Now()
				out[i].st, ids[i], out[i].err = statFileID(r, names[i])
			}
		}()
	}
	wg.Wait()
	if seen != nil {
		for i, name := range names {
			if out[i].err == nil && out[i].st.Exists && !racy(ids[i], at[i]) {
				seen[name] = seenFile{st: out[i].st, id: ids[i]}
			}
		}
	}
	return out
}
