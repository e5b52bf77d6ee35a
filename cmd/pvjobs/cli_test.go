package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	stdcsv "encoding/csv"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/file"
	"github.com/vmihailenco/msgpack/v5"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// pvjobs runs the CLI in-process with args and returns its exit code and
// output.
func pvjobs(t *testing.T, ctx context.Context, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(ctx, append([]string{"pvjobs"}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

func mustPvjobs(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := pvjobs(t, context.Background(), args...)
	if code != 0 {
		t.Fatalf("pvjobs %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update if the change is intended):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// TestUsageErrors: each mistake exits 2 with a message saying what is wrong,
// before any data is read or any output written.
func TestUsageErrors(t *testing.T) {
	shards := t.TempDir()
	mustPvjobs(t, "gen", "--to-dir", shards, "--rows-per-day", "20", "--from", "2024-08-01", "--to", "2024-08-01")
	tests := []struct {
		name string
		args []string
		msg  string
	}{
		{"unknown flag", []string{"run", "--bogus"}, "bogus"},
		{"unknown job", []string{"run", "--jobs", "urls,nope"}, `unknown job "nope"`},
		{"job named twice", []string{"run", "--jobs", "urls,urls"}, "twice"},
		{"bad date", []string{"run", "--from", "2024-02-30", "--to", "2024-03-01"}, "--from"},
		{"bad month", []string{"run", "--from", "2024-01-01", "--to", "2024-13-01"}, "--to"},
		{"word date", []string{"run", "--from", "yesterday", "--to", "2024-03-01"}, "YYYY-MM-DD"},
		{"from after to", []string{"run", "--from", "2024-08-02", "--to", "2024-08-01"}, "after"},
		{"from without to", []string{"run", "--from", "2024-08-01"}, "both --from and --to"},
		{"to without from", []string{"run", "--to", "2024-08-01"}, "both --from and --to"},
		{"bad time zone", []string{"run", "--tz", "Mars/Olympus_Mons"}, "--tz"},
		{"bad budget", []string{"run", "--max-bad-rows", "lots"}, "--max-bad-rows"},
		{"NaN budget", []string{"run", "--max-bad-rows", "NaN%"}, "--max-bad-rows"},
		{"budget over 100%", []string{"run", "--max-bad-rows", "150%"}, "--max-bad-rows"},
		{"bad account", []string{"run", "--accounts", "blog,a.b"}, "invalid account id"},
		{"all and an account", []string{"run", "--accounts", "all,blog"}, `--accounts: "all" with other accounts`},
		{"empty time zone", []string{"run", "--tz", ""}, `--tz: unknown time zone ""`},
		{"local time zone", []string{"run", "--tz", "Local"}, `--tz: unknown time zone "Local"`},
		{"timeout of a week", []string{"run", "--timeout", "1w", "--max-bad-rows", "x"}, "--max-bad-rows"},
		{"long account", []string{"run", "--accounts", strings.Repeat("a", 65)}, "invalid account id"},
		{"no accounts", []string{"run", "--accounts", " , "}, "--accounts"},
		{"missing source", []string{"run", "--source", filepath.Join(shards, "nope")}, "--source"},
		{"source is a file", []string{"run", "--source", "cli_test.go"}, "--source"},
		{"unknown source scheme", []string{"run", "--source", "ftp://host/dir"}, "--source"},
		{"unexpected argument", []string{"run", "extra"}, `unexpected argument "extra"`},
		{"bad output", []string{"run", "--out", "ftp://x"}, "--out"},
		{"empty csv output", []string{"run", "--out", "csv:"}, "--out"},
		{"negative workers", []string{"run", "--workers", "-1"}, "--workers"},
		{"negative top", []string{"run", "--top", "-1"}, "--top"},
		{"negative slices", []string{"run", "--slices", "-1"}, "slices"},
		{"too many slices", []string{"run", "--slices", "86401"}, "slices"},
		{"too long a range", []string{"run", "--from", "2000-01-01", "--to", "2024-12-31"}, "longer than"},
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"bad log level", []string{"--log-level", "loud", "jobs"}, "--log-level"},
		{"jobs with an argument", []string{"jobs", "urls"}, "unexpected argument"},
		{"gen bad account", []string{"gen", "--to-dir", shards, "--accounts", "a b"}, "invalid account id"},
		{"gen bad rows", []string{"gen", "--to-dir", shards, "--rows-per-day", "0"}, "--rows-per-day"},
		{"gen bad date", []string{"gen", "--to-dir", shards, "--from", "2024-02-30"}, "--from"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			args := tt.args
			if args[0] == "run" {
				// A real source and output, so that nothing but the mistake
				// can stop the run.
				args = slices.Concat(args, []string{"--out", "csv:" + out})
				if !slices.Contains(args, "--source") {
					args = append(args, "--source", shards)
				}
				if !slices.Contains(args, "--jobs") {
					args = append(args, "--jobs", "urls")
				}
			}
			before := dirNames(t, shards)
			start := time.Now()
			code, stdout, stderr := pvjobs(t, context.Background(), args...)
			if code != 2 {
				t.Fatalf("pvjobs %s: exit %d, want 2\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, stdout, stderr)
			}
			if !strings.Contains(stderr, tt.msg) {
				t.Errorf("stderr %q does not say %q", stderr, tt.msg)
			}
			if !strings.Contains(stderr, "pvjobs help") {
				t.Errorf("stderr %q does not point to the help", stderr)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("a usage error wrote output %s", out)
			}
			if after := dirNames(t, shards); !slices.Equal(after, before) {
				t.Errorf("shard directory changed: %v", after)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %s: work was done before the usage check", d)
			}
		})
	}
}

// maskTimes hides the run's duration and speed in the summary line.
var maskTimes = regexp.MustCompile(`· [0-9.]+(ms|µs|s|m[0-9.]+s) · [0-9,]+ rows/s ·`)

func TestRunSample(t *testing.T) {
	out := t.TempDir()
	stdout := mustPvjobs(t, "run", "--jobs", "urls", "--top", "3", "--workers", "2", "--out", "csv:"+out)
	if names := dirNames(t, out); !slices.Equal(names, []string{"urls.csv"}) {
		t.Fatalf("wrote %v, want urls.csv", names)
	}
	csvBytes, err := os.ReadFile(filepath.Join(out, "urls.csv"))
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "run-sample/urls.csv", csvBytes)
	masked := maskTimes.ReplaceAllString(stdout, "· TIME · SPEED rows/s ·")
	masked = strings.ReplaceAll(masked, out, "OUT")
	if masked == stdout {
		t.Errorf("summary line not found in stdout:\n%s", stdout)
	}
	checkGolden(t, "run-sample/stdout.txt", []byte(masked))
	for _, want := range []string{"urls — account blog — top 3 of", "urls — account shop — top 3 of", "shards 14 read, 0 missing", "wrote CSV files in " + out} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	// --quiet prints nothing and writes the same file.
	out2 := t.TempDir()
	if s := mustPvjobs(t, "run", "--jobs", "urls", "--quiet", "--workers", "1", "--slices", "96", "--out", "csv:"+out2); s != "" {
		t.Errorf("--quiet printed %q", s)
	}
	again, _ := os.ReadFile(filepath.Join(out2, "urls.csv"))
	if !bytes.Equal(again, csvBytes) {
		t.Errorf("a second run with other workers and slices wrote a different urls.csv")
	}
}

// TestRunInterop runs the urls job over the shard file written by Python
// (testdata/interop) and checks the report cell by cell.
func TestRunInterop(t *testing.T) {
	out := t.TempDir()
	mustPvjobs(t, "run", "--source", "../../testdata/interop", "--jobs", "urls", "--include-bots", "--quiet", "--out", "csv:"+out)
	got, err := os.ReadFile(filepath.Join(out, "urls.csv"))
	if err != nil {
		t.Fatal(err)
	}
	urls := []string{
		"http://py.example.com/legacy?id=7", // utm_source dropped
		"https://py.example.com/",
		"https://py.example.com/caf\u00e9/\u65e5\u672c",
		"https://py.example.com/last",
		"https://py.example.com/map16",
	}
	titles := []string{"Legacy raw", "Home", strings.Repeat("T", 299) + "é", "(not set)", "Sixteen"}
	want := "account,period,start,url,title,pageviews,visitors\n"
	for _, period := range []string{"day", "range"} {
		for i, u := range urls {
			want += "pyacct," + period + ",2024-08-01," + u + "," + titles[i] + ",1,1\n"
		}
	}
	if string(got) != want {
		t.Errorf("urls.csv:\n%s\nwant:\n%s", got, want)
	}
}

func TestJobsAndVersion(t *testing.T) {
	out := mustPvjobs(t, "jobs")
	if !strings.HasPrefix(out, "JOB ") || !regexp.MustCompile(`(?m)^urls +urls +page views and visitors per URL`).MatchString(out) {
		t.Errorf("jobs printed:\n%s", out)
	}
	for _, args := range [][]string{{"--version"}, {"-v"}} {
		out := mustPvjobs(t, args...)
		if strings.TrimSpace(out) != "pvjobs version "+version {
			t.Errorf("pvjobs %s printed %q", args[0], out)
		}
	}
	if out := mustPvjobs(t, "help"); !strings.Contains(out, "run") || !strings.Contains(out, "gen") {
		t.Errorf("help printed:\n%s", out)
	}
}

// TestGen writes shards twice with one seed and once with another, and reads
// them back with run.
func TestGen(t *testing.T) {
	base := t.TempDir()
	gen := func(dir string, seed int, extra ...string) int64 {
		out := mustPvjobs(t, slices.Concat([]string{"gen", "--to-dir", filepath.Join(base, dir), "--accounts", "a,b",
			"--from", "2024-08-01", "--to", "2024-08-02", "--rows-per-day", "150", "--seed", strconv.Itoa(seed)}, extra)...)
		m := regexp.MustCompile(`^wrote (\d+) page views in 4 shards to `).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("gen printed %q", out)
		}
		n, _ := strconv.ParseInt(m[1], 10, 64)
		return n
	}
	n1 := gen("one", 7)
	n2 := gen("two", 7)
	gen("other", 8)
	ngz := gen("gz", 7, "--gzip")
	files := dirNames(t, filepath.Join(base, "one"))
	if want := []string{"20240801.a.mpk", "20240801.b.mpk", "20240802.a.mpk", "20240802.b.mpk"}; !slices.Equal(files, want) {
		t.Fatalf("gen wrote %v, want %v", files, want)
	}
	if n1 != n2 || n1 != ngz {
		t.Errorf("rows written: %d, %d, %d (gzip)", n1, n2, ngz)
	}
	for _, f := range files {
		a, _ := os.ReadFile(filepath.Join(base, "one", f))
		b, _ := os.ReadFile(filepath.Join(base, "two", f))
		c, _ := os.ReadFile(filepath.Join(base, "other", f))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two runs of seed 7", f)
		}
		if bytes.Equal(a, c) {
			t.Errorf("%s is the same for seeds 7 and 8", f)
		}
	}
	// Read back: the range rows of the urls report add up to the rows
	// written, and plain and gzip files give the same report.
	var reports [][]byte
	for _, dir := range []string{"one", "gz"} {
		out := filepath.Join(base, dir+"-out")
		mustPvjobs(t, "run", "--source", filepath.Join(base, dir), "--jobs", "urls", "--include-bots", "--quiet", "--out", "csv:"+out)
		b, err := os.ReadFile(filepath.Join(out, "urls.csv"))
		if err != nil {
			t.Fatal(err)
		}
		reports = append(reports, b)
		recs, err := stdcsv.NewReader(bytes.NewReader(b)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		var total int64
		accounts := map[string]bool{}
		pv := column(t, recs[0], "pageviews")
		for _, r := range recs[1:] {
			accounts[r[0]] = true
			if r[1] == "range" {
				v, _ := strconv.ParseInt(r[pv], 10, 64)
				total += v
			}
		}
		if total != n1 || len(accounts) != 2 {
			t.Errorf("%s: range rows add up to %d over %d accounts, gen wrote %d rows for 2", dir, total, len(accounts), n1)
		}
	}
	if !bytes.Equal(reports[0], reports[1]) {
		t.Errorf("plain and gzip shards give different reports")
	}
}

func TestRunCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := pvjobs(t, ctx, "run", "--jobs", "urls", "--out", "csv:"+out)
	if code != 130 {
		t.Fatalf("exit %d, want 130\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "interrupted") {
		t.Errorf("stderr %q", stderr)
	}
	if names := dirNames(t, out); len(names) != 0 {
		t.Errorf("a cancelled run wrote %v", names)
	}
}

// writeShard writes rows into dir/<key>.mpk with the file Writer.
func writeShard(t *testing.T, dir, key string, values [][]byte) {
	t.Helper()
	k, err := mapreduce.ParseShardKey(key)
	if err != nil {
		t.Fatal(err)
	}
	w, err := file.Create(dir, k, false)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range values {
		if err := w.Write(mapreduce.TimeUUID(k.Day.Add(time.Duration(i)*time.Minute), 1, 1), v); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestRunCorruptShard(t *testing.T) {
	src := t.TempDir()
	mustPvjobs(t, "gen", "--to-dir", src, "--accounts", "a,b", "--from", "2024-08-01", "--to", "2024-08-02", "--rows-per-day", "100")
	path := filepath.Join(src, "20240802.a.mpk")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data[:len(data)-10], 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	// A previous report in the output directory must survive.
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "urls.csv"), []byte("previous"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := pvjobs(t, context.Background(), "run", "--source", src, "--jobs", "urls", "--out", "csv:"+out)
	if code != 1 {
		t.Fatalf("exit %d, want 1\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	for _, want := range []string{"no reports written", "20240802.a.mpk", "truncated", "byte "} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if names := dirNames(t, out); !slices.Equal(names, []string{"urls.csv"}) {
		t.Errorf("output directory holds %v", names)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "urls.csv")); string(b) != "previous" {
		t.Errorf("the previous urls.csv was replaced by a failed run")
	}
}

func TestRunBadRowsAndMissingShards(t *testing.T) {
	src := t.TempDir()
	good, err := msgpack.Marshal(map[string]string{"url": "/a",
		"user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"})
	if err != nil {
		t.Fatal(err)
	}
	values := [][]byte{good, good, []byte("not msgpack"), good}
	writeShard(t, src, "20240801.blog", values)
	args := []string{"run", "--source", src, "--accounts", "blog,shop", "--from", "2024-08-01", "--to", "2024-08-01", "--jobs", "urls"}

	// One bad row of four is within 25%, and shop's shard is missing.
	out := t.TempDir()
	code, stdout, stderr := pvjobs(t, context.Background(), slices.Concat(args, []string{"--max-bad-rows", "25%", "--out", "csv:" + out})...)
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "missing shards: 20240801.shop") || !strings.Contains(stdout, "(1 bad)") {
		t.Errorf("stdout:\n%s", stdout)
	}
	if !strings.Contains(stderr, "bad row skipped") || !strings.Contains(stderr, "20240801.blog") || !strings.Contains(stderr, "row=2") {
		t.Errorf("stderr does not report the bad row:\n%s", stderr)
	}
	b, _ := os.ReadFile(filepath.Join(out, "urls.csv"))
	if !strings.Contains(string(b), "blog,range,2024-08-01,/a,(not set),3,1\n") {
		t.Errorf("urls.csv:\n%s", b)
	}

	// With no budget the run fails and names the bad row.
	out = filepath.Join(t.TempDir(), "out")
	code, _, stderr = pvjobs(t, context.Background(), slices.Concat(args, []string{"--max-bad-rows", "0", "--out", "csv:" + out})...)
	if code != 1 || !strings.Contains(stderr, "too many bad rows") || !strings.Contains(stderr, "20240801.blog row 2") ||
		!strings.Contains(stderr, "--max-bad-rows, now 0") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
	if names := dirNames(t, out); len(names) != 0 {
		t.Errorf("failed run wrote %v", names)
	}
}

// TestYearOne: --from 0001-01-01 is a day like any other, not "no --from"
// (its midnight is Go's zero time).
func TestYearOne(t *testing.T) {
	out := mustPvjobs(t, "run", "--dry-run", "--jobs", "urls", "--accounts", "blog", "--from", "0001-01-01", "--to", "0001-01-01")
	if !strings.Contains(out, "range     0001-01-01T00:00:00Z to 0001-01-02T00:00:00Z") || !strings.Contains(out, "00010101.blog") {
		t.Errorf("the plan is not of 0001-01-01:\n%s", out)
	}
}

// TestEmptyRun: a run that reads no page view at all (an empty or unmounted
// directory, a mistyped account) fails and replaces no report, unless
// --allow-empty; named accounts without a shard are warned about by name.
func TestEmptyRun(t *testing.T) {
	empty := t.TempDir()
	out := t.TempDir()
	previous := []byte("account,period,start,url,pageviews\nblog,day,2024-08-01,/,1\n")
	if err := os.WriteFile(filepath.Join(out, "urls.csv"), previous, 0o644); err != nil {
		t.Fatal(err)
	}
	unchanged := func(t *testing.T) {
		t.Helper()
		if b, _ := os.ReadFile(filepath.Join(out, "urls.csv")); !bytes.Equal(b, previous) {
			t.Errorf("the previous report was replaced:\n%s", b)
		}
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"empty directory, all accounts", []string{"--source", empty, "--from", "2024-08-01", "--to", "2024-08-07"}, exitUsage,
			[]string{"--accounts all: the source " + empty + " has no accounts in the range"}},
		{"empty directory, named accounts", []string{"--source", empty, "--accounts", "blog,shop", "--from", "2024-08-01", "--to", "2024-08-07"}, exitFailed,
			[]string{"no page views: " + empty + " has none for blog, shop from 2024-08-01T00:00:00Z to 2024-08-08T00:00:00Z (14 of 14 shards missing)",
				"--allow-empty", `msg="account has no page views in the range: no shard" account=blog`, "account=shop"}},
		{"mistyped account", []string{"--accounts", "nosuch"}, exitFailed, []string{`account=nosuch`, "has none for nosuch"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := pvjobs(t, context.Background(), slices.Concat([]string{"run", "--jobs", "urls", "--out", "csv:" + out}, tc.args)...)
			if code != tc.code {
				t.Fatalf("exit %d; want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			unchanged(t)
		})
	}
	t.Run("an account of two without shards", func(t *testing.T) {
		code, _, stderr := pvjobs(t, context.Background(), "run", "--jobs", "urls", "--accounts", "blog,nosuch", "--quiet", "--out", "csv:"+t.TempDir())
		if code != exitOK || !strings.Contains(stderr, "account=nosuch") || strings.Contains(stderr, "account=blog") {
			t.Errorf("exit %d; want 0 and a warning about nosuch only:\n%s", code, stderr)
		}
	})
	t.Run("warned before reading", func(t *testing.T) {
		// Shard files are listed before the run: a dry run, which reads
		// nothing, already names the account.
		code, _, stderr := pvjobs(t, context.Background(), "run", "--dry-run", "--jobs", "urls", "--accounts", "blog,nosuch", "--out", "csv:"+t.TempDir())
		if code != exitOK || !strings.Contains(stderr, "account=nosuch") {
			t.Errorf("exit %d; want 0 and a warning about nosuch:\n%s", code, stderr)
		}
	})
	t.Run("allow empty", func(t *testing.T) {
		code, _, stderr := pvjobs(t, context.Background(), "run", "--jobs", "urls", "--source", empty, "--accounts", "blog",
			"--from", "2024-08-01", "--to", "2024-08-07", "--allow-empty", "--quiet", "--out", "csv:"+out)
		if code != exitOK {
			t.Fatalf("exit %d:\n%s", code, stderr)
		}
		if b, _ := os.ReadFile(filepath.Join(out, "urls.csv")); !strings.HasPrefix(string(b), "account,period,start,url,") || strings.Count(string(b), "\n") != 1 {
			t.Errorf("--allow-empty wrote, want a header only:\n%s", b)
		}
	})
}

// committingSink is an output that a signal reaches while it commits, and
// that finishes its commit (as the Redis swap does).
type committingSink struct {
	cancel  context.CancelFunc
	written *bool
}

func (committingSink) String() string { return "committing sink" }
func (committingSink) Check(context.Context, []string, *mapreduce.Plan, bool) error {
	return nil
}
func (s committingSink) Prepare(context.Context, []mapreduce.Report, *mapreduce.Plan) (prepared, error) {
	return s, nil
}
func (s committingSink) Commit(context.Context) error {
	s.cancel() // SIGTERM, during the commit
	*s.written = true
	return nil
}
func (committingSink) Abort(context.Context) error { return nil }
func (committingSink) early() bool                 { return true }

// TestRunInterruptedDuringCommit: a signal while the outputs are committed,
// which finish: exit 130, and the message says the reports were written.
func TestRunInterruptedDuringCommit(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	written := false
	prev := openRedisSink
	openRedisSink = func(string, *runParams) (sink, error) { return committingSink{cancel, &written}, nil }
	t.Cleanup(func() { openRedisSink = prev })
	code, _, stderr := pvjobs(t, ctx, "run", "--jobs", "urls", "--quiet", "--out", "redis://127.0.0.1:1/0")
	if code != exitInterrupted || !written {
		t.Fatalf("exit %d (written %v); want %d\n%s", code, written, exitInterrupted, stderr)
	}
	if want := "pvjobs: interrupted while the reports were written; they were written whole: committing sink"; !strings.Contains(stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr)
	}
}

func TestExitCode(t *testing.T) {
	var buf bytes.Buffer
	for _, tc := range []struct {
		err  error
		code int
	}{
		{nil, 0},
		{fmt.Errorf("run failed: %w", context.Canceled), 130},
		{usagef("bad"), 2},
		{fmt.Errorf("wrapped: %w", usagef("bad")), 2},
		{fmt.Errorf("disk full"), 1},
	} {
		if got := exitCode(tc.err, &buf); got != tc.code {
			t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.code)
		}
	}
}
