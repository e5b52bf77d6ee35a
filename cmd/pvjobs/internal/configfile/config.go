// Package configfile reads pvjobs' config file: named jobs — what to read, which
// reports to make, where to write them, in which time zone, on which cron
// schedule — and the scheduler's settings. The format is YAML (see
// testdata/config/pvjobs.yaml); every mistake is reported with its file, line
// and column, all of them at once.
//
// A config file has four sections:
//
//	defaults:   # job keys every job inherits unless it sets them itself
//	scheduler:  # lock, lock_ttl, state, metrics_addr: for 'pvjobs schedule'
//	jobs:       # name: job keys
//	collect:    # listen, cassandra, accounts, spool, ...: for 'pvjobs collect'
//
// The keys of jobs, of the scheduler section and of the collect section are
// the config keys of options.Table (options.SectionJob, SectionScheduler,
// SectionCollect): the same options as the flags and environment
// variables, parsed and checked by the same code. A file needs jobs, or a
// collect section, or both. Passwords stay out of files: cql_password and
// redis_password are refused, naming the environment variable to use, and
// so is a URL with a password where the option says so
// (options.Option.PasswordEnv).
package configfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/location"
	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/options"
	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/scheduler"
	"github.com/pvjobs/pvjobs/jobs"
	"github.com/pvjobs/pvjobs/reports/csv"
)

// File is a parsed config file.
type File struct {
	// Path is the file's name, as given to Load or Parse.
	Path string
	// Jobs lists the jobs in the order of the file, each with the defaults
	// section merged in.
	Jobs []*Job

	// scheduler holds the keys of the scheduler section, defaults those of
	// the defaults section, collect those of the collect section (nil when
	// the file has none).
	scheduler, defaults, collect *Job
}

// Job is one named job: the values its keys (and the defaults section's)
// give options of the options.Table, parsed and checked.
type Job struct {
	Name string
	// At is where the job is declared.
	At Pos

	values map[*options.Option]any
	pos    map[string]Pos
}

// Lookup returns the value the job (or the defaults section) gives o, and
// false when it gives none. A Job is the options.File of a run of it.
func (j *Job) Lookup(o *options.Option) (any, bool) {
	if j == nil {
		return nil, false
	}
	v, ok := j.values[o]
	if l, isList := v.([]string); isList {
		v = slices.Clone(l)
	}
	return v, ok
}

// Get returns the value of the job's key (such as "tz"), and false when the
// job does not set it.
func (j *Job) Get(key string) (any, bool) {
	o := options.ByKey(options.SectionJob, key)
	if o == nil {
		return nil, false
	}
	return j.Lookup(o)
}

// Pos returns where key (such as "tz") was set for the job — in the job or
// in the defaults section — and false when it was not set.
func (j *Job) Pos(key string) (Pos, bool) {
	p, ok := j.pos[key]
	return p, ok
}

// Location returns the job's time zone (UTC when tz is not set).
func (j *Job) Location() *time.Location {
	tz, ok := j.Get("tz")
	if !ok {
		return time.UTC
	}
	loc, err := time.LoadLocation(tz.(string))
	if err != nil { // checked by Parse
		return time.UTC
	}
	return loc
}

// ParseSchedule returns the job's schedule, or nil when it has none.
func (j *Job) ParseSchedule() (*scheduler.Schedule, error) {
	spec, ok := j.Get("schedule")
	if !ok {
		return nil, nil
	}
	return scheduler.ParseCron(spec.(string), j.Location())
}

// For returns the options.File of a run of job j: the job's keys (and the
// defaults section's) and the scheduler section's keys. A nil j gives the
// keys of the defaults and scheduler sections.
func (f *File) For(j *Job) options.File { return fileView{f, j} }

type fileView struct {
	f *File
	j *Job
}

func (v fileView) Lookup(o *options.Option) (any, bool) {
	switch {
	case o.Section == options.SectionScheduler:
		return v.f.scheduler.Lookup(o)
	case v.j != nil:
		return v.j.Lookup(o)
	}
	return v.f.defaults.Lookup(o)
}

// Scheduler returns the value the scheduler section gives the key (such as
// "lock"), and false when it gives none.
func (f *File) Scheduler(key string) (any, bool) {
	o := options.ByKey(options.SectionScheduler, key)
	if o == nil {
		return nil, false
	}
	return f.scheduler.Lookup(o)
}

// Collect returns the options.File of pvjobs collect: the keys of the
// collect section. It returns false when the file has no collect section.
func (f *File) Collect() (options.File, bool) {
	if f.collect == nil {
		return nil, false
	}
	return collectView{f.collect}, true
}

type collectView struct{ j *Job }

func (v collectView) Lookup(o *options.Option) (any, bool) {
	if !o.In(options.SectionCollect) {
		return nil, false
	}
	return v.j.Lookup(o)
}

// CollectPos returns where key (such as "listen") was set in the collect
// section, and false when it was not.
func (f *File) CollectPos(key string) (Pos, bool) {
	if f.collect == nil {
		return Pos{}, false
	}
	return f.collect.Pos(key)
}

// Job returns the job named name.
func (f *File) Job(name string) (*Job, error) {
	if len(f.Jobs) == 0 {
		return nil, fmt.Errorf("%w %q in %s: it has no jobs section", ErrNoJob, name, f.Path)
	}
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
// registries of package location (see options.Locations).
type Locations = options.Locations

// Load reads and parses the config file at path.
func Load(path string, locs Locations) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	return Parse(path, b, locs)
}

// keys returns the keys of a section, in the order of options.Table,
// former names last.
func keys(sec options.Section) []string {
	var out, old []string
	for _, o := range options.Table {
		if o.In(sec) {
			out = append(out, o.Key)
		}
		if o.OldKey != "" && o.Section == sec {
			old = append(old, o.OldKey)
		}
	}
	return append(out, old...)
}

var (
	topKeys = []string{"defaults", "scheduler", "jobs", "collect"}
	jobName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
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
	var jobsNode *yaml.Node
	p.fields(root, "", topKeys, func(key string, k, v *yaml.Node) {
		switch key {
		case "defaults":
			f.defaults = p.section(options.SectionJob, "defaults", k, v)
		case "scheduler":
			f.scheduler = p.section(options.SectionScheduler, "scheduler", k, v)
		case "jobs":
			jobsNode = v
		case "collect":
			f.collect = p.section(options.SectionCollect, "collect", k, v)
			p.checkCollect(f.collect)
		}
	})
	if jobsNode == nil {
		if f.collect != nil {
			if err := p.result(); err != nil {
				return nil, err
			}
			return f, nil // for pvjobs collect only
		}
		p.errf(root, "", "no jobs: add a jobs section (jobs:\\n  nightly:\\n    reports: [urls]), or a collect section for pvjobs collect")
		return nil, p.result()
	}
	p.fields(jobsNode, "jobs", nil, func(name string, k, v *yaml.Node) {
		if !jobName.MatchString(name) {
			p.errf(k, "jobs", "job name %q: want 1 to 64 of A-Z a-z 0-9 _ -", name)
			return
		}
		if j := p.section(options.SectionJob, "jobs."+name, k, v); j != nil {
			j.Name = name
			j.inherit(f.defaults)
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
		p.errf(root, "", "want a mapping with the sections defaults, scheduler, jobs and collect")
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
			if env := secretEnv(key); env != "" {
				msg += fmt.Sprintf(": keep secrets out of config files, set $%s", env)
			} else if s := suggest(key, known); s != "" {
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

// section parses the keys of a job, of the defaults section or of the
// scheduler section.
func (p *parser) section(sec options.Section, path string, k, n *yaml.Node) *Job {
	j := &Job{At: p.pos(k), values: map[*options.Option]any{}, pos: map[string]Pos{}}
	p.fields(n, path, keys(sec), func(key string, kn, v *yaml.Node) {
		o := options.ByKey(sec, key)
		old := o == nil
		if old {
			o = options.ByOldKey(sec, key)
		}
		kp := path + "." + key
		if prev, ok := j.pos[o.Key]; ok {
			p.errf(kn, kp, "the same as %s (line %d): give one of them", o.Key, prev.Line)
			return
		}
		x, ok := p.value(o, old, kp, v)
		if !ok {
			return
		}
		j.values[o] = x
		j.pos[o.Key] = p.pos(v)
	})
	return j
}

// value parses the value of option o's key; old says the key is o.OldKey.
func (p *parser) value(o *options.Option, old bool, path string, v *yaml.Node) (any, bool) {
	var x any
	var err error
	switch {
	case old:
		b, ok := p.boolean(v, path)
		if !ok {
			return nil, false
		}
		if b {
			x, err = o.Parse(o.OldValues[1])
		} else {
			x, err = o.Parse(o.OldValues[0])
		}
	case o.Kind == options.List:
		l, ok := p.list(v, path)
		if !ok {
			return nil, false
		}
		for _, s := range l {
			if p.refusePassword(o, path, v, s) {
				return nil, false
			}
		}
		x, err = o.ParseList(l)
	case o.Kind == options.Bool:
		b, ok := p.boolean(v, path)
		if !ok {
			return nil, false
		}
		x, err = o.ParseBool(b)
	case o.Kind == options.Int || o.Kind == options.Uint:
		if v.Kind != yaml.ScalarNode {
			p.errf(v, path, "want %s, not %s", o.WantText(), describe(v))
			return nil, false
		}
		x, err = o.Parse(v.Value)
	default:
		s, ok := p.str(v, path)
		if !ok {
			return nil, false
		}
		if p.refusePassword(o, path, v, s) {
			return nil, false
		}
		x, err = o.Parse(s)
	}
	if err == nil {
		err = o.CheckLocations(x, p.locs)
	}
	if err != nil {
		p.errf(v, path, "%v", err)
		return nil, false
	}
	return x, true
}

// check checks what depends on several keys, once the defaults are merged.
func (p *parser) check(j *Job) {
	if _, err := j.ParseSchedule(); err != nil {
		pos := j.pos["schedule"]
		p.errs = append(p.errs, &Error{Pos: pos, Key: "jobs." + j.Name + ".schedule", Msg: err.Error()})
	}
	// The CSV pattern, with the reports it names files for.
	if pattern, ok := j.Get("csv_pattern"); ok {
		names := []string{"all"}
		if r, ok := j.Get("reports"); ok {
			names = r.([]string)
		}
		if defs, err := jobs.Lookup(names); err == nil {
			var reports []string
			for _, d := range defs {
				reports = append(reports, d.Reports...)
			}
			if err := csv.CheckPattern(pattern.(string), reports); err != nil {
				p.errs = append(p.errs, &Error{Pos: j.pos["csv_pattern"], Key: "jobs." + j.Name + ".csv_pattern", Msg: err.Error()})
			}
		}
	}
}

// checkCollect checks what depends on several keys of the collect section.
func (p *parser) checkCollect(j *Job) {
	if j == nil {
		return
	}
	if _, ok := j.pos["accounts"]; ok {
		if pos, ok := j.pos["accounts_file"]; ok {
			p.errs = append(p.errs, &Error{Pos: pos, Key: "collect.accounts_file", Msg: "give accounts or accounts_file, not both"})
		}
	}
}

// refusePassword reports (as an error at v) whether s, a value of option o,
// is a URL with a password, which a config file must not hold.
func (p *parser) refusePassword(o *options.Option, path string, v *yaml.Node, s string) bool {
	env := passwordEnv(o, s)
	if env != "" {
		p.errf(v, path, "%q: keep passwords out of config files: leave it out of the URL and set $%s", location.Redact(s), env)
	}
	return env != ""
}

// passwordEnv returns, when s (a value of option o) is a URL that carries a
// password, the environment variable to give it in instead: the option's
// PasswordEnv, or for the URL options of several schemes (source, out, the
// scheduler's lock) the variable of s's scheme. It returns "" when s has no
// password or is of no scheme that takes one.
func passwordEnv(o *options.Option, s string) string {
	if (o.PasswordEnv == "" && !o.URL) || !hasPassword(s) {
		return ""
	}
	switch {
	case o.PasswordEnv != "":
		return o.PasswordEnv
	case strings.HasPrefix(s, "cassandra://"):
		return "PVJOBS_CQL_PASSWORD"
	case strings.HasPrefix(s, "redis://"), strings.HasPrefix(s, "rediss://"):
		return "PVJOBS_REDIS_PASSWORD"
	}
	return "" // not a location with a password: its parser refuses it
}

// hasPassword reports whether a URL carries a password: in its user
// information, or as a password= (pass=, passwd=, pwd=) query parameter.
// Text that does not parse as a URL is judged by what location.Redact
// would hide.
func hasPassword(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return location.Redact(raw) != raw
	}
	if _, ok := u.User.Password(); ok {
		return true
	}
	for k := range u.Query() {
		switch strings.ToLower(k) {
		case "password", "pass", "passwd", "pwd":
			return true
		}
	}
	return false
}

// inherit fills the keys j does not set from d.
func (j *Job) inherit(d *Job) {
	if d == nil {
		return
	}
	for o, v := range d.values {
		if _, ok := j.values[o]; ok {
			continue
		}
		if l, isList := v.([]string); isList {
			v = slices.Clone(l)
		}
		j.values[o] = v
		j.pos[o.Key] = d.pos[o.Key]
	}
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

// boolean reads true or false.
func (p *parser) boolean(v *yaml.Node, path string) (bool, bool) {
	if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!bool" {
		return strings.EqualFold(v.Value, "true"), true
	}
	p.errf(v, path, "want true or false, not %s", describe(v))
	return false, false
}

// secretEnv returns the environment variable of the secret option whose key
// would be key (cql_password: PVJOBS_CQL_PASSWORD), or "".
func secretEnv(key string) string {
	for _, o := range options.Table {
		if o.Secret && o.Env != "" && strings.ToLower(strings.TrimPrefix(o.Env, "PVJOBS_")) == key {
			return o.Env
		}
	}
	return ""
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
