package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/file"
	"github.com/pvjobs/pvjobs/readers/sample"
)

// source is a mapreduce.Source the CLI opened and must close.
type source interface {
	mapreduce.Source
	fmt.Stringer
	Close()
}

// discoverer is a source that can list the accounts it has in [start, end)
// (every account when start is zero) and its first and last day.
type discoverer interface {
	Discover(ctx context.Context, start, end time.Time) (accounts []string, first, last mapreduce.Date, err error)
}

// openSource opens --source: "" is the embedded sample, cassandra://... a
// Cassandra cluster, anything else a directory of shard files.
func openSource(ctx context.Context, p *runParams) (source, error) {
	spec := p.Source
	switch {
	case spec == "":
		return &fileSource{file.NewFS(sample.FS(), sample.Name)}, nil
	case strings.HasPrefix(spec, "cassandra://"):
		return openCassandraSource(ctx, p)
	case strings.Contains(spec, "://"):
		return nil, usagef("--source %q: want a directory or cassandra://host[:port]/keyspace", spec)
	}
	st, err := os.Stat(spec)
	if err != nil || !st.IsDir() {
		return nil, usagef("--source %q: not a directory of shard files", spec)
	}
	s, err := file.Open(spec)
	if err != nil {
		return nil, usagef("--source: %v", err)
	}
	return &fileSource{s}, nil
}

type fileSource struct{ *file.Source }

func (f *fileSource) Close() {}

// Discover lists accounts and days from the shard file names.
func (f *fileSource) Discover(ctx context.Context, start, end time.Time) ([]string, mapreduce.Date, mapreduce.Date, error) {
	keys, err := f.Shards()
	if err != nil {
		return nil, mapreduce.Date{}, mapreduce.Date{}, err
	}
	seen := map[string]bool{}
	var accounts []string
	var first, last mapreduce.Date
	for _, k := range keys {
		if !start.IsZero() && (!k.End().After(start) || !k.Start().Before(end)) {
			continue
		}
		if !seen[k.Account] {
			seen[k.Account] = true
			accounts = append(accounts, k.Account)
		}
		d := mapreduce.DateOf(k.Day)
		if first.IsZero() || d.Before(first) {
			first = d
		}
		if last.IsZero() || last.Before(d) {
			last = d
		}
	}
	return accounts, first, last, nil
}
