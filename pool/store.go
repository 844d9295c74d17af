package pool

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/ipfs/go-cid"

	"github.com/shardcast/shardcast/internal/atomicfile"
	"github.com/shardcast/shardcast/shares"
)

// On disk, a pool directory holds per campaign:
//
//	<campaign ID>.manifest  the signed manifest block, written once, atomically
//	<campaign ID>.shares    36-byte share records, appended and fsynced
//
// and nothing else that it keeps: "*.tmp" files (atomicfile.TempSuffix)
// are leftovers of an interrupted rewrite and are removed by Open.
const (
	manifestSuffix = ".manifest"
	sharesSuffix   = ".shares"
	tmpSuffix      = atomicfile.TempSuffix
)

func (p *Pool) path(id cid.Cid, suffix string) string {
	return filepath.Join(p.dir, id.String()+suffix)
}

// loadShares opens the shares file at path for appending and reads its
// records. A torn final record (a crash during an append) is cut off; a
// record that does not decode is skipped, and dirty says the file should
// be rewritten.
func loadShares(path string) (f *os.File, size int64, list []shares.Share, dirty bool, err error) {
	f, err = os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
	if err != nil {
		return nil, 0, nil, false, fmt.Errorf("pool: opening %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, 0, nil, false, fmt.Errorf("pool: reading %s: %w", path, err)
	}
	size = int64(len(data) - len(data)%shares.ShareSize)
	if size != int64(len(data)) {
		if err := f.Truncate(size); err != nil {
			return nil, 0, nil, false, fmt.Errorf("pool: cutting the torn last record of %s: %w", path, err)
		}
		if err := f.Sync(); err != nil {
			return nil, 0, nil, false, fmt.Errorf("pool: syncing %s: %w", path, err)
		}
	}
	list = make([]shares.Share, 0, size/shares.ShareSize)
	for off := int64(0); off < size; off += shares.ShareSize {
		var s shares.Share
		if s.UnmarshalBinary(data[off:off+shares.ShareSize]) != nil {
			dirty = true
			continue
		}
		list = append(list, s)
	}
	return f, size, list, dirty, nil
}

// appendShares writes the records of list at the end of e's shares file
// and fsyncs it, creating the file on first use. On failure it cuts the
// file back to its previous length, so no partial record stays behind.
func (p *Pool) appendShares(e *entry, list []shares.Share) error {
	path := p.path(e.id, sharesSuffix)
	if e.f == nil {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return fmt.Errorf("pool: creating %s: %w", path, err)
		}
		if err := atomicfile.SyncDir(p.dir); err != nil {
			f.Close()
			os.Remove(path)
			return fmt.Errorf("pool: %w", err)
		}
		e.f, e.size = f, 0
	}
	buf := appendRecords(make([]byte, 0, len(list)*shares.ShareSize), list)
	_, err := e.f.Write(buf)
	if err == nil {
		err = e.f.Sync()
	}
	if err != nil {
		if terr := e.f.Truncate(e.size); terr != nil {
			err = errors.Join(err, terr)
		}
		return fmt.Errorf("pool: appending %d shares to %s: %w", len(list), path, err)
	}
	e.size += int64(len(buf))
	return nil
}

// rewriteShares replaces e's shares file with exactly list, atomically.
func (p *Pool) rewriteShares(e *entry, list []shares.Share) error {
	path := p.path(e.id, sharesSuffix)
	if e.f != nil {
		e.f.Close()
		e.f = nil
	}
	data := appendRecords(make([]byte, 0, len(list)*shares.ShareSize), list)
	if err := atomicfile.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("pool: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("pool: reopening %s: %w", path, err)
	}
	e.f, e.size = f, int64(len(data))
	return nil
}
