// Package jobs is the registry of pvjobs' jobs: one explicit list of every job
// the CLI can run, with the options they share. Each job lives in its own
// package below this one and plugs into the mapreduce engine unchanged.
package jobs

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/pvjobs/pvjobs/jobs/devices"
	"github.com/pvjobs/pvjobs/jobs/geo"
	"github.com/pvjobs/pvjobs/jobs/hours"
	"github.com/pvjobs/pvjobs/jobs/languages"
	"github.com/pvjobs/pvjobs/jobs/sources"
	"github.com/pvjobs/pvjobs/jobs/sources/spam"
	"github.com/pvjobs/pvjobs/jobs/titles"
	"github.com/pvjobs/pvjobs/jobs/uniques"
	"github.com/pvjobs/pvjobs/jobs/urls"
	"github.com/pvjobs/pvjobs/jobs/visits"
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
	// SpamDomains are referrer-spam hosts added to the embedded list; their
	// page views are left out of every report unless IncludeSpam.
	SpamDomains []string
	// IncludeSpam keeps referrer spam in the reports.
	IncludeSpam bool
	// Merging builds tasks that only merge partial results and build
	// reports (pvjobs merge): what only reading needs, such as the GeoIP
	// database, is not opened.
	Merging bool
}

// SpamList returns the referrer-spam list of cfg: the embedded one with
// SpamDomains added.
func (cfg *Config) SpamList() (*spam.List, error) { return spam.Embedded().With(cfg.SpamDomains) }

// CheckSpam validates cfg's spam domains.
func CheckSpam(cfg *Config) error {
	if _, err := cfg.SpamList(); err != nil {
		return fmt.Errorf("--spam-domains: %w", err)
	}
	return nil
}

// Def describes one job.
type Def struct {
	Name string
	// Summary is one line for `pvjobs jobs`.
	Summary string
	// Reports names the reports the job writes.
	Reports []string
	// Visits is set for jobs that count visits: the run then finds visits
	// (sessions), which needs every page view's source (see Enricher).
	Visits bool
	// Group names jobs that share their per-row work: the jobs of one group
	// that a run selects are made by one task (see groups).
	Group string
	// Check validates cfg for this job before any data is read; nil when the
	// job needs nothing.
	Check func(cfg *Config) error
	// New builds the job's task; close, when not nil, releases what the task
	// holds (a database) after the run. Jobs of a group are built by the
	// group's builder instead.
	New func(cfg *Config) (t mapreduce.Task, close func(), err error)
}

// The groups of jobs that share one task.
const (
	groupPages     = "pages"
	groupReferrers = "referrers"
)

// defs is the registry, in the order `pvjobs jobs` lists them.
var defs = []Def{
	{
		Name:    urls.Name,
		Summary: "page views and visitors per URL (top pages), normalised: no fragment, no utm_*/click ids",
		Reports: []string{urls.Name},
		Group:   groupPages,
	},
	{
		Name:    urls.EntryPagesName,
		Summary: "visits per entry page (a visit's first page), with bounces, bounce rate and duration",
		Reports: []string{urls.EntryPagesName},
		Visits:  true,
		Group:   groupPages,
	},
	{
		Name:    urls.ExitPagesName,
		Summary: "visits per exit page (a visit's last page), with the exit rate: exits / page views of the URL",
		Reports: []string{urls.ExitPagesName},
		Visits:  true,
		Group:   groupPages,
	},
	{
		Name:    visits.Name,
		Summary: "visitors, visits, page views, bounces, bounce rate, visit duration, page views per visit per hour, day, month, range",
		Reports: []string{visits.Name},
		Visits:  true,
		New: func(cfg *Config) (mapreduce.Task, func(), error) {
			return visits.New(), nil, nil
		},
	},
	{
		Name:    sources.SourcesName,
		Summary: "page views, visitors and visits per medium (direct, internal, search, social, email, referral) and source",
		Reports: []string{sources.SourcesName},
		Visits:  true,
		Group:   groupReferrers,
		Check:   func(cfg *Config) error { return sources.ValidateDomains(cfg.InternalDomains) },
	},
	{
		Name:    sources.SearchTermsName,
		Summary: "page views, visitors and visits per search engine and search term, parsed from referrers",
		Reports: []string{sources.SearchTermsName},
		Visits:  true,
		Group:   groupReferrers,
		Check:   func(cfg *Config) error { return sources.ValidateDomains(cfg.InternalDomains) },
	},
	{
		Name:    sources.CampaignsName,
		Summary: "page views, visitors and visits per campaign: utm_campaign, utm_source, utm_medium, utm_term, utm_content",
		Reports: []string{sources.CampaignsName},
		Visits:  true,
		New: func(cfg *Config) (mapreduce.Task, func(), error) {
			return sources.NewCampaigns(sources.Options{MaxRows: cfg.MaxRows}), nil, nil
		},
	},
	{
		Name:    titles.Name,
		Summary: "page views and visitors per page title",
		Reports: []string{titles.Name},
		New: func(cfg *Config) (mapreduce.Task, func(), error) {
			return titles.New(titles.Options{MaxRows: cfg.MaxRows}), nil, nil
		},
	},
	{
		Name:    languages.Name,
		Summary: "page views, visitors and visits per browser language and region (BCP 47), with the language's English name",
		Reports: []string{languages.Name},
		Visits:  true,
		New: func(cfg *Config) (mapreduce.Task, func(), error) {
			return languages.New(languages.Options{MaxRows: cfg.MaxRows}), nil, nil
		},
	},
	{
		Name:    hours.Name,
		Summary: "page views and visitors per local weekday and hour of the day over the range",
		Reports: []string{hours.Name},
		New: func(cfg *Config) (mapreduce.Task, func(), error) {
			return hours.New(), nil, nil
		},
	},
	{
		Name:    devices.Name,
		Summary: "page views, visitors and visits per device class (desktop, mobile, tablet, bot, unknown), browser and OS",
		Reports: []string{devices.Name},
		Visits:  true,
		New: func(cfg *Config) (mapreduce.Task, func(), error) {
			return devices.New(devices.Options{MaxRows: cfg.MaxRows}), nil, nil
		},
	},
	{
		Name:    geo.Name,
		Summary: "page views, visitors and visits per country, region and city (needs --geoip, a GeoIP2/GeoLite2 database)",
		Reports: []string{geo.Name},
		Visits:  true,
		Check:   func(cfg *Config) error { return geo.Check(cfg.GeoIP) },
		New: func(cfg *Config) (mapreduce.Task, func(), error) {
			if cfg.Merging {
				return geo.New(nil, geo.Options{MaxRows: cfg.MaxRows}), nil, nil
			}
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
		Reports: []string{uniques.Name},
		New: func(cfg *Config) (mapreduce.Task, func(), error) {
			return uniques.New(uniques.Options{Exact: cfg.ExactUniques, Minutes: cfg.UniqueMinutes}), nil, nil
		},
	},
}

// groups builds the task of the jobs of a group that a run selects (names,
// in registry order).
var groups = map[string]func(cfg *Config, names []string) mapreduce.Task{
	groupPages: func(cfg *Config, names []string) mapreduce.Task {
		opt := urls.Options{StripQuery: cfg.StripQuery, MaxRows: cfg.MaxRows}
		if len(names) == 1 && names[0] == urls.Name {
			return urls.New(opt) // no visits needed
		}
		return urls.NewPages(opt, names)
	},
	groupReferrers: func(cfg *Config, names []string) mapreduce.Task {
		opt := sources.Options{InternalDomains: cfg.InternalDomains, MaxRows: cfg.MaxRows}
		switch {
		case len(names) == 2:
			// sources and searchterms classify the same referrer: together
			// they classify it once per row.
			return sources.NewBoth(opt)
		case names[0] == sources.SourcesName:
			return sources.NewSources(opt)
		}
		return sources.NewSearchTerms(opt)
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

// Available returns the jobs of ds that cfg lets run, and a note for each
// job left out: "all" means every job that can run, so a run without a
// GeoIP database leaves geo out (naming geo explicitly without one stays an
// error, from Check).
func Available(ds []Def, cfg *Config) (runnable []Def, notes []string) {
	for _, d := range ds {
		if d.Name == geo.Name && cfg.GeoIP == "" {
			notes = append(notes, "geo left out: it needs a GeoIP2/GeoLite2 City database (--geoip PATH; make geo-real fetches GeoLite2-City)")
			continue
		}
		runnable = append(runnable, d)
	}
	return runnable, notes
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

// Build returns the tasks of ds and a function that releases what they hold
// (the GeoIP database); call it after the run, or as soon as the run has
// mapped every page view (mapreduce.Options.OnMapped): the tasks need it
// only to map. Calling it again does nothing. The jobs of a group share one
// task.
func Build(ds []Def, cfg *Config) ([]mapreduce.Task, func(), error) {
	var ts []mapreduce.Task
	var closers []func()
	closeAll := sync.OnceFunc(func() {
		for _, c := range closers {
			c()
		}
	})
	grouped := map[string][]string{}
	for _, d := range defs { // registry order, whatever the order of ds
		if d.Group != "" && slices.ContainsFunc(ds, func(x Def) bool { return x.Name == d.Name }) {
			grouped[d.Group] = append(grouped[d.Group], d.Name)
		}
	}
	built := map[string]bool{}
	for _, d := range ds {
		if d.Group != "" {
			if !built[d.Group] {
				ts = append(ts, groups[d.Group](cfg, grouped[d.Group]))
				built[d.Group] = true
			}
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

// Enricher returns the run's per-worker enricher for the jobs ds: every
// user agent is classified (bots are left out of most reports whatever the
// jobs), and every page view's source — for referrer spam, left out of
// every report unless cfg.IncludeSpam, for sources and searchterms, and for
// visits, since a page view that brings another source starts a new one.
// Only a run that includes spam and counts neither sources nor visits skips
// the sources.
func Enricher(ds []Def, cfg *Config) func() func(*mapreduce.PageView) {
	newAgents := devices.NewEnricher(0)
	// The engine may have set the Agent already, to that of an earlier page
	// view with the same user agent (mapreduce.Options.NewEnricher).
	agents := func() func(*mapreduce.PageView) {
		a := newAgents()
		return func(pv *mapreduce.PageView) {
			if pv.Agent == nil {
				a(pv)
			}
		}
	}
	if cfg.IncludeSpam && !slices.ContainsFunc(ds, func(d Def) bool { return d.Visits || d.Group == groupReferrers }) {
		return agents
	}
	list, err := cfg.SpamList()
	if err != nil {
		list = spam.Embedded() // CheckSpam refused cfg before the run
	}
	origins := sources.NewEnricher(sources.Options{InternalDomains: cfg.InternalDomains, Spam: list})
	return func() func(*mapreduce.PageView) {
		a, o := agents(), origins()
		return func(pv *mapreduce.PageView) {
			a(pv)
			o(pv)
		}
	}
}
