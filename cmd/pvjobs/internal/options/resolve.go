package options

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
)

// FlagSet is what Resolve reads of a command line: a *cli.Context of the
// flags made by Flags.
type FlagSet interface {
	IsSet(name string) bool
	String(name string) string
	StringSlice(name string) []string
	Bool(name string) bool
}

// File is what Resolve reads of a config file: the values it gives options,
// already parsed and checked (see package configfile).
type File interface {
	Lookup(o *Option) (v any, ok bool)
}

// lookupEnv reads environment variables (a variable for tests).
var lookupEnv = os.LookupEnv

// Resolve returns the value of every option of cmd, each taken from the first
// of: its flag in fs, its environment variable (an empty one counts as
// unset), file (nil for none), its default. locs checks the locations of
// flags and variables (a file's were checked when it was read). This is the one place where
// precedence is decided: flag > env > file > default. The error lists every
// bad value and missing required option, each naming the flag or variable it
// came from; file values were checked when the file was read.
func Resolve(cmd Command, fs FlagSet, file File, locs Locations) (*Values, error) {
	return resolveSome(cmd, fs, file, locs, func(*Option) bool { return true })
}

// ResolveFirst returns the values of cmd's options named names (flag names,
// such as "config"), each from its flag, its environment variable or its
// default, as Resolve decides: for the options that say where the others
// come from, before Resolve reads the config file they name.
func ResolveFirst(cmd Command, fs FlagSet, locs Locations, names ...string) (*Values, error) {
	return resolveSome(cmd, fs, nil, locs, func(o *Option) bool { return o.Name != "" && slices.Contains(names, o.Name) })
}

func resolveSome(cmd Command, fs FlagSet, file File, locs Locations, keep func(*Option) bool) (*Values, error) {
	v := &Values{}
	var errs []error
	for _, o := range Table {
		if o.For&cmd == 0 || !keep(o) {
			continue
		}
		x, given, err := o.resolve(fs, file, locs)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !given {
			if o.Required {
				errs = append(errs, o.required())
				continue
			}
			if o.Default == "" {
				continue // the zero value
			}
			if x, err = o.Parse(o.Default); err != nil {
				panic(fmt.Sprintf("options: the default of %s: %v", o.label(), err))
			}
		}
		o.store(v, x)
	}
	return v, errors.Join(errs...)
}

// resolve returns the value of o that fs, the environment or file gives.
func (o *Option) resolve(fs FlagSet, file File, locs Locations) (x any, given bool, err error) {
	if o.Name != "" && fs != nil && fs.IsSet(o.Name) {
		switch {
		case o.Kind == Bool:
			x, err = o.ParseBool(fs.Bool(o.Name))
		case o.Kind == List && o.Repeat:
			var items []string
			for _, s := range fs.StringSlice(o.Name) {
				items = append(items, SplitList(s)...)
			}
			x, err = o.ParseList(items)
		default:
			x, err = o.Parse(fs.String(o.Name))
		}
		if err == nil {
			err = o.CheckLocations(x, locs)
		}
		if err != nil {
			return nil, false, o.wrap("--"+o.Name, err)
		}
		return x, true, nil
	}
	if o.Env != "" {
		if s, ok := lookupEnv(o.Env); ok && s != "" {
			x, err = o.Parse(s)
			if err == nil {
				err = o.CheckLocations(x, locs)
			}
			if err != nil {
				return nil, false, o.wrap("$"+o.Env, err)
			}
			return x, true, nil
		}
	}
	if file != nil && (o.Key != "" || o.OldKey != "") {
		if x, ok := file.Lookup(o); ok {
			return x, true, nil
		}
	}
	return nil, false, nil
}

// wrap says where a bad value came from: --flag "value": want ..., or
// $PVJOBS_VAR: what is wrong.
func (o *Option) wrap(from string, err error) error {
	var ve *valueError
	if errors.As(err, &ve) {
		return fmt.Errorf("%s %q: want %s", from, ve.value, ve.want)
	}
	return fmt.Errorf("%s: %w", from, err)
}

func (o *Option) required() error {
	var ways []string
	if o.Name != "" {
		ways = append(ways, "--"+o.Name)
	}
	if o.Env != "" {
		ways = append(ways, "$"+o.Env)
	}
	return fmt.Errorf("required: %s", strings.Join(ways, " or "))
}

// label names o for messages: its flag, else its key, else its variable.
func (o *Option) label() string {
	switch {
	case o.Name != "":
		return "--" + o.Name
	case o.Key != "":
		return o.Key
	}
	return "$" + o.Env
}
