// Package atomicfile writes files so that a reader, or the same program
// after a crash or power loss, finds either the old content or the new,
// never a mix or a torn file.
//
// WriteFile and Write put the data in a temporary file in the same
// directory ("." + name + ".*" + TempSuffix), fsync it, give it the
// permission asked for, rename it over the target and fsync the
// directory, so that the rename itself is on disk when they return. On
// any failure the temporary file is removed and the target is left as it
// was. A crash can leave a temporary file behind; a program that owns a
// directory may remove names ending in TempSuffix when it opens it.
//
// What it does not promise: anything on a file system without atomic
// rename (it targets POSIX systems), or ordering between writes to
// different files.
package atomicfile

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// TempSuffix ends the name of every temporary file this package makes.
const TempSuffix = ".tmp"

// WriteFile replaces the file at path with data, atomically and durably,
// with permission perm.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	return Write(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// Write replaces the file at path with what fill writes, atomically and
// durably, with permission perm. If fill fails, the file at path is left
// as it was and Write returns fill's error, wrapped.
func Write(path string, perm fs.FileMode, fill func(w io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*"+TempSuffix)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = fill(f); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = f.Chmod(perm); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("renaming into %s: %w", path, err)
	}
	if err := SyncDir(dir); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// SyncDir fsyncs directory dir, so that the names created, renamed or
// removed in it are on disk.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	return nil
}
