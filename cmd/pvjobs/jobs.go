package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/pvjobs/pvjobs/jobs"
	"github.com/urfave/cli/v2"
)

func jobsCommand() *cli.Command {
	return &cli.Command{
		Name:  "jobs",
		Usage: "list the jobs 'pvjobs run --jobs' accepts",
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usagef("jobs: unexpected argument %q", c.Args().First())
			}
			tw := tabwriter.NewWriter(c.App.Writer, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "JOB\tREPORTS\tWHAT")
			for _, d := range jobs.All() {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", d.Name, strings.Join(d.Reports, ","), d.Summary)
			}
			return tw.Flush()
		},
	}
}
