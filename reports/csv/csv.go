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
// # File names
//
// Options.Pattern names each report's file in Options.Dir; {report}, {from}
// and {to} are replaced. It is a file name, not a path (see CheckPattern):
// reports never land outside their directory. A pattern with {account}
// writes one file per account of the run, "urls-blog.csv", holding that
// account's rows only: every account of the plan gets its file (a header
// alone when it has no rows), so the files of a run depend on each account's
// own page views and runs that split the accounts among them (pvjobs run
// --shard I/N) write, into one directory, the very files one run writes.
//
// # Atomicity
//
// Files are written in two steps (see package atomicfile): Prepare writes
// every report to a temporary file in the target directory, synced to disk,
// watching its context; Commit renames them all into place and syncs the
// directory. A failed or interrupted run leaves the previous reports
// untouched and no half file, and a later run removes what a killed one left.
// New files get mode 0666 less the umask; a replaced file keeps its mode.
//
// Check finds what would make the write fail (a directory that is a file or
// cannot be written, a file name that is a directory, a pattern that sends
// several reports to one file) before a run reads any data.
package csv

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/reports/atomicfile"
)

// DefaultPattern names report files.
const DefaultPattern = "{report}.csv"

// Options configures the sink.
type Options struct {
	// Dir is the directory the files go to; it is created if missing.
	Dir string
	// Pattern names each file; {report}, {from} and {to} (YYYY-MM-DD of the
	// run's range in its time zone) and {account} (one file per account) are
	// replaced. Default DefaultPattern.
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

// FileName returns the file name of report name for plan; a pattern with
// {account} keeps it (see FileNames).
func FileName(pattern, name string, plan *mapreduce.Plan) string {
	return fileName(pattern, name, "{account}", plan)
}

func fileName(pattern, name, account string, plan *mapreduce.Plan) string {
	if pattern == "" {
		pattern = DefaultPattern
	}
	last := plan.End.Add(-time.Nanosecond).In(plan.Loc)
	return strings.NewReplacer(
		"{report}", name,
		"{account}", account,
		"{from}", plan.Start.In(plan.Loc).Format("2006-01-02"),
		"{to}", last.Format("2006-01-02"),
	).Replace(pattern)
}

// PerAccount reports whether pattern writes one file per account.
func PerAccount(pattern string) bool { return strings.Contains(pattern, "{account}") }

// File is one CSV file of a report: its name, and the account whose rows
// it holds ("" for every account).
type File struct {
	Name, Account string
}

// FileNames returns the files of report name for plan: one, or one per
// account of the plan when the pattern has {account}.
func FileNames(pattern, name string, plan *mapreduce.Plan) []File {
	if !PerAccount(pattern) {
		return []File{{Name: fileName(pattern, name, "", plan)}}
	}
	out := make([]File, len(plan.Accounts))
	for i, a := range plan.Accounts {
		out[i] = File{Name: fileName(pattern, name, a, plan), Account: a}
	}
	return out
}

// ErrPattern is wrapped by the errors of CheckPattern.
var ErrPattern = errors.New("bad CSV file pattern")

// CheckPattern checks a file pattern for a run that writes the given
// reports: it names a file in Options.Dir, not a path (no "/", so it cannot
// point outside the directory nor into a sub-directory: give the
// sub-directory in Dir instead), and contains {report} when there are
// several reports, which would otherwise share one file.
func CheckPattern(pattern string, reports []string) error {
	if pattern == "" {
		pattern = DefaultPattern
	}
	bad := func(why string) error { return fmt.Errorf("%w %q: %s", ErrPattern, pattern, why) }
	if strings.ContainsAny(pattern, "/\x00") || strings.ContainsRune(pattern, filepath.Separator) {
		return bad("a file name, not a path: put directories in the output, csv:DIR/sub")
	}
	if len(reports) > 1 && !strings.Contains(pattern, "{report}") {
		return bad(fmt.Sprintf("has no {report}: the %d reports would go to one file", len(reports)))
	}
	for _, r := range reports {
		if n := strings.ReplaceAll(pattern, "{report}", r); n == "." || n == ".." || strings.TrimSpace(n) == "" {
			return bad("not a file name")
		}
	}
	return nil
}

// Check checks, before any data is read, that the reports named can be
// written with opt: the pattern (CheckPattern), the directory (it, or the
// nearest existing directory above it, must be a directory) and the files
// (none may be a directory or anything but a regular file). With probe it
// also creates and removes a temporary file in that directory, so a
// directory pvjobs may not write to is found now rather than after the run.
// Check creates nothing that stays.
func Check(reports []string, plan *mapreduce.Plan, opt Options, probe bool) error {
	if opt.Dir == "" {
		return errors.New("csv output: no directory")
	}
	if err := CheckPattern(opt.Pattern, reports); err != nil {
		return err
	}
	dir := opt.Dir
	for {
		st, err := os.Stat(dir)
		if err == nil {
			if !st.IsDir() {
				return fmt.Errorf("csv output %s: %s is not a directory", opt.Dir, dir)
			}
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("csv output %s: %w", opt.Dir, err)
		}
		up := filepath.Dir(dir)
		if up == dir {
			return fmt.Errorf("csv output %s: %w", opt.Dir, err)
		}
		dir = up
	}
	if probe {
		if err := atomicfile.Probe(dir); err != nil {
			return fmt.Errorf("csv output %s: %w", opt.Dir, err)
		}
	}
	seen := map[string]string{}
	for _, r := range reports {
		for _, fn := range FileNames(opt.Pattern, r, plan) {
			if err := checkFile(seen, filepath.Join(opt.Dir, fn.Name), r); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkFile checks the file final of report r: no other report's, not a
// directory nor a special file.
func checkFile(seen map[string]string, final, r string) error {
	if other, ok := seen[final]; ok {
		return fmt.Errorf("csv output: reports %s and %s would both be written to %s", other, r, final)
	}
	seen[final] = r
	st, err := os.Lstat(final)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("csv output: %w", err)
	case st.IsDir():
		return fmt.Errorf("csv output: %s is a directory", final)
	case !st.Mode().IsRegular() && st.Mode()&fs.ModeSymlink == 0:
		return fmt.Errorf("csv output: %s is not a regular file", final)
	}
	return nil
}

// Prepared is a run's CSV files written under temporary names (see
// Prepare), waiting for Commit or Abort. Its methods are called from one
// goroutine.
type Prepared struct{ atomicfile.Set }

// afterCreate is called with each temporary file's path once it exists
// (a test hook).
var afterCreate = func(tmp string) {}

// Prepare writes every report of a run under a temporary name in opt.Dir
// (created if missing), synced to disk, and returns them for Commit: no
// final file is touched yet. It stops with ctx's error, leaving nothing
// behind, when ctx is cancelled while it writes (it checks at every 256 KiB
// written).
func Prepare(ctx context.Context, reps []mapreduce.Report, plan *mapreduce.Plan, opt Options) (_ *Prepared, err error) {
	names := make([]string, len(reps))
	for i := range reps {
		names[i] = reps[i].Name
	}
	if err := Check(names, plan, opt, false); err != nil {
		return nil, err
	}
	p := &Prepared{atomicfile.Set{Label: "csv output"}}
	defer func() {
		if err != nil {
			p.Abort()
		}
	}()
	if err := p.MkdirAll(opt.Dir); err != nil {
		return nil, err
	}
	for i := range reps {
		for _, fn := range FileNames(opt.Pattern, reps[i].Name, plan) {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			rep := &reps[i]
			if fn.Account != "" {
				sub := *rep
				sub.Rows = accountRows(rep.Rows, fn.Account)
				rep = &sub
			}
			final := filepath.Join(opt.Dir, fn.Name)
			f, err := p.Create(final)
			if err != nil {
				return nil, err
			}
			afterCreate(f.TempName())
			bw := bufio.NewWriterSize(ctxWriter{ctx, f}, 256<<10)
			if err := WriteReport(bw, rep, opt.Raw); err != nil {
				return nil, fmt.Errorf("writing %s: %w", final, err)
			}
			if err := bw.Flush(); err != nil {
				return nil, fmt.Errorf("writing %s: %w", final, err)
			}
			if err := f.Finish(); err != nil {
				return nil, err
			}
		}
	}
	return p, nil
}

// accountRows returns the rows of account, in their order.
func accountRows(rows []mapreduce.ReportRow, account string) []mapreduce.ReportRow {
	var out []mapreduce.ReportRow
	for i := range rows {
		if rows[i].Account == account {
			out = append(out, rows[i])
		}
	}
	return out
}

// Write writes every report of a run into opt.Dir: Prepare, then Commit.
func Write(ctx context.Context, reps []mapreduce.Report, plan *mapreduce.Plan, opt Options) error {
	p, err := Prepare(ctx, reps, plan, opt)
	if err != nil {
		return err
	}
	return p.Commit()
}

// ctxWriter fails writes once ctx is done.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
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
