package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/vmihailenco/msgpack/v5"
)

// corruptSource returns a directory of shards of which one is truncated: a
// run that reads it fails (exit 1), so a run that exits 2 was refused before
// reading any data.
func corruptSource(t *testing.T) string {
	t.Helper()
	src := t.TempDir()
	mustPvjobs(t, "gen", "--to-dir", src, "--accounts", "a", "--from", "2024-08-01", "--to", "2024-08-01", "--rows-per-day", "50")
	path := filepath.Join(src, "20240801.a.mpk")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data[:len(data)-10], 0o644); err != nil {
		t.Fatal(err)
	}
	return src
}

// TestOutputsCheckedBeforeReading: every output problem is found before any
// data is read, exit 2, and nothing is written anywhere.
func TestOutputsCheckedBeforeReading(t *testing.T) {
	src := corruptSource(t)
	base := t.TempDir()
	notDir := filepath.Join(base, "passwd")
	os.WriteFile(notDir, []byte("root:x:0:0\n"), 0o644)
	hasDir := filepath.Join(base, "hasdir")
	os.MkdirAll(filepath.Join(hasDir, "urls.csv"), 0o755)
	good := filepath.Join(base, "good")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"output directory is a file", []string{"--out", "csv:" + notDir}, "not a directory"},
		{"below a file", []string{"--out", "csv:" + filepath.Join(notDir, "x")}, "not a directory"},
		{"directory nobody may write", []string{"--out", "csv:/proc"}, "/proc"},
		{"second output bad", []string{"--out", "csv:" + good, "--out", "csv:/proc/x"}, "/proc"},
		{"a report file is a directory", []string{"--out", "csv:" + hasDir}, "is a directory"},
		{"pattern without {report}, two reports", []string{"--out", "csv:" + good, "--jobs", "urls,devices", "--csv-pattern", "x.csv"}, "{report}"},
		{"pattern into a sub-directory", []string{"--out", "csv:" + good, "--csv-pattern", "sub/{report}.csv"}, "not a path"},
		{"pattern leaving the directory", []string{"--out", "csv:" + good, "--csv-pattern", "../{report}.csv"}, "not a path"},
		{"absolute pattern", []string{"--out", "csv:" + good, "--csv-pattern", filepath.Join(base, "{report}.csv")}, "not a path"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := slices.Concat([]string{"run", "--source", src, "--max-bad-rows", "0", "--quiet"}, tc.args)
			if !slices.Contains(args, "--jobs") {
				args = append(args, "--jobs", "urls")
			}
			before := dirNames(t, base)
			code, _, stderr := pvjobs(t, context.Background(), args...)
			if code != exitUsage || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit 2 saying %q", code, stderr, tc.want)
			}
			if strings.Contains(stderr, "truncated") {
				t.Errorf("the data was read: %s", stderr)
			}
			if after := dirNames(t, base); !slices.Equal(after, before) {
				t.Errorf("%s changed: %v", base, after)
			}
		})
	}
}

// previousReports makes output directories holding a previous urls.csv.
func previousReports(t *testing.T, names ...string) []string {
	t.Helper()
	base := t.TempDir()
	var dirs []string
	for _, n := range names {
		d := filepath.Join(base, n)
		os.MkdirAll(d, 0o755)
		if err := os.WriteFile(filepath.Join(d, "urls.csv"), []byte("previous "+n), 0o644); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, d)
	}
	return dirs
}

// hook sets onPrepared for the test.
func hook(t *testing.T, fn func(out string)) {
	t.Helper()
	onPrepared = fn
	t.Cleanup(func() { onPrepared = func(string) {} })
}

func fileText(t *testing.T, path string) string {
	t.Helper()
	b, _ := os.ReadFile(path)
	return string(b)
}

// TestOutputsCommitTogether: outputs are prepared first and committed
// together; what fails before the commit changes none, what fails during it
// is named with what was committed.
func TestOutputsCommitTogether(t *testing.T) {
	shards := genShards(t)
	args := func(dirs ...string) []string {
		a := []string{"run", "--source", shards, "--jobs", "urls", "--quiet"}
		for _, d := range dirs {
			a = append(a, "--out", "csv:"+d)
		}
		return a
	}
	t.Run("the second output fails while prepared", func(t *testing.T) {
		dirs := previousReports(t, "a", "b")
		hook(t, func(out string) {
			if out == "CSV files in "+dirs[0] { // b's directory becomes a file
				os.RemoveAll(dirs[1])
				os.WriteFile(dirs[1], []byte("not a directory"), 0o644)
			}
		})
		code, _, stderr := pvjobs(t, context.Background(), args(dirs...)...)
		if code != exitFailed || !strings.Contains(stderr, "no output was changed") {
			t.Fatalf("exit %d, stderr %q", code, stderr)
		}
		if got := fileText(t, filepath.Join(dirs[0], "urls.csv")); got != "previous a" {
			t.Errorf("a/urls.csv replaced although b failed: %.40q", got)
		}
		if names := dirNames(t, dirs[0]); !slices.Equal(names, []string{"urls.csv"}) {
			t.Errorf("a holds %v", names)
		}
	})
	t.Run("the second commit fails", func(t *testing.T) {
		dirs := previousReports(t, "a", "b")
		hook(t, func(out string) {
			if out == "CSV files in "+dirs[1] { // b's urls.csv cannot be replaced
				os.Remove(filepath.Join(dirs[1], "urls.csv"))
				os.MkdirAll(filepath.Join(dirs[1], "urls.csv", "sub"), 0o755)
			}
		})
		code, _, stderr := pvjobs(t, context.Background(), args(dirs...)...)
		if code != exitFailed || !strings.Contains(stderr, "writing CSV files in "+dirs[1]) ||
			!strings.Contains(stderr, "committed before the failure: CSV files in "+dirs[0]) {
			t.Fatalf("exit %d, stderr %q; want exit 1 naming the failed and the committed output", code, stderr)
		}
		if got := fileText(t, filepath.Join(dirs[0], "urls.csv")); !strings.HasPrefix(got, "account,") {
			t.Errorf("a/urls.csv not committed: %.40q", got)
		}
		for i, d := range dirs {
			if names := dirNames(t, d); !slices.Equal(names, []string{"urls.csv"}) {
				t.Errorf("output %d holds %v: temporary files left", i, names)
			}
		}
	})
	t.Run("interrupted after the first output was prepared", func(t *testing.T) {
		dirs := previousReports(t, "a", "b")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		hook(t, func(string) { cancel() })
		code, _, stderr := pvjobs(t, ctx, args(dirs...)...)
		if code != exitInterrupted || !strings.Contains(stderr, "interrupted; no reports written") {
			t.Fatalf("exit %d, stderr %q; want 130", code, stderr)
		}
		for _, d := range dirs {
			if names := dirNames(t, d); !slices.Equal(names, []string{"urls.csv"}) {
				t.Errorf("%s holds %v", d, names)
			}
			if got := fileText(t, filepath.Join(d, "urls.csv")); !strings.HasPrefix(got, "previous") {
				t.Errorf("%s/urls.csv replaced by an interrupted run", d)
			}
		}
	})
}

// TestOutputFiles: report files and shard files honour the umask (0644
// under 022, not os.CreateTemp's 0600), a replaced report keeps its mode, and
// the temporary file a killed run left is removed by the next run.
func TestOutputFiles(t *testing.T) {
	defer syscall.Umask(syscall.Umask(0o022))
	shards := genShards(t)
	for _, n := range dirNames(t, shards) {
		st, _ := os.Stat(filepath.Join(shards, n))
		if st.Mode().Perm() != 0o644 {
			t.Errorf("gen wrote %s with mode %04o, want 0644", n, st.Mode().Perm())
		}
	}
	out := t.TempDir()
	os.WriteFile(filepath.Join(out, "devices.csv"), []byte("previous"), 0o640)
	stale := filepath.Join(out, ".urls.csv.tmp521639925") // what a killed run of an earlier version left
	os.WriteFile(stale, []byte("219 MB of half a report"), 0o600)
	old := time.Now().Add(-7 * time.Hour)
	os.Chtimes(stale, old, old)
	mustPvjobs(t, "run", "--source", shards, "--jobs", "urls,devices", "--quiet", "--out", "csv:"+out)
	for name, want := range map[string]os.FileMode{"urls.csv": 0o644, "devices.csv": 0o640} {
		st, err := os.Stat(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s: mode %04o, want %04o", name, st.Mode().Perm(), want)
		}
	}
	if names := dirNames(t, out); !slices.Equal(names, []string{"devices.csv", "urls.csv"}) {
		t.Errorf("output holds %v", names)
	}
}

// TestInvalidUTF8 runs the urls job over page views whose URLs are not
// UTF-8: urls.csv and the table are UTF-8, the URL percent-encoded, and its
// two spellings one row.
func TestInvalidUTF8(t *testing.T) {
	src := t.TempDir()
	var values [][]byte
	for _, u := range []string{"https://x.example/caf\xe9", "https://x.example/caf%E9", "https://x.example/\xff\xfe"} {
		v, err := msgpack.Marshal(map[string]string{"url": u, "title": "T\xe9l\xe9",
			"user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"})
		if err != nil {
			t.Fatal(err)
		}
		values = append(values, v)
	}
	writeShard(t, src, "20240801.blog", values)
	out := t.TempDir()
	stdout := mustPvjobs(t, "run", "--source", src, "--jobs", "urls", "--out", "csv:"+out)
	b, err := os.ReadFile(filepath.Join(out, "urls.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if !utf8.Valid(b) || !utf8.ValidString(stdout) {
		t.Errorf("not UTF-8:\n%q\n%q", b, stdout)
	}
	for _, want := range []string{"blog,day,2024-08-01,https://x.example/caf%E9,T\ufffdl\ufffd,2,1\n", "blog,day,2024-08-01,https://x.example/%FF%FE,T\ufffdl\ufffd,1,1\n"} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("urls.csv lacks %q:\n%s", want, b)
		}
	}
}
