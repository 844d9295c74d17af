// Package keystore keeps a repo's secret files: the age identities that
// decrypt content (keys/CONTENT.key), the creator's shares of its shards
// campaigns (shares/CONTENT.shares) and the proofs this node made against
// creators who sealed bad shares (proofs/OFFER.proof).
//
// It is the one place that knows these paths. Every file is written
// atomically (a temporary file, fsync, rename) with mode 0600 in a
// directory of mode 0700, so a crash leaves the old file or the new one,
// never a part of either. A file that is missing is reported with a
// *NotFoundError (errors.Is(err, ErrNotFound)); any other failure says
// what it was reading or writing.
//
// keystore promises nothing about who else can read the repo: the owner
// of the files, and root, can. It never logs and never puts a secret in
// an error.
package keystore
