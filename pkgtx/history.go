package pkgtx

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"github.com/vincentos/clp/internal/fsx"
	"io/fs"
	"math"
)

// History reads pacman's log and returns, for each of names, every version
// that was ever installed ("[ALPM] installed|reinstalled NAME (V)",
// "[ALPM] upgraded|downgraded NAME (A -> B)": both A and B). A missing log
// is an empty history: a fresh system has none.
//
// root is the system root the log is under: it is opened anchored to it.
func History(root, logPath string, names ...string) (map[string]map[string]bool, error) {
	out := map[string]map[string]bool{}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
		out[n] = map[string]bool{}
	}
	// pacman.log grows for years: no size cap, but a regular file only
	// (a FIFO would hang, /dev/zero would never end); lines are capped.
	f, err := fsx.OpenRegularUnder(root, logPath, math.MaxInt64)
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read pacman log: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	marker := []byte("] [ALPM] ")
	for sc.Scan() {
		line := sc.Bytes()
		i := bytes.Index(line, marker)
		if i < 0 {
			continue
		}
		rest := line[i+len(marker):]
		verb, rest, ok := bytes.Cut(rest, []byte(" "))
		if !ok {
			continue
		}
		switch string(verb) {
		case "installed", "reinstalled", "upgraded", "downgraded":
		default:
			continue
		}
		name, rest, ok := bytes.Cut(rest, []byte(" ("))
		if !ok || !want[string(name)] || !bytes.HasSuffix(rest, []byte(")")) {
			continue
		}
		vers := rest[:len(rest)-1]
		for _, v := range bytes.Split(vers, []byte(" -> ")) {
			if v = bytes.TrimSpace(v); len(v) > 0 {
				out[string(name)][string(v)] = true
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read pacman log %s: %w", logPath, err)
	}
	return out, nil
}
