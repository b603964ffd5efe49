package update

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vincentos/clp/feed"
	"github.com/vincentos/clp/internal/config"
	"github.com/vincentos/clp/system"
)

// machineIDs returns n distinct ids shaped like /etc/machine-id (32 hex
// digits), derived from their index so the test is the same on every run.
func machineIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		sum := sha256.Sum256([]byte(fmt.Sprintf("machine %d", i)))
		ids[i] = hex.EncodeToString(sum[:16])
	}
	return ids
}

// 10,000 machines against a patch at 10%, 50% and 100%: the share in
// phase is within one percentage point of the target.
func TestBucketShares(t *testing.T) {
	ids := machineIDs(10000)
	for _, pct := range []int{0, 10, 50, 100} {
		in := 0
		for _, id := range ids {
			if b := Bucket(id, "CLP1251201"); b < 0 || b >= Buckets {
				t.Fatalf("bucket %d out of range", b)
			} else if b < pct {
				in++
			}
		}
		share := float64(in) / float64(len(ids)) * 100
		t.Logf("at %d%%: %.2f%% of 10000 machines in phase", pct, share)
		if math.Abs(share-float64(pct)) > 1 {
			t.Errorf("at %d%%: %.2f%% of machines in phase", pct, share)
		}
	}
}

// The same machine always gets the same answer; another patch name gives
// an independent bucket: being early for one patch says nothing about the
// next.
func TestBucketStableAndIndependent(t *testing.T) {
	ids := machineIDs(10000)
	same, both, firstIn := 0, 0, 0
	for _, id := range ids {
		a := Bucket(id, "CLP1251201")
		if Bucket(id, "CLP1251201") != a || Bucket(strings.Clone(id), "CLP1251201") != a {
			t.Fatalf("machine %s: bucket changed between calls", id)
		}
		b := Bucket(id, "CLP1251202")
		if a == b {
			same++
		}
		if a < 10 {
			firstIn++
			if b < 10 {
				both++
			}
		}
	}
	// Independent buckets coincide for 1 machine in 100, not for all.
	if math.Abs(float64(same)/100-1) > 0.5 {
		t.Errorf("%d of 10000 machines share a bucket across two patches, want about 100", same)
	}
	// Of the machines in the first 10% of one patch, about 10% (not all)
	// are in the first 10% of the other.
	if share := float64(both) / float64(firstIn) * 100; math.Abs(share-10) > 3 {
		t.Errorf("%.1f%% of the first phase of one patch is in the first phase of the other, want about 10%%", share)
	}
	// The bucket does not depend on the id alone.
	if Bucket(ids[0], "a") == Bucket(ids[0], "b") && Bucket(ids[1], "a") == Bucket(ids[1], "b") && Bucket(ids[2], "a") == Bucket(ids[2], "b") {
		t.Error("the patch name does not change the bucket")
	}
}

// inPhase follows the bucket, or clp.conf's PhasedUpdates, and a machine
// without a machine id waits for 100%.
func TestInPhase(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	id := machineIDs(1)[0]
	if err := os.WriteFile(filepath.Join(root, "etc", "machine-id"), []byte(id+"\n"), 0o444); err != nil {
		t.Fatal(err)
	}
	sys := &system.System{Root: root}
	got, err := readMachineID(sys)
	if err != nil || got != id {
		t.Fatalf("readMachineID = %q, %v", got, err)
	}
	b := Bucket(id, "P")
	target := func(pct int) feed.Target {
		return feed.Target{TargetMeta: feed.TargetMeta{Name: "P", Phase: &pct}}
	}
	for _, c := range []struct {
		mode, id string
		pct      int
		want     bool
		why      string
	}{
		{"follow", id, b + 1, true, ""},
		{"follow", id, b, false, fmt.Sprintf("rollout at %d%%; this machine joins above %d%%", b, b)},
		{"follow", id, 100, true, ""},
		{"follow", id, 0, false, "rollout halted at 0%"},
		{"follow", "", 99, false, "rollout at 99%; no /etc/machine-id, so this machine waits for 100%"},
		{"follow", "", 100, true, ""},
		{"always", id, 1, true, ""},
		{"always", id, 0, false, "rollout halted at 0%"},
		{"never", id, 99, false, "rollout at 99%; PhasedUpdates = never waits for 100%"},
		{"never", id, 100, true, ""},
	} {
		cfg := config.Default()
		cfg.PhasedUpdates = c.mode
		u := &Updater{Config: cfg, machineID: c.id}
		pct := c.pct
		if pct > 100 {
			pct = 100
		}
		in, why := u.inPhase(target(pct))
		if in != c.want || why != c.why {
			t.Errorf("%s, id %q, %d%%: got %v %q, want %v %q", c.mode, c.id, pct, in, why, c.want, c.why)
		}
	}
	// A feed from before phasing (no phase) reaches everyone.
	u := &Updater{Config: config.Default()}
	if in, _ := u.inPhase(feed.Target{TargetMeta: feed.TargetMeta{Name: "P"}}); !in {
		t.Error("a target without a phase is not applied")
	}
}
