// Command benchcmp times two or more commands side by side, interleaved run
// by run so that a noisy machine slows them alike, and prints each median
// and the ratio of every command to the first (the baseline):
//
//	benchcmp -n 30 "@pacman -Qq" pacman -Qq ... ::: "@clp status" clp status ...
//
// Used by make bench; it measures, it never asserts.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"time"
)

type target struct {
	name  string
	argv  []string
	times []time.Duration
}

func main() {
	n := flag.Int("n", 20, "runs of each command")
	warm := flag.Int("warmup", 2, "untimed runs of each command first")
	flag.Parse()
	var targets []*target
	cur := &target{}
	args := flag.Args()
	for _, a := range args {
		switch {
		case a == ":::":
			targets = append(targets, cur)
			cur = &target{}
		case strings.HasPrefix(a, "@") && len(cur.argv) == 0:
			cur.name = a[1:]
		default:
			cur.argv = append(cur.argv, a)
		}
	}
	targets = append(targets, cur)
	if len(targets) < 2 {
		fmt.Fprintln(os.Stderr, "benchcmp: need two commands separated by :::")
		os.Exit(2)
	}
	for _, t := range targets {
		if t.name == "" {
			t.name = strings.Join(t.argv, " ")
		}
		for i := 0; i < *warm; i++ {
			if err := runOnce(t.argv); err != nil {
				fmt.Fprintf(os.Stderr, "benchcmp: %s: %v\n", t.name, err)
				os.Exit(1)
			}
		}
	}
	for i := 0; i < *n; i++ {
		for _, t := range targets {
			start := time.Now()
			if err := runOnce(t.argv); err != nil {
				fmt.Fprintf(os.Stderr, "benchcmp: %s: %v\n", t.name, err)
				os.Exit(1)
			}
			t.times = append(t.times, time.Since(start))
		}
	}
	base := median(targets[0].times)
	for _, t := range targets {
		m := median(t.times)
		fmt.Printf("%-40s median %8.2f ms  min %8.2f ms  ratio %.2fx\n", t.name, ms(m), ms(minOf(t.times)), float64(m)/float64(base))
	}
}

func runOnce(argv []string) error {
	cmd := exec.Command(argv[0], argv[1:]...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v\n%s", err, out)
	}
	return nil
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func minOf(d []time.Duration) time.Duration {
	m := d[0]
	for _, x := range d {
		if x < m {
			m = x
		}
	}
	return m
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
