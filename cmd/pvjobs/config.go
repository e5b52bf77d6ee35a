package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/configfile"
	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/daterange"
	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/options"
)

// paramsFromContext resolves the options of 'pvjobs run' (flag > env > file >
// default), the file being the config job that --config and --job name, and
// turns relative dates into From and To.
func paramsFromContext(c *cli.Context) (runParams, error) { return paramsFor(options.Run, c) }

// paramsFor is paramsFromContext for the options of cmd (run, merge).
func paramsFor(cmd options.Command, c *cli.Context) (runParams, error) {
	v, err := resolve(cmd, c, nil) // --config and --job
	if err != nil {
		return runParams{}, err
	}
	if v.Config == "" {
		if v.Job != "" {
			return runParams{}, usagef("--job %q needs --config", v.Job)
		}
		p := runParams{Values: *v}
		return p, resolveDates(&p)
	}
	f, err := configfile.Load(v.Config, configLocations)
	if err != nil {
		return runParams{}, &usageError{err}
	}
	job, err := pickJob(f, v.Job)
	if err != nil {
		return runParams{}, err
	}
	if v, err = resolve(cmd, c, f.For(job)); err != nil {
		return runParams{}, err
	}
	p := runParams{Values: *v}
	p.Job = job.Name
	return p, resolveDates(&p)
}

// pickJob returns the job of f named name, or f's only job when name is "".
func pickJob(f *configfile.File, name string) (*configfile.Job, error) {
	if len(f.Jobs) == 0 {
		return nil, usagef("%s has no jobs section (its collect section is for pvjobs collect)", f.Path)
	}
	if name == "" {
		if len(f.Jobs) == 1 {
			return f.Jobs[0], nil
		}
		var names []string
		for _, j := range f.Jobs {
			names = append(names, j.Name)
		}
		return nil, usagef("%s has %d jobs: name one with --job (%s)", f.Path, len(f.Jobs), strings.Join(names, ", "))
	}
	j, err := f.Job(name)
	if err != nil {
		return nil, &usageError{fmt.Errorf("--job: %w", err)}
	}
	return j, nil
}

// resolveDates turns --yesterday, --today, --last (or, when no dates are
// given at all, the config job's range) into From and To: RFC 3339 instants
// that daterange.ParseRange reads back. --from/--to and the relative flags
// exclude each other.
func resolveDates(p *runParams) error {
	relative := p.Yesterday || p.Today || p.Last != ""
	if relative && (p.From != "" || p.To != "") {
		return usagef("give either --from and --to, or one of --yesterday, --today, --last")
	}
	if !relative && (p.From != "" || p.To != "" || p.Range.IsZero()) {
		return nil
	}
	loc, err := time.LoadLocation(p.TZ)
	if err != nil {
		return usagef("--tz %q: unknown time zone", p.TZ)
	}
	now := time.Now()
	if p.Now != "" {
		if now, err = time.Parse(time.RFC3339, p.Now); err != nil {
			return usagef("--now %q: want an RFC 3339 time such as 2024-08-08T02:30:00+02:00", p.Now)
		}
	}
	var start, end time.Time
	if relative {
		if start, end, err = daterange.Relative(now, loc, p.Yesterday, p.Today, p.Last); err != nil {
			return usagef("%v", err)
		}
	} else {
		start, end = p.Range.Range(now, loc)
	}
	setRange(p, start, end)
	return nil
}

// setRange sets From and To to the range [start, end).
func setRange(p *runParams, start, end time.Time) {
	p.From, p.To = start.Format(time.RFC3339Nano), end.Format(time.RFC3339Nano)
}
