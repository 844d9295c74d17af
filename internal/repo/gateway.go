package repo

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// gatewayFile records the running daemon's gateway address, as apiFile
// does its API address, for scripts that fetch from it.
const gatewayFile = "gateway"

// GatewayAddr returns the gateway address a running daemon recorded in
// dir, or "" if none did.
func GatewayAddr(dir string) (string, error) {
	raw, err := os.ReadFile(filepath.Join(dir, gatewayFile))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading the daemon's gateway address: %w", err)
	}
	return strings.TrimSpace(string(raw)), nil
}

// SetGatewayAddr records the running daemon's gateway address.
func (r *Repo) SetGatewayAddr(addr string) error {
	return WriteFileAtomic(r.Path(gatewayFile), []byte(addr+"\n"), 0o600)
}

// ClearGatewayAddr removes the record written by SetGatewayAddr.
func (r *Repo) ClearGatewayAddr() error {
	err := os.Remove(r.Path(gatewayFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
