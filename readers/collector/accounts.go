package collector

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
)

// Accounts is the allow-list of account ids the collector stores page views
// for: a fixed list, or a file re-read when it changes. It is safe for
// concurrent use.
type Accounts struct {
	set  atomic.Pointer[map[string]struct{}]
	path string
	// stamp is the file's size, modification time and inode when last read.
	stamp fileStamp
}

type fileStamp struct {
	size  int64
	mtime time.Time
	ino   uint64
}

// NewAccounts returns a fixed allow-list. Every id must be a valid account id
// (mapreduce.ValidateAccount).
func NewAccounts(ids []string) (*Accounts, error) {
	set := map[string]struct{}{}
	for _, id := range ids {
		if err := mapreduce.ValidateAccount(id); err != nil {
			return nil, fmt.Errorf("accounts: %w", err)
		}
		set[id] = struct{}{}
	}
	if len(set) == 0 {
		return nil, errors.New("accounts: the list is empty")
	}
	a := &Accounts{}
	a.set.Store(&set)
	return a, nil
}

// LoadAccounts reads the allow-list from a file: account ids separated by
// new lines, commas or spaces; # starts a comment. Watch re-reads it when it
// changes.
func LoadAccounts(path string) (*Accounts, error) {
	a := &Accounts{path: path}
	if _, err := a.reload(); err != nil {
		return nil, err
	}
	return a, nil
}

// Allowed reports whether id is on the list.
func (a *Accounts) Allowed(id string) bool {
	_, ok := (*a.set.Load())[id]
	return ok
}

// Len returns the number of accounts on the list.
func (a *Accounts) Len() int { return len(*a.set.Load()) }

// Path returns the file the list is read from, or "" for a fixed list.
func (a *Accounts) Path() string { return a.path }

// reload re-reads the file when its size, modification time or inode
// changed, and reports whether it did. A file that cannot be read or holds
// an invalid id leaves the list as it was and returns the error.
func (a *Accounts) reload() (bool, error) {
	st, err := os.Stat(a.path)
	if err != nil {
		return false, fmt.Errorf("accounts file: %w", err)
	}
	stamp := fileStamp{size: st.Size(), mtime: st.ModTime(), ino: inode(st)}
	if a.set.Load() != nil && stamp == a.stamp {
		return false, nil
	}
	data, err := os.ReadFile(a.path)
	if err != nil {
		return false, fmt.Errorf("accounts file: %w", err)
	}
	set, err := parseAccounts(a.path, data)
	if err != nil {
		return false, err
	}
	a.set.Store(&set)
	a.stamp = stamp
	return true, nil
}

// parseAccounts parses an accounts file; errors name the file and line.
func parseAccounts(name string, data []byte) (map[string]struct{}, error) {
	set := map[string]struct{}{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		text, _, _ := strings.Cut(sc.Text(), "#")
		for _, id := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\r' }) {
			if err := mapreduce.ValidateAccount(id); err != nil {
				return nil, fmt.Errorf("accounts file %s:%d: %w", name, line, err)
			}
			set[id] = struct{}{}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("accounts file %s: %w", name, err)
	}
	if len(set) == 0 {
		return nil, fmt.Errorf("accounts file %s: no account ids", name)
	}
	return set, nil
}

// watch re-reads the file every interval until ctx ends (no-op for a fixed
// list), counting reloads and errors in m.
func (a *Accounts) watch(ctx context.Context, interval time.Duration, m *Metrics, log *slog.Logger) {
	if a.path == "" {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		changed, err := a.reload()
		switch {
		case err != nil:
			m.accountErrors.Add(1)
			log.Error("collect: accounts file not re-read; keeping the previous list", "err", err)
		case changed:
			m.accountReloads.Add(1)
			log.Info("collect: accounts file re-read", "path", a.path, "accounts", a.Len())
		}
	}
}
