package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/location"
	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/cassandra"
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

// sources is the registry of --source (and the config file's source:): a
// directory of shard files, or a Cassandra table. Adding a source is adding
// an entry.
var sources = location.NewRegistry("source",
	location.New(location.Spec[string, *runParams, source]{
		Scheme: "dir", Syntax: "a directory of shard files",
		Match: func(raw string) bool { return !strings.Contains(raw, "://") },
		Parse: parseDirSource, Open: openDirSource,
	}),
	location.New(location.Spec[*cassandra.Config, *runParams, source]{
		Scheme: "cassandra", Syntax: "cassandra://host[:port]/keyspace", Prefix: "cassandra://",
		Parse: cassandra.ParseURL,
		Open: func(ctx context.Context, cfg *cassandra.Config, p *runParams) (source, error) {
			t, err := openCassandraTable(ctx, cfg, p.Cassandra)
			if err != nil {
				return nil, err
			}
			return t, nil
		},
	}),
)

// openSource opens --source: "" is the embedded sample, anything else a
// location of the sources registry.
func openSource(ctx context.Context, p *runParams) (source, error) {
	if p.MaxRowSize < 0 || p.MaxRowSize > 1<<30 {
		return nil, usagef("--max-row-size %d: want 1 to %d bytes (0: %d)", p.MaxRowSize, 1<<30, file.DefaultMaxRowSize)
	}
	if p.Source == "" {
		s := file.NewFS(sample.FS(), sample.Name)
		s.MaxRowSize = p.MaxRowSize
		return &fileSource{s}, nil
	}
	loc, err := sources.Parse(p.Source)
	if err != nil {
		return nil, usagef("--source %w", err)
	}
	src, err := loc.Open(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("--source %w", err)
	}
	return src, nil
}

// parseDirSource parses a directory of shard files: any path.
func parseDirSource(raw string) (string, error) {
	if strings.TrimSpace(raw) == "" {
		return "", fmt.Errorf("want a directory of shard files")
	}
	return raw, nil
}

// openDirSource opens a directory of shard files; a path that is not a
// directory is a usage error.
func openDirSource(_ context.Context, dir string, p *runParams) (source, error) {
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		return nil, usagef("not a directory of shard files")
	}
	s, err := file.Open(dir)
	if err != nil {
		return nil, usagef("%v", err)
	}
	s.MaxRowSize = p.MaxRowSize
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
