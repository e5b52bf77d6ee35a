package options_test

import (
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/options"
)

var update = flag.Bool("update", false, "rewrite the option tables of README.md")

// readme returns the path of the repository's README.md.
func readme() string {
	_, here, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(here), "..", "..", "..", "..", "README.md")
}

// TestREADME checks that the README's option tables are the ones the Table
// makes (go test -update rewrites them).
func TestREADME(t *testing.T) {
	b, err := os.ReadFile(readme())
	if err != nil {
		t.Fatal(err)
	}
	got, err := options.ReplaceBlocks(string(b))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range options.Blocks {
		if !strings.Contains(string(b), "<!-- options "+name+" -->") {
			t.Errorf("README.md has no table %q", name)
		}
	}
	if got == string(b) {
		return
	}
	if *update {
		if err := os.WriteFile(readme(), []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's option tables are not those of options.Table: go test ./cmd/pvjobs/internal/options -update")
}
