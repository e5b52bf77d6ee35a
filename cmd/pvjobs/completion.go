package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"
)

// The completion scripts ask pvjobs itself for the candidates: urfave/cli
// answers a command line ending in --generate-bash-completion with the
// commands or flags that may follow. Adapted from urfave/cli's
// autocomplete/bash_autocomplete and zsh_autocomplete (MIT licence), without
// eval.
const bashCompletion = `# bash completion for pvjobs. Load it with
#   source <(pvjobs completion bash)
# or install it: pvjobs completion bash > /etc/bash_completion.d/pvjobs
_pvjobs_complete() {
  local cur words
  COMPREPLY=()
  cur="${COMP_WORDS[COMP_CWORD]}"
  words=("${COMP_WORDS[@]:0:COMP_CWORD}")
  local opts
  if [[ "$cur" == -* ]]; then
    opts=$("${words[0]}" "${words[@]:1}" "$cur" --generate-bash-completion 2>/dev/null)
  else
    opts=$("${words[0]}" "${words[@]:1}" --generate-bash-completion 2>/dev/null)
  fi
  local IFS=$'\n'
  COMPREPLY=($(compgen -W "${opts}" -- "${cur}"))
  return 0
}
complete -o bashdefault -o default -F _pvjobs_complete pvjobs
`

const zshCompletion = `#compdef pvjobs
# zsh completion for pvjobs. Load it with
#   source <(pvjobs completion zsh)
# or install it as _pvjobs in a directory of $fpath.
_pvjobs() {
  local -a opts
  local cur=${words[-1]}
  if [[ "$cur" == -* ]]; then
    opts=("${(@f)$(${words[@]:0:#words[@]-1} ${cur} --generate-bash-completion 2>/dev/null)}")
  else
    opts=("${(@f)$(${words[@]:0:#words[@]-1} --generate-bash-completion 2>/dev/null)}")
  fi
  if [[ "${opts[1]}" != "" ]]; then
    _describe 'values' opts
  else
    _files
  fi
}
if [[ "$funcstack[1]" == "_pvjobs" ]]; then
  _pvjobs "$@"
else
  compdef _pvjobs pvjobs
fi
`

var completionShells = []string{"bash", "zsh"}

func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script: bash or zsh",
		UsageText: "source <(pvjobs completion bash)    # or: source <(pvjobs completion zsh)",
		BashComplete: func(c *cli.Context) {
			for _, s := range completionShells {
				fmt.Fprintln(c.App.Writer, s)
			}
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usagef("completion: name a shell: %s", strings.Join(completionShells, ", "))
			}
			return writeCompletion(c.Args().First(), c.App.Writer)
		},
	}
}

func writeCompletion(shell string, w io.Writer) error {
	switch shell {
	case "bash":
		_, err := io.WriteString(w, bashCompletion)
		return err
	case "zsh":
		_, err := io.WriteString(w, zshCompletion)
		return err
	}
	return usagef("completion %q: want %s", shell, strings.Join(completionShells, ", "))
}
