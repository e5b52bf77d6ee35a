package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Set is the files of one output written under temporary names, committed
// or aborted together, and the directories made for them: what an output's
// Prepare returns (reports/csv, reports/html). Label names the output in
// errors ("csv output"). Its methods are called from one goroutine.
type Set struct {
	Label   string
	files   []*File
	created []string // directories MkdirAll made, deepest first
}

// MkdirAll makes dir and its missing parents; Abort removes those it made
// while they are empty.
func (s *Set) MkdirAll(dir string) error {
	var missing []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return fmt.Errorf("%s: %w", s.Label, err)
	}
	s.created = append(s.created, missing...)
	return nil
}

// Create starts the temporary file of path (see Create) in the set.
func (s *Set) Create(path string) (*File, error) {
	f, err := Create(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.Label, err)
	}
	s.files = append(s.files, f)
	return f, nil
}

// Files returns the final paths of the set's files.
func (s *Set) Files() []string {
	out := make([]string, len(s.files))
	for i, f := range s.files {
		out[i] = f.Name()
	}
	return out
}

// Commit renames every file into place and syncs their directories. It does
// not look at a context: once begun, it finishes. When a rename fails, the
// error says which files were replaced already; the rest are removed.
func (s *Set) Commit() error {
	n, err := CommitAll(s.files)
	if err == nil {
		return nil
	}
	var rest []*File
	rest, s.files = s.files[n:], s.files[:n]
	for _, f := range rest {
		f.Abort()
	}
	if n > 0 {
		return fmt.Errorf("%s: %w (already replaced: %s)", s.Label, err, strings.Join(s.Files(), ", "))
	}
	return fmt.Errorf("%s: %w", s.Label, err)
}

// Abort removes the temporary files and the directories MkdirAll made (when
// still empty); the final files stay as they were. Abort after Commit does
// nothing.
func (s *Set) Abort() error {
	var first error
	for _, f := range s.files {
		if err := f.Abort(); err != nil && first == nil {
			first = err
		}
	}
	for _, d := range s.created {
		os.Remove(d) // fails, as it should, when something else is in it
	}
	s.created = nil
	return first
}
