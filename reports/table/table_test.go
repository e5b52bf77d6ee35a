package table_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/reports/table"
)

var (
	aug1 = time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC)
	aug2 = aug1.AddDate(0, 0, 1)
)

func r(account string, p mapreduce.Period, start time.Time, v int64, keys ...string) mapreduce.ReportRow {
	return mapreduce.ReportRow{Account: account, Period: p, Start: start, Keys: keys, Values: []float64{float64(v)}}
}

func TestTopKeyedWithRange(t *testing.T) {
	rep := mapreduce.Report{Name: "urls", Keys: []string{"url"}, Measures: mapreduce.Counts("pageviews"), Rows: []mapreduce.ReportRow{
		r("blog", mapreduce.PeriodDay, aug1, 999, "/day-rows-are-not-shown"),
		r("blog", mapreduce.PeriodRange, aug1, 1500, "/"),
		r("blog", mapreduce.PeriodRange, aug1, 300, "/a"),
		r("blog", mapreduce.PeriodRange, aug1, 150, "/b"),
		r("blog", mapreduce.PeriodRange, aug1, 50, "/c"),
		r("shop", mapreduce.PeriodRange, aug1, 7, "/cart"),
	}}
	var buf bytes.Buffer
	if err := table.Top(&buf, []mapreduce.Report{rep}, 3); err != nil {
		t.Fatal(err)
	}
	// blog's range total is 2,000: shares 75%, 15%, 7.5%; /c is cut by top 3.
	want := `
urls — account blog — top 3 of 4
  #  pageviews   share  url
  1      1,500   75.0%  /
  2        300   15.0%  /a
  3        150    7.5%  /b

urls — account shop — top 1 of 1
  #  pageviews   share  url
  1          7  100.0%  /cart
`
	if buf.String() != want {
		t.Errorf("Top printed\n%s\nwant\n%s", buf.String(), want)
	}
}

func TestTopWithoutRange(t *testing.T) {
	rep := mapreduce.Report{Name: "hits", Keys: []string{"engine", "term"}, Measures: mapreduce.Counts("visits"), Rows: []mapreduce.ReportRow{
		r("blog", mapreduce.PeriodDay, aug1, 3, "google", "go"),
		r("blog", mapreduce.PeriodDay, aug2, 1, "bing", "rust"),
	}}
	var buf bytes.Buffer
	if err := table.Top(&buf, []mapreduce.Report{rep}, 10); err != nil {
		t.Fatal(err)
	}
	want := `
hits — account blog — top 2 of 2
  #  visits   share  start             engine  term
  1       3   75.0%  2024-08-01 00:00  google  go
  2       1   25.0%  2024-08-02 00:00  bing    rust
`
	if buf.String() != want {
		t.Errorf("Top printed\n%s\nwant\n%s", buf.String(), want)
	}
}

func TestTopSeries(t *testing.T) {
	rep := mapreduce.Report{Name: "uniques", Measures: mapreduce.Counts("visitors"), Rows: []mapreduce.ReportRow{
		r("blog", mapreduce.PeriodHour, aug1, 5),
		r("blog", mapreduce.PeriodDay, aug1, 40),
		r("blog", mapreduce.PeriodDay, aug2, 35),
		r("blog", mapreduce.PeriodRange, aug1, 60),
	}}
	var buf bytes.Buffer
	if err := table.Top(&buf, []mapreduce.Report{rep}, 1); err != nil {
		t.Fatal(err)
	}
	// Every day and the range, whatever n; no share (visitors do not add up).
	want := `
uniques — account blog
  #  visitors   share  start
  1        40       -  2024-08-01 00:00
  2        35       -  2024-08-02 00:00
  3        60       -  2024-08-01 00:00 (range)
`
	// (The start cells are padded to the widest one; trailing spaces aside.)
	got := strings.Split(buf.String(), "\n")
	for i := range got {
		got[i] = strings.TrimRight(got[i], " ")
	}
	if strings.Join(got, "\n") != want {
		t.Errorf("Top printed\n%q\nwant\n%q", buf.String(), want)
	}
}

func TestTopCells(t *testing.T) {
	long := strings.Repeat("\u00e9", table.MaxCell+1)
	rep := mapreduce.Report{Name: "t", Keys: []string{"k"}, Measures: mapreduce.Counts("n"), Rows: []mapreduce.ReportRow{
		r("a", mapreduce.PeriodRange, aug1, 4, long),
		r("a", mapreduce.PeriodRange, aug1, 3, strings.Repeat("x", table.MaxCell)),
		r("a", mapreduce.PeriodRange, aug1, 2, "tab\there\nnewline"),
		r("a", mapreduce.PeriodRange, aug1, 1, "esc\x1b]0;owned\x07 bell"),
	}}
	var buf bytes.Buffer
	if err := table.Top(&buf, []mapreduce.Report{rep}, 10); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if want := strings.Repeat("\u00e9", table.MaxCell-1) + "…"; !strings.Contains(out, want+"\n") {
		t.Errorf("a key of %d runes is not cut to %d: %q", table.MaxCell+1, table.MaxCell, out)
	}
	if !strings.Contains(out, strings.Repeat("x", table.MaxCell)+"\n") {
		t.Errorf("a key of exactly %d runes was cut", table.MaxCell)
	}
	// Outside data must not move columns, break lines or reach the
	// terminal as control sequences.
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 6 {
		t.Errorf("%d lines, want 6:\n%s", len(lines), out)
	}
	for _, c := range []string{"\t", "\x1b", "\x07"} {
		if strings.Contains(out, c) {
			t.Errorf("output holds %q: %q", c, out)
		}
	}
}

func TestSummary(t *testing.T) {
	s := &mapreduce.Summary{Workers: 2, Shards: 14, ShardsFound: 12, ShardsMissing: 2, Rows: 1234567, BadRows: 1000, Duration: 2 * time.Second}
	reps := []mapreduce.Report{{Name: "urls", Rows: make([]mapreduce.ReportRow, 12345)}, {Name: "sources"}}
	var buf bytes.Buffer
	table.Summary(&buf, s, reps)
	want := "\nshards 12 read, 2 missing · rows 1,234,567 (1,000 bad) · 2s · 617,283 rows/s · 2 workers\n" +
		"report urls         12,345 rows\n" +
		"report sources      0 rows\n"
	if buf.String() != want {
		t.Errorf("Summary printed\n%q\nwant\n%q", buf.String(), want)
	}
}

// TestSummaryUnreadAndOutside: a failed run's unread shards are not called
// missing, and rows outside the range are shown when there are some.
func TestSummaryUnreadAndOutside(t *testing.T) {
	for _, tc := range []struct {
		s    mapreduce.Summary
		want string
	}{
		{mapreduce.Summary{Workers: 2, Shards: 14, ShardsFound: 3, ShardsUnread: 11, Rows: 1500, Duration: time.Second},
			"\nshards 3 read, 0 missing, 11 unread · rows 1,500 (0 bad) · 1s · 1,500 rows/s · 2 workers\n"},
		{mapreduce.Summary{Workers: 1, Shards: 2, ShardsFound: 2, Rows: 1870, BadRows: 1, Skipped: 1374, Duration: time.Second},
			"\nshards 2 read, 0 missing · rows 1,870 (1 bad, 1,374 outside the range) · 1s · 1,870 rows/s · 1 workers\n"},
	} {
		var buf bytes.Buffer
		table.Summary(&buf, &tc.s, nil)
		if buf.String() != tc.want {
			t.Errorf("Summary printed\n%q\nwant\n%q", buf.String(), tc.want)
		}
	}
}
