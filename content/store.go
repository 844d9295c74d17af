package content

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/blockstore"
	chunker "github.com/ipfs/boxo/chunker"
	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/boxo/ipld/unixfs/importer/balanced"
	"github.com/ipfs/boxo/ipld/unixfs/importer/helpers"
	"github.com/ipfs/go-cid"
	flatfs "github.com/ipfs/go-ds-flatfs"
	format "github.com/ipfs/go-ipld-format"
)

// LeafSize is the size of the leaves Import cuts a file into.
const LeafSize = 1 << 20

// Store is a block store on disk.
type Store struct {
	ds  *flatfs.Datastore
	raw blockstore.Blockstore
	// Blocks reads and writes the store; every block it returns was hashed
	// against its CID on the way out (see Verified).
	Blocks *Verified
}

// OpenStore opens or creates the flatfs block store in dir. Every block is
// fsynced before Put returns: a block the store reports is a block on disk.
// A block read back that does not hash to its CID is removed and logged to
// log (nil: slog.Default), never returned.
func OpenStore(dir string, log *slog.Logger) (*Store, error) {
	ds, err := flatfs.CreateOrOpen(dir, flatfs.NextToLast(2), true)
	if err != nil {
		return nil, fmt.Errorf("opening block store %s: %w", dir, err)
	}
	raw := blockstore.NewBlockstore(ds, blockstore.NoPrefix())
	return &Store{ds: ds, raw: raw, Blocks: NewVerified(raw, log)}, nil
}

// Scan hashes every block in the store against its CID and calls bad for
// each one that does not match (or cannot be read), without changing the
// store. The CIDs it reports are CIDv1 with the raw codec: the store keys
// blocks by multihash alone. It returns the number of blocks checked.
func (s *Store) Scan(ctx context.Context, bad func(c cid.Cid, err error) error) (int, error) {
	keys, err := s.raw.AllKeysChan(ctx)
	if err != nil {
		return 0, fmt.Errorf("listing the block store: %w", err)
	}
	n := 0
	for c := range keys {
		n++
		b, err := s.raw.Get(ctx, c)
		if err == nil {
			err = Check(c, b.RawData())
		}
		if err != nil {
			if err := bad(c, err); err != nil {
				return n, err
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return n, fmt.Errorf("checking the block store: %w", err)
	}
	return n, nil
}

// Close closes the store.
func (s *Store) Close() error { return s.ds.Close() }

// Import reads r to its end and stores it as a UnixFS file in bs. It returns
// the root CID and the number of bytes read. Nothing is returned on error,
// though blocks already written stay in the store (they are content-addressed
// and harmless).
func Import(ctx context.Context, bs blockstore.Blockstore, r io.Reader) (cid.Cid, int64, error) {
	dag := merkledag.NewDAGService(blockservice.New(bs, nil))
	buf := format.NewBufferedDAG(ctx, dag, format.MaxNodesBatchOption(64), format.MaxSizeBatchOption(64<<20))
	prefix, err := merkledag.PrefixForCidVersion(1)
	if err != nil {
		return cid.Undef, 0, err
	}
	cr := &CountingReader{R: r}
	params := helpers.DagBuilderParams{
		Dagserv:    buf,
		RawLeaves:  true,
		Maxlinks:   helpers.DefaultLinksPerBlock,
		CidBuilder: prefix,
	}
	db, err := params.New(chunker.NewSizeSplitter(cr, LeafSize))
	if err != nil {
		return cid.Undef, 0, fmt.Errorf("starting import: %w", err)
	}
	nd, err := balanced.Layout(db)
	if err != nil {
		return cid.Undef, 0, fmt.Errorf("importing: %w", err)
	}
	if err := buf.Commit(); err != nil {
		return cid.Undef, 0, fmt.Errorf("writing blocks: %w", err)
	}
	return nd.Cid(), cr.N, nil
}

// CountingReader counts the bytes read through it: N is how many R has
// given so far.
type CountingReader struct {
	R io.Reader
	N int64
}

func (c *CountingReader) Read(p []byte) (int, error) {
	n, err := c.R.Read(p)
	c.N += int64(n)
	return n, err
}
