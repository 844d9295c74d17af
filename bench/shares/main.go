// Command shares measures the shares package at campaign sizes: split and
// commit; check the commitments then combine all shares; verify every
// share one by one (before and after Check) and in batches. It prints one
// Markdown table row per step with its wall time and memory.
//
// Usage:
//
//	GOMAXPROCS=1 go run ./bench/shares -n 1000,100000,1000000
//
// Peak RSS is the process's VmHWM, reset before each step (by writing 5 to
// /proc/self/clear_refs) after a garbage collection, so it includes the
// step's live inputs (the shares and the commitments file) as well as what
// the step itself allocates. "alloc" is the bytes the step allocated.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/shardcast/shardcast/shares"
)

func main() {
	sizes := flag.String("n", "1000,100000,1000000", "comma-separated share counts")
	flag.Parse()
	var ns []int
	for _, f := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > shares.MaxShares {
			fmt.Fprintf(os.Stderr, "shares bench: bad -n value %q\n", f)
			os.Exit(2)
		}
		ns = append(ns, n)
	}
	if err := run(ns); err != nil {
		fmt.Fprintf(os.Stderr, "shares bench: %v\n", err)
		os.Exit(1)
	}
}

func run(ns []int) error {
	fmt.Printf("GOMAXPROCS=%d, %s, %s/%s\n\n", runtime.GOMAXPROCS(0), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Println("| N | step | seconds | µs/share | peak RSS MiB | alloc MiB |")
	fmt.Println("|---:|---|---:|---:|---:|---:|")
	for _, n := range ns {
		var (
			secret [32]byte
			ss     []shares.Share
			file   []byte
		)
		err := measure(n, "split + commit (Split, MarshalBinary)", func() error {
			var c *shares.Commitments
			var err error
			secret, ss, c, err = shares.Split(nil, n)
			if err != nil {
				return err
			}
			file, err = c.MarshalBinary()
			return err
		})
		if err != nil {
			return err
		}

		err = measure(n, "verify + combine (Check, Combine)", func() error {
			var c shares.Commitments
			if err := c.UnmarshalBinary(file); err != nil {
				return err
			}
			if err := c.Check(); err != nil {
				return err
			}
			got, err := shares.Combine(&c, ss)
			if err != nil {
				return err
			}
			if got != secret {
				return fmt.Errorf("combined secret differs from the split's")
			}
			return nil
		})
		if err != nil {
			return err
		}

		err = measure(n, "verify each share (Verify × N, unchecked)", func() error {
			var c shares.Commitments
			if err := c.UnmarshalBinary(file); err != nil {
				return err
			}
			for _, s := range ss {
				if err := c.Verify(s); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}

		var checked shares.Commitments
		if err := checked.UnmarshalBinary(file); err != nil {
			return err
		}
		if err := checked.Check(); err != nil {
			return err
		}
		err = measure(n, "verify each share (Verify × N, after Check)", func() error {
			for _, s := range ss {
				if err := checked.Verify(s); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}

		err = measure(n, "verify all shares (VerifyBatch)", func() error {
			var c shares.Commitments
			if err := c.UnmarshalBinary(file); err != nil {
				return err
			}
			return c.VerifyBatch(ss)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// measure runs step once and prints its row.
func measure(n int, name string, step func() error) error {
	runtime.GC()
	debug.FreeOSMemory()
	resetPeak := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	if err := step(); err != nil {
		return fmt.Errorf("%s for %d shares: %w", name, n, err)
	}
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	peak := "?"
	if kb, ok := vmHWM(); ok {
		peak = fmt.Sprintf("%.0f", float64(kb)/1024)
		if !resetPeak {
			peak += " (since start)"
		}
	}
	fmt.Printf("| %d | %s | %.3f | %.2f | %s | %.1f |\n", n, name, elapsed.Seconds(),
		float64(elapsed.Microseconds())/float64(n), peak, float64(after.TotalAlloc-before.TotalAlloc)/(1<<20))
	return nil
}

// vmHWM returns the peak resident set size in KiB.
func vmHWM() (int, bool) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			return kb, err == nil
		}
	}
	return 0, false
}
