package repo

import "github.com/shardcast/shardcast/internal/atomicfile"

// gatewayFile records the running daemon's gateway address, as apiFile
// does its API address, for scripts that fetch from it.
const gatewayFile = "gateway"

// GatewayAddr returns the gateway address a running daemon recorded in
// dir, or "" if none did.
func GatewayAddr(dir string) (string, error) { return readAddr(dir, gatewayFile, "gateway") }

// SetGatewayAddr records the running daemon's gateway address.
func (r *Repo) SetGatewayAddr(addr string) error {
	return atomicfile.WriteFile(r.Path(gatewayFile), []byte(addr+"\n"), 0o600)
}

// ClearGatewayAddr removes the record written by SetGatewayAddr.
func (r *Repo) ClearGatewayAddr() error { return removeIfExists(r.Path(gatewayFile)) }
