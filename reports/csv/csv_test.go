package csv_test

import (
	"bytes"
	"context"
	stdcsv "encoding/csv"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/jobs/urls"
	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/file"
	"github.com/pvjobs/pvjobs/readers/pageview"
	"github.com/pvjobs/pvjobs/readers/sample"
	"github.com/pvjobs/pvjobs/reports/csv"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func plan(t *testing.T, from, to mapreduce.Date, loc *time.Location, accounts ...string) *mapreduce.Plan {
	t.Helper()
	start, end, err := mapreduce.DayRange(from, to, loc)
	if err != nil {
		t.Fatal(err)
	}
	p, err := mapreduce.NewPlan(mapreduce.PlanSpec{Accounts: accounts, Start: start, End: end, Loc: loc})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func date(y int, m time.Month, d int) mapreduce.Date {
	return mapreduce.Date{Year: y, Month: m, Day: d}
}

// checkGolden compares got with testdata/name, or rewrites it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("updated %s", path)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("%s differs at line %d:\n got %q\nwant %q\n(run go test -update if the change is intended)", path, i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("%s: %d lines, want %d (run go test -update if the change is intended)", path, len(gl), len(wl))
	}
}

// TestGoldenSample runs the urls job on the embedded sample and compares the
// CSV files with the golden ones.
func TestGoldenSample(t *testing.T) {
	src := file.NewFS(sample.FS(), sample.Name)
	for _, tc := range []struct {
		golden string
		loc    *time.Location
		opt    urls.Options
		from   mapreduce.Date
		to     mapreduce.Date
	}{
		{"urls.csv", time.UTC, urls.Options{}, date(2024, 8, 1), date(2024, 8, 7)},
		{"urls-berlin-strip-query.csv", mustLoc(t, "Europe/Berlin"), urls.Options{StripQuery: true}, date(2024, 8, 2), date(2024, 8, 3)},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			p := plan(t, tc.from, tc.to, tc.loc, "blog", "shop")
			res, err := mapreduce.Run(context.Background(), p, src, []mapreduce.Task{urls.New(tc.opt)},
				mapreduce.Options{NewDecoder: pageview.NewMapreduceDecoder})
			if err != nil {
				t.Fatal(err)
			}
			if res.Summary.ShardsMissing != 0 && tc.loc == time.UTC {
				t.Fatalf("sample shards missing: %v", res.Summary.Missing)
			}
			dir := t.TempDir()
			if err := csv.Write(context.Background(), res.Reports, p, csv.Options{Dir: dir}); err != nil {
				t.Fatal(err)
			}
			if names := dirNames(t, dir); !slices.Equal(names, []string{"urls.csv"}) {
				t.Fatalf("wrote %v, want urls.csv only", names)
			}
			got, err := os.ReadFile(filepath.Join(dir, "urls.csv"))
			if err != nil {
				t.Fatal(err)
			}
			// Whatever the golden says, the file must be valid CSV whose
			// range rows add up to the rows read.
			recs, err := stdcsv.NewReader(bytes.NewReader(got)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(recs[0], []string{"account", "period", "start", "url", "title", "pageviews", "visitors"}) {
				t.Errorf("header %v", recs[0])
			}
			var rangeTotal int
			for _, r := range recs[1:] {
				if r[1] == "range" {
					var n int
					for _, c := range r[5] {
						n = n*10 + int(c-'0')
					}
					rangeTotal += n
				}
			}
			if int64(rangeTotal) != res.Summary.Rows {
				t.Errorf("range rows sum to %d, the run read %d", rangeTotal, res.Summary.Rows)
			}
			checkGolden(t, tc.golden, got)
		})
	}
}

func report(keys []string, rows ...mapreduce.ReportRow) mapreduce.Report {
	return mapreduce.Report{Name: "r", Keys: keys, Measures: mapreduce.Counts("pageviews"), Rows: rows}
}

func row(account string, keys ...string) mapreduce.ReportRow {
	return mapreduce.ReportRow{Account: account, Period: mapreduce.PeriodDay,
		Start: time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC), Keys: keys, Values: []float64{float64(3)}}
}

// TestQuoting checks RFC 4180 quoting byte for byte, and that encoding/csv
// reads the cells back unchanged.
func TestQuoting(t *testing.T) {
	cells := []string{
		"plain",
		"a,b",
		`say "hi"`,
		"line1\nline2",
		"cr\rhere",
		" leading space",
		`"`,
		"",
		"caf\u00e9 \u65e5\u672c",
	}
	var rows []mapreduce.ReportRow
	for _, c := range cells {
		rows = append(rows, row("blog", c, "x"))
	}
	var buf bytes.Buffer
	rep := report([]string{"k1", "k2"}, rows...)
	if err := csv.WriteReport(&buf, &rep, true); err != nil {
		t.Fatal(err)
	}
	want := "account,period,start,k1,k2,pageviews\n" +
		"blog,day,2024-08-01,plain,x,3\n" +
		"blog,day,2024-08-01,\"a,b\",x,3\n" +
		"blog,day,2024-08-01,\"say \"\"hi\"\"\",x,3\n" +
		"blog,day,2024-08-01,\"line1\nline2\",x,3\n" +
		"blog,day,2024-08-01,\"cr\rhere\",x,3\n" +
		"blog,day,2024-08-01,\" leading space\",x,3\n" +
		"blog,day,2024-08-01,\"\"\"\",x,3\n" +
		"blog,day,2024-08-01,,x,3\n" +
		"blog,day,2024-08-01,caf\u00e9 \u65e5\u672c,x,3\n"
	if buf.String() != want {
		t.Errorf("CSV:\n%q\nwant\n%q", buf.String(), want)
	}
	recs, err := stdcsv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(cells)+1 {
		t.Fatalf("read %d records", len(recs))
	}
	for i, c := range cells {
		if recs[i+1][3] != c {
			t.Errorf("cell %q read back as %q", c, recs[i+1][3])
		}
	}
}

func TestNeutralize(t *testing.T) {
	for in, want := range map[string]string{
		"=SUM(A1:A2)":          "'=SUM(A1:A2)",
		"+1":                   "'+1",
		"-1":                   "'-1",
		"@cmd":                 "'@cmd",
		"\tx":                  "'\tx",
		"\rx":                  "'\rx",
		"=HYPERLINK(\"http\")": "'=HYPERLINK(\"http\")",
		"":                     "",
		"a=b":                  "a=b",
		"https://e.com/?a=-1":  "https://e.com/?a=-1",
		"'quoted":              "'quoted",
		" =x":                  " =x",
	} {
		if got := csv.Neutralize(in); got != want {
			t.Errorf("Neutralize(%q) = %q, want %q", in, got, want)
		}
	}
	rep := report([]string{"term"}, row("blog", "=1+2"), row("blog", "-x"), row("blog", "@y"), row("blog", "ok"))
	for _, raw := range []bool{false, true} {
		var buf bytes.Buffer
		if err := csv.WriteReport(&buf, &rep, raw); err != nil {
			t.Fatal(err)
		}
		recs, err := stdcsv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range recs[1:] {
			got = append(got, r[3])
			if r[0] != "blog" || r[4] != "3" {
				t.Errorf("account or value changed: %v", r)
			}
		}
		want := []string{"'=1+2", "'-x", "'@y", "ok"}
		if raw {
			want = []string{"=1+2", "-x", "@y", "ok"}
		}
		if !slices.Equal(got, want) {
			t.Errorf("raw=%v: cells %q, want %q", raw, got, want)
		}
	}
}

func TestFormatStart(t *testing.T) {
	berlin := mustLoc(t, "Europe/Berlin")
	// The two 02:00 hours of the autumn change stay distinct.
	h1 := time.Date(2024, 10, 27, 0, 0, 0, 0, time.UTC).In(berlin)
	h2 := h1.Add(time.Hour)
	for _, tc := range []struct {
		p    mapreduce.Period
		t    time.Time
		want string
	}{
		{mapreduce.PeriodHour, h1, "2024-10-27T02:00+02:00"},
		{mapreduce.PeriodHour, h2, "2024-10-27T02:00+01:00"},
		{mapreduce.PeriodMinute, h2.Add(90 * time.Second), "2024-10-27T02:01+01:00"},
		{mapreduce.PeriodHour, time.Date(2024, 8, 1, 10, 0, 0, 0, time.UTC), "2024-08-01T10:00Z"},
		{mapreduce.PeriodHour, time.Date(2024, 8, 1, 10, 0, 0, 0, mustLoc(t, "Asia/Kolkata")), "2024-08-01T10:00+05:30"},
		{mapreduce.PeriodDay, h2, "2024-10-27"},
		{mapreduce.PeriodMonth, time.Date(2024, 10, 1, 0, 0, 0, 0, berlin), "2024-10-01"},
		{mapreduce.PeriodRange, time.Date(2024, 10, 1, 0, 0, 0, 0, berlin), "2024-10-01"},
	} {
		if got := csv.FormatStart(tc.p, tc.t); got != tc.want {
			t.Errorf("FormatStart(%s, %s) = %q, want %q", tc.p, tc.t, got, tc.want)
		}
	}
}

func TestFileName(t *testing.T) {
	p := plan(t, date(2024, 8, 1), date(2024, 8, 7), mustLoc(t, "Europe/Berlin"), "blog")
	for pattern, want := range map[string]string{
		"":                         "urls.csv",
		"{report}.csv":             "urls.csv",
		"{report}-{from}-{to}.csv": "urls-2024-08-01-2024-08-07.csv",
		"{from}/{report}.csv":      "2024-08-01/urls.csv",
		"fixed.csv":                "fixed.csv",
	} {
		if got := csv.FileName(pattern, "urls", p); got != want {
			t.Errorf("FileName(%q) = %q, want %q", pattern, got, want)
		}
	}
	if h := csv.Header(&mapreduce.Report{Keys: []string{"engine", "term"}, Measures: mapreduce.Counts("visits")}); !slices.Equal(h, []string{"account", "period", "start", "engine", "term", "visits"}) {
		t.Errorf("Header = %v", h)
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// TestWriteAtomic makes writes fail in several ways: each must leave the
// previous files as they were and no temporary or half file.
func TestWriteAtomic(t *testing.T) {
	p := plan(t, date(2024, 8, 1), date(2024, 8, 1), time.UTC, "blog")
	named := func(name string) mapreduce.Report {
		r := report([]string{"url"}, row("blog", "/"+name))
		r.Name = name
		return r
	}
	setup := func(t *testing.T) string {
		dir := t.TempDir()
		for _, n := range []string{"a.csv", "b.csv", "keep.txt"} {
			if err := os.WriteFile(filepath.Join(dir, n), []byte("previous "+n), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	untouched := func(t *testing.T, dir string, extra ...string) {
		t.Helper()
		want := append([]string{"a.csv", "b.csv", "keep.txt"}, extra...)
		slices.Sort(want)
		if names := dirNames(t, dir); !slices.Equal(names, want) {
			t.Errorf("directory holds %v, want %v", names, want)
		}
		for _, n := range []string{"a.csv", "b.csv"} {
			if b, _ := os.ReadFile(filepath.Join(dir, n)); string(b) != "previous "+n {
				t.Errorf("%s was changed to %q", n, b)
			}
		}
	}
	t.Run("a report's file name is a directory", func(t *testing.T) {
		dir := setup(t)
		if err := os.Mkdir(filepath.Join(dir, "c.csv"), 0o755); err != nil {
			t.Fatal(err)
		}
		err := csv.Write(context.Background(), []mapreduce.Report{named("a"), named("b"), named("c")}, p, csv.Options{Dir: dir})
		if err == nil {
			t.Fatal("Write succeeded")
		}
		if !strings.Contains(err.Error(), "c.csv") {
			t.Errorf("error %q does not name c.csv", err)
		}
		untouched(t, dir, "c.csv")
	})
	t.Run("a report's directory is missing", func(t *testing.T) {
		dir := setup(t)
		err := csv.Write(context.Background(), []mapreduce.Report{named("a"), named("b")}, p, csv.Options{Dir: dir, Pattern: "{report}/x.csv"})
		if err == nil {
			t.Fatal("Write succeeded")
		}
		untouched(t, dir)
	})
	t.Run("the middle report fails", func(t *testing.T) {
		dir := setup(t)
		err := csv.Write(context.Background(), []mapreduce.Report{named("a"), named("missing/x"), named("b")}, p, csv.Options{Dir: dir})
		if err == nil {
			t.Fatal("Write succeeded")
		}
		untouched(t, dir)
	})
	t.Run("two reports with one file name", func(t *testing.T) {
		dir := setup(t)
		err := csv.Write(context.Background(), []mapreduce.Report{named("a"), named("b")}, p, csv.Options{Dir: dir, Pattern: "all-{from}.csv"})
		if err == nil {
			t.Fatal("Write let the second report overwrite the first")
		}
		untouched(t, dir)
	})
	t.Run("the directory is a file", func(t *testing.T) {
		dir := setup(t)
		err := csv.Write(context.Background(), []mapreduce.Report{named("a")}, p, csv.Options{Dir: filepath.Join(dir, "keep.txt")})
		if err == nil {
			t.Fatal("Write succeeded")
		}
		untouched(t, dir)
	})
	t.Run("success replaces and adds", func(t *testing.T) {
		dir := setup(t)
		if err := csv.Write(context.Background(), []mapreduce.Report{named("a"), named("c")}, p, csv.Options{Dir: dir}); err != nil {
			t.Fatal(err)
		}
		if names := dirNames(t, dir); !slices.Equal(names, []string{"a.csv", "b.csv", "c.csv", "keep.txt"}) {
			t.Errorf("directory holds %v", names)
		}
		a, _ := os.ReadFile(filepath.Join(dir, "a.csv"))
		if string(a) != "account,period,start,url,pageviews\nblog,day,2024-08-01,/a,3\n" {
			t.Errorf("a.csv = %q", a)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "b.csv")); string(b) != "previous b.csv" {
			t.Errorf("b.csv (not in the run) = %q", b)
		}
	})
	t.Run("directory created", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "new", "deeper")
		if err := csv.Write(context.Background(), []mapreduce.Report{named("a")}, p, csv.Options{Dir: dir}); err != nil {
			t.Fatal(err)
		}
		if names := dirNames(t, dir); !slices.Equal(names, []string{"a.csv"}) {
			t.Errorf("directory holds %v", names)
		}
	})
}

func TestCheckPattern(t *testing.T) {
	one, two := []string{"urls"}, []string{"urls", "devices"}
	for _, tc := range []struct {
		pattern string
		reports []string
		ok      bool
	}{
		{"", two, true},
		{"{report}.csv", two, true},
		{"{report}-{from}-{to}.csv", two, true},
		{"x.csv", one, true},
		{"x.csv", two, false},
		{"../{report}.csv", two, false},
		{"..", one, false},
		{".", one, false},
		{"sub/{report}.csv", two, false},
		{"/tmp/{report}.csv", two, false},
		{"{from}/{report}.csv", two, false},
		{"a\x00{report}", two, false},
	} {
		err := csv.CheckPattern(tc.pattern, tc.reports)
		if (err == nil) != tc.ok {
			t.Errorf("CheckPattern(%q, %v) = %v, want ok %v", tc.pattern, tc.reports, err, tc.ok)
		}
		if err != nil && !errors.Is(err, csv.ErrPattern) {
			t.Errorf("CheckPattern(%q): %v is not ErrPattern", tc.pattern, err)
		}
	}
}

// TestCheck: what would fail the write is found before the run, and Check
// leaves nothing behind.
func TestCheck(t *testing.T) {
	p := plan(t, date(2024, 8, 1), date(2024, 8, 1), time.UTC, "blog")
	base := t.TempDir()
	file := filepath.Join(base, "passwd")
	os.WriteFile(file, []byte("root:x:0:0"), 0o644)
	os.MkdirAll(filepath.Join(base, "hasdir", "urls.csv"), 0o755)
	fifo := filepath.Join(base, "fifo")
	os.MkdirAll(fifo, 0o755)
	if err := syscall.Mkfifo(filepath.Join(fifo, "urls.csv"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		dir  string
		pat  string
		want string // "" for no error
	}{
		{"existing directory", base, "", ""},
		{"missing directory below an existing one", filepath.Join(base, "new", "deeper"), "", ""},
		{"the directory is a file", file, "", "not a directory"},
		{"below a file", filepath.Join(file, "sub"), "", "not a directory"},
		{"a directory nobody may write", "/proc", "", "/proc"},
		{"the report's file is a directory", filepath.Join(base, "hasdir"), "", "is a directory"},
		{"the report's file is a FIFO", fifo, "", "not a regular file"},
		{"a pattern leaving the directory", base, "../{report}.csv", "not a path"},
		{"two reports, one file", base, "all.csv", "{report}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := dirNames(t, base)
			err := csv.Check([]string{"urls", "devices"}, p, csv.Options{Dir: tc.dir, Pattern: tc.pat}, true)
			if tc.want == "" && err != nil {
				t.Fatal(err)
			}
			if tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("Check: %v, want an error saying %q", err, tc.want)
			}
			if after := dirNames(t, base); !slices.Equal(after, before) {
				t.Errorf("Check changed the directory: %v", after)
			}
		})
	}
}

// TestWriteModes: a new report file is 0666 less the umask (0644 with the
// usual 022), not 0600; a replaced one keeps its mode.
func TestWriteModes(t *testing.T) {
	p := plan(t, date(2024, 8, 1), date(2024, 8, 1), time.UTC, "blog")
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := t.TempDir()
	rep := report([]string{"url"}, row("blog", "/"))
	rep.Name = "urls"
	os.WriteFile(filepath.Join(dir, "devices.csv"), nil, 0o664)
	os.Chmod(filepath.Join(dir, "devices.csv"), 0o664)
	dev := rep
	dev.Name = "devices"
	if err := csv.Write(context.Background(), []mapreduce.Report{rep, dev}, p, csv.Options{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]os.FileMode{"urls.csv": 0o644, "devices.csv": 0o664} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s: mode %04o, want %04o", name, st.Mode().Perm(), want)
		}
	}
}

// TestWriteRemovesStaleTemps: the temporary file a killed run of an earlier
// version left (.urls.csv.tmp<digits>, untouched for hours) goes with the
// next run that writes urls.csv.
func TestWriteRemovesStaleTemps(t *testing.T) {
	p := plan(t, date(2024, 8, 1), date(2024, 8, 1), time.UTC, "blog")
	dir := t.TempDir()
	stale := filepath.Join(dir, ".urls.csv.tmp521639925")
	os.WriteFile(stale, []byte("half a report"), 0o600)
	old := time.Now().Add(-7 * time.Hour)
	os.Chtimes(stale, old, old)
	rep := report([]string{"url"}, row("blog", "/"))
	rep.Name = "urls"
	if err := csv.Write(context.Background(), []mapreduce.Report{rep}, p, csv.Options{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{"urls.csv"}) {
		t.Errorf("directory holds %v", names)
	}
}

// TestPrepareAbort: prepared files are invisible until Commit; Abort drops
// them and the directories Prepare made.
func TestPrepareAbort(t *testing.T) {
	p := plan(t, date(2024, 8, 1), date(2024, 8, 1), time.UTC, "blog")
	base := t.TempDir()
	dir := filepath.Join(base, "new", "out")
	rep := report([]string{"url"}, row("blog", "/"))
	rep.Name = "urls"
	pr, err := csv.Prepare(context.Background(), []mapreduce.Report{rep}, p, csv.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if got := pr.Files(); !slices.Equal(got, []string{filepath.Join(dir, "urls.csv")}) {
		t.Errorf("Files() = %v", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "urls.csv")); err == nil {
		t.Fatal("urls.csv exists before the commit")
	}
	if err := pr.Abort(); err != nil {
		t.Fatal(err)
	}
	if names := dirNames(t, base); len(names) != 0 {
		t.Errorf("Abort left %v", names)
	}
}

// TestPerAccount: a pattern with {account} writes one file per account of
// the plan with its rows only (a header alone for an account without
// rows); the files of two runs of half the accounts each, into one
// directory, are those of one run of all.
func TestPerAccount(t *testing.T) {
	p := plan(t, date(2024, 8, 1), date(2024, 8, 1), time.UTC, "blog", "shop", "news")
	rep := report([]string{"url"}, row("blog", "/a"), row("blog", "/b"), row("shop", "/c"))
	rep.Name = "urls"
	const pattern = "{report}-{account}-{from}.csv"
	if got := csv.FileNames(pattern, "urls", p); !slices.Equal(got, []csv.File{
		{Name: "urls-blog-2024-08-01.csv", Account: "blog"}, {Name: "urls-news-2024-08-01.csv", Account: "news"}, {Name: "urls-shop-2024-08-01.csv", Account: "shop"},
	}) {
		t.Errorf("FileNames = %v", got)
	}
	whole := t.TempDir()
	if err := csv.Write(context.Background(), []mapreduce.Report{rep}, p, csv.Options{Dir: whole, Pattern: pattern}); err != nil {
		t.Fatal(err)
	}
	if got := dirNames(t, whole); !slices.Equal(got, []string{"urls-blog-2024-08-01.csv", "urls-news-2024-08-01.csv", "urls-shop-2024-08-01.csv"}) {
		t.Fatalf("files %v", got)
	}
	news, _ := os.ReadFile(filepath.Join(whole, "urls-news-2024-08-01.csv"))
	blog, _ := os.ReadFile(filepath.Join(whole, "urls-blog-2024-08-01.csv"))
	if lines := strings.Count(string(news), "\n"); lines != 1 {
		t.Errorf("news: %q, want the header alone", news)
	}
	if !strings.Contains(string(blog), "/a") || strings.Contains(string(blog), "/c") {
		t.Errorf("blog: %q", blog)
	}
	split := t.TempDir()
	for _, accounts := range [][]string{{"blog", "news"}, {"shop"}} {
		part := plan(t, date(2024, 8, 1), date(2024, 8, 1), time.UTC, accounts...)
		r := rep
		r.Rows = nil
		for _, row := range rep.Rows {
			if slices.Contains(accounts, row.Account) {
				r.Rows = append(r.Rows, row)
			}
		}
		if err := csv.Write(context.Background(), []mapreduce.Report{r}, part, csv.Options{Dir: split, Pattern: pattern}); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range dirNames(t, whole) {
		a, _ := os.ReadFile(filepath.Join(whole, n))
		b, _ := os.ReadFile(filepath.Join(split, n))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs", n)
		}
	}
}
