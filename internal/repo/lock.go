package repo

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// ErrLocked is returned by Lock when another process holds the repo.
var ErrLocked = errors.New("repo is in use by another daemon")

// Lock is an exclusive hold on a repo, released by Unlock or by the death of
// the process (it is an flock, so a daemon killed with SIGKILL leaves no stale
// lock behind).
type Lock struct{ f *os.File }

// Lock takes the repo's lock without waiting.
func (r *Repo) Lock() (*Lock, error) {
	f, err := os.OpenFile(r.Path(lockFile), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening repo lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s: %w", r.Dir, ErrLocked)
		}
		return nil, fmt.Errorf("locking repo %s: %w", r.Dir, err)
	}
	return &Lock{f: f}, nil
}

// Unlock releases the lock.
func (l *Lock) Unlock() error {
	syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	return l.f.Close()
}
