package html

import (
	"bytes"
	"context"
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

// DefaultPattern names each account's page; DefaultIndex names the index.
const (
	DefaultPattern = "{account}.html"
	DefaultIndex   = "index.html"
	// DefaultTop is the number of rows each table shows before its
	// "(other)" row.
	DefaultTop = 10
)

// Options configures the sink.
type Options struct {
	// Dir is the directory the pages go to; it is created if missing.
	Dir string
	// Pattern names each account's page; {account}, {from} and {to}
	// (YYYY-MM-DD of the run's range in its time zone) are replaced.
	// Default DefaultPattern.
	Pattern string
	// Index names the index page; {from} and {to} are replaced. Default
	// DefaultIndex.
	Index string
	// Top is the number of rows each table shows; the rest are summed into
	// an "(other)" row. 0 means DefaultTop.
	Top int
	// Run describes the run, for the pages' header and footer.
	Run Run
}

// Run describes the run the reports come from: what the pages say about
// how they were made.
type Run struct {
	// Version is pvjobs' version.
	Version string
	// Generated is when the run was made; zero means now.
	Generated time.Time
	// Summary is the engine's summary of the run (shards read and missing,
	// bad rows, referrer spam); nil leaves those facts out.
	Summary *mapreduce.Summary
	// IncludeBots and IncludeSpam say whether bots and referrer spam were
	// counted.
	IncludeBots, IncludeSpam bool
	// CSVFiles are the paths of the CSV files the run writes besides, which
	// the footer links to.
	CSVFiles []string
}

func (o *Options) pattern() string {
	if o.Pattern == "" {
		return DefaultPattern
	}
	return o.Pattern
}

func (o *Options) indexPattern() string {
	if o.Index == "" {
		return DefaultIndex
	}
	return o.Index
}

func (o *Options) top() int {
	if o.Top <= 0 {
		return DefaultTop
	}
	return o.Top
}

// replacer returns the replacer of a pattern's {from} and {to} (and
// {account}) for plan.
func replacer(account string, plan *mapreduce.Plan) *strings.Replacer {
	last := plan.End.Add(-time.Nanosecond).In(plan.Loc)
	return strings.NewReplacer(
		"{account}", account,
		"{from}", plan.Start.In(plan.Loc).Format("2006-01-02"),
		"{to}", last.Format("2006-01-02"),
	)
}

// FileName returns the file name of account's page for plan.
func FileName(pattern, account string, plan *mapreduce.Plan) string {
	if pattern == "" {
		pattern = DefaultPattern
	}
	return replacer(account, plan).Replace(pattern)
}

// IndexName returns the file name of the index page for plan.
func IndexName(pattern string, plan *mapreduce.Plan) string {
	if pattern == "" {
		pattern = DefaultIndex
	}
	return replacer("", plan).Replace(pattern)
}

// Files returns the file names (in opt.Dir) the sink writes for plan: each
// account's page, then the index.
func Files(plan *mapreduce.Plan, opt Options) []string {
	var out []string
	for _, a := range plan.Accounts {
		out = append(out, FileName(opt.Pattern, a, plan))
	}
	return append(out, IndexName(opt.Index, plan))
}

// ErrPattern is wrapped by the errors of CheckPattern.
var ErrPattern = errors.New("bad HTML file pattern")

// CheckPattern checks the patterns of the pages and of the index: each is a
// file name, not a path (no "/"), the pages' pattern contains {account}
// when there are several accounts, and the index is not one of the pages.
func CheckPattern(pattern, index string, accounts []string) error {
	if pattern == "" {
		pattern = DefaultPattern
	}
	if index == "" {
		index = DefaultIndex
	}
	for _, p := range []struct{ what, pattern string }{{"pages", pattern}, {"index", index}} {
		bad := func(why string) error { return fmt.Errorf("%w %q (%s): %s", ErrPattern, p.pattern, p.what, why) }
		if strings.ContainsAny(p.pattern, "/\x00") || strings.ContainsRune(p.pattern, filepath.Separator) {
			return bad("a file name, not a path: put directories in the output, html:DIR/sub")
		}
		sample := strings.NewReplacer("{account}", "a", "{from}", "2006-01-02", "{to}", "2006-01-02").Replace(p.pattern)
		if n := strings.TrimSpace(sample); n == "" || n == "." || n == ".." {
			return bad("not a file name")
		}
	}
	if strings.Contains(index, "{account}") {
		return fmt.Errorf("%w %q (index): the index is one page for every account: no {account}", ErrPattern, index)
	}
	if len(accounts) > 1 && !strings.Contains(pattern, "{account}") {
		return fmt.Errorf("%w %q (pages): has no {account}: the %d accounts would go to one file", ErrPattern, pattern, len(accounts))
	}
	return nil
}

// Check checks, before any data is read, that the pages of plan can be
// written with opt: the patterns (CheckPattern), the directory (it, or the
// nearest existing directory above it, must be a directory) and the files
// (none may be a directory or anything but a regular file, and no two
// pages may share a file). With probe it also creates and removes a
// temporary file in that directory. Check creates nothing that stays.
func Check(plan *mapreduce.Plan, opt Options, probe bool) error {
	if opt.Dir == "" {
		return errors.New("html output: no directory")
	}
	if err := CheckPattern(opt.Pattern, opt.Index, plan.Accounts); err != nil {
		return err
	}
	dir := opt.Dir
	for {
		st, err := os.Stat(dir)
		if err == nil {
			if !st.IsDir() {
				return fmt.Errorf("html output %s: %s is not a directory", opt.Dir, dir)
			}
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("html output %s: %w", opt.Dir, err)
		}
		up := filepath.Dir(dir)
		if up == dir {
			return fmt.Errorf("html output %s: %w", opt.Dir, err)
		}
		dir = up
	}
	if probe {
		if err := atomicfile.Probe(dir); err != nil {
			return fmt.Errorf("html output %s: %w", opt.Dir, err)
		}
	}
	seen := map[string]string{}
	for i, name := range Files(plan, opt) {
		what := "the index"
		if i < len(plan.Accounts) {
			what = "account " + plan.Accounts[i] + "'s page"
		}
		final := filepath.Join(opt.Dir, name)
		if other, ok := seen[final]; ok {
			return fmt.Errorf("html output: %s and %s would both be written to %s", other, what, final)
		}
		seen[final] = what
		st, err := os.Lstat(final)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return fmt.Errorf("html output: %w", err)
		case st.IsDir():
			return fmt.Errorf("html output: %s is a directory", final)
		case !st.Mode().IsRegular() && st.Mode()&fs.ModeSymlink == 0:
			return fmt.Errorf("html output: %s is not a regular file", final)
		}
	}
	return nil
}

// Render writes the page of account to w.
func Render(w io.Writer, reps []mapreduce.Report, plan *mapreduce.Plan, account string, opt Options) error {
	return renderPage(w, buildPage(newReportSet(reps), plan, &opt, account))
}

// RenderIndex writes the index page to w.
func RenderIndex(w io.Writer, reps []mapreduce.Report, plan *mapreduce.Plan, opt Options) error {
	return renderPage(w, buildIndex(newReportSet(reps), plan, &opt))
}

// Prepared is a run's pages written under temporary names (see Prepare),
// waiting for Commit or Abort. Its methods are called from one goroutine.
type Prepared struct{ atomicfile.Set }

// Prepare writes the page of every account of plan and the index under
// temporary names in opt.Dir (created if missing), synced to disk, and
// returns them for Commit: no final file is touched yet. It stops with
// ctx's error, leaving nothing behind, when ctx is cancelled (it checks
// between pages).
func Prepare(ctx context.Context, reps []mapreduce.Report, plan *mapreduce.Plan, opt Options) (_ *Prepared, err error) {
	if err := Check(plan, opt, false); err != nil {
		return nil, err
	}
	p := &Prepared{atomicfile.Set{Label: "html output"}}
	defer func() {
		if err != nil {
			p.Abort()
		}
	}()
	if err := p.MkdirAll(opt.Dir); err != nil {
		return nil, err
	}
	set := newReportSet(reps)
	var buf bytes.Buffer
	write := func(name string, pg *page) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		final := filepath.Join(opt.Dir, name)
		buf.Reset()
		if err := renderPage(&buf, pg); err != nil {
			return fmt.Errorf("rendering %s: %w", final, err)
		}
		f, err := p.Create(final)
		if err != nil {
			return err
		}
		if _, err := f.Write(buf.Bytes()); err != nil {
			return err
		}
		return f.Finish()
	}
	for _, a := range plan.Accounts {
		if err := write(FileName(opt.Pattern, a, plan), buildPage(set, plan, &opt, a)); err != nil {
			return nil, err
		}
	}
	if err := write(IndexName(opt.Index, plan), buildIndex(set, plan, &opt)); err != nil {
		return nil, err
	}
	return p, nil
}

// Write writes the pages of a run into opt.Dir: Prepare, then Commit.
func Write(ctx context.Context, reps []mapreduce.Report, plan *mapreduce.Plan, opt Options) error {
	p, err := Prepare(ctx, reps, plan, opt)
	if err != nil {
		return err
	}
	return p.Commit()
}
