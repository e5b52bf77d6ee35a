package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/reports/csv"
)

// sink is where a run's reports go. Write is called once, after a successful
// run; it must leave no half-written output when it fails.
type sink interface {
	Write(ctx context.Context, reps []mapreduce.Report, plan *mapreduce.Plan) error
	fmt.Stringer
}

// parseOut parses one --out value.
func parseOut(spec string, p *runParams) (sink, error) {
	switch {
	case strings.HasPrefix(spec, "csv:"):
		dir := strings.TrimPrefix(spec, "csv:")
		if dir == "" {
			return nil, usagef("--out %q: want csv:DIR", spec)
		}
		return &csvSink{csv.Options{Dir: dir, Pattern: p.CSVPattern, Raw: p.CSVRaw}}, nil
	case strings.HasPrefix(spec, "redis://"), strings.HasPrefix(spec, "rediss://"):
		return openRedisSink(spec, p)
	}
	return nil, usagef("--out %q: want csv:DIR or redis://host:port/db", spec)
}

type csvSink struct{ opt csv.Options }

func (s *csvSink) Write(_ context.Context, reps []mapreduce.Report, plan *mapreduce.Plan) error {
	return csv.Write(reps, plan, s.opt)
}

func (s *csvSink) String() string { return "CSV files in " + s.opt.Dir }

// openRedisSink opens a Redis sink (redis.go).
var openRedisSink = func(spec string, p *runParams) (sink, error) {
	return newRedisSink(spec, p)
}
