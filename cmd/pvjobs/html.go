package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/reports/csv"
	"github.com/pvjobs/pvjobs/reports/html"
)

// parseHTMLOut parses html:DIR.
func parseHTMLOut(raw string) (string, error) {
	dir := strings.TrimPrefix(raw, "html:")
	if strings.TrimSpace(dir) == "" {
		return "", fmt.Errorf("want html:DIR")
	}
	return dir, nil
}

// openHTMLSink opens html:DIR with --html-pattern, --html-index and
// --html-top (checked by the option table; whether the pages need {account}
// is checked with the plan's accounts).
func openHTMLSink(_ context.Context, dir string, p *runParams) (sink, error) {
	return &htmlSink{opt: html.Options{
		Dir: dir, Pattern: p.HTMLPattern, Index: p.HTMLIndex, Top: p.HTMLTop,
		Run: html.Run{Version: version, IncludeBots: p.IncludeBots, IncludeSpam: p.IncludeSpam},
	}}, nil
}

// htmlSink writes an HTML report per account and an index (package
// reports/html). Its pages describe the run too: describeRun tells it how
// the run went before it is prepared.
type htmlSink struct{ opt html.Options }

func (s *htmlSink) String() string { return "HTML report in " + s.opt.Dir }

// Check checks the patterns, the directory and the pages' files; a problem
// is a usage error.
func (s *htmlSink) Check(_ context.Context, _ []string, plan *mapreduce.Plan, probe bool) error {
	if err := html.Check(plan, s.opt, probe); err != nil {
		return &usageError{err}
	}
	return nil
}

func (s *htmlSink) Prepare(ctx context.Context, reps []mapreduce.Report, plan *mapreduce.Plan) (prepared, error) {
	p, err := html.Prepare(ctx, reps, plan, s.opt)
	if err != nil {
		return nil, err
	}
	return htmlPrepared{p}, nil
}

// files returns the names of the pages the sink writes for plan.
func (s *htmlSink) files(plan *mapreduce.Plan) []string { return html.Files(plan, s.opt) }

// htmlPrepared is pages written under temporary names; Commit renames them,
// which does not look at the context.
type htmlPrepared struct{ p *html.Prepared }

func (h htmlPrepared) Commit(context.Context) error { return h.p.Commit() }
func (h htmlPrepared) Abort(context.Context) error  { return h.p.Abort() }
func (h htmlPrepared) early() bool                  { return false }

// describeRun tells the HTML outputs how the run went, before they are
// prepared: its summary, when it was made, and the CSV files the other
// outputs write (which the pages link to).
func describeRun(outs []output, sum *mapreduce.Summary, reps []mapreduce.Report, plan *mapreduce.Plan) {
	var files []string
	for _, o := range outs {
		if cs, ok := o.sink.(*csvSink); ok {
			for i := range reps {
				for _, f := range csv.FileNames(cs.opt.Pattern, reps[i].Name, plan) {
					files = append(files, filepath.Join(cs.opt.Dir, f.Name))
				}
			}
		}
	}
	now := time.Now()
	for _, o := range outs {
		if hs, ok := o.sink.(*htmlSink); ok {
			hs.opt.Run.Summary = sum
			hs.opt.Run.Generated = now
			hs.opt.Run.CSVFiles = files
		}
	}
}
