package languages_test

import (
	"testing"

	"github.com/pvjobs/pvjobs/jobs/languages"
)

func TestParse(t *testing.T) {
	for _, c := range []struct{ raw, lang, region, name string }{
		{"en-US", "en", "US", "English"},
		{"en_us", "en", "US", "English"},
		{"EN", "en", "(not set)", "English"},
		{"de-CH,de;q=0.9,en;q=0.8", "de", "CH", "German"},
		{" fr ; q=1", "fr", "(not set)", "French"},
		{"zh-Hant-TW", "zh", "TW", "Chinese"},
		{"zh-CN", "zh", "CN", "Chinese"},
		{"es-419", "es", "419", "Spanish"},
		{"pt_BR", "pt", "BR", "Portuguese"},
		{"i-klingon", "tlh", "(not set)", "Klingon"},
		{"*", "(not set)", "(not set)", "(not set)"},
		{"", "(not set)", "(not set)", "(not set)"},
		{"und", "(not set)", "(not set)", "(not set)"},
		{"x-private", "(not set)", "(not set)", "(not set)"},
		{"not a tag!", "(not set)", "(not set)", "(not set)"},
		{"<script>", "(not set)", "(not set)", "(not set)"},
		{"qaa", "qaa", "(not set)", "qaa"},
	} {
		l, r := languages.Parse([]byte(c.raw))
		if l != c.lang || r != c.region || languages.EnglishName(l) != c.name {
			t.Errorf("Parse(%q) = %q, %q (%q), want %q, %q (%q)", c.raw, l, r, languages.EnglishName(l), c.lang, c.region, c.name)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("en-US,en;q=0.9"))
	f.Add([]byte("i-klingon"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		l, r := languages.Parse(raw)
		if l == "" || r == "" {
			t.Fatalf("Parse(%q) = %q, %q: empty", raw, l, r)
		}
		if l == languages.NotSet && r != languages.NotSet {
			t.Fatalf("Parse(%q): a region without a language", raw)
		}
	})
}
