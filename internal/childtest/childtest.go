// Package childtest runs a test binary as its own child process, so that
// a crash test can kill a real process with SIGKILL at a point it
// chooses and then check what the process left on disk. Tests only.
//
// The parent calls Start with the name of a test function and the
// environment that tells that function it is the child; the child does
// its work and prints lines the parent reads with Line, so that the
// parent kills it after a known step, never after a sleep.
package childtest

import (
	"bufio"
	"os"
	"os/exec"
	"testing"
)

// A Child is the test binary running one test in a process of its own.
type Child struct {
	cmd   *exec.Cmd
	lines *bufio.Scanner
}

// Start runs the test binary with only test (a test function's name)
// and env ("NAME=value") added to this process's environment. The child
// is killed when t ends, if it still runs.
func Start(t testing.TB, test string, env ...string) *Child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s in a child process: %v", test, err)
	}
	c := &Child{cmd: cmd, lines: bufio.NewScanner(out)}
	t.Cleanup(c.Kill)
	return c
}

// Line returns the next line the child printed, and false once its
// output has ended.
func (c *Child) Line() (string, bool) {
	if !c.lines.Scan() {
		return "", false
	}
	return c.lines.Text(), true
}

// Kill kills the child with SIGKILL and waits for it to end. Calling it
// again does nothing.
func (c *Child) Kill() {
	if c.cmd.ProcessState != nil {
		return
	}
	c.cmd.Process.Kill()
	c.cmd.Wait()
}
