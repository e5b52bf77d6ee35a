package sources_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/jobs/sources"
	"github.com/pvjobs/pvjobs/mapreduce"
)

// mix is a realistic traffic mix: mostly internal navigation and direct
// views, then origin-only search referrers, search referrers with terms,
// social, referrals, mail, and some campaign-tagged landing pages.
func mix(n int) (pages, refs [][]byte) {
	r := rand.New(rand.NewPCG(1, 2))
	terms := []string{"golang+map+reduce", "caf%C3%A9", "%E5%A4%A9%E6%B0%94", "best+running+shoes", "weather", "news+today"}
	for range n {
		page := fmt.Sprintf("https://www.example.com/post/%d", r.IntN(300))
		var ref string
		switch x := r.IntN(100); {
		case x < 50:
			ref = fmt.Sprintf("https://www.example.com/post/%d?ref=nav", r.IntN(300))
		case x < 70:
		case x < 80:
			ref = []string{"https://www.google.com/", "https://www.google.co.uk/", "https://duckduckgo.com/", "https://www.bing.com/"}[r.IntN(4)]
		case x < 86:
			t := terms[r.IntN(len(terms))]
			ref = []string{"https://www.bing.com/search?q=" + t + "&form=QBLH", "https://yandex.ru/search/?text=" + t + "&lr=213",
				"https://www.baidu.com/s?wd=" + t + "&ie=utf-8", "https://search.yahoo.com/search?p=" + t}[r.IntN(4)]
		case x < 92:
			ref = []string{"https://t.co/", "https://l.facebook.com/", "https://www.reddit.com/r/golang/", "https://news.ycombinator.com/",
				"android-app://com.google.android.gm/"}[r.IntN(5)]
		case x < 97:
			ref = fmt.Sprintf("https://blog%d.example.org/some/article-%d", r.IntN(200), r.IntN(20))
		default:
			ref = "https://mail.google.com/"
			page += "?utm_source=newsletter&utm_medium=email&utm_campaign=aug"
		}
		pages, refs = append(pages, []byte(page)), append(refs, []byte(ref))
	}
	return pages, refs
}

func BenchmarkClassify(b *testing.B) {
	pages, refs := mix(10000)
	k := sources.NewClassifier([]string{"example.net"}).NewCache()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		k.Classify(pages[i], refs[i])
		if i++; i == len(pages) {
			i = 0
		}
	}
}

// BenchmarkClassifyCold classifies distinct search referrers: every row
// misses the term cache and decodes its term.
func BenchmarkClassifyCold(b *testing.B) {
	k := sources.NewClassifier(nil).NewCache()
	page := []byte("https://www.example.com/")
	refs := make([][]byte, 100000)
	for i := range refs {
		refs[i] = fmt.Appendf(nil, "https://www.bing.com/search?q=Some+Term+%d&form=QBLH&sp=-1", i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		k.Classify(page, refs[i])
		if i++; i == len(refs) {
			i = 0
		}
	}
}

func benchMap[P any](b *testing.B, job mapreduce.Job[P]) {
	pages, refs := mix(10000)
	start := time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC)
	plan, err := mapreduce.NewPlan(mapreduce.PlanSpec{Accounts: []string{"acme"}, Start: start, End: start.AddDate(0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	p := job.NewPartial(plan)
	var pv mapreduce.PageView
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		pv.URL, pv.Referrer = pages[i], refs[i]
		job.Map(p, &pv)
		if i++; i == len(pages) {
			i = 0
		}
	}
}

func BenchmarkSourcesMap(b *testing.B) {
	benchMap(b, mapreduce.Job[*sources.Partial](&sources.SourcesJob{}))
}

func BenchmarkSearchTermsMap(b *testing.B) {
	benchMap(b, mapreduce.Job[*sources.Partial](&sources.SearchTermsJob{}))
}
