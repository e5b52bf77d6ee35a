package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/pvjobs/pvjobs/mapreduce"
)

// accountList expands --accounts: a list, all, or @FILE alone, a file of
// account ids separated by white space or commas, # starting a comment to
// the end of the line (what pvjobs accounts prints).
func accountList(list []string) ([]string, error) {
	if len(list) != 1 || !strings.HasPrefix(list[0], "@") {
		return list, nil
	}
	path := strings.TrimPrefix(list[0], "@")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("--accounts @%s: %v", path, err)
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		text, _, _ := strings.Cut(sc.Text(), "#")
		for _, a := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\r' }) {
			if err := mapreduce.ValidateAccount(a); err != nil {
				return nil, usagef("--accounts @%s:%d: %v", path, line, err)
			}
			out = append(out, a)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, usagef("--accounts @%s: %v", path, err)
	}
	if len(out) == 0 {
		return nil, usagef("--accounts @%s: no accounts in the file", path)
	}
	return out, nil
}

func accountsCommand() *cli.Command {
	return &cli.Command{
		Name:  "accounts",
		Usage: "print the accounts a run would compute, one per line (for --accounts @FILE)",
		UsageText: "pvjobs accounts [--source DIR|cassandra://...] [--accounts all] [--from D --to D | --yesterday | --last 7d] [--shard I/N]\n" +
			"pvjobs accounts --source cassandra://... --yesterday > accounts.txt   # then: pvjobs run --accounts @accounts.txt --shard I/N ...",
		Description: "Resolves --accounts (all: every account the source has in the range, which for Cassandra\n" +
			"is a scan of the partition keys) once, so that the shards of a run, each given\n" +
			"--accounts @FILE, agree on the accounts and none scans the table again. With --shard,\n" +
			"prints the accounts of that shard. Takes the flags of pvjobs run; reads no page view.",
		Flags:  runFlags(),
		Action: accountsAction,
	}
}

func accountsAction(c *cli.Context) error {
	if c.NArg() > 0 {
		return usagef("accounts: unexpected argument %q", c.Args().First())
	}
	p, err := paramsFromContext(c)
	if err != nil {
		return err
	}
	if p.ShardBy == "day" || len(p.Partials) > 0 {
		p.wholeRun = true // every shard of days has every account
	}
	s, err := setupRead(c.Context, &p)
	if err != nil {
		if _, ok := err.(*errEmptyShard); ok {
			return nil
		}
		return err
	}
	defer s.close()
	w := bufio.NewWriter(c.App.Writer)
	fmt.Fprintf(w, "# %s to %s (%s), %s\n", s.plan.Start.In(s.plan.Loc).Format("2006-01-02T15:04:05Z07:00"),
		s.plan.End.In(s.plan.Loc).Format("2006-01-02T15:04:05Z07:00"), s.plan.Loc, plural(len(s.plan.Accounts), "account"))
	for _, a := range s.plan.Accounts {
		fmt.Fprintln(w, a)
	}
	return w.Flush()
}
