package synth

import (
	"fmt"
	"math/rand/v2"
)

var words = []string{"fast", "simple", "guide", "cassandra", "redis", "analytics", "report", "pixel",
	"tracking", "privacy", "cookie", "dashboard", "growth", "search", "mobile", "tablet", "go",
	"python", "data", "cloud", "pricing", "release", "notes", "setup", "install", "api", "sdk",
	"team", "story", "launch", "tips", "faq", "billing", "export", "import", "geo", "city"}

var searchTerms = []string{"page view analytics", "cassandra time series", "redis hyperloglog",
	"how to count unique visitors", "Privacy Friendly Analytics", "pvjobs", "web stats open source",
	"tracking pixel gif", "GeoLite2 city lookup", "top pages report", "bounce rate", "utm parameters",
	"café analytics", "Statistik Webseite", "アクセス解析", "访问统计", "аналитика сайта",
	"best analytics tool 2024", "msgpack vs json", "batch jobs go"}

// searchReferrers are referrer URL templates of search engines; %s takes a
// plus-encoded query. Some carry no query, as engines that hide terms send.
var searchReferrers = []string{
	"https://www.google.com/",
	"https://www.google.com/",
	"https://www.google.com/search?q=%s",
	"https://www.google.co.uk/",
	"https://www.google.de/search?q=%s&hl=de",
	"https://www.google.com.br/",
	"https://www.bing.com/search?q=%s&form=QBLH",
	"https://duckduckgo.com/",
	"https://html.duckduckgo.com/html/?q=%s",
	"https://search.yahoo.com/search?p=%s",
	"https://yandex.ru/search/?text=%s&lr=213",
	"https://yandex.com.tr/search/?text=%s",
	"https://www.baidu.com/s?wd=%s&ie=utf-8",
	"https://www.ecosia.org/search?q=%s",
	"https://search.brave.com/search?q=%s",
	"https://www.qwant.com/?q=%s&t=web",
	"https://search.naver.com/search.naver?query=%s",
	"https://www.startpage.com/",
}

var socialReferrers = []string{
	"https://t.co/", "https://l.facebook.com/", "https://m.facebook.com/", "https://www.reddit.com/r/golang/",
	"https://news.ycombinator.com/", "https://www.linkedin.com/", "https://lnkd.in/", "https://www.instagram.com/",
	"https://www.youtube.com/", "android-app://com.google.android.gm/", "https://out.reddit.com/",
}

var emailReferrers = []string{"https://mail.google.com/", "https://outlook.live.com/", "https://mail.yahoo.com/"}

var referralSites = []string{"https://blog.golang.org", "https://dev.to", "https://medium.com",
	"https://stackoverflow.com", "https://github.com", "https://example.org", "https://www.heise.de"}

// defaultNetworks are public ranges used when Config.Networks is empty.
var defaultNetworks = []string{"81.2.69.0/24", "89.160.20.0/24", "216.160.83.0/24", "2001:480::/48",
	"175.16.199.0/24", "2a02:cf40::/32", "67.43.156.0/24", "202.196.224.0/24"}

// agentTemplates are real user-agent shapes; %d and %s are filled with
// version numbers to make many distinct strings, as real traffic has.
var agentTemplates = []struct {
	weight int
	f      func(r *rand.Rand) string
}{
	{30, func(r *rand.Rand) string {
		return fmt.Sprintf("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.%d.%d Safari/537.36", 100+r.IntN(30), 5000+r.IntN(1500), r.IntN(200))
	}},
	{14, func(r *rand.Rand) string {
		return fmt.Sprintf("Mozilla/5.0 (iPhone; CPU iPhone OS %d_%d like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/%d.%d Mobile/15E148 Safari/604.1", 15+r.IntN(3), r.IntN(7), 15+r.IntN(3), r.IntN(7))
	}},
	{16, func(r *rand.Rand) string {
		models := []string{"SM-G991B", "SM-A525F", "Pixel 7", "Pixel 6a", "M2101K6G", "SM-S908U", "moto g(30)", "CPH2211"}
		return fmt.Sprintf("Mozilla/5.0 (Linux; Android %d; %s) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.%d.%d Mobile Safari/537.36", 10+r.IntN(5), models[r.IntN(len(models))], 100+r.IntN(30), 5000+r.IntN(1500), r.IntN(200))
	}},
	{8, func(r *rand.Rand) string {
		return fmt.Sprintf("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_%d) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/%d.%d Safari/605.1.15", r.IntN(8), 15+r.IntN(3), r.IntN(7))
	}},
	{8, func(r *rand.Rand) string {
		return fmt.Sprintf("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:%d.0) Gecko/20100101 Firefox/%d.0", 100+r.IntN(30), 100+r.IntN(30))
	}},
	{5, func(r *rand.Rand) string {
		return fmt.Sprintf("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.0.0 Safari/537.36 Edg/%d.0.%d.%d", 100+r.IntN(30), 100+r.IntN(30), 1000+r.IntN(900), r.IntN(100))
	}},
	{5, func(r *rand.Rand) string {
		return fmt.Sprintf("Mozilla/5.0 (iPad; CPU OS %d_%d like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/%d.0 Mobile/15E148 Safari/604.1", 14+r.IntN(4), r.IntN(7), 14+r.IntN(4))
	}},
	{3, func(r *rand.Rand) string {
		tabs := []string{"SM-T870", "SM-X200", "Lenovo TB-X606F", "KFTRWI"}
		return fmt.Sprintf("Mozilla/5.0 (Linux; Android %d; %s) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.%d.%d Safari/537.36", 10+r.IntN(4), tabs[r.IntN(len(tabs))], 100+r.IntN(30), 5000+r.IntN(1500), r.IntN(200))
	}},
	{3, func(r *rand.Rand) string {
		return fmt.Sprintf("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.0.0 Safari/537.36", 100+r.IntN(30))
	}},
	{4, func(r *rand.Rand) string {
		bots := []string{
			"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
			"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
			"Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.%d; +https://openai.com/gptbot)",
			"Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
			"curl/8.%d.0",
			"python-requests/2.%d.0",
			"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/1%d.0.0.0 Safari/537.36",
			"facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
		}
		b := bots[r.IntN(len(bots))]
		if containsVerb(b) {
			return fmt.Sprintf(b, r.IntN(30))
		}
		return b
	}},
}

func containsVerb(s string) bool {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '%' && s[i+1] == 'd' {
			return true
		}
	}
	return false
}

// makeAgents returns up to n distinct user agents, most common shapes first.
func makeAgents(n int, seed uint64) []string {
	r := rand.New(rand.NewPCG(seed, 0xa9e47))
	total := 0
	for _, t := range agentTemplates {
		total += t.weight
	}
	seen := map[string]bool{}
	var out []string
	for tries := 0; len(out) < n && tries < n*20; tries++ {
		x := r.IntN(total)
		for _, t := range agentTemplates {
			if x < t.weight {
				ua := t.f(r)
				if !seen[ua] {
					seen[ua] = true
					out = append(out, ua)
				}
				break
			}
			x -= t.weight
		}
	}
	return out
}
