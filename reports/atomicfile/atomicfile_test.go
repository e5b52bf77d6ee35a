package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func names(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func readString(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// withUmask runs fn with the process's umask set to m (tests of this
// package do not run in parallel).
func withUmask(m int, fn func()) {
	old := syscall.Umask(m)
	defer syscall.Umask(old)
	fn()
}

func TestWriteFileModes(t *testing.T) {
	for _, tc := range []struct {
		name     string
		umask    int
		existing fs.FileMode // 0: no file to replace
		want     fs.FileMode
	}{
		{"new file, umask 022", 0o022, 0, 0o644},
		{"new file, umask 027", 0o027, 0, 0o640},
		{"new file, umask 002", 0o002, 0, 0o664},
		{"replaced 0644 file keeps its mode", 0o077, 0o644, 0o644},
		{"replaced 0600 file keeps its mode", 0o022, 0o600, 0o600},
		{"replaced 0664 file keeps its mode", 0o022, 0o664, 0o664},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "urls.csv")
			if tc.existing != 0 {
				if err := os.WriteFile(path, []byte("old"), tc.existing); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(path, tc.existing); err != nil {
					t.Fatal(err)
				}
			}
			withUmask(tc.umask, func() {
				if err := WriteFile(path, []byte("new")); err != nil {
					t.Fatal(err)
				}
			})
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := st.Mode().Perm(); got != tc.want {
				t.Errorf("mode %04o, want %04o", got, tc.want)
			}
			if got := readString(t, path); got != "new" {
				t.Errorf("content %q", got)
			}
			if n := names(t, filepath.Dir(path)); !slices.Equal(n, []string{"urls.csv"}) {
				t.Errorf("directory holds %v", n)
			}
		})
	}
}

func TestPrepareThenCommitOrAbort(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.csv"), filepath.Join(dir, "b.csv")
	if err := os.WriteFile(a, []byte("old a"), 0o644); err != nil {
		t.Fatal(err)
	}
	prepare := func() []*File {
		var fs []*File
		for _, p := range []string{a, b} {
			f, err := Create(p)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Write([]byte("new " + filepath.Base(p))); err != nil {
				t.Fatal(err)
			}
			if err := f.Finish(); err != nil {
				t.Fatal(err)
			}
			if !IsTemp(filepath.Base(f.TempName())) || strings.HasSuffix(f.TempName(), ".csv") {
				t.Errorf("temporary name %s", f.TempName())
			}
			fs = append(fs, f)
		}
		return fs
	}
	// Prepared but aborted: nothing changes, no temporary file stays.
	for _, f := range prepare() {
		if got := readString(t, a); got != "old a" {
			t.Fatalf("a.csv changed before the commit: %q", got)
		}
		if err := f.Abort(); err != nil {
			t.Fatal(err)
		}
	}
	if n := names(t, dir); !slices.Equal(n, []string{"a.csv"}) {
		t.Errorf("after abort the directory holds %v", n)
	}
	// Prepared and committed: both appear.
	files := prepare()
	if n, err := CommitAll(files); err != nil || n != 2 {
		t.Fatalf("CommitAll: %d, %v", n, err)
	}
	if readString(t, a) != "new a.csv" || readString(t, b) != "new b.csv" {
		t.Errorf("after commit: %q, %q", readString(t, a), readString(t, b))
	}
	for _, f := range files {
		if err := f.Abort(); err != nil { // a no-op after the commit
			t.Error(err)
		}
	}
	if n := names(t, dir); !slices.Equal(n, []string{"a.csv", "b.csv"}) {
		t.Errorf("directory holds %v", n)
	}
}

// TestCommitAllPartial: a rename that fails names how many files went in
// before it.
func TestCommitAllPartial(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.csv"), filepath.Join(dir, "b.csv")
	var files []*File
	for _, p := range []string{a, b} {
		f, err := Create(p)
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte("x"))
		files = append(files, f)
	}
	// b.csv becomes a non-empty directory: the rename over it fails.
	if err := os.MkdirAll(filepath.Join(b, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	n, err := CommitAll(files)
	if n != 1 || err == nil || !strings.Contains(err.Error(), "b.csv") {
		t.Fatalf("CommitAll: %d, %v; want 1 and an error naming b.csv", n, err)
	}
	if readString(t, a) != "x" {
		t.Errorf("a.csv not committed")
	}
	if err := files[1].Abort(); err != nil {
		t.Fatal(err)
	}
	if n := names(t, dir); !slices.Equal(n, []string{"a.csv", "b.csv"}) {
		t.Errorf("directory holds %v", n)
	}
}

// deadPID returns the id of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	if processAlive(pid) {
		t.Skipf("pid %d was reused already", pid)
	}
	return pid
}

func TestRemoveStale(t *testing.T) {
	dir := t.TempDir()
	final := filepath.Join(dir, "urls.csv")
	old := time.Now().Add(-StaleAge - time.Minute)
	recent := time.Now().Add(-time.Minute)
	dead := deadPID(t)
	files := []struct {
		name  string
		mtime time.Time
		stale bool
	}{
		{".urls.csv.pvjobs-tmp-" + hostID + "-" + strconv.Itoa(dead) + "-0a0b0c0d", recent, true},         // a killed run of this host
		{".urls.csv.pvjobs-tmp-" + hostID + "-" + strconv.Itoa(os.Getpid()) + "-0a0b0c0d", old, true},     // any file unmodified for StaleAge
		{".urls.csv.pvjobs-tmp-" + hostID + "-" + strconv.Itoa(os.Getpid()) + "-01020304", recent, false}, // this process is writing it
		{".urls.csv.pvjobs-tmp-" + hostID + "-" + strconv.Itoa(os.Getppid()) + "-01020304", recent, false},
		{".urls.csv.pvjobs-tmp-00000000-" + strconv.Itoa(dead) + "-01020304", recent, false}, // another host's: its pid says nothing here
		{".urls.csv.pvjobs-tmp-00000000-1-01020304", old, true},
		{".urls.csv.tmp521639925", old, true}, // an earlier version's
		{".urls.csv.tmp521639926", recent, false},
		{".urls.csv.tmpx", old, false},                                                             // not ours
		{".devices.csv.pvjobs-tmp-" + hostID + "-" + strconv.Itoa(dead) + "-0a0b0c0d", old, false}, // another file's
		{"urls.csv", old, false},
	}
	for _, f := range files {
		p := filepath.Join(dir, f.name)
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, f.mtime, f.mtime); err != nil {
			t.Fatal(err)
		}
	}
	// A directory named like a temporary file is left alone.
	if err := os.Mkdir(filepath.Join(dir, ".urls.csv.pvjobs-tmp-00000000-1-ffffffff"), 0o755); err != nil {
		t.Fatal(err)
	}
	removed, err := RemoveStale(final)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, f := range files {
		if f.stale {
			want = append(want, filepath.Join(dir, f.name))
		}
	}
	slices.Sort(removed)
	slices.Sort(want)
	if !slices.Equal(removed, want) {
		t.Errorf("removed\n%v\nwant\n%v", removed, want)
	}
	for _, f := range files {
		_, err := os.Stat(filepath.Join(dir, f.name))
		if gone := errors.Is(err, fs.ErrNotExist); gone != f.stale {
			t.Errorf("%s: gone %v, want %v", f.name, gone, f.stale)
		}
	}
	// Create removes them too: a killed run's file goes with the next run.
	leftover := filepath.Join(dir, ".urls.csv.pvjobs-tmp-"+hostID+"-"+strconv.Itoa(dead)+"-99999999")
	os.WriteFile(leftover, []byte("219 MB"), 0o600)
	if err := WriteFile(final, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(leftover); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Create left the stale %s", leftover)
	}
}

func TestProbe(t *testing.T) {
	dir := t.TempDir()
	if err := Probe(dir); err != nil {
		t.Fatal(err)
	}
	if n := names(t, dir); len(n) != 0 {
		t.Errorf("Probe left %v", n)
	}
	file := filepath.Join(dir, "f")
	os.WriteFile(file, nil, 0o644)
	for _, bad := range []string{file, filepath.Join(dir, "missing"), "/proc"} {
		if err := Probe(bad); err == nil {
			t.Errorf("Probe(%s) succeeded", bad)
		}
	}
}

func TestLongName(t *testing.T) {
	path := filepath.Join(t.TempDir(), strings.Repeat("n", 250))
	if err := WriteFile(path, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if got := readString(t, path); got != "x" {
		t.Errorf("content %q", got)
	}
}
