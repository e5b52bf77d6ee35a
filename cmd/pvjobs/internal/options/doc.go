// Package options is the one table of pvjobs' options (Table): each option's
// flag name, kind, default, help, environment variable, config-file key and
// commands, declared once. From it come the urfave/cli flags of every command
// (Flags), the keys a config file accepts and how they are parsed and checked
// (package configfile looks them up here), the precedence of flag >
// environment > file > default (Resolve, the only place that decides it), and
// the README's option tables (Markdown; a test keeps them in sync).
//
// Every value is parsed and checked by its Option, whichever way it came, so
// a duration reads the same in --timeout, $PVJOBS_TIMEOUT and timeout:
// (ParseDuration: Go durations plus days and weeks), and a bad value names
// where it came from: the flag, the variable, or the file's line and column.
package options
