// Package atomicfile writes files so that a reader sees the old content or
// the new, never a half file, and a crash leaves one or the other on disk:
// every file pvjobs writes (CSV reports, the metrics file, the scheduler's
// state, shard files) goes through it.
//
// A file is written to a temporary file beside its final path, then synced
// (fsync), closed and renamed over the final path, and the directory is
// synced so that the rename itself survives a crash. The steps can be split
// for outputs that must appear together: write and [File.Finish] every file
// first (prepare), then [CommitAll] renames them (commit), or [File.Abort]
// drops them.
//
// # Temporary names
//
// A temporary file is named
//
//	.<name>.pvjobs-tmp-<host>-<pid>-<random>
//
// beside <name>: hidden, never matching a *.csv or *.prom glob, and telling
// which host (8 hex digits of a hash of the host name) and process made it.
// [Create] first removes the stale temporary files of the same final name,
// so a killed run's leftovers go with the next run that writes the file. A
// temporary file is stale when
//
//   - it was made on this host by a process that is no longer running, or
//   - it has not been modified for StaleAge (6 hours): other hosts sharing
//     the directory, and process ids reused since.
//
// The temporary files of earlier pvjobs versions (.<name>.tmp<digits>) are
// stale after StaleAge too.
//
// # Permissions
//
// A new file gets mode 0666 less the process's umask, like any file a
// program creates (0644 with the usual umask 022); a file that replaces
// another keeps the mode of the file it replaces.
package atomicfile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// StaleAge is how long a temporary file must have gone unmodified to be
// stale whoever made it.
const StaleAge = 6 * time.Hour

// marker separates the final name from the owner in a temporary name.
const marker = ".pvjobs-tmp-"

// maxBase bounds the part of the final name copied into a temporary name,
// so that the temporary name stays within the 255 bytes of a file name.
const maxBase = 180

// File is a file being written atomically. Its methods are not safe for
// concurrent use.
type File struct {
	f        *os.File
	path     string
	tmp      string
	finished bool
	done     bool // committed or aborted
}

// Create starts writing the file at path: it removes the stale temporary
// files of path (see the package documentation) and creates a new temporary
// file beside it. The directory must exist. Nothing is visible at path until
// Commit.
func Create(path string) (*File, error) {
	dir, base := filepath.Split(path)
	if base == "" || base == "." || base == ".." {
		return nil, fmt.Errorf("atomic file %q: not a file name", path)
	}
	if dir == "" {
		dir = "."
	}
	if _, err := RemoveStale(path); err != nil {
		return nil, err
	}
	perm := fs.FileMode(0o666)
	keep := false
	if st, err := os.Lstat(path); err == nil && st.Mode().IsRegular() {
		perm, keep = st.Mode().Perm(), true
	}
	for attempt := 0; ; attempt++ {
		tmp := filepath.Join(dir, tempPrefix(base)+owner+"-"+randomHex(4))
		f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, perm)
		if errors.Is(err, fs.ErrExist) && attempt < 100 {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("creating %s: %w", path, err)
		}
		if keep { // the umask may have taken bits off
			if err := f.Chmod(perm); err != nil {
				f.Close()
				os.Remove(tmp)
				return nil, fmt.Errorf("creating %s: %w", path, err)
			}
		}
		return &File{f: f, path: path, tmp: tmp}, nil
	}
}

// Write writes p to the temporary file.
func (f *File) Write(p []byte) (int, error) {
	if f.finished {
		return 0, fmt.Errorf("writing %s: %w", f.path, fs.ErrClosed)
	}
	n, err := f.f.Write(p)
	if err != nil {
		err = fmt.Errorf("writing %s: %w", f.path, err)
	}
	return n, err
}

// Name returns the final path.
func (f *File) Name() string { return f.path }

// TempName returns the temporary file's path.
func (f *File) TempName() string { return f.tmp }

// Finish syncs the temporary file to disk and closes it: it is then ready to
// be committed. Finish is idempotent.
func (f *File) Finish() error {
	if f.finished {
		return nil
	}
	f.finished = true
	err := f.f.Sync()
	if cerr := f.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", f.path, err)
	}
	return nil
}

// Commit finishes the file, renames it over the final path and syncs the
// directory.
func (f *File) Commit() error {
	_, err := CommitAll([]*File{f})
	return err
}

// Abort closes and removes the temporary file; the final path is left as it
// was. Abort after Commit does nothing.
func (f *File) Abort() error {
	if f.done {
		return nil
	}
	f.done = true
	if !f.finished {
		f.finished = true
		f.f.Close()
	}
	if err := os.Remove(f.tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing %s: %w", f.tmp, err)
	}
	return nil
}

// CommitAll finishes every file, then renames each over its final path in
// order and syncs their directories. It returns how many files were renamed
// into place: on an error, files[:n] are committed and files[n:] are not
// (their temporary files are left for Abort).
func CommitAll(files []*File) (n int, err error) {
	for _, f := range files {
		if f.done {
			return 0, fmt.Errorf("committing %s: already committed or aborted", f.path)
		}
		if err := f.Finish(); err != nil {
			return 0, err
		}
	}
	dirs := map[string]bool{}
	for i, f := range files {
		if err := os.Rename(f.tmp, f.path); err != nil {
			return i, fmt.Errorf("committing %s: %w", f.path, err)
		}
		f.done = true
		dirs[filepath.Dir(f.path)] = true
	}
	for d := range dirs {
		if err := SyncDir(d); err != nil {
			return len(files), err
		}
	}
	return len(files), nil
}

// WriteFile writes data to path atomically.
func WriteFile(path string, data []byte) error {
	f, err := Create(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Abort()
		return err
	}
	if err := f.Commit(); err != nil {
		f.Abort()
		return err
	}
	return nil
}

// SyncDir syncs a directory, so that the renames and creations in it are on
// disk. File systems that cannot sync a directory (EINVAL) are not an error.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	return nil
}

// Probe checks that files can be created in dir, which must exist: it
// creates and removes a temporary file there.
func Probe(dir string) error {
	st, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	tmp := filepath.Join(dir, tempPrefix("probe")+owner+"-"+randomHex(4))
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("cannot create files in %s: %w", dir, err)
	}
	f.Close()
	if err := os.Remove(tmp); err != nil {
		return fmt.Errorf("cannot remove files in %s: %w", dir, err)
	}
	return nil
}

// IsTemp reports whether the file name (a base name) is a temporary file of
// this package.
func IsTemp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name, marker)
}

// RemoveStale removes the stale temporary files of path (see the package
// documentation) and returns their names. Files it cannot remove are
// skipped; only an unreadable directory is an error, and a missing one is
// none.
func RemoveStale(path string) ([]string, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", dir, err)
	}
	prefix := tempPrefix(base)
	legacy := "." + base + ".tmp"
	now := time.Now()
	var removed []string
	for _, e := range ents {
		name := e.Name()
		var stale bool
		switch {
		case strings.HasPrefix(name, prefix):
			stale = staleOwner(name[len(prefix):])
		case strings.HasPrefix(name, legacy) && isDigits(name[len(legacy):]):
		default:
			continue
		}
		if !e.Type().IsRegular() {
			continue
		}
		if !stale {
			info, err := e.Info()
			if err != nil {
				continue
			}
			stale = now.Sub(info.ModTime()) >= StaleAge
		}
		if stale {
			p := filepath.Join(dir, name)
			if err := os.Remove(p); err == nil {
				removed = append(removed, p)
			}
		}
	}
	return removed, nil
}

// staleOwner reports whether the owner part of a temporary name
// (<host>-<pid>-<random>) names a process of this host that is gone.
func staleOwner(s string) bool {
	parts := strings.Split(s, "-")
	if len(parts) != 3 || parts[0] != hostID {
		return false
	}
	pid, err := strconv.Atoi(parts[1])
	if err != nil || pid <= 0 {
		return false
	}
	return pid != os.Getpid() && !processAlive(pid)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// tempPrefix returns the start of the temporary names of the final name
// base: ".<base>.pvjobs-tmp-".
func tempPrefix(base string) string {
	if len(base) > maxBase {
		base = base[:maxBase]
	}
	return "." + base + marker
}

var (
	hostID = func() string {
		h := fnv.New32a()
		name, _ := os.Hostname()
		h.Write([]byte(name))
		return fmt.Sprintf("%08x", h.Sum32())
	}()
	// owner is the <host>-<pid> part of this process's temporary names.
	owner = hostID + "-" + strconv.Itoa(os.Getpid())
)

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}
