package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"shardcast": func() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs the CLI as a user would, through testdata/script/*.txtar.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(e *testscript.Env) error {
			e.Setenv("HOME", e.WorkDir)
			return nil
		},
		Cmds: map[string]func(*testscript.TestScript, bool, []string){
			"exits":   cmdExits,
			"waitapi": cmdWaitAPI,
			"oneline": cmdOneLine,
			"apiaddr": cmdAPIAddr,
			"config":  cmdConfig,
			"perm":    cmdPerm,
		},
	})
}

// exits N CMD ARGS... runs a command and checks its exit status.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits N command [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: bad status %q", args[0])
	}
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		got = ee.ExitCode()
	} else if err != nil {
		ts.Fatalf("exits: %v", err)
	}
	if got != want {
		ts.Fatalf("exit status %d, want %d", got, want)
	}
}

// oneline checks that the last command's stderr is exactly one line.
func cmdOneLine(ts *testscript.TestScript, neg bool, args []string) {
	s := ts.ReadFile("stderr")
	if n := strings.Count(s, "\n"); n != 1 || !strings.HasSuffix(s, "\n") {
		ts.Fatalf("stderr has %d lines, want exactly one: %q", n, s)
	}
}

// waitapi REPO waits until the daemon of REPO records its API address and
// answers on it.
func cmdWaitAPI(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: waitapi REPO")
	}
	file := filepath.Join(ts.MkAbs(args[0]), "api")
	deadline := time.Now().Add(60 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		raw, err := os.ReadFile(file)
		if err == nil {
			resp, err := http.Get("http://" + strings.TrimSpace(string(raw)) + "/api/v1/id")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return
				}
				err = fmt.Errorf("status %s", resp.Status)
			}
			last = err
		} else {
			last = err
		}
		time.Sleep(20 * time.Millisecond)
	}
	ts.Fatalf("daemon of %s not answering after 60s: %v", args[0], last)
}

// apiaddr REPO VAR sets VAR to the API address the daemon of REPO recorded.
func cmdAPIAddr(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: apiaddr REPO VAR")
	}
	ts.Setenv(args[1], strings.TrimSpace(ts.ReadFile(filepath.Join(args[0], "api"))))
}

// config REPO KEY VAR sets VAR to the string KEY of REPO's config.json.
func cmdConfig(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: config REPO KEY VAR")
	}
	var cfg map[string]any
	if err := json.Unmarshal([]byte(ts.ReadFile(filepath.Join(args[0], "config.json"))), &cfg); err != nil {
		ts.Fatalf("config of %s: %v", args[0], err)
	}
	v, ok := cfg[args[1]].(string)
	if !ok {
		ts.Fatalf("config of %s has no string %q", args[0], args[1])
	}
	ts.Setenv(args[2], v)
}

// perm MODE FILE... checks the permission bits of each file (octal MODE).
func cmdPerm(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: perm MODE FILE...")
	}
	want, err := strconv.ParseUint(args[0], 8, 32)
	if err != nil {
		ts.Fatalf("perm: bad mode %q", args[0])
	}
	for _, f := range args[1:] {
		st, err := os.Stat(ts.MkAbs(f))
		if err != nil {
			ts.Fatalf("perm: %v", err)
		}
		if got := st.Mode().Perm(); got != os.FileMode(want) {
			ts.Fatalf("%s has mode %v, want %v", f, got, os.FileMode(want))
		}
	}
}
