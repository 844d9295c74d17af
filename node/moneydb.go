package node

import (
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/shardcast/shardcast/internal/atomicfile"
	"github.com/shardcast/shardcast/internal/repo"
)

// The money databases (the ledger and the test rail) are created by the
// first daemon that runs on a repo, which then writes a marker beside each
// (NAME.created). A database whose marker exists must exist, hold bytes and
// hold tables: SQLite would otherwise make a new empty one in its place and
// the test rail would start a fresh wallet, hiding the loss of the old one.

// moneyDBs lists the databases the market keeps in a repo.
var moneyDBs = []string{testRailFile, ledgerFile}

func markerOf(name string) string { return name + ".created" }

// checkMoneyDB returns an error if the repo created the database name and
// it is now missing, empty or without tables.
func checkMoneyDB(r *repo.Repo, name string) error {
	path := r.Path(name)
	if _, err := os.Stat(r.Path(markerOf(name))); errors.Is(err, fs.ErrNotExist) {
		return nil // never created here: a fresh repo, or one from before markers
	} else if err != nil {
		return fmt.Errorf("reading %s: %w", r.Path(markerOf(name)), err)
	}
	lost := func(what string) error {
		return fmt.Errorf("%s %s, but this repo created it: restore it from a backup (the daemon will not start an empty one in its place; remove %s to start anew)",
			path, what, markerOf(name))
	}
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return lost("is missing")
	case err != nil:
		return fmt.Errorf("reading %s: %w", path, err)
	case !st.Mode().IsRegular():
		return lost("is not a file")
	case st.Size() == 0:
		return lost("is empty")
	}
	n, err := countTables(path)
	if err != nil {
		return fmt.Errorf("%s is not a readable SQLite database: %w", path, err)
	}
	if n == 0 {
		return lost("has no tables")
	}
	return nil
}

// countTables returns the number of tables in the SQLite database at path,
// which exists.
func countTables(path string) (int, error) {
	if strings.ContainsAny(path, "?#") {
		return 0, fmt.Errorf("path %q must not contain ? or #", path)
	}
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)&_pragma=query_only(1)")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var n int
	err = db.QueryRow("SELECT count(*) FROM sqlite_master WHERE type = 'table'").Scan(&n)
	return n, err
}

// checkMoneyDBs checks every money database of the repo.
func checkMoneyDBs(r *repo.Repo) error {
	for _, name := range moneyDBs {
		if err := checkMoneyDB(r, name); err != nil {
			return err
		}
	}
	return nil
}

// markMoneyDBs records that the money databases exist, once they were
// opened (and created if new).
func markMoneyDBs(r *repo.Repo) error {
	for _, name := range moneyDBs {
		m := r.Path(markerOf(name))
		if _, err := os.Stat(m); err == nil {
			continue
		}
		if err := atomicfile.WriteFile(m, []byte("this repo created "+name+": it must not be missing or empty\n"), 0o600); err != nil {
			return err
		}
	}
	return nil
}
