// Command pvjobs runs batch map/reduce jobs over page views — from shard files
// or Cassandra — and writes analytics reports to CSV or Redis.
//
// Exit codes: 0 success, 1 the job failed, 2 usage error, 130 interrupted.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/options"
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "dev"

// Exit codes.
const (
	exitOK          = 0
	exitFailed      = 1
	exitUsage       = 2
	exitInterrupted = 130
)

// usageError is a mistake in how pvjobs was called: exit code 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usagef returns a usageError.
func usagef(format string, a ...any) error { return &usageError{fmt.Errorf(format, a...)} }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs the CLI with args and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := newApp(stdout, stderr)
	notFound := ""
	app.CommandNotFound = func(c *cli.Context, name string) { notFound = name }
	err := app.RunContext(ctx, args)
	if err == nil && notFound != "" {
		err = usagef("unknown command %q", notFound)
	}
	// urfave/cli reports missing Required flags with an unexported error type
	// that bypasses OnUsageError; its message is the only handle on it.
	if err != nil && strings.HasPrefix(err.Error(), "Required flag") {
		err = &usageError{err}
	}
	return exitCode(err, stderr)
}

// interruptedError is an interrupt (exit 130) that says itself what it
// stopped and what was written.
type interruptedError struct {
	msg string
	err error // wraps context.Canceled
}

func (e *interruptedError) Error() string { return e.msg }
func (e *interruptedError) Unwrap() error { return e.err }

func exitCode(err error, stderr io.Writer) int {
	var ue *usageError
	var ie *interruptedError
	var ce *committedError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ie):
		fmt.Fprintf(stderr, "pvjobs: %v\n", ie)
		return exitInterrupted
	case errors.As(err, &ce):
		fmt.Fprintf(stderr, "pvjobs: %v\n", ce)
		return exitInterrupted
	case errors.Is(err, context.Canceled):
		var ce *commitError
		if errors.As(err, &ce) && len(ce.Committed) > 0 {
			fmt.Fprintf(stderr, "pvjobs: interrupted: %v\n", err)
		} else {
			fmt.Fprintln(stderr, "pvjobs: interrupted; no reports written")
		}
		return exitInterrupted
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "pvjobs: %v\nRun 'pvjobs help' for usage.\n", err)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "pvjobs: %v\n", err)
		return exitFailed
	}
}

// commands is the explicit list of pvjobs' commands.
func commands() []*cli.Command {
	return []*cli.Command{
		runCommand(),
		mergeCommand(),
		accountsCommand(),
		jobsCommand(),
		genCommand(),
		loadCommand(),
		collectCommand(),
		exportCommand(),
		schemaCommand(),
		scheduleCommand(),
		uniquesCommand(),
		completionCommand(),
	}
}

func newApp(stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:    "pvjobs",
		Usage:   "turn raw page views into analytics reports (batch map/reduce)",
		Version: version,
		Description: "pvjobs reads page views from shard files or Cassandra, runs report jobs over\n" +
			"them in one pass (urls, sources, searchterms, devices, geo, uniques) and writes\n" +
			"CSV files, Redis keys and a summary table.\n\n" +
			"Run 'pvjobs run' with no flags to try it on the embedded sample.",
		Writer:               stdout,
		ErrWriter:            stderr,
		Commands:             commands(),
		EnableBashCompletion: true,
		Flags:                options.Flags(options.Global),
		Before: func(c *cli.Context) error {
			return setupLogging(c, stderr)
		},
		OnUsageError: func(c *cli.Context, err error, isSub bool) error {
			return &usageError{err}
		},
		ExitErrHandler: func(*cli.Context, error) {}, // main maps errors to exit codes
	}
	for _, cmd := range app.Commands {
		if cmd.OnUsageError == nil {
			cmd.OnUsageError = app.OnUsageError
		}
	}
	return app
}

func setupLogging(c *cli.Context, stderr io.Writer) error {
	v, err := resolve(options.Global, c, nil)
	if err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(v.LogLevel)); err != nil { // checked by options
		return usagef("--log-level %q: want debug, info, warn or error", v.LogLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	h := slog.Handler(slog.NewTextHandler(stderr, opts))
	if v.LogFormat == "json" {
		h = slog.NewJSONHandler(stderr, opts)
	}
	slog.SetDefault(slog.New(h))
	return nil
}
