package main

import (
	"fmt"

	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/options"
	"github.com/pvjobs/pvjobs/readers/cassandra"
	"github.com/urfave/cli/v2"
)

func schemaCommand() *cli.Command {
	return &cli.Command{
		Name:      "schema",
		Usage:     "print (or with --apply create) the Cassandra keyspace and table pvjobs reads",
		UsageText: "pvjobs schema [--cassandra cassandra://host[:port]/keyspace[?table=...]] [--replication 1|dc1:3,dc2:3] [--apply]",
		Description: "Prints the CQL that creates the keyspace and the page-view table (key text, column1 timeuuid,\n" +
			"value blob; names from the URL or --cql-table and --cql-*-column) if they do not exist.\n" +
			"--apply runs it and waits for the cluster to agree on the schema. Existing keyspaces and\n" +
			"tables are left as they are.\n\n" +
			"Example:\n  pvjobs schema --cassandra cassandra://10.0.0.5/analytics --replication dc1:3 --apply",
		Flags: options.Flags(options.Schema),
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usagef("schema: unexpected argument %q", c.Args().First())
			}
			v, err := resolve(options.Schema, c, nil)
			if err != nil {
				return err
			}
			cfg, err := cassandraConfig(v.CassandraURL, v.Cassandra)
			if err != nil {
				return err
			}
			repl, err := cassandra.ParseReplication(v.Replication)
			if err != nil {
				return usagef("--replication: %v", err)
			}
			for _, stmt := range cassandra.SchemaCQL(cfg, repl) {
				fmt.Fprintln(c.App.Writer, stmt+";")
			}
			if !v.Apply {
				return nil
			}
			if err := cassandra.CreateSchema(c.Context, cfg, repl); err != nil {
				return fmt.Errorf("creating the schema on %s: %w", cfg, err)
			}
			fmt.Fprintf(c.App.ErrWriter, "schema applied on %s\n", cfg)
			return nil
		},
	}
}
