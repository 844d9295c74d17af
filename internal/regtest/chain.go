package regtest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
)

// btcdRPC is btcd's JSON-RPC endpoint.
type btcdRPC struct{ addr, cert, user, pass string }

// Mine mines blocks on the network's chain, waits until both LND nodes
// have seen the last one (on LND's block subscription, not by polling),
// and returns the new height. LND acts on a block (expiring held HTLCs,
// confirming channels) shortly after it has seen it.
func (n *Network) Mine(ctx context.Context, blocks int) (int64, error) {
	if blocks < 1 {
		return 0, fmt.Errorf("regtest: mining %d blocks: want at least 1", blocks)
	}
	var hashes []string
	if err := n.btcd.call(ctx, "generate", []any{blocks}, &hashes); err != nil {
		return 0, err
	}
	h, err := n.Height(ctx)
	if err != nil {
		return 0, err
	}
	for _, l := range []LND{n.Alice, n.Bob} {
		if err := l.waitHeight(ctx, h); err != nil {
			return 0, err
		}
	}
	return h, nil
}

// Height returns the height of the chain's tip as btcd sees it.
func (n *Network) Height(ctx context.Context) (int64, error) {
	var h int64
	err := n.btcd.call(ctx, "getblockcount", nil, &h)
	return h, err
}

// call makes one JSON-RPC call to btcd.
func (b btcdRPC) call(ctx context.Context, method string, params []any, out any) error {
	hc, err := client(b.cert)
	if err != nil {
		return err
	}
	if params == nil {
		params = []any{}
	}
	body, err := json.Marshal(map[string]any{"jsonrpc": "1.0", "id": 1, "method": method, "params": params})
	if err != nil {
		return fmt.Errorf("regtest: btcd %s: %w", method, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://"+b.addr+"/", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("regtest: btcd %s: %w", method, err)
	}
	req.SetBasicAuth(b.user, b.pass)
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("regtest: btcd %s: %w", method, err)
	}
	defer resp.Body.Close()
	var res struct {
		Result json.RawMessage `json:"result"`
		Error  *struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&res); err != nil {
		return fmt.Errorf("regtest: btcd %s: HTTP %s: %w", method, resp.Status, err)
	}
	if res.Error != nil {
		return fmt.Errorf("regtest: btcd %s: %s", method, res.Error.Message)
	}
	if err := json.Unmarshal(res.Result, out); err != nil {
		return fmt.Errorf("regtest: btcd %s: decoding %.80s: %w", method, res.Result, err)
	}
	return nil
}

// waitHeight follows the node's block subscription (chainrpc's
// RegisterBlockEpochNtfn, which sends the current tip first) until the
// node has seen a block at height h.
func (l LND) waitHeight(ctx context.Context, h int64) error {
	hc, err := client(l.TLSCert)
	if err != nil {
		return err
	}
	mac, err := os.ReadFile(l.Macaroon)
	if err != nil {
		return fmt.Errorf("regtest: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://"+l.REST+"/v2/chainnotifier/register/blocks", bytes.NewReader([]byte("{}")))
	if err != nil {
		return fmt.Errorf("regtest: %w", err)
	}
	req.Header.Set("Grpc-Metadata-macaroon", hex.EncodeToString(mac))
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("regtest: waiting for block %d at %s: %w", h, l.REST, err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var msg struct {
			Result *struct {
				Height int64 `json:"height"`
			} `json:"result"`
			Error *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(sc.Bytes(), &msg); err != nil {
			return fmt.Errorf("regtest: waiting for block %d at %s: HTTP %s: %w", h, l.REST, resp.Status, err)
		}
		if msg.Error != nil {
			return fmt.Errorf("regtest: waiting for block %d at %s: %s", h, l.REST, msg.Error.Message)
		}
		if msg.Result != nil && msg.Result.Height >= h {
			return nil
		}
	}
	err = sc.Err()
	if err == nil {
		err = errors.New("the subscription ended")
	}
	return fmt.Errorf("regtest: waiting for block %d at %s: %w", h, l.REST, err)
}

// client returns an HTTP client trusting only the certificate in file.
func client(file string) (*http.Client, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("regtest: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("regtest: %s holds no PEM certificate", file)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, DisableKeepAlives: true}
	return &http.Client{Transport: tr}, nil
}
