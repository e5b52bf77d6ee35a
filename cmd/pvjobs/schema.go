package main

import (
	"fmt"

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
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "cassandra", Aliases: []string{"c"}, Value: "cassandra://127.0.0.1:9042/pvjobs", EnvVars: []string{"PVJOBS_CASSANDRA_URL"},
				Usage: "the table: cassandra://[user:password@]host1,host2[:port]/keyspace[?table=...]"},
			&cli.StringFlag{Name: "replication", Aliases: []string{"r"}, Value: "1", Usage: "replication of a new keyspace: a factor (SimpleStrategy) or data centres dc1:3,dc2:3 (NetworkTopologyStrategy)"},
			&cli.BoolFlag{Name: "apply", Usage: "create the keyspace and table on the cluster"},
		}, cassandraFlags()...),
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usagef("schema: unexpected argument %q", c.Args().First())
			}
			cfg, err := cassandraConfig(c.String("cassandra"), cassandraParamsFromFlags(c))
			if err != nil {
				return err
			}
			repl, err := cassandra.ParseReplication(c.String("replication"))
			if err != nil {
				return usagef("--replication: %v", err)
			}
			for _, stmt := range cassandra.SchemaCQL(cfg, repl) {
				fmt.Fprintln(c.App.Writer, stmt+";")
			}
			if !c.Bool("apply") {
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
