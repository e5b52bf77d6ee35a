// Package jobs is the registry of pvjobs' jobs: one explicit list of every job
// the CLI can run, with the options they share. Each job lives in its own
// package below this one and plugs into the mapreduce engine unchanged.
package jobs

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pvjobs/pvjobs/jobs/devices"
	"github.com/pvjobs/pvjobs/jobs/geo"
	"github.com/pvjobs/pvjobs/jobs/sources"
	"github.com/pvjobs/pvjobs/jobs/uniques"
	"github.com/pvjobs/pvjobs/jobs/urls"
	"github.com/pvjobs/pvjobs/mapreduce"
)

// Config holds the options of every job; each job reads its own.
type Config struct {
	// StripQuery drops query strings from URLs (urls).
	StripQuery bool
	// InternalDomains are referrer hosts counted as internal besides the page's
	// own host (sources).
	InternalDomains []string
	// GeoIP is the path of a GeoIP2/GeoLite2 City or Country database (geo).
	GeoIP string
	// ExactUniques counts unique visitors exactly with a hash set (uniques).
	ExactUniques bool
	// UniqueMinutes adds per-minute unique-visitor rows (uniques).
	UniqueMinutes bool
	// MaxRows is the number of rows each report of keyed rows keeps per
	// account and period, the rest summed into an "(other)" row; 0 keeps
	// every row.
	MaxRows int
}

// Def describes one job.
type Def struct {
	Name string
	// Summary is one line for `pvjobs jobs`.
	Summary string
	// Reports names the reports the job writes.
	Reports []string
	// Check validates cfg for this job before any data is read; nil when the
	// job needs nothing.
	Check func(cfg *Config) error
	// New builds the job's task; close, when not nil, releases what the task
	// holds (a database) after the run.
	New func(cfg *Config) (t mapreduce.Task, close func(), err error)
}

// defs is the registry, in the order `pvjobs jobs` lists them.
var defs = []Def{
	{
		Name:    urls.Name,
		Summary: "page views per URL (top pages), normalised: no fragment, no utm_*/click ids",
		Reports: []string{"urls"},
		New: func(cfg *Config) (mapreduce.Task, func(), error) {
			return urls.New(urls.Options{StripQuery: cfg.StripQuery, MaxRows: cfg.MaxRows}), nil, nil
		},
	},
	{
		Name:    "sources",
		Summary: "page views per referrer medium (direct, internal, search, social, email, referral) and source",
		Reports: []string{"sources"},
		Check:   func(cfg *Config) error { return sources.ValidateDomains(cfg.InternalDomains) },
		New: func(cfg *Config) (mapreduce.Task, func(), error) {
			return sources.NewSources(sourcesOptions(cfg)), nil, nil
		},
	},
	{
		Name:    "searchterms",
		Summary: "page views per search engine and search term, parsed from referrers",
		Reports: []string{"searchterms"},
		Check:   func(cfg *Config) error { return sources.ValidateDomains(cfg.InternalDomains) },
		New: func(cfg *Config) (mapreduce.Task, func(), error) {
			return sources.NewSearchTerms(sourcesOptions(cfg)), nil, nil
		},
	},
	{
		Name:    devices.Name,
		Summary: "page views per device class (desktop, mobile, tablet, bot, unknown), browser and OS",
		Reports: []string{"devices"},
		New: func(cfg *Config) (mapreduce.Task, func(), error) {
			return devices.New(devices.Options{MaxRows: cfg.MaxRows}), nil, nil
		},
	},
	{
		Name:    geo.Name,
		Summary: "page views per country, region and city (needs --geoip, a GeoIP2/GeoLite2 database)",
		Reports: []string{"geo"},
		Check:   func(cfg *Config) error { return geo.Check(cfg.GeoIP) },
		New: func(cfg *Config) (mapreduce.Task, func(), error) {
			db, err := geo.Open(cfg.GeoIP)
			if err != nil {
				return nil, nil, err
			}
			return geo.New(db, geo.Options{MaxRows: cfg.MaxRows}), func() { db.Close() }, nil
		},
	},
	{
		Name:    uniques.Name,
		Summary: "unique visitors per hour, day, month and range (Redis-compatible HyperLogLog)",
		Reports: []string{"uniques"},
		New: func(cfg *Config) (mapreduce.Task, func(), error) {
			return uniques.New(uniques.Options{Exact: cfg.ExactUniques, Minutes: cfg.UniqueMinutes}), nil, nil
		},
	},
}

func init() {
	seen := map[string]bool{}
	for _, d := range defs {
		if seen[d.Name] {
			panic("jobs: duplicate job " + d.Name)
		}
		seen[d.Name] = true
	}
}

// All returns every job.
func All() []Def { return slices.Clone(defs) }

// Names returns the names of every job.
func Names() []string {
	var n []string
	for _, d := range defs {
		n = append(n, d.Name)
	}
	return n
}

// Lookup returns the jobs named, refusing unknown and repeated names. "all"
// selects every job.
func Lookup(names []string) ([]Def, error) {
	var out []Def
	seen := map[string]bool{}
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "all" {
			return All(), nil
		}
		i := slices.IndexFunc(defs, func(d Def) bool { return d.Name == n })
		if i < 0 {
			return nil, fmt.Errorf("unknown job %q (jobs: %s)", n, strings.Join(Names(), ", "))
		}
		if seen[n] {
			return nil, fmt.Errorf("job %q is named twice", n)
		}
		seen[n] = true
		out = append(out, defs[i])
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no jobs named (jobs: %s)", strings.Join(Names(), ", "))
	}
	return out, nil
}

// Check validates cfg for every job in ds.
func Check(ds []Def, cfg *Config) error {
	for _, d := range ds {
		if d.Check != nil {
			if err := d.Check(cfg); err != nil {
				return fmt.Errorf("job %s: %w", d.Name, err)
			}
		}
	}
	return nil
}

// combined lists jobs that share their per-row work: when every job of an
// entry runs, one task makes all their reports. sources and searchterms
// classify the same referrer; together they classify it once per row.
var combined = []struct {
	names []string
	new   func(cfg *Config) mapreduce.Task
}{
	{[]string{"sources", "searchterms"}, func(cfg *Config) mapreduce.Task {
		return sources.NewBoth(sourcesOptions(cfg))
	}},
}

// Build returns the tasks of ds and a function that releases what they hold;
// call it after the run. Jobs listed in combined share one task.
func Build(ds []Def, cfg *Config) ([]mapreduce.Task, func(), error) {
	var ts []mapreduce.Task
	var closers []func()
	closeAll := func() {
		for _, c := range closers {
			c()
		}
	}
	done := map[string]bool{}
	for _, c := range combined {
		if slices.ContainsFunc(c.names, func(n string) bool {
			return !slices.ContainsFunc(ds, func(d Def) bool { return d.Name == n })
		}) {
			continue
		}
		ts = append(ts, c.new(cfg))
		for _, n := range c.names {
			done[n] = true
		}
	}
	for _, d := range ds {
		if done[d.Name] {
			continue
		}
		t, c, err := d.New(cfg)
		if err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("job %s: %w", d.Name, err)
		}
		if c != nil {
			closers = append(closers, c)
		}
		ts = append(ts, t)
	}
	return ts, closeAll, nil
}

func sourcesOptions(cfg *Config) sources.Options {
	return sources.Options{InternalDomains: cfg.InternalDomains, MaxRows: cfg.MaxRows}
}
