package devices

import (
	"strings"

	"github.com/mssola/useragent"
)

// Bot rules. A user agent is a bot when, in this order:
//
//  1. it is empty, "-", or has no letter at all;
//  2. it names a well-known robot (knownBots: search and AI crawlers, link
//     previewers, uptime monitors, headless browsers, HTTP libraries and
//     command-line tools);
//  3. a generic robot word occurs outside the device-model part of the
//     platform comment (botWords, botWordBot): "bot", "crawl", "spider",
//     "scraper", "monitor", "preview", ..., each with the guards that keep real
//     browsers out (the phone brand "Cubot", the "CamScanner" app, a model
//     named "... BOT 55");
//  4. it carries a contact address, as robots do and browsers never do: an
//     http(s) URL, "+http", "www.", or an e-mail address;
//  5. the parser (mssola/useragent) says it is one.
//
// Device models are skipped by rule 3 because they are free text chosen by
// vendors ("CUBOT P30", "Robot 5", "Spider Pro") while robots name themselves
// in product tokens or in a "compatible; Name/1.0" comment.

// knownBot is one well-known robot: tok, in lower case, found as a substring
// (or at the start of the user agent when atStart), means a bot named name.
type knownBot struct {
	tok, name string
	atStart   bool
	// lib marks HTTP libraries, which apps on phones use too: they do not
	// count when the user agent also names a phone or tablet.
	lib bool
}

// knownBots lists robots that the generic words below would miss or name
// badly, most specific first.
var knownBots = []knownBot{
	// Search engines and their helpers.
	{tok: "googlebot", name: "Googlebot"},
	{tok: "adsbot-google", name: "AdsBot-Google"},
	{tok: "mediapartners-google", name: "Mediapartners-Google"},
	{tok: "google-inspectiontool", name: "Google-InspectionTool"},
	{tok: "googleother", name: "GoogleOther"},
	{tok: "google-extended", name: "Google-Extended"},
	{tok: "storebot-google", name: "Storebot-Google"},
	{tok: "feedfetcher-google", name: "FeedFetcher-Google"},
	{tok: "apis-google", name: "APIs-Google"},
	{tok: "appengine-google", name: "AppEngine-Google"},
	{tok: "google-read-aloud", name: "Google-Read-Aloud"},
	{tok: "google web preview", name: "Google Web Preview"},
	{tok: "google favicon", name: "Google Favicon"},
	{tok: "google-site-verification", name: "Google-Site-Verification"},
	{tok: "google-structured-data", name: "Google-Structured-Data-Testing-Tool"},
	{tok: "googleimageproxy", name: "GoogleImageProxy"},
	{tok: "google-safety", name: "Google-Safety"},
	{tok: "chrome-lighthouse", name: "Lighthouse"},
	{tok: "google page speed", name: "Lighthouse"},
	{tok: "speed insights", name: "Lighthouse"},
	{tok: "bingbot", name: "Bingbot"},
	{tok: "bingpreview", name: "BingPreview"},
	{tok: "msnbot", name: "msnbot"},
	{tok: "adidxbot", name: "AdIdxBot"},
	{tok: "slurp", name: "Yahoo! Slurp"},
	{tok: "duckduckbot", name: "DuckDuckBot"},
	{tok: "duckassistbot", name: "DuckAssistBot"},
	{tok: "baiduspider", name: "Baiduspider"},
	{tok: "yandex.com/bots", name: "YandexBot"},
	{tok: "applebot", name: "Applebot"},
	{tok: "petalbot", name: "PetalBot"},
	{tok: "seznambot", name: "SeznamBot"},
	{tok: "ia_archiver", name: "ia_archiver"},
	// AI crawlers and assistants.
	{tok: "gptbot", name: "GPTBot"},
	{tok: "chatgpt-user", name: "ChatGPT-User"},
	{tok: "oai-searchbot", name: "OAI-SearchBot"},
	{tok: "claudebot", name: "ClaudeBot"},
	{tok: "claude-web", name: "Claude-Web"},
	{tok: "claude-user", name: "Claude-User"},
	{tok: "claude-searchbot", name: "Claude-SearchBot"},
	{tok: "anthropic-ai", name: "anthropic-ai"},
	{tok: "perplexitybot", name: "PerplexityBot"},
	{tok: "perplexity-user", name: "Perplexity-User"},
	{tok: "ccbot", name: "CCBot"},
	{tok: "bytespider", name: "Bytespider"},
	{tok: "amazonbot", name: "Amazonbot"},
	{tok: "meta-externalagent", name: "meta-externalagent"},
	{tok: "meta-externalfetcher", name: "meta-externalfetcher"},
	{tok: "meta-externalads", name: "meta-externalads"},
	{tok: "meta-webindexer", name: "meta-webindexer"},
	{tok: "cohere-ai", name: "cohere-ai"},
	{tok: "cohere-training", name: "cohere-ai"},
	{tok: "mistralai-user", name: "MistralAI-User"},
	{tok: "diffbot", name: "Diffbot"},
	{tok: "omgili", name: "omgili"},
	{tok: "img2dataset", name: "img2dataset"},
	// Other crawlers, site copiers and checkers that borrow a browser's
	// user agent or name no robot word.
	{tok: "nutch", name: "Nutch"},
	{tok: "sitesucker", name: "SiteSucker"},
	{tok: "newsblur", name: "NewsBlur", lib: true}, // its iPhone and iPad apps name the device
	{tok: "deepcrawl", name: "DeepCrawl"},
	{tok: "mixnode", name: "Mixnode"},
	{tok: "thousandeyes", name: "ThousandEyes"},
	{tok: "whatcms", name: "WhatCMS"},
	{tok: "securityheaders", name: "SecurityHeaders"},
	{tok: "internal dummy connection", name: "Apache"},
	// Link previewers of social networks and messengers.
	{tok: "facebookexternalhit", name: "facebookexternalhit"},
	{tok: "facebookcatalog", name: "facebookcatalog"},
	{tok: "facebot", name: "Facebot"},
	{tok: "twitterbot", name: "Twitterbot"},
	{tok: "slackbot", name: "Slackbot"},
	{tok: "slack-imgproxy", name: "Slackbot"},
	{tok: "discordbot", name: "Discordbot"},
	{tok: "telegrambot", name: "TelegramBot"},
	{tok: "linkedinbot", name: "LinkedInBot"},
	{tok: "skypeuripreview", name: "SkypeUriPreview"},
	{tok: "microsoftpreview", name: "MicrosoftPreview"},
	{tok: "pinterestbot", name: "Pinterest"},
	{tok: "pinterest/0.", name: "Pinterest", atStart: true},
	{tok: "redditbot", name: "redditbot"},
	{tok: "embedly", name: "Embedly"},
	{tok: "iframely", name: "Iframely"},
	{tok: "vkshare", name: "vkShare"},
	{tok: "viberurldownloader", name: "Viber"},
	{tok: "bluesky cardyb", name: "Bluesky"},
	{tok: "snap url preview", name: "Snap URL Preview"},
	{tok: "snapurlpreview", name: "Snap URL Preview"},
	{tok: "flipboardproxy", name: "FlipboardProxy"},
	{tok: "tumblr/", name: "Tumblr", atStart: true},
	{tok: "outbrain", name: "Outbrain"},
	{tok: "nuzzel", name: "Nuzzel"},
	{tok: "qwantify", name: "Qwantify"},
	// Uptime monitors and performance testers.
	{tok: "uptimerobot", name: "UptimeRobot"},
	{tok: "pingdom", name: "Pingdom"},
	{tok: "statuscake", name: "StatusCake"},
	{tok: "site24x7", name: "Site24x7"},
	{tok: "datadogsynthetics", name: "Datadog Synthetics"},
	{tok: "datadog", name: "Datadog"},
	{tok: "newrelicsynthetics", name: "New Relic Synthetics"},
	{tok: "ruxitsynthetic", name: "Dynatrace Synthetic"},
	{tok: "catchpoint", name: "Catchpoint"},
	{tok: "checkly", name: "Checkly"},
	{tok: "freshping", name: "Freshping"},
	{tok: "hetrixtools", name: "HetrixTools"},
	{tok: "nodeping", name: "NodePing"},
	{tok: "updown.io", name: "updown.io"},
	{tok: "gtmetrix", name: "GTmetrix"},
	{tok: "ptst/", name: "WebPageTest"},
	{tok: "zabbix", name: "Zabbix"},
	{tok: "nagios", name: "Nagios"},
	{tok: "check_http", name: "Nagios"},
	{tok: "blackbox exporter", name: "Prometheus Blackbox Exporter"},
	{tok: "appinsights", name: "AppInsights"},
	{tok: "cloudflare", name: "Cloudflare"},
	{tok: "amazon cloudfront", name: "Amazon CloudFront"},
	{tok: "elb-healthchecker", name: "ELB-HealthChecker"},
	{tok: "kube-probe", name: "kube-probe"},
	{tok: "gomezagent", name: "GomezAgent"},
	{tok: "ghost inspector", name: "Ghost Inspector"},
	// Headless and automated browsers.
	{tok: "headlesschrome", name: "Headless Chrome"},
	{tok: "headless", name: "Headless browser"},
	{tok: "phantomjs", name: "PhantomJS"},
	{tok: "slimerjs", name: "SlimerJS"},
	{tok: "selenium", name: "Selenium"},
	{tok: "webdriver", name: "WebDriver"},
	{tok: "puppeteer", name: "Puppeteer"},
	{tok: "playwright", name: "Playwright"},
	{tok: "cypress/", name: "Cypress"},
	{tok: "jsdom", name: "jsdom"},
	{tok: "htmlunit", name: "HtmlUnit"},
	{tok: "httpunit", name: "HttpUnit"},
	{tok: "splash version", name: "Splash"},
	{tok: "electron-fetch", name: "electron-fetch"},
	// HTTP libraries and command-line tools.
	{tok: "curl/", name: "curl", lib: true},
	{tok: "libcurl", name: "curl", lib: true},
	{tok: "php-curl", name: "curl", lib: true},
	{tok: "wget", name: "Wget", lib: true},
	{tok: "python-requests", name: "python-requests", lib: true},
	{tok: "python-urllib", name: "Python-urllib", lib: true},
	{tok: "python-httpx", name: "python-httpx", lib: true},
	{tok: "aiohttp", name: "aiohttp", lib: true},
	{tok: "httpx/", name: "python-httpx", lib: true},
	{tok: "python/", name: "Python", lib: true},
	{tok: "scrapy", name: "Scrapy", lib: true},
	{tok: "go-http-client", name: "Go-http-client", lib: true},
	{tok: "go http package", name: "Go-http-client", lib: true},
	{tok: "okhttp", name: "okhttp", lib: true},
	{tok: "apache-httpclient", name: "Apache-HttpClient", lib: true},
	{tok: "jakarta commons", name: "Jakarta Commons-HttpClient", lib: true},
	{tok: "java/", name: "Java", lib: true},
	{tok: "java-http-client", name: "Java", lib: true},
	{tok: "httpurlconnection", name: "Java", lib: true},
	{tok: "libwww-perl", name: "libwww-perl", lib: true},
	{tok: "lwp-", name: "libwww-perl", lib: true},
	{tok: "www-mechanize", name: "WWW-Mechanize", lib: true},
	{tok: "mechanize", name: "Mechanize", lib: true},
	{tok: "axios/", name: "axios", lib: true},
	{tok: "node-fetch", name: "node-fetch", lib: true},
	{tok: "undici", name: "undici", lib: true},
	{tok: "got (https://github.com", name: "got", lib: true},
	{tok: "sindresorhus/got", name: "got", lib: true},
	{tok: "node.js", name: "Node.js", lib: true},
	{tok: "node/", name: "Node.js", atStart: true, lib: true},
	{tok: "request-promise", name: "request-promise", lib: true},
	{tok: "postmanruntime", name: "PostmanRuntime", lib: true},
	{tok: "insomnia/", name: "Insomnia", lib: true},
	{tok: "httpie", name: "HTTPie", lib: true},
	{tok: "powershell", name: "PowerShell", lib: true},
	{tok: "winhttp", name: "WinHTTP", lib: true},
	{tok: "guzzlehttp", name: "GuzzleHttp", lib: true},
	{tok: "guzzle/", name: "GuzzleHttp", lib: true},
	{tok: "php/", name: "PHP", lib: true},
	{tok: "wordpress/", name: "WordPress", atStart: true, lib: true},
	{tok: "ruby", name: "Ruby", lib: true},
	{tok: "http.rb", name: "http.rb", lib: true},
	{tok: "faraday", name: "Faraday", lib: true},
	{tok: "rest-client", name: "rest-client", lib: true},
	{tok: "restsharp", name: "RestSharp", lib: true},
	{tok: "dart:io", name: "Dart", lib: true},
	{tok: "reqwest", name: "reqwest", lib: true},
	{tok: "hackney", name: "hackney", lib: true},
	{tok: "colly", name: "Colly", lib: true},
	{tok: "httrack", name: "HTTrack", lib: true},
	{tok: "ahc/", name: "AsyncHttpClient", lib: true},
	{tok: "cpp-httplib", name: "cpp-httplib", lib: true},
	{tok: "indy library", name: "Indy Library", lib: true},
	{tok: "microsoft url control", name: "Microsoft URL Control", lib: true},
	{tok: "whatsapp/", name: "WhatsApp", atStart: true}, // see isBotWhatsApp
	// Security scanners.
	{tok: "nmap", name: "Nmap"},
	{tok: "masscan", name: "masscan"},
	{tok: "zgrab", name: "zgrab"},
	{tok: "nikto", name: "Nikto"},
	{tok: "sqlmap", name: "sqlmap"},
	{tok: "wpscan", name: "WPScan"},
	{tok: "nessus", name: "Nessus"},
	{tok: "acunetix", name: "Acunetix"},
	{tok: "openvas", name: "OpenVAS"},
	{tok: "zmeu", name: "ZmEu"},
	{tok: "nuclei", name: "Nuclei"},
	{tok: "censysinspect", name: "CensysInspect"},
	{tok: "expanse", name: "Expanse"},
}

var knownBotMatcher = func() *matcher {
	toks := make([]string, len(knownBots))
	for k, b := range knownBots {
		toks[k] = b.tok
	}
	return newMatcher(toks)
}()

// botWords are generic robot words. Each counts where it occurs outside the
// device model and not right after any of notAfter; inWord lets it end a
// longer word ("Baiduspider", "LinkChecker"), anyNext lets a letter follow it
// ("crawler", "monitoring"). The bot is named after the product token around
// the word.
var botWords = []struct {
	word            string
	inWord, anyNext bool
	notAfter        []string
}{
	{word: "crawl", inWord: true, anyNext: true},
	{word: "spider", inWord: true, anyNext: true},
	{word: "spyder", inWord: true, anyNext: true},
	{word: "scraper", inWord: true, anyNext: true},
	{word: "scraping", inWord: true},
	{word: "archiver", inWord: true, anyNext: true},
	{word: "harvest", inWord: true, anyNext: true},
	{word: "indexer", inWord: true},
	{word: "fetcher", inWord: true},
	{word: "fetch", notAfter: []string{"node-", "electron-", "uclient-"}},
	{word: "validator", inWord: true},
	{word: "checker", inWord: true},
	{word: "check/", inWord: true, anyNext: true},
	{word: "linkcheck", inWord: true, anyNext: true},
	{word: "analyzer", inWord: true},
	{word: "analyser", inWord: true},
	{word: "inspector", inWord: true},
	{word: "scanner", inWord: true, notAfter: []string{"cam"}},
	{word: "scan", inWord: true},
	{word: "scanning", inWord: true},
	{word: "probe"},
	{word: "monitor", inWord: true, anyNext: true},
	{word: "uptime", inWord: true, anyNext: true},
	{word: "synthetic", inWord: true, anyNext: true},
	{word: "preview", inWord: true},
	{word: "unfurl", inWord: true, anyNext: true},
	{word: "lighthouse", inWord: true},
	{word: "pagespeed", inWord: true},
	{word: "screenshot", inWord: true, anyNext: true},
	{word: "transcoder", inWord: true},
	{word: "proxy/", inWord: true, anyNext: true, notAfter: []string{"wap "}},
	{word: "http-client", inWord: true},
	{word: "httpclient", inWord: true},
	{word: "http client", inWord: true},
	{word: "http_request", inWord: true},
	{word: "-user/", inWord: true, anyNext: true},
	{word: "-ai/", inWord: true, anyNext: true},
	{word: "research"},
	{word: "google-", inWord: true, anyNext: true},
	{word: "-google", inWord: true, anyNext: true, notAfter: []string{"android"}},
	{word: "feedparser", inWord: true},
	{word: "feed fetcher", inWord: true},
	{word: "rss reader", inWord: true},
}

// isBot reports whether ua (trimmed, with l its lower case) is a robot and
// names it. model is the span of the device model within ua, which generic
// words ignore; p is the parser's result, or nil.
func isBot(s, l string, model span, p *useragent.UserAgent) (string, bool) {
	if s == "" || s == "-" || strings.IndexFunc(s, func(r rune) bool { return r < 0x80 && isLetter(byte(r)) }) < 0 {
		return "Empty", true
	}
	// The robot named first wins: "TelegramBot (like TwitterBot)".
	best := -1
	knownBotMatcher.each(l, func(i, k int) bool {
		b := &knownBots[k]
		switch {
		case b.atStart && i > 0,
			b.tok == "whatsapp/" && !isBotWhatsApp(l),
			b.tok == "ruby" && !hasWord(l, "ruby"), // not "rubyx" browsers or models
			b.tok == "java/" && !javaVersion(l),
			b.tok == "php/" && !hasWordPrefix(l, "php/"),
			b.lib && describesDevice(l):
			return true
		}
		best = k
		return false
	})
	if best >= 0 {
		return knownBots[best].name, true
	}
	if i, n := botWordAt(l, model); i >= 0 {
		return nameAround(s, i, n), true
	}
	if i, n := contactAt(l); i >= 0 && !(describesDevice(l) && !strings.Contains(l, "compatible") && !strings.Contains(l, "+http")) {
		return botNameFromContact(s, l, i, n, p), true
	}
	if i, n := domainAt(l); i >= 0 && !(describesDevice(l) && !strings.Contains(l, "compatible")) {
		return sanitizeName(s[i : i+n]), true
	}
	if i := addedComment(l); i >= 0 {
		return productAfter(s, i), true
	}
	if p != nil && p.Bot() && !describesDevice(l) {
		name, _ := p.Browser()
		if name = sanitizeName(name); name == "" || strings.Contains(name, "://") {
			name = "Other"
		}
		return name, true
	}
	return "", false
}

// topLevelDomains are the domains robots' sites are most often under.
var topLevelDomains = []string{
	"com", "net", "org", "io", "ai", "co", "info", "biz", "me", "app", "dev", "ly", "so", "fr", "de",
	"ru", "uk", "nl", "it", "es", "pl", "cz", "ch", "jp", "cn", "br", "in", "eu", "us", "ca", "au",
}

// domainAt finds a domain name standing as a token ("Siteimprove.com",
// "adbeat.com/policy", "abuse.xmco.fr"): robots name their owner's site,
// browsers never do. Reversed names of apps ("com.facebook.katana") do not
// count. It returns the offset and length of the domain, or -1.
func domainAt(l string) (int, int) {
	for i := 0; i < len(l); {
		for i < len(l) && !isDomainByte(l[i]) {
			i++
		}
		j := i
		for j < len(l) && isDomainByte(l[j]) {
			j++
		}
		if tok := strings.Trim(l[i:j], ".-"); strings.Count(tok, ".") >= 1 {
			labels := strings.Split(tok, ".")
			tld := labels[len(labels)-1]
			if !slicesContains(topLevelDomains, labels[0]) && slicesContains(topLevelDomains, tld) && isLetter(labels[0][0]) {
				return i, j - i
			}
		}
		i = j + 1
	}
	return -1, 0
}

func isDomainByte(c byte) bool { return isAlnum(c) || c == '.' || c == '-' }

func slicesContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// describesDevice reports whether a user agent names a phone or tablet OS,
// as apps on them do ("DS podcast/1.0.5 (...; Android 10; ...) OkHttp/4.9.1").
func describesDevice(l string) bool {
	return containsAny(l, "android", "iphone", "ipad") || hasWordPrefix(l, "ios")
}

// javaVersion reports Java's HTTP client, "Java/1.8.0_151", not the Java
// runtimes of old phones ("Java/Jbed/7.0").
func javaVersion(l string) bool {
	for off := 0; ; {
		i := strings.Index(l[off:], "java/")
		if i < 0 {
			return false
		}
		i += off
		off = i + 1
		if j := i + 5; (i == 0 || l[i-1] == ' ' || l[i-1] == '(') && j < len(l) && isDigit(l[j]) {
			return true
		}
	}
}

// addedComment finds what browsers never send and robots that borrow a
// browser's user agent often add: fields after "like Gecko" in WebKit's
// comment ("(KHTML, like Gecko; Google-Ads-Qualify)") or a "compatible"
// comment after the platform's ("... Safari/537.36 (compatible;
// Google-AMPHTML)"). It returns the offset where the robot's name may
// start, or -1.
func addedComment(l string) int {
	if i := strings.Index(l, "(khtml, like gecko;"); i >= 0 {
		return i + len("(khtml, like gecko;")
	}
	_, off := firstComment(l)
	if off < 0 {
		return -1
	}
	end := strings.IndexByte(l[off:], ')')
	if end < 0 {
		return -1
	}
	engine := -1
	for _, e := range []string{"safari/", "chrome/", "firefox/", "gecko/", "mobile/"} {
		if i := strings.Index(l, e); i >= 0 && (engine < 0 || i < engine) {
			engine = i
		}
	}
	if i := strings.Index(l[off+end:], "(compatible"); i >= 0 && engine >= 0 && off+end+i > engine {
		return off + end + i + len("(compatible")
	}
	return -1
}

// productAfter names the first product in s from offset i on: the first
// token that starts with a letter and is not "compatible", without its
// version ("Google-AMPHTML" in "(compatible; Google-AMPHTML)").
func productAfter(s string, i int) string {
	for _, tok := range strings.FieldsFunc(s[i:], func(r rune) bool {
		return r == ' ' || r == '(' || r == ')' || r == ';' || r == ',' || r == '[' || r == ']'
	}) {
		name, _, _ := strings.Cut(tok, "/")
		if name == "" || !isLetter(name[0]) || strings.EqualFold(name, "compatible") || strings.EqualFold(name, "mozilla") {
			continue
		}
		if name = sanitizeName(name); name != "" {
			return name
		}
	}
	return Other
}

// isBotWhatsApp tells WhatsApp's link previewer ("WhatsApp/2.23.20.0 A") from
// the WhatsApp app's own requests, which name the phone ("WhatsApp/2.18.79
// Android/5.1 Device/Meizu-MX5").
func isBotWhatsApp(l string) bool {
	return !containsAny(l, "device/", "android/", "iphone", "ios/", "_os/")
}

// botWordAt returns the offset and length of the first robot word in l outside
// model, or -1.
func botWordAt(l string, model span) (int, int) {
	if i := botBot(l, model); i >= 0 {
		return i, len("bot")
	}
	at, n := -1, 0
	botWordMatcher.each(l, func(i, k int) bool {
		w := &botWords[k]
		if model.contains(i) || inURL(l, i) {
			return true
		}
		if j := i + len(w.word); !w.anyNext && j < len(l) && isLetter(l[j]) {
			return true
		}
		if !w.inWord && i > 0 && isLetter(l[i-1]) {
			return true
		}
		for _, na := range w.notAfter {
			if strings.HasSuffix(l[:i], na) {
				return true
			}
		}
		at, n = i, len(w.word)
		return false
	})
	return at, n
}

var botWordMatcher = func() *matcher {
	toks := make([]string, len(botWords))
	for k, w := range botWords {
		toks[k] = w.word
	}
	return newMatcher(toks)
}()

// inURL reports whether offset i of l lies in a URL ("+http://x.com/bot.html"),
// where words name pages, not robots; the URL itself marks the robot (see
// contactAt), and the robot is then named after its product token.
func inURL(l string, i int) bool {
	j := strings.LastIndexAny(l[:i], " ;(),")
	tok := l[j+1 : i]
	return strings.Contains(tok, "://") || strings.HasPrefix(tok, "www.") || strings.HasPrefix(tok, "+http")
}

// botBot finds "bot" used as a robot's name: "Googlebot/", "AhrefsBot",
// "bot.html", "bots", "; bot;". It does not count "bot" followed by another
// letter ("Botswana", "bottom"), the phone brands Cubot and Hubot, and
// anything inside the device model. It returns the offset of "bot" or -1.
func botBot(l string, model span) int {
	for off := 0; ; {
		i := strings.Index(l[off:], "bot")
		if i < 0 {
			return -1
		}
		i += off
		off = i + 1
		if model.contains(i) || inURL(l, i) {
			continue
		}
		if j := i + 3; j < len(l) && isLetter(l[j]) && !(l[j] == 's' && (j+1 == len(l) || !isLetter(l[j+1]))) {
			continue
		}
		if strings.HasSuffix(l[:i], "cu") || strings.HasSuffix(l[:i], "hu") {
			continue
		}
		return i
	}
}

// contactAt finds an address a robot gives for its owner: "+http",
// "http://", "https://", "www.", or a mail address ("bot@example.com"). It
// returns its offset and length, or -1.
func contactAt(l string) (int, int) {
	for _, w := range []string{"http://", "https://", "+http", "www."} {
		if i := strings.Index(l, w); i >= 0 {
			return i, len(w)
		}
	}
	if i := strings.IndexByte(l, '@'); i > 0 && isNameByte(l[i-1]) {
		rest := l[i+1:]
		n := 0
		for n < len(rest) && isNameByte(rest[n]) {
			n++
		}
		if dot := strings.LastIndexByte(rest[:n], '.'); dot > 0 && n-dot > 2 && isLetter(rest[dot+1]) && isLetter(rest[n-1]) {
			return i, 1
		}
	}
	return -1, 0
}

// botNameFromContact names a robot that gave only an address: the parser's
// name for it when it has one, else the first product token of s that is not
// "Mozilla" or "compatible", else the host of the address.
func botNameFromContact(s, l string, i, n int, p *useragent.UserAgent) string {
	if p != nil && p.Bot() {
		if name, _ := p.Browser(); name != "" && !strings.Contains(name, "://") && !strings.Contains(name, "(") {
			if name = sanitizeName(name); name != "" {
				return name
			}
		}
	}
	for _, tok := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '(' || r == ')' || r == ';' || r == ',' }) {
		name, _, _ := strings.Cut(tok, "/")
		lname := strings.ToLower(name)
		if name == "" || lname == "mozilla" || lname == "compatible" || strings.HasPrefix(lname, "+") ||
			strings.Contains(lname, "http") || strings.Contains(lname, "www.") || strings.Contains(lname, "@") ||
			!isLetter(name[0]) {
			continue
		}
		if name = sanitizeName(name); name != "" {
			return name
		}
	}
	return nameAround(s, i+n, 0)
}

// nameAround returns the product name around s[i:i+n]: the run of name bytes
// that contains it ("AhrefsBot" around "bot" in "compatible; AhrefsBot/7.0").
// A bare generic word ("Spider" in "SEO Spider/1.0") takes the word before it
// along.
func nameAround(s string, i, n int) string {
	a, b := i, i+n
	for a > 0 && isNameByte(s[a-1]) {
		a--
	}
	for b < len(s) && isNameByte(s[b]) {
		b++
	}
	if b-a <= n+1 {
		// A bare generic word: take up to three words before it along,
		// stopping at punctuation and at products with a version.
		for words := 0; words < 3 && a >= 2 && s[a-1] == ' ' && isNameByte(s[a-2]); words++ {
			k := a - 1
			for k > 0 && isNameByte(s[k-1]) {
				k--
			}
			if k > 0 && s[k-1] == '/' {
				break
			}
			a = k
		}
	}
	name := strings.Trim(s[a:b], "-_.")
	if name = sanitizeName(name); name == "" {
		return "Other"
	}
	return name
}

// span is a half-open byte range [lo, hi) of a user agent; the zero span is
// empty.
type span struct{ lo, hi int }

func (sp span) contains(i int) bool { return sp.lo <= i && i < sp.hi }
