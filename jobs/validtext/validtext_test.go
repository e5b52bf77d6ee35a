package validtext_test

import (
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pvjobs/pvjobs/jobs/validtext"
	"github.com/pvjobs/pvjobs/mapreduce"
)

func TestCell(t *testing.T) {
	for _, tc := range []struct {
		name, col, in, want string
	}{
		{"valid url", "url", "https://example.com/café/日本", "https://example.com/café/日本"},
		{"latin-1 url", "url", "https://example.com/caf\xe9", "https://example.com/caf%E9"},
		{"truncated character in a url", "url", "/a\xe6\x97", "/a%E6%97"},
		{"invalid bytes between valid ones", "referrer", "/\xff日\xfe", "/%FF日%FE"},
		{"an _url column", "landing_url", "/\x80", "/%80"},
		{"title", "title", "Caf\xe9 \xff\xfe end", "Caf\uFFFD \uFFFD end"},
		{"search term", "term", "\xc3", "\uFFFD"},
		{"valid text", "term", "naïve", "naïve"},
		{"empty", "url", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := validtext.Cell(tc.col, tc.in)
			if got != tc.want {
				t.Errorf("Cell(%q, %q) = %q, want %q", tc.col, tc.in, got, tc.want)
			}
			if !utf8.ValidString(got) {
				t.Errorf("Cell(%q, %q) = %q is not UTF-8", tc.col, tc.in, got)
			}
		})
	}
}

func TestReports(t *testing.T) {
	day := time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC)
	row := func(v float64, keys ...string) mapreduce.ReportRow {
		return mapreduce.ReportRow{Account: "blog", Period: mapreduce.PeriodDay, Start: day, Keys: keys, Values: []float64{v}}
	}
	shared := []string{"direct", "x\xff"}
	reps := []mapreduce.Report{
		{Name: "urls", Keys: []string{"url"}, Measures: mapreduce.Counts("pageviews"), Rows: []mapreduce.ReportRow{
			row(5, "/a"),
			row(2, "/caf\xe9"),
			row(1, "/\xff"),
		}},
		{Name: "sources", Keys: []string{"medium", "source"}, Measures: mapreduce.Counts("pageviews"), Rows: []mapreduce.ReportRow{
			row(4, shared...),
			{Account: "blog", Period: mapreduce.PeriodRange, Start: day, Keys: shared, Values: []float64{4}},
		}},
	}
	if n := validtext.Reports(reps); n != 4 {
		t.Errorf("Reports changed %d cells, want 4", n)
	}
	var urls []string
	for _, r := range reps[0].Rows {
		urls = append(urls, r.Keys[0])
	}
	if want := []string{"/a", "/caf%E9", "/%FF"}; !slices.Equal(urls, want) {
		t.Errorf("urls %q, want %q", urls, want)
	}
	for _, r := range reps[1].Rows {
		if !slices.Equal(r.Keys, []string{"direct", "x\uFFFD"}) {
			t.Errorf("sources row keys %q", r.Keys)
		}
	}
	if shared[1] != "x\xff" {
		t.Errorf("Reports changed a key slice it does not own")
	}
}

// FuzzCell: the result is UTF-8, valid input is unchanged, cleaning is
// idempotent, and a URL's cleaned form decodes to the same bytes whenever it
// had no percent sign already.
func FuzzCell(f *testing.F) {
	for _, s := range []string{"", "/a", "/caf\xe9", "\xff\xfe", "日本\xe6\x97", "%E9"} {
		f.Add("url", s)
		f.Add("title", s)
	}
	f.Fuzz(func(t *testing.T, col, s string) {
		got := validtext.Cell(col, s)
		if !utf8.ValidString(got) {
			t.Fatalf("Cell(%q, %q) = %q: not UTF-8", col, s, got)
		}
		if utf8.ValidString(s) && got != s {
			t.Fatalf("Cell changed valid %q to %q", s, got)
		}
		if again := validtext.Cell(col, got); again != got {
			t.Fatalf("not idempotent: %q then %q", got, again)
		}
		if validtext.IsURLColumn(col) && !strings.Contains(s, "%") {
			if back := unescape(got); back != s {
				t.Fatalf("URL(%q) = %q decodes to %q", s, got, back)
			}
		}
	})
}

func unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			var v byte
			for _, c := range []byte(s[i+1 : i+3]) {
				v <<= 4
				switch {
				case c >= '0' && c <= '9':
					v |= c - '0'
				case c >= 'A' && c <= 'F':
					v |= c - 'A' + 10
				}
			}
			b.WriteByte(v)
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
