package devices

import (
	"strings"

	"github.com/mssola/useragent"
)

// browserTokens maps product tokens, case-sensitive and most specific first,
// to browser families. Browsers built on Chrome add their own token to
// Chrome's user agent, and in-app browsers add the app's, so the first token
// found names the browser; Chrome, Safari and the web views come last, from
// the structure of the user agent (see browserFamily).
var browserTokens = []struct{ tok, family string }{
	{"FBAN/", "Facebook"}, {"FBAV/", "Facebook"}, {"FB_IAB", "Facebook"}, {"FBIOS", "Facebook"},
	{"FB4A", "Facebook"}, {"Instagram", "Instagram"}, {"musical_ly", "TikTok"},
	{"TikTok", "TikTok"}, {"BytedanceWebview", "TikTok"}, {"trill_", "TikTok"},
	{"Snapchat", "Snapchat"}, {"MicroMessenger", "WeChat"}, {" Line/", "LINE"},
	{"Pinterest", "Pinterest"}, {"TwitterAndroid", "Twitter"}, {"Twitter for", "Twitter"},
	{"LinkedInApp", "LinkedIn"}, {"GSA/", "Google App"},
	{"EdgA/", "Edge"}, {"EdgiOS/", "Edge"}, {"Edg/", "Edge"}, {"Edge/", "Edge"},
	{"Opera Mini", "Opera Mini"}, {"OPiOS/", "Opera"}, {"OPR/", "Opera"}, {"OPT/", "Opera"},
	{"OPX/", "Opera"}, {"Opera", "Opera"},
	{"OculusBrowser", "Oculus Browser"}, {"SamsungBrowser/", "Samsung Internet"},
	{"UCBrowser", "UC Browser"}, {"UCWEB", "UC Browser"}, {"UC Browser", "UC Browser"},
	{"UBrowser", "UC Browser"},
	{"YaBrowser", "Yandex Browser"}, {"YaSearchBrowser", "Yandex Browser"}, {"Yowser", "Yandex Browser"},
	{"Vivaldi", "Vivaldi"}, {"Brave", "Brave"},
	{"DuckDuckGo/", "DuckDuckGo"}, {"Ddg/", "DuckDuckGo"},
	{"MiuiBrowser", "MIUI Browser"}, {"HuaweiBrowser", "Huawei Browser"},
	{"HeyTapBrowser", "HeyTap Browser"}, {"VivoBrowser", "vivo Browser"},
	{"MQQBrowser", "QQ Browser"}, {"QQBrowser", "QQ Browser"},
	{"Silk/", "Silk"}, {"Whale/", "Whale"}, {"coc_coc_browser", "Coc Coc"},
	{"Puffin/", "Puffin"}, {"Maxthon", "Maxthon"}, {"MxBrowser", "Maxthon"},
	{"SeaMonkey", "SeaMonkey"}, {"PaleMoon", "Pale Moon"}, {"Konqueror", "Konqueror"},
	{"Epiphany", "Epiphany"}, {"Electron/", "Electron"},
	{"baiduboxapp", "Baidu"}, {"BaiduBrowser", "Baidu"}, {"baidubrowser", "Baidu"},
	{"NetFront", "NetFront"}, {"Dolfin", "Dolphin"},
	{"NokiaBrowser", "Nokia Browser"}, {"BrowserNG", "Nokia Browser"}, {"OviBrowser", "Nokia Browser"},
	{"FxiOS/", "Firefox"}, {"Focus/", "Firefox"}, {"Firefox/", "Firefox"}, {"Fennec", "Firefox"},
	{"CriOS/", "Chrome"},
}

// libraryBrowsers maps the parser's browser names to families, for user
// agents that no token above names.
var libraryBrowsers = map[string]string{
	"Chrome":            "Chrome",
	"Chromium":          "Chromium",
	"Headless Chrome":   "Chrome",
	"Firefox":           "Firefox",
	"Edge":              "Edge",
	"Opera":             "Opera",
	"Internet Explorer": "Internet Explorer",
	"YaBrowser":         "Yandex Browser",
	"Coc Coc":           "Coc Coc",
	"Google App":        "Google App",
	"DuckDuckGo":        "DuckDuckGo",
	"Electron":          "Electron",
	"Android":           "Android Browser",
	"BlackBerry":        "BlackBerry Browser",
	"SeaMonkey":         "SeaMonkey",
	"Iceweasel":         "Firefox",
	"IceCat":            "Firefox",
	"Waterfox":          "Firefox",
	"Konqueror":         "Konqueror",
}

// browserFamily names the browser of a user agent that is not a bot.
func browserFamily(s, l string, p *useragent.UserAgent) string {
	for _, t := range browserTokens {
		if strings.Contains(s, t.tok) {
			return t.family
		}
	}
	if htcDesktopMode(s, l) != "" {
		return "Android Browser" // in its desktop mode, with a Mac's user agent
	}
	android := isAndroid(l)
	apple := containsAny(l, "iphone", "ipad", "ipod", "macintosh")
	switch {
	case android && strings.Contains(s, "Chrome/") &&
		(strings.Contains(s, "; wv)") || strings.Contains(s, "; wv;") || strings.Contains(s, "Version/4.0")):
		return "Android WebView"
	case strings.Contains(s, "Chromium/"):
		return "Chromium"
	case strings.Contains(s, "Chrome/"):
		return "Chrome"
	case containsAny(s, "MSIE ", "Trident/", "IEMobile"):
		return "Internet Explorer"
	case android && strings.Contains(s, "Version/") && strings.Contains(s, "Safari/"):
		return "Android Browser"
	case strings.Contains(l, "blackberry") || strings.Contains(s, "BB10"):
		return "BlackBerry Browser"
	case apple && strings.Contains(s, "AppleWebKit/"):
		if strings.Contains(s, "Safari/") {
			return "Safari"
		}
		return "Safari (in-app)" // a WKWebView in an app
	case strings.Contains(s, "Version/") && strings.Contains(s, "Safari/") && strings.Contains(s, "AppleWebKit/"):
		return "Safari"
	}
	if p != nil {
		name, _ := p.Browser()
		if f, ok := libraryBrowsers[name]; ok {
			return f
		}
	}
	return Other
}

// isAndroid reports Android ("Andr0id" on Sony TVs, "Adr" in UC Browser,
// "FB4A" in Facebook's app), but not the "Linux armv7l like Android" of
// e-ink Kindles.
func isAndroid(l string) bool {
	if i := strings.Index(l, "android"); i >= 0 && !strings.HasSuffix(l[:i], "like ") {
		return true
	}
	return containsAny(l, "andr0id", "adr ", "fb4a")
}

// osFamily names the operating system family of a user agent. iPadOS counts
// as iOS, and Fire OS and HarmonyOS-on-Android as Android, as their families.
func osFamily(s, l string) string {
	// Puffin's device code names the platform that its server-side user
	// agent hides (see puffinClass).
	switch platform, _ := puffinCode(s); platform {
	case 'A':
		return "Android"
	case 'I':
		return "iOS"
	case 'W':
		return "Windows"
	case 'M':
		return "macOS"
	case 'L':
		return "Linux"
	}
	switch {
	case containsAny(l, "windows phone", "windows mobile", "windows ce", "wpdesktop", "iemobile", "zunewp7", "lumia"):
		return "Windows Phone"
	case strings.Contains(l, "xbox"):
		return "Xbox"
	case strings.Contains(l, "playstation"):
		return "PlayStation"
	case strings.Contains(l, "nintendo"):
		return "Nintendo"
	case strings.Contains(l, "kaios"):
		return "KaiOS"
	case isAndroid(l) || htcDesktopMode(s, l) != "":
		return "Android"
	case containsAny(l, "harmonyos", "openharmony"):
		return "HarmonyOS"
	case hasWord(l, "cros"):
		return "Chrome OS"
	case strings.Contains(l, "tizen"):
		return "Tizen"
	case containsAny(l, "web0s", "webos", "hpwos"):
		return "webOS"
	case strings.Contains(l, "roku"):
		return "Roku OS"
	case containsAny(l, "apple tv", "appletv", "tvos"):
		return "tvOS"
	case containsAny(l, "watchos", "watch os"):
		return "watchOS"
	case containsAny(l, "iphone", "ipad", "ipod", "cpu os", "fbios") || hasWordPrefix(l, "ios") ||
		hasWordPrefix(l, "iph") || isIPadAsMac(s, l):
		return "iOS"
	case containsAny(l, "macintosh", "mac os", "mac_powerpc", "macos", "macbook", "imac", "macmini", "macpro"):
		return "macOS"
	case strings.Contains(l, "darwin"):
		if strings.Contains(l, "x86") {
			return "macOS"
		}
		return "iOS" // CFNetwork apps, iPhones more often than Macs
	case containsAny(l, "windows", "win 9x") || windowsWord(l):
		return "Windows"
	case containsAny(l, "blackberry", "bb10", "rim tablet"):
		return "BlackBerry"
	case containsAny(l, "symbian", "symbos", "series60", "series40", "s60;"):
		return "Symbian"
	case containsAny(l, "freebsd", "openbsd", "netbsd", "dragonfly"):
		return "BSD"
	case containsAny(l, "linux", "x11", "ubuntu", "fedora", "debian", "gentoo"):
		return "Linux"
	case containsAny(l, "sunos", "solaris", "hp-ux", "irix", "osf1") || hasWord(l, "aix"):
		return "Unix"
	case strings.Contains(s, "Gecko/") && containsAny(s, "(Mobile;", "(Tablet;"):
		return "Firefox OS"
	}
	return Other
}
