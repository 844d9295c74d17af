package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shardcast/shardcast/internal/testnet"
)

type status struct {
	Model    string `json:"model"`
	Sold     int64  `json:"sold"`
	Pooled   int64  `json:"pooled"`
	Needed   int64  `json:"needed"`
	Raised   int64  `json:"raised"`
	Donated  int64  `json:"donated"`
	Currency string `json:"currency"`
	Deadline string `json:"deadline"`
	Unlocked bool   `json:"unlocked"`
	Content  string `json:"content"`
	Price    int64  `json:"price"`
}

func statusOf(t *testing.T, n *testnet.Node, id string) status {
	t.Helper()
	var s status
	if err := json.Unmarshal([]byte(n.MustRun("status", id, "--json")), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// waitCampaign waits until n knows campaign id.
func waitCampaign(t *testing.T, n *testnet.Node, id string) {
	t.Helper()
	testnet.Eventually(t, 60*time.Second, n.Name+" learns campaign "+id, func() error {
		if r := n.Run("status", id, "--json"); r.Code != 0 {
			return fmt.Errorf("%s", r.Stderr)
		}
		return nil
	})
}

// A pay campaign: the creator reads it, a peer that did not pay sees it in
// its catalog and can fetch the ciphertext, but /watch answers 403 and cat
// fails. An open campaign is readable everywhere.
func TestPublishPayAndOpen(t *testing.T) {
	net := testnet.New(t, binary)
	a, c := net.Node("creator"), net.Node("c")
	a.Start()
	c.Start()
	c.MustRun("connect", a.Addr())
	path, data := randomFile(t, 10, 6<<20+999)
	film := filepath.Join(filepath.Dir(path), "film.webm")
	if err := os.Rename(path, film); err != nil {
		t.Fatal(err)
	}
	pay := a.MustRun("publish", film, "--model", "pay", "--price", "2.50", "--title", "A film")
	open := a.MustRun("publish", film, "--model", "open", "--suggested", "1,5", "--goal", "100")

	st := statusOf(t, a, pay)
	if st.Model != "pay" || st.Price != 250 || st.Currency != "USD" || !st.Unlocked {
		t.Fatalf("creator's status of the pay campaign: %+v", st)
	}
	r := a.Run("cat", pay)
	if r.Code != 0 || r.Stdout != string(data) {
		t.Fatalf("creator's cat: exit %d, %d bytes: %s", r.Code, len(r.Stdout), r.Stderr)
	}

	waitCampaign(t, c, pay)
	waitCampaign(t, c, open)
	if st := statusOf(t, c, pay); st.Unlocked {
		t.Fatal("C, who did not pay, reports the pay campaign unlocked")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	resp, err := c.Get(ctx, "/watch/"+pay)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), `"error"`) {
		t.Fatalf("/watch on C: status %d, body %s; want 403 with a JSON error", resp.StatusCode, body)
	}
	if r := c.Run("cat", pay); r.Code != 1 || r.Stdout != "" {
		t.Fatalf("cat on C: exit %d with %d bytes; want exit 1 and nothing", r.Code, len(r.Stdout))
	}
	// The ciphertext itself is public.
	cipher := c.Run("cat", st.Content)
	if cipher.Code != 0 || !strings.HasPrefix(cipher.Stdout, "age-encryption.org/v1\n") {
		t.Fatalf("C fetching the ciphertext: exit %d: %s", cipher.Code, cipher.Stderr)
	}
	if r := c.Run("cat", open); r.Code != 0 || r.Stdout != string(data) {
		t.Fatalf("cat of the open campaign on C: exit %d, %d bytes: %s", r.Code, len(r.Stdout), r.Stderr)
	}
	// Range through /watch on the creator.
	mid := int64(len(data) / 2)
	resp, err = a.Get(ctx, "/watch/"+pay, "Range", fmt.Sprintf("bytes=%d-%d", mid, mid+99999))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, data[mid:mid+100000]) {
		t.Fatalf("/watch Range: status %d, %d bytes, match %v", resp.StatusCode, len(body), bytes.Equal(body, data[mid:mid+100000]))
	}
	if ct := resp.Header.Get("Content-Type"); ct != "video/webm" {
		t.Fatalf("/watch Content-Type %q, want video/webm", ct)
	}
}

// One flipped bit in the ciphertext on disk: reading the campaign fails at
// that chunk, and every byte served before the failure is right.
func TestTamperedCiphertextNeverServesWrongBytes(t *testing.T) {
	net := testnet.New(t, binary)
	a := net.Node("creator")
	a.Start()
	path, data := randomFile(t, 11, 5<<20+12345)
	id := a.MustRun("publish", path, "--model", "pay", "--price", "1")
	a.Stop()
	// Flip one bit in the middle of the largest leaves' block files: the
	// ciphertext's 1 MiB leaves.
	var leaves []string
	filepath.WalkDir(filepath.Join(a.Repo, "blocks"), func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".data") {
			if fi, err := d.Info(); err == nil && fi.Size() == 1<<20 {
				leaves = append(leaves, p)
			}
		}
		return nil
	})
	if len(leaves) < 3 {
		t.Fatalf("found %d full leaves, want at least 3", len(leaves))
	}
	for _, p := range leaves[1:2] {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)/2] ^= 0x10
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// No peer holds the blocks: the read of the flipped one fails once the
	// refetch gives up.
	a.Start("--refetch-timeout", "2s")
	r := a.Run("cat", id)
	if r.Code == 0 {
		t.Fatal("cat of a tampered ciphertext succeeded")
	}
	if len(r.Stdout) >= len(data) || !bytes.Equal([]byte(r.Stdout), data[:len(r.Stdout)]) {
		t.Fatalf("cat of a tampered ciphertext wrote %d bytes that are not a prefix of the plaintext", len(r.Stdout))
	}
}
