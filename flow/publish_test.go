package flow

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/shares"
)

// decrypt opens an age file with the identity the keystore holds for it.
func decrypt(t *testing.T, n *peerNode, m *campaign.Manifest) []byte {
	t.Helper()
	id, err := n.keys.ContentKey(m.Content)
	if err != nil {
		t.Fatalf("the creator's key of %s: %v", m.Content, err)
	}
	r, err := age.Decrypt(bytes.NewReader(n.blocks.get(m.Content)), id)
	if err != nil {
		t.Fatalf("decrypting the content: %v", err)
	}
	plain, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return plain
}

func TestPublishEveryModel(t *testing.T) {
	for _, terms := range []campaign.Terms{openTerms(), payTerms(), shardsTerms(5)} {
		t.Run(string(terms.Model), func(t *testing.T) {
			n := newPeer(t, nil, nil)
			e := n.publish(t, terms)
			got, err := n.cat.Get(e.ID)
			if err != nil {
				t.Fatalf("the published campaign is not in the catalog: %v", err)
			}
			m := got.Manifest
			if m.Creator != n.self {
				t.Errorf("creator: got %s, want %s", m.Creator, n.self)
			}
			if m.ContentSize != int64(len(film)) {
				t.Errorf("content size: got %d, want %d", m.ContentSize, len(film))
			}
			var plain []byte
			if terms.Model == campaign.ModelOpen {
				plain = n.blocks.get(m.Content)
				if n.keys.HasContentKey(m.Content) {
					t.Error("an open campaign has a key stored")
				}
			} else {
				plain = decrypt(t, n, m)
			}
			if !bytes.Equal(plain, film) {
				t.Errorf("content: got %d bytes that are not the film", len(plain))
			}
			if !n.f.CanRead(got) {
				t.Error("CanRead of the creator's own campaign: got false")
			}
			provided := false
			for _, c := range n.blocks.provided {
				provided = provided || c == m.Content
			}
			if !provided {
				t.Error("the content was not announced as provided")
			}
		})
	}
}

// TestPublishSecretsBeforeManifest: when the manifest goes out, its key
// (and every share) is already in the keystore.
func TestPublishSecretsBeforeManifest(t *testing.T) {
	for _, terms := range []campaign.Terms{payTerms(), shardsTerms(3)} {
		t.Run(string(terms.Model), func(t *testing.T) {
			n := newPeer(t, nil, nil)
			checked := false
			n.ann.before = func(m *campaign.Manifest) {
				checked = true
				if !n.keys.HasContentKey(m.Content) {
					t.Error("the manifest is announced before its key is stored")
				}
				for i := range m.Shards {
					if _, err := n.keys.Share(m.Content, uint32(i)); err != nil {
						t.Errorf("the manifest is announced before share %d is stored: %v", i, err)
					}
				}
			}
			n.publish(t, terms)
			if !checked {
				t.Fatal("no manifest was announced")
			}
		})
	}
}

// TestPublishShardsSecret: the shares stored add up to the secret the
// content is encrypted to, and the commitments published match them.
func TestPublishShardsSecret(t *testing.T) {
	n := newPeer(t, nil, nil)
	e := n.publish(t, shardsTerms(4))
	m := e.Manifest
	c, err := m.ReadCommitments(bytes.NewReader(n.blocks.get(m.Commitments)), int64(len(n.blocks.get(m.Commitments))), 4)
	if err != nil {
		t.Fatalf("reading the published commitments: %v", err)
	}
	var list []shares.Share
	for i := range 4 {
		s, err := n.keys.Share(m.Content, uint32(i))
		if err != nil {
			t.Fatal(err)
		}
		list = append(list, s)
	}
	secret, err := shares.Combine(c, list)
	if err != nil {
		t.Fatalf("combining the stored shares: %v", err)
	}
	id, err := n.keys.ContentKey(m.Content)
	if err != nil {
		t.Fatal(err)
	}
	want, err := identityFromSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	if id.String() != want.String() {
		t.Error("the stored key is not the one the shares make")
	}
	x := c.X()
	if !bytes.Equal(m.SecretCommitment, x[:]) {
		t.Error("the manifest's secret commitment is not the commitments' X")
	}
}

func TestPublishDefaults(t *testing.T) {
	n := newPeer(t, nil, nil)
	terms := shardsTerms(0)
	terms.Goal = 1000 // 10 shares at 100
	m := n.publish(t, terms).Manifest
	for _, tc := range []struct {
		field string
		got   any
		want  any
	}{
		{"media type", m.MediaType, "application/octet-stream"},
		{"rails", strings.Join(m.Rails, ","), "test"},
		{"currency", m.Currency, "USD"},
		{"shortfall", m.Shortfall, campaign.ShortfallRelease},
		{"shards", m.Shards, 10},
		{"created", m.Created.Equal(start), true},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.field, tc.got, tc.want)
		}
	}
}

// TestPublishRefused: terms that break a rule, and parts that fail,
// announce nothing.
func TestPublishRefused(t *testing.T) {
	aon := func(deadline time.Duration) campaign.Terms {
		m := shardsTerms(4)
		m.AllOrNothing, m.Rails, m.Currency, m.Deadline = true, []string{"lightning"}, "BTC", start.Add(deadline)
		return m
	}
	for _, tc := range []struct {
		name   string
		terms  campaign.Terms
		break_ func(n *peerNode)
		want   string
	}{
		{"unknown model", campaign.Terms{Model: "rent", Title: "x"}, nil, "model \"rent\""},
		{"shards without N or goal", shardsTerms(0), nil, "needs a number of shares"},
		{"shards without deadline", func() campaign.Terms { m := shardsTerms(3); m.Deadline = time.Time{}; return m }(), nil, "deadline: missing"},
		{"unknown rail", func() campaign.Terms { m := payTerms(); m.Rails = []string{"cash"}; return m }(), nil, "rails \"cash\""},
		{"lightning without LND", func() campaign.Terms {
			m := payTerms()
			m.Rails, m.Currency = []string{"lightning"}, "BTC"
			return m
		}(),
			func(n *peerNode) { n.f.p.Rails = Rails{} }, "needs an LND node"},
		{"lightning in USD", func() campaign.Terms { m := payTerms(); m.Rails, m.Currency = []string{"lightning"}, "USD"; return m }(), nil, "moves BTC"},
		{"all-or-nothing on pay", func() campaign.Terms { m := payTerms(); m.AllOrNothing = true; return m }(), nil, "all_or_nothing"},
		{"all-or-nothing on the test rail", func() campaign.Terms { m := shardsTerms(3); m.AllOrNothing = true; return m }(), nil, "on rail lightning alone"},
		{"all-or-nothing past the longest hold", aon(30 * 24 * time.Hour), nil, "too far"},
		{"import fails", payTerms(), func(n *peerNode) { n.blocks.fail = true }, "injected"},
		{"key not stored", payTerms(), func(n *peerNode) { n.keys.failKey = true }, "injected"},
		{"shards key not stored", shardsTerms(3), func(n *peerNode) { n.keys.failKey = true }, "injected"},
		{"shares not stored", shardsTerms(3), func(n *peerNode) { n.keys.failShares = true }, "injected"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newPeer(t, nil, nil)
			if tc.break_ != nil {
				tc.break_(n)
			}
			announced := false
			n.ann.before = func(*campaign.Manifest) { announced = true }
			_, err := n.f.Publish(context.Background(), tc.terms, bytes.NewReader(film))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error saying %q", err, tc.want)
			}
			if announced || len(n.cat.List()) != 0 {
				t.Error("a refused publish announced a manifest")
			}
		})
	}
}

func TestPublishAllOrNothing(t *testing.T) {
	n := newPeer(t, nil, nil)
	m := shardsTerms(4)
	m.AllOrNothing, m.Rails, m.Currency = true, []string{"lightning"}, "BTC"
	if got := n.publish(t, m).Manifest; !got.AllOrNothing {
		t.Error("the manifest lost all-or-nothing")
	}
}

func TestPublishBadTermsWrapErrBadManifest(t *testing.T) {
	n := newPeer(t, nil, nil)
	m := payTerms()
	m.Rails = []string{"cash"}
	_, err := n.f.Publish(context.Background(), m, bytes.NewReader(film))
	if !errors.Is(err, campaign.ErrBadManifest) {
		t.Errorf("got %v, want campaign.ErrBadManifest", err)
	}
}
