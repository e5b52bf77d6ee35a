package synth

import (
	"net/netip"
)

var words = []string{"fast", "simple", "guide", "cassandra", "redis", "analytics", "report", "pixel",
	"tracking", "privacy", "cookie", "dashboard", "growth", "search", "mobile", "tablet", "go",
	"python", "data", "cloud", "pricing", "release", "notes", "setup", "install", "api", "sdk",
	"team", "story", "launch", "tips", "faq", "billing", "export", "import", "geo", "city",
	"summer", "sale", "shoes", "jacket", "coffee", "garden", "recipe", "travel", "camera", "bike",
	"review", "best", "cheap", "how", "compare", "vs", "free", "download", "tutorial", "example"}

// sections are the first path segments of a site's pages.
var sections = []string{"blog", "docs", "products", "news", "help", "about", "pricing", "guides", "category", "tag"}

var searchTerms = []string{"page view analytics", "cassandra time series", "redis hyperloglog",
	"how to count unique visitors", "Privacy Friendly Analytics", "pvjobs", "web stats open source",
	"tracking pixel gif", "GeoLite2 city lookup", "top pages report", "bounce rate", "utm parameters",
	"café analytics", "Statistik Webseite", "アクセス解析", "访问统计", "аналитика сайта",
	"best analytics tool 2024", "msgpack vs json", "batch jobs go"}

// searchEngine is a search engine's referrer: with (withTerm) or without
// the query, as engines that hide terms send it. %s takes a plus-encoded
// query.
type searchEngine struct {
	noTerm, withTerm string
}

// searchEngines with weights: Google sends no term, the others often do.
var searchEngines = func() *weighted[searchEngine] {
	w := &weighted[searchEngine]{}
	w.add(searchEngine{"https://www.google.com/", "https://www.google.com/search?q=%s"}, 50)
	w.add(searchEngine{"https://www.google.de/", "https://www.google.de/search?q=%s&hl=de"}, 5)
	w.add(searchEngine{"https://www.google.co.uk/", ""}, 4)
	w.add(searchEngine{"https://www.google.fr/", ""}, 3)
	w.add(searchEngine{"https://www.google.com.br/", ""}, 2)
	w.add(searchEngine{"https://www.google.co.in/", ""}, 3)
	w.add(searchEngine{"https://www.google.co.jp/", ""}, 2)
	w.add(searchEngine{"android-app://com.google.android.googlequicksearchbox/", ""}, 3)
	w.add(searchEngine{"https://www.bing.com/", "https://www.bing.com/search?q=%s&form=QBLH"}, 8)
	w.add(searchEngine{"https://duckduckgo.com/", "https://html.duckduckgo.com/html/?q=%s"}, 4)
	w.add(searchEngine{"https://search.yahoo.com/", "https://search.yahoo.com/search?p=%s"}, 2)
	w.add(searchEngine{"https://yandex.ru/", "https://yandex.ru/search/?text=%s&lr=213"}, 3)
	w.add(searchEngine{"https://www.baidu.com/", "https://www.baidu.com/s?wd=%s&ie=utf-8"}, 2)
	w.add(searchEngine{"https://www.ecosia.org/", "https://www.ecosia.org/search?q=%s"}, 2)
	w.add(searchEngine{"https://search.brave.com/", "https://search.brave.com/search?q=%s"}, 1)
	w.add(searchEngine{"https://www.qwant.com/", "https://www.qwant.com/?q=%s&t=web"}, 1)
	w.add(searchEngine{"https://search.naver.com/", "https://search.naver.com/search.naver?query=%s"}, 1)
	w.add(searchEngine{"https://www.startpage.com/", ""}, 1)
	return w
}()

// socialReferrers are social networks' referrers; a trailing "*" is
// replaced with a random path (t.co links, Reddit threads).
var socialReferrers = func() *weighted[string] {
	w := &weighted[string]{}
	w.add("https://t.co/*", 12)
	w.add("https://l.facebook.com/", 12)
	w.add("https://m.facebook.com/", 6)
	w.add("https://lm.facebook.com/", 4)
	w.add("https://www.reddit.com/r/*", 8)
	w.add("https://news.ycombinator.com/", 5)
	w.add("https://www.linkedin.com/", 6)
	w.add("https://lnkd.in/*", 2)
	w.add("https://www.instagram.com/", 6)
	w.add("https://l.instagram.com/", 3)
	w.add("https://www.youtube.com/", 5)
	w.add("https://www.pinterest.com/", 4)
	w.add("https://out.reddit.com/", 2)
	w.add("https://mastodon.social/", 1)
	w.add("https://bsky.app/", 1)
	return w
}()

var emailReferrers = []string{"https://mail.google.com/", "https://outlook.live.com/", "https://mail.yahoo.com/",
	"android-app://com.google.android.gm/", "https://webmail.gmx.net/"}

// referralSites are other sites that link; a path is added.
var referralSites = []string{"https://dev.to", "https://medium.com", "https://stackoverflow.com/questions",
	"https://github.com", "https://example.org", "https://www.heise.de/news", "https://en.wikipedia.org/wiki",
	"https://www.producthunt.com/posts", "https://forum.example.net/t", "https://news.google.com/articles"}

// campaign is a marketing campaign: parameters added to the landing URL and
// the referrer the visit comes with ("" for none).
type campaign struct {
	query    string
	referrer string
	// clickID names a click-id parameter given a random value per visit.
	clickID string
}

var campaigns = func() *weighted[campaign] {
	w := &weighted[campaign]{}
	w.add(campaign{"utm_source=newsletter&utm_medium=email&utm_campaign=weekly", "", ""}, 20)
	w.add(campaign{"utm_source=newsletter&utm_medium=email&utm_campaign=launch&utm_content=button", "https://mail.google.com/", ""}, 6)
	w.add(campaign{"utm_source=google&utm_medium=cpc&utm_campaign=brand&utm_term=analytics", "https://www.google.com/", "gclid"}, 14)
	w.add(campaign{"", "https://www.google.com/", "gclid"}, 10)
	w.add(campaign{"utm_source=facebook&utm_medium=paid_social&utm_campaign=summer", "https://l.facebook.com/", "fbclid"}, 10)
	w.add(campaign{"", "https://l.facebook.com/", "fbclid"}, 8)
	w.add(campaign{"utm_source=bing&utm_medium=cpc&utm_campaign=generic", "https://www.bing.com/", "msclkid"}, 4)
	w.add(campaign{"utm_source=twitter&utm_medium=social&utm_campaign=launch", "https://t.co/", ""}, 4)
	w.add(campaign{"utm_source=partner&utm_medium=affiliate&utm_campaign=q3", "https://example.org/deals", ""}, 3)
	w.add(campaign{"utm_source=instagram&utm_medium=social&utm_campaign=stories", "https://l.instagram.com/", "igshid"}, 4)
	return w
}()

// languages are the language field's values with weights: mostly one tag,
// as a beacon sends navigator.language or a collector keeps the first
// Accept-Language entry, some whole Accept-Language headers.
var languages = func() *weighted[string] {
	w := &weighted[string]{}
	for _, l := range []struct {
		v string
		w float64
	}{
		{"en-US", 28}, {"en-GB", 5}, {"en", 2}, {"en-CA", 2}, {"en-AU", 1.5}, {"en-IN", 2},
		{"de-DE", 8}, {"de", 1.5}, {"de-AT", 0.8}, {"de-CH", 0.7},
		{"fr-FR", 5}, {"fr", 1.5}, {"fr-CA", 0.8}, {"es-ES", 3}, {"es-MX", 2}, {"es-419", 1}, {"es", 1},
		{"pt-BR", 4}, {"pt-PT", 0.6}, {"it-IT", 3}, {"nl-NL", 2}, {"pl-PL", 2}, {"sv-SE", 1}, {"da-DK", 0.5},
		{"nb-NO", 0.5}, {"fi-FI", 0.5}, {"cs-CZ", 0.7}, {"hu-HU", 0.5}, {"ro-RO", 0.5}, {"tr-TR", 1.5},
		{"ru-RU", 3}, {"ru", 0.8}, {"uk-UA", 0.8}, {"zh-CN", 6}, {"zh-TW", 1}, {"zh-HK", 0.5},
		{"ja-JP", 4}, {"ja", 0.5}, {"ko-KR", 2}, {"vi-VN", 1}, {"id-ID", 1.5}, {"th-TH", 0.7},
		{"ar", 0.8}, {"ar-SA", 0.5}, {"he-IL", 0.4}, {"hi-IN", 0.5},
		{"en-US,en;q=0.9", 4}, {"de-DE,de;q=0.9,en-US;q=0.8,en;q=0.7", 1.5}, {"fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7", 1},
		{"zh-CN,zh;q=0.9", 1}, {"en-GB,en-US;q=0.9,en;q=0.8", 1}, {"es-ES,es;q=0.9", 0.5}, {"", 0.5},
	} {
		w.add(l.v, l.w)
	}
	return w
}()

// bot is a kind of robot: its user agent, where its addresses come from
// (none: anywhere), how many pages a session hits and the gap between them,
// and its language field.
type bot struct {
	agent            string
	network          netip.Prefix
	minPages, maxPgs int
	minGap, maxGap   float64 // seconds
	lang             string
}

func p(s string) netip.Prefix { return netip.MustParsePrefix(s) }

// bots with weights by sessions: search and AI crawlers hit many pages,
// link previewers one, scripts a few.
var bots = func() *weighted[bot] {
	w := &weighted[bot]{}
	w.add(bot{"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", p("66.249.64.0/20"), 5, 120, 0.5, 20, ""}, 10)
	w.add(bot{"Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.126 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", p("66.249.64.0/20"), 5, 120, 0.5, 20, ""}, 10)
	w.add(bot{"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", p("157.55.39.0/24"), 5, 80, 1, 30, ""}, 6)
	w.add(bot{"Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)", p("20.171.206.0/24"), 10, 200, 0.2, 5, ""}, 4)
	w.add(bot{"Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)", netip.Prefix{}, 10, 200, 0.2, 5, ""}, 3)
	w.add(bot{"Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)", p("54.36.148.0/23"), 10, 150, 1, 10, ""}, 4)
	w.add(bot{"Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)", p("185.191.171.0/24"), 10, 150, 1, 10, ""}, 3)
	w.add(bot{"Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)", p("5.255.253.0/24"), 5, 60, 1, 20, ""}, 2)
	w.add(bot{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)", p("17.241.208.0/24"), 3, 40, 1, 20, ""}, 2)
	w.add(bot{"Mozilla/5.0 (Linux; Android 7.0;) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; PetalBot;+https://webmaster.petalsearch.com/site/petalbot)", netip.Prefix{}, 5, 60, 1, 20, ""}, 1)
	w.add(bot{"Mozilla/5.0 (compatible; DotBot/1.2; +https://opensiteexplorer.org/dotbot; help@moz.com)", netip.Prefix{}, 5, 60, 1, 20, ""}, 1)
	w.add(bot{"Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; Bytespider; spider-feedback@bytedance.com)", netip.Prefix{}, 10, 150, 0.2, 5, ""}, 2)
	w.add(bot{"facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", p("69.171.250.0/24"), 1, 2, 1, 5, ""}, 4)
	w.add(bot{"Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", netip.Prefix{}, 1, 1, 1, 1, ""}, 2)
	w.add(bot{"Twitterbot/1.0", netip.Prefix{}, 1, 1, 1, 1, ""}, 2)
	w.add(bot{"curl/8.5.0", netip.Prefix{}, 1, 3, 1, 10, ""}, 2)
	w.add(bot{"python-requests/2.31.0", netip.Prefix{}, 1, 20, 0.1, 2, ""}, 2)
	w.add(bot{"Go-http-client/1.1", netip.Prefix{}, 1, 10, 0.1, 2, ""}, 1)
	w.add(bot{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/126.0.0.0 Safari/537.36", netip.Prefix{}, 2, 30, 0.5, 5, "en-US"}, 2)
	w.add(bot{"Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)", netip.Prefix{}, 1, 1, 1, 1, ""}, 3)
	w.add(bot{"", netip.Prefix{}, 1, 5, 1, 10, ""}, 1)
	return w
}()

// nonPublic are IPv4 ranges no visitor comes from: besides private,
// loopback, link-local and multicast (netip's predicates), shared address
// space, documentation and benchmarking networks and the reserved 240/4.
var nonPublic = []netip.Prefix{p("0.0.0.0/8"), p("100.64.0.0/10"), p("192.0.0.0/24"), p("192.0.2.0/24"),
	p("198.18.0.0/15"), p("198.51.100.0/24"), p("203.0.113.0/24"), p("240.0.0.0/4")}

// ipv6Networks are IPv6 networks of large access providers (cable, DSL,
// mobile) on every continent, with weights; a visitor's IPv6 address is a
// random address in one. The countries are those GeoLite2-City gave every
// sampled address of each network when the table was written.
var ipv6Networks = func() *weighted[netip.Prefix] {
	w := &weighted[netip.Prefix]{}
	for _, n := range []struct {
		p string
		w float64
	}{
		{"2601::/20", 10},      // Comcast, US
		{"2600:1700::/28", 6},  // US
		{"2600:1000::/28", 5},  // US
		{"2607:fb90::/32", 5},  // US
		{"2003::/24", 6},       // DE
		{"2a01:cb00::/24", 4},  // FR
		{"2a00:23c0::/28", 3},  // GB
		{"2a02:c7c::/32", 2},   // GB
		{"2001:4c48::/32", 1},  // HU
		{"2409:8900::/24", 6},  // CN
		{"240e:300::/24", 5},   // CN
		{"2405:201::/32", 6},   // IN
		{"2400:2410::/28", 2},  // JP
		{"2001:ee0::/32", 2},   // VN
		{"2804:38::/32", 2},    // BR
		{"2804:8c::/32", 1},    // BR
		{"2804:a8::/32", 1},    // BR
		{"2806:2f0::/32", 2},   // MX
		{"2c0f:f7a8::/32", 1},  // ZA
		{"2001:8003::/32", 2},  // AU
		{"2a02:3b8::/32", 1},   // ES
		{"2a02:aaa::/32", 0.5}, // ES
		{"2a01:4f8::/32", 0.5}, // DE, a hosting network
	} {
		w.add(p(n.p), n.w)
	}
	return w
}()
