package titles_test

import (
	"strings"
	"testing"

	"github.com/pvjobs/pvjobs/jobs/titles"
)

func TestNormalize(t *testing.T) {
	long := strings.Repeat("é", titles.MaxRunes+5)
	for raw, want := range map[string]string{
		"":                          "(not set)",
		"   \t\n ":                  "(not set)",
		"Home":                      "Home",
		"  Home \t| Blog\r\n":       "Home | Blog",
		"A\x00B\x1bC":               "A B C",
		"Zero\u200bwidth":           "Zero width",
		"bad \xff\xfe utf8":         "bad \ufffd\ufffd utf8",
		"<script>alert(1)</script>": "<script>alert(1)</script>", // escaped where it lands, not here
		"Über   uns":                "Über uns",
		long:                        strings.Repeat("é", titles.MaxRunes) + "…",
	} {
		if got := string(titles.Normalize(nil, []byte(raw))); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", raw, got, want)
		}
	}
	if got := string(titles.Normalize([]byte("x"), nil)); got != "x(not set)" {
		t.Errorf("Normalize appends: %q", got)
	}
}

func FuzzNormalize(f *testing.F) {
	f.Add([]byte("  Home \t| Blog\r\n"))
	f.Add([]byte("\xff\x00"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		got := string(titles.Normalize(nil, raw))
		if got == "" || strings.ContainsAny(got, "\t\n\r\x00") || strings.HasPrefix(got, " ") || strings.HasSuffix(got, " ") || strings.Contains(got, "  ") {
			t.Fatalf("Normalize(%q) = %q", raw, got)
		}
		if again := string(titles.Normalize(nil, []byte(got))); again != got {
			t.Fatalf("not idempotent: %q then %q", got, again)
		}
	})
}
