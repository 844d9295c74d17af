package e2e

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/shardcast/shardcast/internal/testnet"
)

// swarm starts four seeders that each added the same file (fresh repos,
// so each holds every block) and a fetcher connected to all of them.
func swarm(t *testing.T, seed uint64, size int) (seeders []*testnet.Node, fetcher *testnet.Node, id string, data []byte) {
	t.Helper()
	net := testnet.New(t, binary)
	path, data := randomFile(t, seed, size)
	for _, name := range []string{"s1", "s2", "s3", "s4"} {
		s := net.Node(name)
		s.Start()
		got := s.MustRun("add", path)
		if id != "" && got != id {
			t.Fatalf("seeder %s added the file as %s, another as %s", name, got, id)
		}
		id = got
		seeders = append(seeders, s)
	}
	fetcher = net.Node("fetcher")
	fetcher.Start()
	for _, s := range seeders {
		fetcher.MustRun("connect", s.Addr())
	}
	return seeders, fetcher, id, data
}

// A film held by four peers arrives byte for byte, and every peer
// served part of it.
func TestSwarmEveryPeerContributes(t *testing.T) {
	seeders, fetcher, id, data := swarm(t, 20, 48<<20)
	before := make([]int, len(seeders))
	for i, s := range seeders {
		before[i] = servedBlocks(t, s)
	}
	out := filepath.Join(t.TempDir(), "out")
	fetcher.MustRun("get", id, "-o", out)
	mustEqualFile(t, out, data)
	for i, s := range seeders {
		n := servedBlocks(t, s) - before[i]
		if n == 0 {
			t.Errorf("seeder %s served no block of the fetch", s.Name)
		}
		t.Logf("seeder %s served %d blocks", s.Name, n)
	}
}

// A seeder that stops answering and is then killed in the middle of a
// fetch costs no wrong byte: the wants it held are asked of the others.
func TestSwarmSurvivesAPeerKilled(t *testing.T) {
	seeders, fetcher, id, data := swarm(t, 21, 48<<20)
	victim := seeders[3]
	// Stopped, it takes the fetcher's wants and answers none; killed, its
	// connections close with those wants unanswered.
	victim.Pause()
	out := filepath.Join(t.TempDir(), "out")
	done := make(chan testnet.Result, 1)
	go func() { done <- fetcher.Run("get", id, "-o", out) }()
	testnet.Eventually(t, 2*time.Minute, "the other seeders serving the fetch", func() error {
		n := 0
		for _, s := range seeders[:3] {
			n += servedBlocks(t, s)
		}
		if n < 8 {
			return fmt.Errorf("%d blocks served so far", n)
		}
		return nil
	})
	victim.Kill()
	select {
	case r := <-done:
		if r.Code != 0 {
			t.Fatalf("get with a seeder killed: exit %d: %s", r.Code, r.Stderr)
		}
	case <-time.After(5 * time.Minute):
		t.Fatal("get with a seeder killed did not finish")
	}
	mustEqualFile(t, out, data)
}
