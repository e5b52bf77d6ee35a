package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestCompletion(t *testing.T) {
	for _, tc := range []struct{ shell, want string }{
		{"bash", "complete -o bashdefault -o default -F _pvjobs_complete pvjobs"},
		{"zsh", "#compdef pvjobs"},
	} {
		t.Run(tc.shell, func(t *testing.T) {
			out, _ := opsMust(t, "completion", tc.shell)
			if !strings.Contains(out, tc.want) {
				t.Errorf("completion %s lacks %q:\n%s", tc.shell, tc.want, out)
			}
			sh, err := exec.LookPath(tc.shell)
			if err != nil {
				t.Skipf("%s is not installed: syntax not checked", tc.shell)
			}
			path := filepath.Join(t.TempDir(), "pvjobs."+tc.shell)
			os.WriteFile(path, []byte(out), 0o644)
			if b, err := exec.Command(sh, "-n", path).CombinedOutput(); err != nil {
				t.Errorf("%s -n: %v\n%s", tc.shell, err, b)
			}
		})
	}
	for _, args := range [][]string{{"completion"}, {"completion", "tcsh"}, {"completion", "bash", "zsh"}, {"completion", "fish"}} {
		if code, _, stderr := opsCLI(t, context.Background(), args...); code != exitUsage {
			t.Errorf("pvjobs %s: exit %d; want %d\n%s", strings.Join(args, " "), code, exitUsage, stderr)
		}
	}
}

// buildPvjobs builds the pvjobs binary into a temporary directory: urfave/cli
// reads os.Args to complete, so completion is tested on the real binary.
func buildPvjobs(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary: skipped with -short")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool to build pvjobs with")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "pvjobs")
	if b, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return dir
}

// TestCompletionCandidates asks the pvjobs binary for candidates as the
// scripts do, and completes command lines with the bash script in bash.
func TestCompletionCandidates(t *testing.T) {
	dir := buildPvjobs(t)
	bin := filepath.Join(dir, "pvjobs")
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"--generate-bash-completion"}, []string{"run", "schedule", "completion", "jobs"}},
		{[]string{"run", "-", "--generate-bash-completion"}, []string{"--config", "--job", "--yesterday", "--dry-run", "--metrics-file"}},
		{[]string{"schedule", "-", "--generate-bash-completion"}, []string{"--config", "--lock", "--metrics-addr", "--state"}},
		{[]string{"completion", "--generate-bash-completion"}, []string{"bash", "zsh"}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, err := exec.Command(bin, tc.args...).Output()
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Fields(string(out))
			for _, w := range tc.want {
				if !slices.Contains(lines, w) {
					t.Errorf("candidates lack %s:\n%s", w, out)
				}
			}
		})
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	script, err := exec.Command(bin, "completion", "bash").Output()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "pvjobs.bash"), script, 0o644)
	for _, tc := range []struct{ line, want string }{
		{"pvjobs sched", "schedule"},
		{"pvjobs run --yes", "--yesterday"},
		{"pvjobs schedule --metrics-a", "--metrics-addr"},
		{"pvjobs completion z", "zsh"},
	} {
		t.Run("bash "+tc.line, func(t *testing.T) {
			words := strings.Fields(tc.line)
			cmd := exec.Command(bash, "--norc", "-c", `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($#-1)); _pvjobs_complete; printf '%s\n' "${COMPREPLY[@]}"`,
				"bash", filepath.Join(dir, "pvjobs.bash"))
			cmd.Args = append(cmd.Args, words...)
			cmd.Env = append(os.Environ(), "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"))
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if got := strings.TrimSpace(string(out)); got != tc.want {
				t.Errorf("completes %q to %q; want %q", tc.line, got, tc.want)
			}
		})
	}
}
