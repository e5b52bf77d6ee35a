package html_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/reports/html"
)

// BenchmarkRender renders an account's page of a year of made-up reports
// (1,000 rows per keyed report, a visits row per hour and day).
// BenchmarkHTMLYear in cmd/pvjobs does the same for the reports of a real
// run over a year of generated page views.
func BenchmarkRender(b *testing.B) {
	plan := newPlan(b, []string{"blog"}, "2024-01-01", "2024-12-31", time.UTC)
	reps := fixture(plan, 1000, false, true)
	opt := html.Options{Dir: "x"}
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := html.Render(&buf, reps, plan, "blog", opt); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(buf.Len()))
}
