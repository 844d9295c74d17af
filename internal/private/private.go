// Package private keeps the files of a repo that hold money or secrets
// readable by their owner alone: 0600 for files, 0700 for directories.
//
// SQLite creates a database file with mode 0644 (less the umask) and gives
// its -wal, -shm and -journal files the mode of the database file; SQLite
// here creates the database file first, empty and 0600 (an empty file is a
// valid empty database), so that all of them are private from the start.
// Files of older repos are narrowed when they are opened.
//
// It uses the standard library only, so that every package may call it.
package private

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// SQLite makes the database at path private before SQLite opens it: it
// creates an empty file 0600 when there is none, and takes group and other
// permissions away from the file and its -wal, -shm and -journal files when
// they have any.
func SQLite(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		if err := f.Close(); err != nil {
			return fmt.Errorf("creating %s: %w", path, err)
		}
	case !errors.Is(err, fs.ErrExist):
		return fmt.Errorf("creating %s: %w", path, err)
	}
	return Narrow(path, path+"-wal", path+"-shm", path+"-journal")
}

// Narrow takes group and other permissions away from each path that
// exists and has any. It never widens a mode.
func Narrow(paths ...string) error {
	for _, p := range paths {
		st, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("checking the mode of %s: %w", p, err)
		}
		if mode := st.Mode().Perm(); mode&0o077 != 0 {
			if err := os.Chmod(p, mode&^0o077); err != nil {
				return fmt.Errorf("making %s private: %w", p, err)
			}
		}
	}
	return nil
}
