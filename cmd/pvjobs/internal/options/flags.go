package options

import (
	"fmt"
	"strconv"

	"github.com/urfave/cli/v2"
)

// Flags returns the command-line flags of cmd's options, new on every call
// (urfave/cli flags hold the values they parse). The environment variables
// of the options show in the help, but the flags do not read them: Resolve
// does, so that it can say which of them a bad value came from.
func Flags(cmd Command) []cli.Flag {
	var out []cli.Flag
	for _, o := range Table {
		if o.For&cmd == 0 || o.Name == "" {
			continue
		}
		out = append(out, o.flag())
	}
	return out
}

// docFlag is what the help of urfave/cli asks of a flag.
type docFlag interface {
	cli.DocGenerationFlag
	cli.CategorizableFlag
}

// optionFlag is a urfave/cli flag whose help shows the option's environment
// variable and default.
type optionFlag struct {
	docFlag
	env, defaultText string
}

func (f *optionFlag) GetEnvVars() []string {
	if f.env == "" {
		return nil
	}
	return []string{f.env}
}

func (f *optionFlag) GetDefaultText() string { return f.defaultText }

func (f *optionFlag) String() string { return cli.FlagStringer(f) }

// sliceFlag is an optionFlag that may be repeated.
type sliceFlag struct{ *optionFlag }

func (f sliceFlag) IsSliceFlag() bool { return true }

func (f sliceFlag) String() string { return cli.FlagStringer(f) }

func (o *Option) flag() cli.Flag {
	f := &optionFlag{env: o.Env, defaultText: o.defaultText()}
	usage := o.Usage
	if o.Required {
		usage += " (required)"
	}
	switch {
	case o.Kind == Bool:
		on, _ := strconv.ParseBool(o.Default)
		f.docFlag = &cli.BoolFlag{Name: o.Name, Aliases: o.Aliases, Usage: usage, Category: o.Category, Value: on || o.DefaultText == "true"}
	case o.Kind == List && o.Repeat:
		f.docFlag = &cli.StringSliceFlag{Name: o.Name, Aliases: o.Aliases, Usage: usage, Category: o.Category}
		return sliceFlag{f}
	default:
		f.docFlag = &cli.StringFlag{Name: o.Name, Aliases: o.Aliases, Usage: usage, Category: o.Category}
	}
	return f
}

// defaultText is the default as help shows it: "" for a boolean that is off.
func (o *Option) defaultText() string {
	switch {
	case o.DefaultText != "":
		return o.DefaultText
	case o.Default == "":
		return ""
	case o.Kind == Bool:
		if o.Default == "true" {
			return "true"
		}
		return ""
	case o.Kind == String || o.Kind == List || o.Kind == Zone || o.Kind == Budget:
		return fmt.Sprintf("%q", o.Default)
	}
	return o.Default
}
