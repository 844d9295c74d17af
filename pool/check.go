package pool

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ipfs/go-cid"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/shares"
)

// Check reads a pool directory without changing it and returns one error
// per problem: a manifest that does not decode, is not of its file's
// campaign or not of model shards; a shares file with a torn last record,
// a record that does not decode, an index outside its campaign, or one
// index stored with two values. A missing directory is no problem (no pool
// yet). It is safe to run beside a daemon that appends to the pool: an
// append under way can show as a torn last record.
func Check(dir string) []error {
	files, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return []error{fmt.Errorf("pool: reading %s: %w", dir, err)}
	}
	var errs []error
	manifests := map[cid.Cid]*campaign.Manifest{}
	var shareFiles []cid.Cid
	for _, fi := range files {
		base, suffix, _ := strings.Cut(fi.Name(), ".")
		id, err := cid.Decode(base)
		if err != nil || id.String() != base {
			continue
		}
		path := filepath.Join(dir, fi.Name())
		switch "." + suffix {
		case manifestSuffix:
			raw, err := os.ReadFile(path)
			if err != nil {
				errs = append(errs, fmt.Errorf("pool: reading %s: %w", path, err))
				continue
			}
			m, err := campaign.Decode(raw)
			switch {
			case err != nil:
				errs = append(errs, fmt.Errorf("pool: %s: %w", path, err))
			case campaign.ID(raw) != id:
				errs = append(errs, fmt.Errorf("pool: %s holds the manifest of campaign %s", path, campaign.ID(raw)))
			case m.Model != campaign.ModelShards:
				errs = append(errs, fmt.Errorf("pool: %s is a campaign of model %s, not shards", path, m.Model))
			default:
				manifests[id] = m
			}
		case sharesSuffix:
			shareFiles = append(shareFiles, id)
		}
	}
	for _, id := range shareFiles {
		errs = append(errs, checkShares(filepath.Join(dir, id.String()+sharesSuffix), manifests[id])...)
	}
	return errs
}

// checkShares checks one shares file; m is its campaign's manifest, nil if
// the pool holds none.
func checkShares(path string, m *campaign.Manifest) []error {
	data, err := os.ReadFile(path)
	if err != nil {
		return []error{fmt.Errorf("pool: reading %s: %w", path, err)}
	}
	var errs []error
	if r := len(data) % shares.ShareSize; r != 0 {
		errs = append(errs, fmt.Errorf("pool: %s ends in a torn record of %d bytes", path, r))
	}
	seen := map[uint32][]byte{}
	for off := 0; off+shares.ShareSize <= len(data); off += shares.ShareSize {
		rec := data[off : off+shares.ShareSize]
		var s shares.Share
		if err := s.UnmarshalBinary(rec); err != nil {
			errs = append(errs, fmt.Errorf("pool: %s: record %d does not decode: %w", path, off/shares.ShareSize, err))
			continue
		}
		if m != nil && uint64(s.Index) >= uint64(m.Shards) {
			errs = append(errs, fmt.Errorf("pool: %s: share index %d, but the campaign has %d shares", path, s.Index, m.Shards))
		}
		if prev, ok := seen[s.Index]; ok && !bytes.Equal(prev, rec) {
			errs = append(errs, fmt.Errorf("pool: %s: share index %d stored with two different values", path, s.Index))
		}
		seen[s.Index] = rec
	}
	return errs
}
