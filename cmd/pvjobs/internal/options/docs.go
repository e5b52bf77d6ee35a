package options

import (
	"fmt"
	"strings"
)

// Blocks names the tables Markdown makes, in the order the README has them.
var Blocks = []string{"run", "redis", "collect", "keys", "schedule", "collect-keys", "shards", "merge"}

// Markdown returns the README's table named block (see Blocks), made from
// the Table:
//
//   - run: the options of pvjobs run, but for Redis and Cassandra;
//   - redis: the Redis options of pvjobs run;
//   - collect: the options of pvjobs collect, but for Cassandra's --cql-*;
//   - schedule: the options pvjobs schedule has and pvjobs run has not;
//   - keys: the keys of jobs and of the scheduler section;
//   - collect-keys: the keys of the collect section;
//   - shards: the options that make pvjobs run one shard of a run;
//   - merge: the options pvjobs merge has and pvjobs run has not.
func Markdown(block string) (string, error) {
	var b strings.Builder
	switch block {
	case "run":
		optionTable(&b, SectionJob, pick(func(o *Option) bool { return o.For&Run != 0 && o.Category == "" && o.Name != "" }))
	case "redis":
		optionTable(&b, SectionJob, pick(func(o *Option) bool { return o.For&Run != 0 && o.Category == catRedis }))
	case "collect":
		// The collector's own options first, then the live counters':
		// their Redis, their rules (the nightly run's), their connection.
		own := func(o *Option) bool { return o.For == Collect && o.Category == "" }
		rows := pick(own)
		rows = append(rows, pick(func(o *Option) bool { return o.For&Collect != 0 && o.Category == catLive })...)
		rows = append(rows, pick(func(o *Option) bool { return o.For&Collect != 0 && !own(o) && o.Category == "" })...)
		rows = append(rows, pick(func(o *Option) bool { return o.For&Collect != 0 && o.Category == catRedis })...)
		optionTable(&b, SectionCollect, rows)
	case "schedule":
		optionTable(&b, SectionJob, pick(func(o *Option) bool { return o.For&Schedule != 0 && o.For&Run == 0 && o.Name != "" }))
	case "keys":
		keyTable(&b)
	case "collect-keys":
		collectKeyTable(&b)
	case "shards":
		optionTable(&b, SectionJob, pick(func(o *Option) bool { return o.For&Run != 0 && o.Category == catShards }))
	case "merge":
		optionTable(&b, SectionJob, pick(func(o *Option) bool { return o.For&Merge != 0 && o.For&Run == 0 && o.Name != "" }))
	default:
		return "", fmt.Errorf("no options table %q (tables: %s)", block, strings.Join(Blocks, ", "))
	}
	return b.String(), nil
}

func code(s string) string {
	if s == "" {
		return "–"
	}
	return "`" + s + "`"
}

// cell escapes the pipes of a table cell.
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// pick returns the options of the Table that keep keeps, in its order.
func pick(keep func(o *Option) bool) []*Option {
	var out []*Option
	for _, o := range Table {
		if keep(o) {
			out = append(out, o)
		}
	}
	return out
}

// optionTable writes a table of the options; their config keys are those of
// section sec (and of the scheduler section, for sec SectionJob).
func optionTable(b *strings.Builder, sec Section, opts []*Option) {
	b.WriteString("| flag | env | config key | default | meaning |\n|---|---|---|---|---|\n")
	for _, o := range opts {
		flag := "–"
		if o.Name != "" {
			names := []string{code("--" + o.Name)}
			for _, a := range o.Aliases {
				if len(a) == 1 {
					names = append(names, code("-"+a))
				} else {
					names = append(names, code("--"+a))
				}
			}
			flag = strings.Join(names, ", ")
		}
		def := strings.Trim(o.defaultText(), `"`)
		if o.DefaultText == "" && def != "" {
			def = code(def)
		}
		if def == "" {
			def = "–"
		}
		usage := o.Usage
		if o.Required {
			usage += " (required)"
		}
		key := ""
		switch {
		case o.In(sec):
			key = sec.Prefix() + o.Key
		case sec == SectionJob && o.In(SectionScheduler):
			key = SectionScheduler.Prefix() + o.Key
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", flag, code(o.Env), code(key), cell(def), cell(usage))
	}
}

func keyTable(b *strings.Builder) {
	b.WriteString("| key | flag | value |\n|---|---|---|\n")
	rows := func(sec Section, prefix string) {
		cql := false
		for _, o := range Table {
			if o.Section != sec || o.Key == "" {
				continue
			}
			if o.Category == catCassandra {
				if !cql {
					cql = true
					b.WriteString("| `cql_NAME` | `--cql-NAME` | each parameter of a `cassandra://` source: `cql_table`, `cql_consistency`, `cql_tls_ca`, … (not `cql_password`: `PVJOBS_CQL_PASSWORD`) |\n")
				}
				continue
			}
			flag := "–"
			if o.Name != "" {
				flag = code("--" + o.Name)
			}
			value := o.valueDoc()
			if o.Name == "" || value == "" {
				value = o.Usage
			}
			if o.OldKey != "" {
				value += fmt.Sprintf(" (formerly `%s: true`)", o.OldKey)
			}
			fmt.Fprintf(b, "| %s | %s | %s |\n", code(prefix+o.Key), flag, cell(value))
		}
	}
	rows(SectionJob, "")
	rows(SectionScheduler, "scheduler.")
}

// collectKeyTable writes the keys of the collect section: the collector's
// own, the live counters', then one row for the job keys it shares.
func collectKeyTable(b *strings.Builder) {
	b.WriteString("| key | flag | value |\n|---|---|---|\n")
	own := func(o *Option) bool { return o.Section == SectionCollect && o.Key != "" }
	rows := append(pick(func(o *Option) bool { return own(o) && o.Category == "" }),
		pick(func(o *Option) bool { return own(o) && o.Category != "" })...)
	for _, o := range rows {
		value := o.valueDoc()
		if value == "" {
			value = o.Usage
		}
		if o.PasswordEnv != "" {
			value += fmt.Sprintf("; without a password (refused here): give it in `%s`", o.PasswordEnv)
		}
		fmt.Fprintf(b, "| %s | %s | %s |\n", code(o.Key), code("--"+o.Name), cell(value))
	}
	var shared []string
	for _, o := range pick(func(o *Option) bool { return o.In(SectionCollect) && !own(o) && o.Category != catCassandra }) {
		shared = append(shared, code(o.Key))
	}
	fmt.Fprintf(b, "| %s | as in a job | the live counters' rules and Redis settings, as in a job |\n", strings.Join(shared, ", "))
	b.WriteString("| `cql_NAME` | `--cql-NAME` | each parameter of the `cassandra://` URL, as in a job (not `cql_password`: `PVJOBS_CQL_PASSWORD`) |\n")
}

// valueDoc describes the values a key takes.
func (o *Option) valueDoc() string {
	switch o.Kind {
	case String:
		if len(o.Choices) > 0 {
			var cs []string
			for _, c := range o.Choices {
				cs = append(cs, code(c))
			}
			return orList(cs)
		}
		return "" // the usage says it
	case List:
		return `a YAML list or "a,b": ` + o.Usage
	case Int, Uint, Duration:
		return strings.TrimPrefix(o.want(), "a ")
	case Bool:
		return "`true` or `false`"
	case Budget:
		return "a count (`100`) or a percentage (`0.1%`)"
	case Zone:
		return "an IANA time zone: `Europe/Berlin`"
	}
	return kindNames[o.Kind]
}

// ReplaceBlocks replaces every table between the lines "<!-- options NAME
// -->" and "<!-- end options -->" of a Markdown text with Markdown(NAME).
func ReplaceBlocks(text string) (string, error) {
	const begin, end = "<!-- options ", "<!-- end options -->"
	var out strings.Builder
	rest := text
	found := 0
	for {
		i := strings.Index(rest, begin)
		if i < 0 {
			break
		}
		j := strings.Index(rest[i:], "-->")
		if j < 0 {
			return "", fmt.Errorf("unclosed %s", begin)
		}
		name := strings.TrimSpace(rest[i+len(begin) : i+j])
		k := strings.Index(rest[i:], end)
		if k < 0 {
			return "", fmt.Errorf("%s%s --> without %s", begin, name, end)
		}
		table, err := Markdown(name)
		if err != nil {
			return "", err
		}
		out.WriteString(rest[:i+j+len("-->")])
		out.WriteString("\n" + table)
		out.WriteString(end)
		rest = rest[i+k+len(end):]
		found++
	}
	out.WriteString(rest)
	if found == 0 {
		return "", fmt.Errorf("no %sNAME --> blocks", begin)
	}
	return out.String(), nil
}
