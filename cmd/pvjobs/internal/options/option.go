package options

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/daterange"
	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/location"
	"github.com/pvjobs/pvjobs/mapreduce"
)

// Command is a set of pvjobs' commands: the commands an option belongs to.
type Command uint32

// The commands. Global holds the options given before the command name
// (pvjobs --log-level debug run).
const (
	Global Command = 1 << iota
	Run
	Schedule
	Uniques
	Gen
	Load
	Export
	Schema
	Collect
	// Merge is pvjobs merge: the partial results of a run cut by days, and
	// the outputs the run would have written.
	Merge
)

// commandNames names the commands in the order docs list them.
var commandNames = []struct {
	c    Command
	name string
}{
	{Global, "global"}, {Run, "run"}, {Schedule, "schedule"}, {Uniques, "uniques"},
	{Gen, "gen"}, {Load, "load"}, {Export, "export"}, {Schema, "schema"}, {Collect, "collect"}, {Merge, "merge"},
}

// String lists the commands of c, such as "run, schedule".
func (c Command) String() string {
	var names []string
	for _, n := range commandNames {
		if c&n.c != 0 {
			names = append(names, n.name)
		}
	}
	return strings.Join(names, ", ")
}

// Kind is the type of an option's value: how it is parsed from a flag, an
// environment variable or a config file, and the Go type it is stored as.
type Kind int

// The kinds of options.
const (
	// String is text (Go string); Option.Choices may restrict it.
	String Kind = iota
	// Int is a whole number (int) from Option.Min to Option.Max.
	Int
	// Uint is a whole number from 0 (uint64).
	Uint
	// Bool is true or false (bool).
	Bool
	// List is a comma-separated list, or a YAML list in a config file
	// ([]string); with Option.Repeat the flag may also be repeated.
	List
	// Duration is a Go duration plus d and w units (time.Duration), see
	// ParseDuration, from Option.MinDuration.
	Duration
	// Budget is a count of rows or a percentage (mapreduce.Budget).
	Budget
	// Zone is an IANA time zone name (string); "" and Local are refused, so
	// that reports never depend on the host's zone.
	Zone
	// Window is a relative range of days: yesterday, today, last 7d
	// (daterange.Window).
	Window
)

// kindNames describe the kinds for docs.
var kindNames = map[Kind]string{
	String: "text", Int: "whole number", Uint: "whole number", Bool: "true/false", List: "list",
	Duration: "duration", Budget: "count or percentage", Zone: "IANA time zone", Window: "relative range",
}

// Section is the part of a config file an option's key lives in.
type Section int

// The sections of a config file that hold option keys.
const (
	// SectionJob: the keys of a job (under jobs.NAME) and of defaults.
	SectionJob Section = iota
	// SectionScheduler: the keys under scheduler.
	SectionScheduler
	// SectionCollect: the keys under collect, for pvjobs collect: the
	// collector's own, and the job keys of the options it shares with
	// runs (see Option.In).
	SectionCollect
)

// Prefix is what the README writes before the keys of the section:
// "scheduler.", "collect.", or "" for the keys of jobs (and defaults).
func (sec Section) Prefix() string {
	switch sec {
	case SectionScheduler:
		return "scheduler."
	case SectionCollect:
		return "collect."
	}
	return ""
}

// In reports whether o's config key is a key of section sec. A key is one
// of its Section's; the key of a job option that pvjobs collect has too
// (the cql_* parameters, the redis_* settings, the live counters' rules)
// is also a key of the collect section, so that it reads alike in a job
// and under collect. A former key (OldKey) is one of its Section's only.
func (o *Option) In(sec Section) bool {
	switch {
	case o.Key == "":
		return false
	case o.Section == sec:
		return true
	}
	return sec == SectionCollect && o.Section == SectionJob && o.For&Collect != 0
}

// Option is one option of pvjobs: a command-line flag, an environment
// variable, a config-file key, or any of them at once. The Table lists them
// all; flags, config keys, environment variables, precedence and docs are made
// from it.
type Option struct {
	// Name is the flag's name without dashes; "" when the option has no flag
	// (a config key or an environment variable only).
	Name    string
	Aliases []string
	Kind    Kind
	// Default is the value when none is given, as text the Kind parses; ""
	// leaves the zero value.
	Default string
	// DefaultText is the default as help shows it, when Default does not say
	// it (such as GOMAXPROCS).
	DefaultText string
	// Usage is the flag's help line.
	Usage string
	// Env is the environment variable, such as PVJOBS_TZ.
	Env string
	// Key is the config-file key, such as tz; Section says where it lives.
	Key     string
	Section Section
	// OldKey is a former name of Key that takes true or false; OldValues
	// are the values it stands for (for false and for true).
	OldKey    string
	OldValues [2]string
	// For is the commands that have the option.
	For Command
	// Category is the help heading of the flag ("" for the first group).
	Category string
	// Required options must be given (by flag, environment or file).
	Required bool
	// Repeat lets a List flag be given several times.
	Repeat bool
	// Choices are the values a String accepts (compared without case).
	Choices []string
	// Min and Max bound an Int.
	Min, Max int
	// MinDuration and MaxDuration (0: none) bound a Duration; zero
	// durations are refused unless ZeroOK.
	MinDuration, MaxDuration time.Duration
	ZeroOK                   bool
	// Want says what a good value looks like, for errors: "0 (no table) or
	// more", "a duration such as 90m or 2h".
	Want string
	// Check refuses parsed values that the Kind accepts but the option does
	// not; its error says what is wrong, naming the value.
	Check func(v any) error
	// Secret values never appear in messages.
	Secret bool
	// PasswordEnv, for a URL, names the environment variable that carries
	// its password: a config file refuses a value with a secret in it (a
	// password in the URL, a password= parameter), naming the variable, so
	// that passwords stay out of files.
	PasswordEnv string
	// URL values appear in messages with their password hidden.
	URL bool
	// Location, when set, picks the registry of Locations that checks the
	// option's values (each item of a List).
	Location func(l Locations) location.Checker

	// bind returns where the value goes in Values: a pointer to a field
	// of the Kind's type, or a setter.
	bind func(v *Values) any
}

// Locations checks the locations options name (--source, --out, --lock and
// their config keys) and hides their secrets in its errors: the CLI's
// registries of package location, which package main holds. A nil Checker
// accepts every location of its kind.
type Locations struct {
	Sources, Outputs, Locks location.Checker
}

// CheckLocations checks the locations of v, a parsed value of o, with the
// registry o.Location picks from locs.
func (o *Option) CheckLocations(v any, locs Locations) error {
	if o.Location == nil {
		return nil
	}
	c := o.Location(locs)
	if c == nil {
		return nil
	}
	items, ok := v.([]string)
	if !ok {
		items = []string{v.(string)}
	}
	for _, it := range items {
		if err := c.Check(it); err != nil {
			return err
		}
	}
	return nil
}

// valueError is a value an option refuses: want says what a good one is.
type valueError struct {
	value, want string
}

func (e *valueError) Error() string { return fmt.Sprintf("%q: want %s", e.value, e.want) }

// errEmptyList is the error of a list without items.
var errEmptyList = errors.New("empty list")

// shown returns s as messages may show it.
func (o *Option) shown(s string) string {
	switch {
	case o.Secret:
		return "xxxxx"
	case o.URL:
		return location.Redact(s)
	}
	return s
}

func (o *Option) bad(s, want string) error {
	return &valueError{value: o.shown(s), want: want}
}

// Parse parses one value of the option as text: a flag's or an environment
// variable's value, or a config file's scalar. A List splits s at commas.
func (o *Option) Parse(s string) (any, error) {
	if o.Kind == List {
		return o.ParseList(SplitList(s))
	}
	v, err := o.parse(strings.TrimSpace(s))
	if err != nil {
		return nil, err
	}
	if o.Check != nil {
		if err := o.Check(v); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// ParseList checks the items of a List option.
func (o *Option) ParseList(items []string) (any, error) {
	if o.Kind != List {
		return nil, fmt.Errorf("%s is not a list", o.Name)
	}
	if len(items) == 0 {
		return nil, errEmptyList
	}
	if o.Check != nil {
		if err := o.Check(items); err != nil {
			return nil, err
		}
	}
	return items, nil
}

// ParseBool checks a boolean value of the option (a config file's true or
// false).
func (o *Option) ParseBool(b bool) (any, error) {
	if o.Kind != Bool {
		return nil, fmt.Errorf("%s is not true/false", o.Name)
	}
	if o.Check != nil {
		if err := o.Check(b); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func (o *Option) parse(s string) (any, error) {
	switch o.Kind {
	case String:
		if o.Choices == nil {
			return s, nil
		}
		for _, c := range o.Choices {
			if strings.EqualFold(s, c) {
				return c, nil
			}
		}
		return nil, o.bad(s, o.want())
	case Int:
		n, err := strconv.Atoi(s)
		if err != nil || n < o.Min || n > o.max() {
			return nil, o.bad(s, o.want())
		}
		return n, nil
	case Uint:
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return nil, o.bad(s, o.want())
		}
		return n, nil
	case Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, o.bad(s, o.want())
		}
		return b, nil
	case Duration:
		d, err := ParseDuration(s)
		if err != nil || d < o.MinDuration || (o.MaxDuration > 0 && d > o.MaxDuration) || (d == 0 && !o.ZeroOK) {
			return nil, o.bad(s, o.want())
		}
		return d, nil
	case Budget:
		b, err := mapreduce.ParseBudget(s)
		if err != nil {
			return nil, err
		}
		return b, nil
	case Zone:
		if _, err := time.LoadLocation(s); err != nil || s == "" || s == "Local" {
			return nil, fmt.Errorf("unknown time zone %q: want an IANA name such as UTC, Europe/Berlin or America/New_York", s)
		}
		return s, nil
	case Window:
		w, err := daterange.ParseWindow(s)
		if err != nil {
			return nil, o.bad(s, o.want())
		}
		return w, nil
	}
	panic(fmt.Sprintf("options: %s has no kind", o.Name))
}

func (o *Option) max() int {
	if o.Max == 0 {
		return math.MaxInt32
	}
	return o.Max
}

// want says what a good value is.
func (o *Option) want() string {
	if o.Want != "" && o.Kind != Int {
		return o.Want
	}
	switch o.Kind {
	case String:
		if len(o.Choices) > 0 {
			return orList(o.Choices)
		}
		return "text"
	case Int:
		want := o.Want
		switch {
		case want != "":
		case o.Max == 0:
			want = fmt.Sprintf("%d or more", o.Min)
		default:
			want = fmt.Sprintf("%d to %d", o.Min, o.Max)
		}
		return "a whole number, " + want
	case Uint:
		return "a whole number, 0 or more"
	case Bool:
		return "true or false"
	case Duration:
		return "a duration such as 90m, 2h or 3d"
	case Window:
		return "yesterday, today, or last N days or weeks (last 7d, last 2w)"
	}
	return kindNames[o.Kind]
}

// WantText says what a good value of the option looks like, for messages
// and docs.
func (o *Option) WantText() string { return o.want() }

// orList formats a, b or c.
func orList(items []string) string {
	if len(items) == 1 {
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

// SplitList splits a comma-separated list, trimming white space and dropping
// empty items.
func SplitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// ByKey returns the option whose config key in sec is key (see
// Option.In), or nil.
func ByKey(sec Section, key string) *Option {
	for _, o := range Table {
		if o.Key == key && o.In(sec) {
			return o
		}
	}
	return nil
}

// ByOldKey returns the option whose former config key in sec is key, or nil.
func ByOldKey(sec Section, key string) *Option {
	for _, o := range Table {
		if o.OldKey == key && o.Section == sec {
			return o
		}
	}
	return nil
}
