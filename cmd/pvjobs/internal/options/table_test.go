package options_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/daterange"
	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/location"
	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/options"
	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/reports/redis"
)

// sample returns a value of o's kind.
func sample(o *options.Option) any {
	switch o.Kind {
	case options.String, options.Zone:
		return "x"
	case options.Int:
		return 7
	case options.Uint:
		return uint64(7)
	case options.Bool:
		return true
	case options.List:
		return []string{"x"}
	case options.Duration:
		return time.Minute
	case options.Budget:
		return mapreduce.Budget{Count: 7}
	case options.Window:
		return daterange.Yesterday
	}
	panic(o.Kind)
}

// field returns the address of the field o is bound to, or "" for a setter.
func field(o *options.Option, v *options.Values) string {
	p := reflect.ValueOf(o.Bind(v))
	if p.Kind() != reflect.Pointer {
		return ""
	}
	return fmt.Sprint(p.Pointer())
}

var commands = []options.Command{options.Global, options.Run, options.Schedule, options.Uniques,
	options.Gen, options.Load, options.Export, options.Schema, options.Collect}

// TestTable checks the table's rows: names, keys and variables unique, each
// row bound to a field of its kind's type, rows of one flag or variable
// bound to one field, every default valid.
func TestTable(t *testing.T) {
	var v options.Values
	byName := map[string]string{} // flag name or variable, and kind -> field
	keys := map[string]bool{}
	for _, o := range options.Table {
		what := fmt.Sprintf("option %q (key %q, env %q)", o.Name, o.Key, o.Env)
		if o.Name == "" && o.Key == "" && o.Env == "" {
			t.Errorf("%s: no flag, key or variable", what)
		}
		if o.Usage == "" || o.For == 0 {
			t.Errorf("%s: no usage or no command", what)
		}
		if o.Env != "" && !strings.HasPrefix(o.Env, "PVJOBS_") {
			t.Errorf("%s: variable without PVJOBS_", what)
		}
		if o.Required && o.Default != "" {
			t.Errorf("%s: required with a default", what)
		}
		for _, k := range []string{o.Key, o.OldKey} {
			if k == "" {
				continue
			}
			sk := fmt.Sprint(o.Section, k)
			if keys[sk] {
				t.Errorf("%s: key %s twice", what, k)
			}
			keys[sk] = true
		}
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s: storing a %T: %v", what, sample(o), r)
				}
			}()
			o.Store(&v, sample(o))
		}()
		if o.Default != "" {
			if _, err := o.Parse(o.Default); err != nil {
				t.Errorf("%s: default %q: %v", what, o.Default, err)
			}
		}
		f := field(o, &v)
		for _, n := range []string{"--" + o.Name, "$" + o.Env} {
			if n == "--" || n == "$" || f == "" {
				continue
			}
			// (One name may stand for options of different kinds in
			// different commands: run's --job is one job, schedule's a
			// list.)
			n = fmt.Sprint(n, o.Kind)
			if prev, ok := byName[n]; ok && prev != f {
				t.Errorf("%s: %s is bound to two fields", what, n)
			}
			byName[n] = f
		}
	}
	// A section's keys, its own and those it shares (Option.In), are
	// unique.
	for _, sec := range []options.Section{options.SectionJob, options.SectionScheduler, options.SectionCollect} {
		seen := map[string]bool{}
		for _, o := range options.Table {
			if !o.In(sec) {
				continue
			}
			if seen[o.Key] {
				t.Errorf("section %q: key %s twice", sec.Prefix(), o.Key)
			}
			seen[o.Key] = true
			if got := options.ByKey(sec, o.Key); got != o {
				t.Errorf("section %q: ByKey(%s) is another option", sec.Prefix(), o.Key)
			}
		}
	}
	// Every option of pvjobs collect with a key has it in the collect
	// section, and a URL there says where its password goes.
	for _, o := range options.Table {
		if o.For&options.Collect != 0 && o.Key != "" && !o.In(options.SectionCollect) {
			t.Errorf("collect option %s: key %s is not in the collect section", o.Name, o.Key)
		}
		if o.In(options.SectionCollect) && o.URL && o.PasswordEnv == "" {
			t.Errorf("collect.%s: a URL without PasswordEnv", o.Key)
		}
	}
	for _, c := range commands {
		seen := map[string]bool{}
		for _, o := range options.Table {
			if o.For&c == 0 || o.Name == "" {
				continue
			}
			for _, n := range append([]string{o.Name}, o.Aliases...) {
				if seen[n] {
					t.Errorf("command %s: flag %s twice", c, n)
				}
				seen[n] = true
			}
		}
		if len(options.Flags(c)) == 0 {
			t.Errorf("command %s has no flags", c)
		}
	}
}

// fakeFlags is a command line for Resolve.
type fakeFlags map[string]any

func (f fakeFlags) IsSet(name string) bool { _, ok := f[name]; return ok }
func (f fakeFlags) String(name string) string {
	s, _ := f[name].(string)
	return s
}
func (f fakeFlags) StringSlice(name string) []string {
	l, _ := f[name].([]string)
	return l
}
func (f fakeFlags) Bool(name string) bool {
	b, _ := f[name].(bool)
	return b
}

// fakeFile is a config file for Resolve.
type fakeFile map[*options.Option]any

func (f fakeFile) Lookup(o *options.Option) (any, bool) {
	v, ok := f[o]
	return v, ok
}

// examples gives three good values (file, env, flag) of options whose
// values are checked beyond their kind.
var examples = map[string][3]string{
	"source": {"dir-a", "dir-b", "cassandra://h/ks"}, "accounts": {"a", "b,c", "d"}, "reports": {"urls", "geo", "uniques"},
	"out": {"csv:a", "csv:b", "redis://h:1/0"}, "csv_pattern": {"a-{report}", "b-{report}", "c-{report}"},
	"tz": {"UTC", "Europe/Berlin", "Asia/Tokyo"}, "max_bad_rows": {"1", "2%", "3"}, "internal_domains": {"a.example", "b.example", "c.example"},
	"schedule": {"@daily", "@hourly", "0 3 * * *"}, "range": {"yesterday", "today", "last 7d"},
	"lock": {"redis://a:1/0", "redis://b:1/0", "rediss://c:1/0"}, "metrics_addr": {":1", ":2", "h:3"},
	"uv_granularity": {"minute", "hour", "minute"}, "redis_prefix": {"a", "b", "c"},
	"cql_consistency": {"ONE", "QUORUM", "LOCAL_QUORUM"}, "cql_table": {"a", "b", "c"}, "cql_key_column": {"a", "b", "c"},
	"cql_ts_column": {"a", "b", "c"}, "cql_value_column": {"a", "b", "c"}, "cql_page_size": {"1", "2", "3"},
	"cql_concurrency": {"1", "2", "3"}, "cql_batch_rows": {"1", "2", "3"}, "cql_protocol": {"3", "4", "0"},
	"lock_ttl": {"2s", "3m", "1d"}, "slices": {"1", "2", "3"}, "visit_timeout": {"10m", "1h", "24h"},
	"listen": {":1", "127.0.0.1:2", "h:3"}, "cassandra": {"cassandra://a/ks", "cassandra://b/ks", "cassandra://c/ks"},
	"fsync": {"1s", "always", "never"}, "trusted_proxies": {"10.0.0.0/8", "127.0.0.1,::1", "192.168.0.0/16"},
	"live": {"redis://a:1/0", "redis://b:1/0", "rediss://c:1/0"}, "max_body": {"256", "512", "1024"},
}

func exampleValues(o *options.Option) [3]string {
	if e, ok := examples[o.Key]; ok {
		return e
	}
	if c := o.Choices; len(c) > 1 {
		return [3]string{c[0], c[1], c[0]}
	}
	switch o.Kind {
	case options.Int, options.Uint:
		return [3]string{"1", "2", "3"}
	case options.Bool:
		return [3]string{"true", "false", "true"}
	case options.Duration:
		return [3]string{"1h", "2d", "3w"}
	}
	return [3]string{"file-value", "env-value", "flag-value"}
}

// requiredFlags gives the required options of c good values.
func requiredFlags(c options.Command) fakeFlags {
	good := map[string]string{"accounts": "a", "from": "2024-08-01", "to": "2024-08-02", "source": "cassandra://h/ks",
		"cassandra": "cassandra://h/ks", "to-dir": "d"}
	f := fakeFlags{}
	for _, o := range options.Table {
		if o.For&c != 0 && o.Required {
			f[o.Name] = good[o.Name]
		}
	}
	return f
}

// TestResolve checks flag > env > file > default for every option that has
// a config key, a variable and a flag, with every command it belongs to.
func TestResolve(t *testing.T) {
	for _, o := range options.Table {
		if o.Key == "" {
			continue
		}
		for _, c := range commands {
			if o.For&c == 0 {
				continue
			}
			t.Run(c.String()+"/"+o.Key, func(t *testing.T) {
				ex := exampleValues(o)
				var want [3]any
				for i, s := range ex {
					x, err := o.Parse(s)
					if err != nil {
						t.Fatalf("example %q: %v", s, err)
					}
					want[i] = x
				}
				got := func(flags fakeFlags, file fakeFile) any {
					t.Helper()
					all := requiredFlags(c)
					delete(all, o.Name) // the file or the environment gives it
					for k, x := range flags {
						all[k] = x
					}
					v, err := options.Resolve(c, all, file, options.Locations{})
					if err != nil {
						t.Fatal(err)
					}
					if f := field(o, v); f != "" {
						return reflect.ValueOf(o.Bind(v)).Elem().Interface()
					}
					return v.Cassandra[strings.TrimPrefix(o.Name, "cql-")]
				}
				norm := func(x any) any { // setters store text
					if field(o, &options.Values{}) != "" {
						return x
					}
					var w options.Values
					o.Store(&w, x)
					return w.Cassandra[strings.TrimPrefix(o.Name, "cql-")]
				}
				file := fakeFile{o: want[0]}
				if g := got(nil, file); !reflect.DeepEqual(g, norm(want[0])) {
					t.Errorf("file: %#v; want %#v", g, norm(want[0]))
				}
				if o.Env != "" {
					t.Setenv(o.Env, ex[1])
					if g := got(nil, file); !reflect.DeepEqual(g, norm(want[1])) {
						t.Errorf("env over file: %#v; want %#v", g, norm(want[1]))
					}
				}
				if o.Name != "" {
					flags := fakeFlags{o.Name: ex[2]}
					switch {
					case o.Kind == options.Bool:
						flags[o.Name] = want[2]
					case o.Kind == options.List && o.Repeat:
						flags[o.Name] = []string{ex[2]}
					}
					if g := got(flags, file); !reflect.DeepEqual(g, norm(want[2])) {
						t.Errorf("flag over env and file: %#v; want %#v", g, norm(want[2]))
					}
				}
			})
		}
	}
}

// TestResolveFirst resolves --config alone: a required option that the
// file may give is not asked for yet.
func TestResolveFirst(t *testing.T) {
	t.Setenv("PVJOBS_CONFIG", "env.yaml")
	t.Setenv("PVJOBS_CASSANDRA_URL", "")
	v, err := options.ResolveFirst(options.Collect, fakeFlags{}, options.Locations{}, "config")
	if err != nil || v.Config != "env.yaml" {
		t.Errorf("env: %q, %v", v.Config, err)
	}
	v, err = options.ResolveFirst(options.Collect, fakeFlags{"config": "flag.yaml", "queue": "x"}, options.Locations{}, "config")
	if err != nil || v.Config != "flag.yaml" || v.Collect.Queue != 0 {
		t.Errorf("flag: %q, queue %d, %v", v.Config, v.Collect.Queue, err)
	}
	if _, err := options.Resolve(options.Collect, fakeFlags{"config": "flag.yaml"}, nil, options.Locations{}); err == nil ||
		!strings.Contains(err.Error(), "required: --cassandra or $PVJOBS_CASSANDRA_URL") {
		t.Errorf("Resolve without --cassandra: %v", err)
	}
}

// redisChecker stands in for the CLI's registry of outputs: redis:// URLs
// as the Redis sink parses them.
type redisChecker struct{}

func (redisChecker) Check(raw string) error {
	if strings.HasPrefix(raw, "redis://") {
		_, err := redis.ParseURL(raw)
		return err
	}
	return nil
}
func (redisChecker) Redact(raw string) string { return location.Redact(raw) }
func (redisChecker) Syntax() string           { return "redis://host:port/db" }

var testLocations = options.Locations{Outputs: redisChecker{}}

// TestResolveErrors: bad values name their flag or variable; every mistake
// is reported; secrets never show.
func TestResolveErrors(t *testing.T) {
	t.Setenv("PVJOBS_TIMEOUT", "soon")
	t.Setenv("PVJOBS_CQL_PASSWORD", "")
	_, err := options.Resolve(options.Run, fakeFlags{"top": "-1", "tz": "Local", "accounts": "all,blog", "out": []string{"redis://u:hunter2@h/x"}}, nil, testLocations)
	for _, w := range []string{
		`--top "-1": want a whole number, 0 (no table) or more`,
		`--tz: unknown time zone "Local"`,
		`--accounts: "all" with other accounts`,
		`$PVJOBS_TIMEOUT "soon": want a duration above zero`,
		`--out: invalid Redis URL "redis://u:xxxxx@h/x"`,
	} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error %v lacks %q", err, w)
		}
	}
	if err != nil && strings.Contains(err.Error(), "hunter2") {
		t.Errorf("the password shows: %v", err)
	}
	if _, err := options.Resolve(options.Uniques, fakeFlags{}, nil, options.Locations{}); err == nil || !strings.Contains(err.Error(), "required: --accounts or $PVJOBS_ACCOUNTS") {
		t.Errorf("missing required options: %v", err)
	}
	if _, err := options.Resolve(options.Run, fakeFlags{"tz": ""}, nil, options.Locations{}); err == nil {
		t.Errorf("--tz '' accepted")
	}
}
