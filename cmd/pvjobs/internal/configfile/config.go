// Package config reads pvjobs' config file: named jobs — what to read, which
// reports to make, where to write them, in which time zone, on which cron
// schedule — and the scheduler's settings. The format is YAML (see
// testdata/config/pvjobs.yaml); every mistake is reported with its file, line
// and column, all of them at once.
//
// A config file has three sections:
//
//	defaults:   # job keys every job inherits unless it sets them itself
//	scheduler:  # lock, lock_ttl, state, metrics_addr: for 'pvjobs schedule'
//	jobs:       # name: job keys
//
// The job keys are listed in JobKeys.
package configfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/daterange"
	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/location"
	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/scheduler"
	"github.com/pvjobs/pvjobs/jobs"
	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/reports/csv"
)

// File is a parsed config file.
type File struct {
	// Path is the file's name, as given to Load or Parse.
	Path string
	// Scheduler holds the scheduler's settings.
	Scheduler Scheduler
	// Jobs lists the jobs in the order of the file, each with the defaults
	// section merged in.
	Jobs []*Job
}

// Scheduler holds the settings of 'pvjobs schedule'.
type Scheduler struct {
	// Lock is a redis:// or rediss:// URL: schedulers on several machines
	// then share a lock per job (with expiry LockTTL) and the record of the
	// slots done. Empty means a lock within the process.
	Lock string
	// LockTTL is the expiry of a Redis lock (0: the scheduler's default).
	LockTTL time.Duration
	// State is a file that records the slots done, for catch-up after a
	// restart, when there is no Redis lock. Empty means memory only.
	State string
	// MetricsAddr is the address ([host]:port) to serve /metrics on; empty
	// means none.
	MetricsAddr string
}

// Job is one named job. Pointer and slice fields are nil when neither the job
// nor the defaults section sets them, so that flags, environment variables
// and built-in defaults can take their place.
type Job struct {
	Name string
	// At is where the job is declared.
	At Pos

	Source          *string
	Accounts        []string
	Reports         []string
	Out             []string
	CSVPattern      *string
	CSVRaw          *bool
	TZ              *string
	Top             *int
	Quiet           *bool
	Slices          *int
	Workers         *int
	MaxBadRows      *string
	StripQuery      *bool
	InternalDomains []string
	GeoIP           *string
	IncludeBots     *bool
	ExactUniques    *bool
	UniqueMinutes   *bool
	MetricsFile     *string
	// Schedule is the cron expression (checked), in the job's tz.
	Schedule *string
	// Range is the window a run reports when no dates are given.
	Range   *daterange.Window
	CatchUp *time.Duration
	Timeout *time.Duration

	pos map[string]Pos
}

// Pos returns where key (such as "tz") was set for the job — in the job or
// in the defaults section — and false when it was not set.
func (j *Job) Pos(key string) (Pos, bool) {
	p, ok := j.pos[key]
	return p, ok
}

// Location returns the job's time zone (UTC when tz is not set).
func (j *Job) Location() *time.Location {
	if j.TZ == nil {
		return time.UTC
	}
	loc, err := time.LoadLocation(*j.TZ)
	if err != nil { // checked by Parse
		return time.UTC
	}
	return loc
}

// ParseSchedule returns the job's schedule, or nil when it has none.
func (j *Job) ParseSchedule() (*scheduler.Schedule, error) {
	if j.Schedule == nil {
		return nil, nil
	}
	return scheduler.ParseCron(*j.Schedule, j.Location())
}

// Job returns the job named name.
func (f *File) Job(name string) (*Job, error) {
	for _, j := range f.Jobs {
		if j.Name == name {
			return j, nil
		}
	}
	var names []string
	for _, j := range f.Jobs {
		names = append(names, j.Name)
	}
	return nil, fmt.Errorf("%w %q in %s (jobs: %s)", ErrNoJob, name, f.Path, strings.Join(names, ", "))
}

// ErrNoJob is wrapped by File.Job's error for a name the file does not have.
var ErrNoJob = errors.New("no job")

// Pos is a place in a config file.
type Pos struct {
	File         string
	Line, Column int
}

// String formats p as file:line:column.
func (p Pos) String() string {
	if p.Column == 0 {
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Column)
}

// Error is one mistake in a config file.
type Error struct {
	Pos
	// Key is the dotted path of the value, such as "jobs.nightly.tz", or
	// empty for mistakes of the file's structure.
	Key string
	Msg string
}

func (e *Error) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("%s: %s", e.Pos, e.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", e.Pos, e.Key, e.Msg)
}

// Errors is every mistake in a config file, in the order of the file.
type Errors []*Error

func (es Errors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap returns the errors, for errors.As and errors.Is.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Locations checks the locations a config file names (source, out,
// scheduler.lock) and hides their secrets in its errors: the CLI's
// registries of package location. A nil Checker accepts every location of
// its kind.
type Locations struct {
	Sources, Outputs, Locks location.Checker
}

// Load reads and parses the config file at path.
func Load(path string, locs Locations) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	return Parse(path, b, locs)
}

// JobKeys lists the keys of a job (and of the defaults section).
var JobKeys = []string{
	"source", "accounts", "reports", "out", "csv_pattern", "csv_raw", "tz", "top", "quiet",
	"slices", "workers", "max_bad_rows", "strip_query", "internal_domains", "geoip",
	"include_bots", "exact_uniques", "unique_minutes", "metrics_file",
	"schedule", "range", "catch_up", "timeout",
}

var (
	topKeys       = []string{"defaults", "scheduler", "jobs"}
	schedulerKeys = []string{"lock", "lock_ttl", "state", "metrics_addr"}
	jobName       = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
)

// Parse parses a config file's bytes; name is the file's name for errors. It
// returns Errors listing every mistake.
func Parse(name string, data []byte, locs Locations) (*File, error) {
	p := &parser{file: name, locs: locs}
	f := &File{Path: name}
	root := p.document(data)
	if root == nil {
		return nil, p.result()
	}
	var defaults *Job
	var jobsNode *yaml.Node
	p.fields(root, "", topKeys, func(key string, k, v *yaml.Node) {
		switch key {
		case "defaults":
			defaults = p.job("defaults", k, v)
		case "scheduler":
			p.scheduler(&f.Scheduler, v)
		case "jobs":
			jobsNode = v
		}
	})
	if jobsNode == nil {
		p.errf(root, "", "no jobs: add a jobs section (jobs:\\n  nightly:\\n    reports: [urls])")
		return nil, p.result()
	}
	p.fields(jobsNode, "jobs", nil, func(name string, k, v *yaml.Node) {
		if !jobName.MatchString(name) {
			p.errf(k, "jobs", "job name %q: want 1 to 64 of A-Z a-z 0-9 _ -", name)
			return
		}
		if j := p.job("jobs."+name, k, v); j != nil {
			j.Name = name
			j.inherit(defaults)
			p.check(j)
			f.Jobs = append(f.Jobs, j)
		}
	})
	if len(f.Jobs) == 0 && len(p.errs) == 0 {
		p.errf(jobsNode, "jobs", "no jobs defined")
	}
	if err := p.result(); err != nil {
		return nil, err
	}
	return f, nil
}

type parser struct {
	file string
	locs Locations
	errs Errors
}

// checkLocation checks raw with c (nil: anything goes).
func checkLocation(c location.Checker, raw string) error {
	if c == nil {
		return nil
	}
	return c.Check(raw)
}

func (p *parser) pos(n *yaml.Node) Pos { return Pos{File: p.file, Line: n.Line, Column: n.Column} }

func (p *parser) errf(n *yaml.Node, key, format string, a ...any) {
	p.errs = append(p.errs, &Error{Pos: p.pos(n), Key: key, Msg: fmt.Sprintf(format, a...)})
}

func (p *parser) result() error {
	if len(p.errs) == 0 {
		return nil
	}
	slices.SortStableFunc(p.errs, func(a, b *Error) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Column - b.Column
	})
	return p.errs
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// document returns the top-level mapping of data, or nil after an error.
func (p *parser) document(data []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.errs = append(p.errs, &Error{Pos: Pos{File: p.file, Line: 1}, Msg: "empty config file: want a jobs section"})
			return nil
		}
		e := &Error{Pos: Pos{File: p.file, Line: 1}, Msg: "not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			e.Line, _ = strconv.Atoi(m[1])
			e.Msg = "not valid YAML: " + m[2]
		}
		p.errs = append(p.errs, e)
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		line := extra.Line
		if line == 0 {
			line = 1
		}
		p.errs = append(p.errs, &Error{Pos: Pos{File: p.file, Line: line}, Msg: "more than one YAML document (---): want one"})
		return nil
	}
	if len(doc.Content) == 0 {
		p.errs = append(p.errs, &Error{Pos: Pos{File: p.file, Line: 1}, Msg: "empty config file: want a jobs section"})
		return nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		p.errf(root, "", "want a mapping with the sections defaults, scheduler and jobs")
		return nil
	}
	return root
}

// resolve follows an alias (*name) to its anchor's node.
func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// fields calls fn for each key of the mapping n, refusing repeated keys and,
// when known is not nil, keys not in known.
func (p *parser) fields(n *yaml.Node, path string, known []string, fn func(key string, k, v *yaml.Node)) {
	n = resolve(n)
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // an empty section
	}
	if n.Kind != yaml.MappingNode {
		p.errf(n, path, "want a mapping (key: value lines), not %s", describe(n))
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		key := k.Value
		if k.Kind != yaml.ScalarNode {
			p.errf(k, path, "want a plain key, not %s", describe(k))
			continue
		}
		if key == "<<" {
			p.errf(k, path, "YAML merge keys (<<) are not supported: put shared keys in the defaults section")
			continue
		}
		if line, ok := seen[key]; ok {
			p.errf(k, join(path, key), "given twice (first on line %d)", line)
			continue
		}
		seen[key] = k.Line
		if known != nil && !slices.Contains(known, key) {
			msg := fmt.Sprintf("unknown key %q", key)
			if s := suggest(key, known); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			} else {
				msg += fmt.Sprintf(" (known: %s)", strings.Join(known, ", "))
			}
			p.errf(k, path, "%s", msg)
			continue
		}
		fn(key, k, v)
	}
}

// describe names the kind of a node for errors.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.ShortTag() {
	case "!!null":
		return "an empty value"
	case "!!bool":
		return "true/false"
	case "!!int", "!!float":
		return "a number"
	}
	return fmt.Sprintf("%q", n.Value)
}

func (p *parser) scheduler(s *Scheduler, n *yaml.Node) {
	p.fields(n, "scheduler", schedulerKeys, func(key string, k, v *yaml.Node) {
		path := "scheduler." + key
		str, ok := p.str(v, path)
		if !ok {
			return
		}
		switch key {
		case "lock":
			if err := checkLocation(p.locs.Locks, str); err != nil {
				p.errf(v, path, "%v", err)
				return
			}
			s.Lock = str
		case "lock_ttl":
			d, err := parseDuration(str)
			if err != nil || d < time.Second {
				p.errf(v, path, "%q: want a duration of at least 1s, such as 30s or 2m", str)
				return
			}
			s.LockTTL = d
		case "state":
			s.State = str
		case "metrics_addr":
			if _, port, err := net.SplitHostPort(str); err != nil || port == "" {
				p.errf(v, path, "%q: want [host]:port, such as :9464 or 127.0.0.1:9464", str)
				return
			}
			s.MetricsAddr = str
		}
	})
}

// job parses a job's (or the defaults section's) keys.
func (p *parser) job(path string, k, n *yaml.Node) *Job {
	j := &Job{At: p.pos(k), pos: map[string]Pos{}}
	p.fields(n, path, JobKeys, func(key string, _, v *yaml.Node) {
		kp := path + "." + key
		j.pos[key] = p.pos(v)
		if !p.jobKey(j, key, kp, v) {
			delete(j.pos, key)
		}
	})
	return j
}

// jobKey sets key of j from v and reports whether v was good.
func (p *parser) jobKey(j *Job, key, path string, v *yaml.Node) bool {
	switch key {
	case "source":
		s, ok := p.str(v, path)
		if ok {
			if err := checkLocation(p.locs.Sources, s); err != nil {
				p.errf(v, path, "%v", err)
				return false
			}
		}
		return set(&j.Source, s, ok)
	case "accounts":
		l, ok := p.list(v, path)
		for _, a := range l {
			if a == "all" && len(l) > 1 {
				p.errf(v, path, "\"all\" with other accounts: give all or a list")
				return false
			}
			if a != "all" {
				if err := mapreduce.ValidateAccount(a); err != nil {
					p.errf(v, path, "%v", err)
					return false
				}
			}
		}
		return setList(&j.Accounts, l, ok)
	case "reports":
		l, ok := p.list(v, path)
		if ok {
			if _, err := jobs.Lookup(l); err != nil {
				p.errf(v, path, "%v", err)
				return false
			}
		}
		return setList(&j.Reports, l, ok)
	case "out":
		l, ok := p.list(v, path)
		for _, o := range l {
			if err := checkLocation(p.locs.Outputs, o); err != nil {
				p.errf(v, path, "%v", err)
				return false
			}
		}
		return setList(&j.Out, l, ok)
	case "csv_pattern":
		s, ok := p.str(v, path)
		if ok && !strings.Contains(s, "{report}") {
			p.errf(v, path, "%q has no {report}: every report would go to the same file", s)
			return false
		}
		if ok {
			if err := csv.CheckPattern(s, nil); err != nil {
				p.errf(v, path, "%v", err)
				return false
			}
		}
		return set(&j.CSVPattern, s, ok)
	case "tz":
		s, ok := p.str(v, path)
		if ok {
			if _, err := time.LoadLocation(s); err != nil || s == "" || s == "Local" {
				p.errf(v, path, "unknown time zone %q: want an IANA name such as UTC, Europe/Berlin or America/New_York", s)
				return false
			}
		}
		return set(&j.TZ, s, ok)
	case "top":
		return p.intIn(v, path, &j.Top, 0, 1<<30, "0 (no table) or more")
	case "slices":
		return p.intIn(v, path, &j.Slices, 1, 86400, "1 to 86400")
	case "workers":
		return p.intIn(v, path, &j.Workers, 0, 1<<16, "0 (GOMAXPROCS) or more")
	case "max_bad_rows":
		s, ok := p.str(v, path)
		if ok {
			if _, err := mapreduce.ParseBudget(s); err != nil {
				p.errf(v, path, "%v", err)
				return false
			}
		}
		return set(&j.MaxBadRows, s, ok)
	case "internal_domains":
		l, ok := p.list(v, path)
		return setList(&j.InternalDomains, l, ok)
	case "geoip":
		s, ok := p.str(v, path)
		return set(&j.GeoIP, s, ok)
	case "metrics_file":
		s, ok := p.str(v, path)
		return set(&j.MetricsFile, s, ok)
	case "csv_raw":
		return p.boolean(v, path, &j.CSVRaw)
	case "quiet":
		return p.boolean(v, path, &j.Quiet)
	case "strip_query":
		return p.boolean(v, path, &j.StripQuery)
	case "include_bots":
		return p.boolean(v, path, &j.IncludeBots)
	case "exact_uniques":
		return p.boolean(v, path, &j.ExactUniques)
	case "unique_minutes":
		return p.boolean(v, path, &j.UniqueMinutes)
	case "schedule":
		s, ok := p.str(v, path)
		if ok {
			// Checked for syntax here; again with the job's tz in check.
			if _, err := scheduler.ParseCron(s, time.UTC); err != nil {
				p.errf(v, path, "%v", err)
				return false
			}
		}
		return set(&j.Schedule, s, ok)
	case "range":
		s, ok := p.str(v, path)
		if !ok {
			return false
		}
		w, err := daterange.ParseWindow(s)
		if err != nil {
			p.errf(v, path, "%q: want yesterday, today, or last N days or weeks (last 7d, last 2w)", s)
			return false
		}
		j.Range = &w
		return true
	case "catch_up", "timeout":
		s, ok := p.str(v, path)
		if !ok {
			return false
		}
		d, err := parseDuration(s)
		if err != nil || d < 0 {
			p.errf(v, path, "%q: want a duration such as 3d, 12h or 90m", s)
			return false
		}
		if key == "catch_up" {
			j.CatchUp = &d
		} else {
			if d == 0 {
				p.errf(v, path, "%q: want a duration above zero, or no timeout key", s)
				return false
			}
			j.Timeout = &d
		}
		return true
	}
	panic("config: no parser for job key " + key)
}

// check checks what depends on several keys, once the defaults are merged.
func (p *parser) check(j *Job) {
	if j.Schedule != nil {
		if _, err := scheduler.ParseCron(*j.Schedule, j.Location()); err != nil {
			pos := j.pos["schedule"]
			p.errs = append(p.errs, &Error{Pos: pos, Key: "jobs." + j.Name + ".schedule", Msg: err.Error()})
		}
	}
}

// inherit fills the keys j does not set from d.
func (j *Job) inherit(d *Job) {
	if d == nil {
		return
	}
	for k, v := range d.pos {
		if _, ok := j.pos[k]; !ok {
			j.pos[k] = v
		}
	}
	pick(&j.Source, d.Source)
	pickList(&j.Accounts, d.Accounts)
	pickList(&j.Reports, d.Reports)
	pickList(&j.Out, d.Out)
	pick(&j.CSVPattern, d.CSVPattern)
	pick(&j.CSVRaw, d.CSVRaw)
	pick(&j.TZ, d.TZ)
	pick(&j.Top, d.Top)
	pick(&j.Quiet, d.Quiet)
	pick(&j.Slices, d.Slices)
	pick(&j.Workers, d.Workers)
	pick(&j.MaxBadRows, d.MaxBadRows)
	pick(&j.StripQuery, d.StripQuery)
	pickList(&j.InternalDomains, d.InternalDomains)
	pick(&j.GeoIP, d.GeoIP)
	pick(&j.IncludeBots, d.IncludeBots)
	pick(&j.ExactUniques, d.ExactUniques)
	pick(&j.UniqueMinutes, d.UniqueMinutes)
	pick(&j.MetricsFile, d.MetricsFile)
	pick(&j.Schedule, d.Schedule)
	pick(&j.Range, d.Range)
	pick(&j.CatchUp, d.CatchUp)
	pick(&j.Timeout, d.Timeout)
}

func pick[T any](dst **T, src *T) {
	if *dst == nil && src != nil {
		v := *src
		*dst = &v
	}
}

func pickList(dst *[]string, src []string) {
	if *dst == nil && src != nil {
		*dst = slices.Clone(src)
	}
}

func set(dst **string, s string, ok bool) bool {
	if ok {
		*dst = &s
	}
	return ok
}

func setList(dst *[]string, l []string, ok bool) bool {
	if ok {
		*dst = l
	}
	return ok
}

// str reads a non-empty scalar.
func (p *parser) str(v *yaml.Node, path string) (string, bool) {
	if v.Kind != yaml.ScalarNode || v.ShortTag() == "!!null" {
		p.errf(v, path, "want a value, not %s", describe(v))
		return "", false
	}
	if strings.TrimSpace(v.Value) == "" {
		p.errf(v, path, "empty value")
		return "", false
	}
	return strings.TrimSpace(v.Value), true
}

// list reads a list of non-empty strings: a YAML list, or one string of
// comma-separated items.
func (p *parser) list(v *yaml.Node, path string) ([]string, bool) {
	var out []string
	switch v.Kind {
	case yaml.ScalarNode:
		s, ok := p.str(v, path)
		if !ok {
			return nil, false
		}
		for _, it := range strings.Split(s, ",") {
			if it = strings.TrimSpace(it); it != "" {
				out = append(out, it)
			}
		}
	case yaml.SequenceNode:
		for _, it := range v.Content {
			it = resolve(it)
			s, ok := p.str(it, path)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
	default:
		p.errf(v, path, "want a list, not %s", describe(v))
		return nil, false
	}
	if len(out) == 0 {
		p.errf(v, path, "empty list")
		return nil, false
	}
	return out, true
}

func (p *parser) intIn(v *yaml.Node, path string, dst **int, lo, hi int, want string) bool {
	if v.Kind != yaml.ScalarNode {
		p.errf(v, path, "want a whole number, %s, not %s", want, describe(v))
		return false
	}
	n, err := strconv.Atoi(strings.TrimSpace(v.Value))
	if err != nil || n < lo || n > hi {
		p.errf(v, path, "%q: want a whole number, %s", v.Value, want)
		return false
	}
	*dst = &n
	return true
}

func (p *parser) boolean(v *yaml.Node, path string, dst **bool) bool {
	if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!bool" {
		b := strings.EqualFold(v.Value, "true")
		*dst = &b
		return true
	}
	p.errf(v, path, "want true or false, not %s", describe(v))
	return false
}

// parseDuration parses a Go duration (90m, 1h30m) or days and weeks (3d, 2w).
func parseDuration(s string) (time.Duration, error) {
	if n := len(s); n >= 2 && (s[n-1] == 'd' || s[n-1] == 'w') {
		v, err := strconv.Atoi(s[:n-1])
		if err != nil || v < 0 || v > 100*365 {
			return 0, fmt.Errorf("duration %q", s)
		}
		d := time.Duration(v) * 24 * time.Hour
		if s[n-1] == 'w' {
			d *= 7
		}
		return d, nil
	}
	return time.ParseDuration(s)
}

// suggest returns the known key closest to key, when it is a likely typo.
func suggest(key string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if d := distance(key, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
