// Package csv writes reports as CSV files: one file per report, a header row,
// stable column names, RFC 4180 quoting.
//
// Columns are: account, period, start, the report's key columns, its label
// columns (such as a URL's title), its measures.
// period is hour, day, month or range; start is the period's first day
// (YYYY-MM-DD) or, for hours and minutes, its first instant in the run's time
// zone (YYYY-MM-DDTHH:MM±hh:mm, so both hours of a daylight-saving fall-back
// stay distinct). Rows are sorted by account, period, start, primary measure
// (the first) descending, then keys; a report that keeps only its top rows
// per account and period ends each group with an "(other)" row summing the
// rest. Measures are written as whole numbers, rates (0 to 1) with four
// decimals, seconds with one, means with two; a rate of no visits is empty.
//
// # Formula neutralising
//
// URLs, titles, referrers and search terms come from the open internet. A
// spreadsheet opening a CSV runs a cell that starts with =, +, -, @, a tab or a
// carriage return as a formula ("CSV injection"). By default such a cell is
// written with a leading apostrophe ('), which spreadsheets show as text and
// hide; Options.Raw writes cells unchanged, for programs that read the CSV.
//
// # Atomicity
//
// Every file is written to a temporary name in the target directory and
// renamed into place only after all files of the run were written, so a failed
// run leaves the previous reports untouched and no half file.
package csv

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
)

// DefaultPattern names report files.
const DefaultPattern = "{report}.csv"

// Options configures the sink.
type Options struct {
	// Dir is the directory the files go to; it is created if missing.
	Dir string
	// Pattern names each file; {report}, {from} and {to} (YYYY-MM-DD of the
	// run's range in its time zone) are replaced. Default DefaultPattern.
	Pattern string
	// Raw writes cells unchanged instead of neutralising formulas.
	Raw bool
}

// Header returns the header row of rep.
func Header(rep *mapreduce.Report) []string {
	h := []string{"account", "period", "start"}
	h = append(h, rep.Keys...)
	h = append(h, rep.Labels...)
	for _, m := range rep.Measures {
		h = append(h, m.Name)
	}
	return h
}

// FormatStart formats a period's start as the CSV start column does.
func FormatStart(p mapreduce.Period, t time.Time) string {
	if p == mapreduce.PeriodHour || p == mapreduce.PeriodMinute {
		return t.Format("2006-01-02T15:04Z07:00")
	}
	return t.Format("2006-01-02")
}

// Neutralize returns s made safe to open in a spreadsheet (see package doc).
func Neutralize(s string) string {
	if s != "" && strings.IndexByte("=+-@\t\r", s[0]) >= 0 {
		return "'" + s
	}
	return s
}

// FileName returns the file name of report name for plan.
func FileName(pattern, name string, plan *mapreduce.Plan) string {
	if pattern == "" {
		pattern = DefaultPattern
	}
	last := plan.End.Add(-time.Nanosecond).In(plan.Loc)
	return strings.NewReplacer(
		"{report}", name,
		"{from}", plan.Start.In(plan.Loc).Format("2006-01-02"),
		"{to}", last.Format("2006-01-02"),
	).Replace(pattern)
}

// Write writes every report of a run into opt.Dir.
func Write(reps []mapreduce.Report, plan *mapreduce.Plan, opt Options) (err error) {
	if err := os.MkdirAll(opt.Dir, 0o755); err != nil {
		return fmt.Errorf("csv output: %w", err)
	}
	// Check every target first: a rename that fails after others succeeded
	// would leave the reports of two runs side by side.
	finals := map[string]string{}
	for i := range reps {
		final := filepath.Join(opt.Dir, FileName(opt.Pattern, reps[i].Name, plan))
		if other, ok := finals[final]; ok {
			return fmt.Errorf("csv output: reports %s and %s would both be written to %s", other, reps[i].Name, final)
		}
		finals[final] = reps[i].Name
		if st, err := os.Stat(final); err == nil && st.IsDir() {
			return fmt.Errorf("csv output: %s is a directory", final)
		}
	}
	type pending struct{ tmp, final string }
	var done []pending
	defer func() {
		if err != nil {
			for _, p := range done {
				os.Remove(p.tmp)
			}
		}
	}()
	for i := range reps {
		final := filepath.Join(opt.Dir, FileName(opt.Pattern, reps[i].Name, plan))
		tmp, werr := writeTemp(&reps[i], final, opt.Raw)
		if tmp != "" {
			done = append(done, pending{tmp, final})
		}
		if werr != nil {
			return werr
		}
	}
	for _, p := range done {
		if err := os.Rename(p.tmp, p.final); err != nil {
			return fmt.Errorf("csv output: %w", err)
		}
	}
	return nil
}

func writeTemp(rep *mapreduce.Report, final string, raw bool) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(final), "."+filepath.Base(final)+".tmp*")
	if err != nil {
		return "", fmt.Errorf("csv output: %w", err)
	}
	bw := bufio.NewWriterSize(f, 256<<10)
	if err := WriteReport(bw, rep, raw); err != nil {
		f.Close()
		return f.Name(), fmt.Errorf("writing %s: %w", final, err)
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return f.Name(), fmt.Errorf("writing %s: %w", final, err)
	}
	if err := f.Close(); err != nil {
		return f.Name(), fmt.Errorf("writing %s: %w", final, err)
	}
	return f.Name(), nil
}

// WriteReport writes rep as CSV to w.
func WriteReport(w interface{ Write([]byte) (int, error) }, rep *mapreduce.Report, raw bool) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(Header(rep)); err != nil {
		return err
	}
	rec := make([]string, 0, 3+len(rep.Keys)+len(rep.Measures))
	for i := range rep.Rows {
		r := &rep.Rows[i]
		rec = append(rec[:0], r.Account, string(r.Period), FormatStart(r.Period, r.Start))
		for _, k := range r.Keys {
			if !raw {
				k = Neutralize(k)
			}
			rec = append(rec, k)
		}
		for i := range rep.Labels {
			l := ""
			if i < len(r.Labels) {
				l = r.Labels[i]
			}
			if !raw {
				l = Neutralize(l)
			}
			rec = append(rec, l)
		}
		for i, m := range rep.Measures {
			rec = append(rec, m.Format(r.Values[i]))
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
