package spam_test

import (
	"testing"

	"github.com/pvjobs/pvjobs/jobs/sources/spam"
)

func TestEmbedded(t *testing.T) {
	l := spam.Embedded()
	if l.Len() < 40 || l.Version == "" || l.Source == "" {
		t.Fatalf("embedded list: %d hosts, version %q, source %q", l.Len(), l.Version, l.Source)
	}
	for host, want := range map[string]bool{
		"buttons-for-website.com":     true,
		"www.buttons-for-website.com": true,
		"SEMALT.COM":                  true,
		"x.y.semalt.com":              true, // subdomains are covered
		"notsemalt.com":               false,
		"semalt.com.example":          false,
		"google.com":                  false,
		"":                            false,
		"com":                         false,
	} {
		if got := l.Has(host); got != want {
			t.Errorf("Has(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestWith(t *testing.T) {
	l, err := spam.Embedded().With([]string{"Spam.Example", "www.junk.test"})
	if err != nil {
		t.Fatal(err)
	}
	if !l.Has("a.spam.example") || !l.Has("junk.test") || !l.Has("semalt.com") {
		t.Errorf("local additions or the embedded list missing")
	}
	if spam.Embedded().Has("spam.example") {
		t.Errorf("With changed the embedded list")
	}
	for _, bad := range []string{"", "nodot", ".lead.example", "sp am.example", "a/b.example"} {
		if _, err := spam.Embedded().With([]string{bad}); err == nil {
			t.Errorf("With(%q) accepted", bad)
		}
	}
}
