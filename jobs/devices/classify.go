package devices

import (
	"strings"

	"github.com/mssola/useragent"

	"github.com/pvjobs/pvjobs/mapreduce"
)

// The device classes of Agent.Class.
const (
	Desktop = "desktop"
	Mobile  = "mobile"
	Tablet  = "tablet"
	Bot     = "bot"
	Unknown = "unknown"
)

// Other is the browser or OS family of a user agent that no rule recognises.
const Other = "Other"

// MaxLen is the number of leading bytes of a user agent that Classify looks
// at; the rest is ignored, so that a hostile megabyte-long header costs no
// more than a real one (real ones stay well under 1 KiB).
const MaxLen = 1024

// Classify classifies a user agent: its device class (Desktop, Mobile, Tablet,
// Bot or Unknown), browser family and OS family (see the package
// documentation for the rules and the names). It parses ua with
// github.com/mssola/useragent and applies the package's own rules on top. It
// never panics, whatever ua holds, and is safe for concurrent use.
func Classify(ua string) mapreduce.Agent {
	if len(ua) > MaxLen {
		ua = ua[:MaxLen]
	}
	s := strings.TrimSpace(ua)
	l := lowerASCII(s)
	p := parse(s)
	msp := androidModel(s, l)
	os := osFamily(s, l)
	if desktopAppMatcher.atStart(l) {
		// A person's feed reader or media centre: not a robot, even if it
		// names its site; a desktop unless it says otherwise.
		class := deviceClass(s, l, msp, p)
		if class == Unknown {
			class = Desktop
		}
		return mapreduce.Agent{Class: class, Browser: productAfter(s, 0), OS: os}
	}
	if name, ok := isBot(s, l, msp, p); ok {
		return mapreduce.Agent{Class: Bot, Browser: name, OS: os, Bot: true}
	}
	class := deviceClass(s, l, msp, p)
	if class == Unknown && os == Other && !hasEngine(l) && phoneMakerMatcher.anyWordPrefix(l) {
		// Feature phones send little more than their maker and model:
		// "SAMSUNG-E1410", "MOT-L6I", "LG-A133/V100".
		class = Mobile
	}
	if class == Unknown && os == Other && !hasEngine(l) {
		// Neither a device nor a browser engine: a program, not a person.
		return mapreduce.Agent{Class: Bot, Browser: productAfter(s, 0), OS: os, Bot: true}
	}
	return mapreduce.Agent{Class: class, Browser: browserFamily(s, l, p), OS: os}
}

// desktopApps, in lower case, start the user agents of programs that run on
// a person's computer and fetch pages for that person: feed readers, media
// centres, office suites. Robots' lists often count them as robots, as they
// give their site's address; like Matomo, we count them as the device they
// run on.
var desktopApps = []string{
	"liferea/", "netnewswire", "rssbandit/", "evergreen (", "akregator/", "feedstation/", "feeddemon/",
	"rssowl/", "newsfox/", "vienna/", "xbmc/", "kodi/", "doughnut/", "quicktime", "microsoft office ",
	"microsoft office/",
}

var desktopAppMatcher = newMatcher(desktopApps)

// phoneMakers, in lower case, are makers of phones whose name starts the
// short user agents of their feature phones.
var phoneMakers = []string{
	"alcatel", "amoi", "asus", "bird", "blackberry", "coolpad", "docomo", "ericsson", "gionee",
	"haier", "htc", "huawei", "infinix", "itel", "karbonn", "kddi", "konka", "kyocera", "lava",
	"lenovo", "lg", "meizu", "micromax", "mot-", "motorola", "nec-", "nokia", "oppo", "panasonic",
	"pantech", "philips", "sagem", "samsung", "sanyo", "sec-", "sgh-", "sharp", "sie-", "softbank",
	"sony", "spice", "tcl", "tecno", "toshiba", "vivo", "vodafone", "xiaomi", "zte",
}

var phoneMakerMatcher = newMatcher(phoneMakers)

// hasEngine reports whether a user agent names a browser engine.
func hasEngine(l string) bool {
	return containsAny(l, "webkit", "gecko", "khtml", "presto", "trident", "msie", "goanna", "netfront", "opera")
}

// parse runs the user-agent parser, which is outside code fed outside data:
// should it ever panic, the panic is contained and the rules go on without it.
func parse(s string) (p *useragent.UserAgent) {
	defer func() {
		if recover() != nil {
			p = nil
		}
	}()
	return useragent.New(s)
}

// androidModel finds the device model of an Android user agent s (l is its
// lower case) and returns its span in s: "SM-G991B" in "Mozilla/5.0 (Linux;
// Android 12; SM-G991B Build/SP1A.210812.016; wv) ..."; an empty span when
// there is none. Chrome's reduced user agent names every device "K". UC Browser
// writes Android "Adr"; some apps leave the parentheses out ("Mozilla/5.0
// Linux; U; Android 4.4.4; en-US; SM-T113 Build/KTU84P AppleWebKit/...");
// Huawei's browser puts "HarmonyOS" before the model and "HMSCore" after.
// Some web views list the engine and the build before the model, all in one
// run of fields: "Android 4.0.3;AppleWebKit/534.30;Build/IML74K;TAC-7028
// Build/IML74K".
func androidModel(s, l string) span {
	c, off := firstComment(s)
	if off < 0 {
		c, off = s, 0
	}
	lc := l[off : off+len(c)]
	if !strings.Contains(lc, "android") && !strings.Contains(c, "Adr ") {
		return span{}
	}
	seen := false
	for pos := 0; pos <= len(c); {
		end := strings.IndexByte(c[pos:], ';')
		if end < 0 {
			end = len(c)
		} else {
			end += pos
		}
		field := c[pos:end]
		f := strings.TrimSpace(field)
		switch {
		case !seen:
			seen = hasPrefixFold(f, "android") || strings.HasPrefix(f, "Adr ")
		case f == "" || f == "U" || f == "I" || f == "wv" || strings.HasPrefix(f, "arm") ||
			f == "Mobile" || f == "Tablet" || f == "TV" || f == "HarmonyOS" || strings.HasPrefix(f, "rv:") ||
			strings.HasPrefix(f, "x86") || strings.HasPrefix(f, "AppleWebKit/") || strings.HasPrefix(f, "Build/") ||
			isLocale(f):
		default:
			model := f
			if i := strings.Index(model, "Build/"); i >= 0 {
				model = strings.TrimSpace(model[:i])
			}
			if i := strings.Index(model, " AppleWebKit"); i >= 0 {
				model = strings.TrimSpace(model[:i])
			}
			lo := off + pos + strings.Index(field, f)
			return span{lo, lo + len(model)}
		}
		pos = end + 1
	}
	return span{}
}

// isLocale reports whether f looks like a locale tag: "en", "en-us",
// "zh_CN", "zh-Hans-CN", "es-419".
func isLocale(f string) bool {
	for k := 0; f != ""; k++ {
		part := f
		if i := strings.IndexAny(f, "-_"); i >= 0 {
			part, f = f[:i], f[i+1:]
			if f == "" {
				return false
			}
		} else {
			f = ""
		}
		switch {
		case k == 0 && (len(part) == 2 || len(part) == 3) && allLetters(part):
		case k > 0 && k < 3 && (len(part) == 2 || len(part) == 4) && allLetters(part):
		case k > 0 && k < 3 && len(part) == 3 && isDigit(part[0]) && isDigit(part[1]) && isDigit(part[2]):
		default:
			return false
		}
	}
	return true
}

func allLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isLetter(s[i]) {
			return false
		}
	}
	return true
}

// deviceClass applies the device rules, in order, to a user agent that is not
// a bot.
func deviceClass(s, l string, msp span, p *useragent.UserAgent) string {
	lm := l[msp.lo:msp.hi] // the model in lower case
	if class := puffinClass(s); class != "" {
		return class
	}
	switch {
	case isHandheldConsole(l):
		return Mobile
	case isConsole(l):
		return Desktop
	case isTV(s, l, msp):
		return Desktop
	case containsAny(l, "oculusbrowser", "mobile vr") || hasWord(s, "VR"):
		return Mobile // VR headsets, like watches, count as mobile
	case containsAny(l, "windows phone", "windows mobile", "windows ce", "iemobile", "wpdesktop", "zunewp7", "lumia"):
		return Mobile
	case isTablet(s, l, lm):
		return Tablet
	case htcDesktopMode(s, l) != "":
		if isTabletModel(lowerASCII(htcDesktopMode(s, l))) {
			return Tablet // the HTC Flyer
		}
		return Mobile
	case isAndroid(l):
		return androidClass(s, l, msp)
	case containsAny(l, "iphone", "ipod"):
		return Mobile
	case strings.Contains(l, "windows"):
		switch {
		case isWindowsTablet(l):
			return Tablet
		case isMobile(l):
			return Mobile // Palm and Windows Phone browsers that claim Windows
		}
		return Desktop
	case isMobile(l):
		return Mobile
	case isDesktop(l):
		return Desktop
	case p != nil && p.Mobile() && p.Platform() != "":
		return Mobile
	}
	return Unknown
}

// puffinClass reads the device that the Puffin browser, which renders pages
// on its servers and so often sends a desktop Linux user agent, appends to
// its version: a platform letter and a form letter, P for phone, T for
// tablet, D for desktop ("Puffin/9.0.0.50263AP" is an Android phone,
// "Puffin/4.7.2IT" an iPad, "Puffin/8.3.0.41623LD" a Linux desktop), as
// its makers documented it. It returns "" when there is no such code.
func puffinClass(s string) string {
	_, form := puffinCode(s)
	switch form {
	case 'P':
		return Mobile
	case 'T':
		return Tablet
	case 'D':
		return Desktop
	}
	return ""
}

// puffinCode returns the platform and form letters of Puffin's device code
// (see puffinClass), or zeros.
func puffinCode(s string) (platform, form byte) {
	i := strings.Index(s, "Puffin/")
	if i < 0 {
		return 0, 0
	}
	rest := s[i+len("Puffin/"):]
	k := 0
	for k < len(rest) && (isDigit(rest[k]) || rest[k] == '.') {
		k++
	}
	if k == 0 || k+2 > len(rest) || !isUpper(rest[k]) || !isUpper(rest[k+1]) || (k+2 < len(rest) && isAlnum(rest[k+2])) {
		return 0, 0
	}
	return rest[k], rest[k+1]
}

// androidClass tells an Android phone from an Android tablet. Chrome, and the
// browsers and web views built on it, put "Mobile" in the user agent of a
// phone and leave it out on a tablet; Firefox says "Mobile" or "Tablet".
// Models named as tablets ("Galaxy Tab", "MatePad", Samsung's SM-T/SM-X/SM-P,
// Amazon's KF...) are tablets even when an app adds "Mobile", and Android 3
// (Honeycomb) ran only on tablets. A non-browser client (an app's HTTP
// library such as Dalvik) says nothing about the form: it counts as a phone,
// by far the likelier, unless its model is a known tablet. The model is a
// maker's free text and is not read for the mobile tokens: "Polaris_808" is
// a tablet, not the Polaris browser. What the rules call a phone is last
// looked up in the tablet models that the parsers mobile-detect and
// ua-parser-js list (knownTabletModel).
func androidClass(s, l string, msp span) string {
	lm := l[msp.lo:msp.hi]
	class := androidForm(s, l, msp)
	if class == Mobile && lm != "" && !isFoldableModel(lm) && knownTabletModel(lm) {
		// A tablet the makers' conventions miss, named in the parsers'
		// lists of tablet models (models.go).
		return Tablet
	}
	return class
}

// androidForm applies the rules of androidClass but the table of known
// tablet models.
func androidForm(s, l string, msp span) string {
	lm := l[msp.lo:msp.hi]
	if strings.Contains(lm, "chromebook") {
		return Desktop // an Android app on Chrome OS
	}
	if isTabletModel(lm) {
		return Tablet
	}
	if isComputerModel(lm) {
		return Desktop // Android on a laptop or desktop PC
	}
	if strings.Contains(l, "/apad") {
		return Tablet
	}
	if major, _, ok := versionAfter(l, "android "); ok && major == 3 {
		return Tablet
	}
	if isMobile(l[:msp.lo]) || isMobile(l[msp.hi:]) || isFoldableModel(lm) {
		return Mobile
	}
	// Only a whole browser user agent, one that ends in "Safari/..." (Chrome
	// and its kin) or comes from Gecko, says "Mobile" where it applies; a
	// cut or custom one (an app's web view ending after "Chrome/77.0") does
	// not.
	browser := strings.HasPrefix(l, "mozilla/") && (strings.Contains(l, "safari/") || strings.Contains(l, "gecko/"))
	if browser && !containsAny(l, "opera mini", "ucweb", "ucbrowser") {
		return Tablet
	}
	return Mobile
}

// isTablet reports the tablets that say so whatever their OS: iPads (also in
// the desktop mode of iPadOS when the user agent gives it away, see
// isIPadAsMac), Kindles and Fire tablets (Silk), BlackBerry PlayBook, NOOK,
// and user agents that say "Tablet" (Firefox on Android, Opera Tablet) other
// than Windows' "Tablet PC" component.
func isTablet(s, l, lm string) bool {
	if containsAny(l, "ipad", "kindle", "silk/", "playbook", "rim tablet", "pocketbook", "kobo", "tolino") || hasWord(l, "nook") {
		return true
	}
	if strings.Contains(strings.ReplaceAll(l, "tablet pc", ""), "tablet") {
		return true
	}
	return isIPadAsMac(s, l) || (lm != "" && isTabletModel(lm) && isAndroid(l))
}

// htcDesktopMode returns the model field ("HTC_Flyer_P512",
// "HTC/DesireHD/1.39.161.1") of the Mac user agent that HTC's Android
// browser sends in its desktop mode, and "" for any other user agent.
func htcDesktopMode(s, l string) string {
	if !strings.Contains(l, "macintosh") || !strings.Contains(s, "HTC") {
		return ""
	}
	c, _ := firstComment(s)
	for f := range strings.SplitSeq(c, ";") {
		if f = strings.TrimSpace(f); strings.HasPrefix(f, "HTC") {
			return f
		}
	}
	return ""
}

// isIPadAsMac recognises an iPad that sends a Mac's user agent (iPadOS 13 and
// later ask for desktop sites) by what no Mac sends: a "Mobile/" token (web
// views in iPad apps) or a browser that exists only on iOS (Chrome "CriOS",
// Firefox "FxiOS", Edge "EdgiOS", Opera "OPiOS"). Safari itself sends exactly
// a Mac's user agent and so counts as desktop.
func isIPadAsMac(s, l string) bool {
	if !strings.Contains(l, "macintosh") {
		return false
	}
	return hasWordPrefix(s, "Mobile/") || containsAny(s, "CriOS/", "FxiOS/", "EdgiOS/", "OPiOS/")
}

// isWindowsTablet reports Windows tablets: Windows RT ("ARM") and Windows 8
// or later with Internet Explorer's "Touch" token, which Microsoft documents
// as sent by touch-enabled Windows 8 devices (mostly tablets and 2-in-1s).
// Chrome and Edge do not send it, so most Windows tablets count as desktop.
func isWindowsTablet(l string) bool {
	if !strings.Contains(l, "windows nt") {
		return false
	}
	major, minor, ok := versionAfter(l, "windows nt ")
	if !ok || major < 6 || (major == 6 && minor < 2) {
		return false
	}
	return hasWord(l, "arm") || hasWord(l, "touch")
}

// isHandheldConsole reports pocket game consoles, which count as mobile.
func isHandheldConsole(l string) bool {
	return containsAny(l, "playstation vita", "playstation portable", "(psp", "nintendo 3ds", "nintendo dsi", "nintendo ds;", "nintendo ds)")
}

// isConsole reports home game consoles (and the Nintendo Switch), which count
// as desktop.
func isConsole(l string) bool {
	return containsAny(l, "playstation", "xbox", "nintendo") || hasWord(l, "wii") || strings.Contains(l, "wiiu")
}

// tvTokens, in lower case, mark smart TVs, set-top boxes and streaming
// sticks: their platforms (SmartTV, Tizen TV, webOS "Web0S", NetCast, VIDAA,
// Android TV, Google TV, Fire TV, Roku, tvOS), the HbbTV and CE-HTML TV
// standards, and TV browsers.
var tvTokens = []string{
	"smarttv", "smart-tv", "smart tv", "smart_tv", "googletv", "google tv", "android tv",
	"androidtv", "appletv", "apple tv", "tvos", "roku", "crkey", "chromecast", "hbbtv",
	"ce-html", "netcast", "web0s", "webos.tv", "webos tv", "nettv", "netrange", "opera tv",
	"omi/", "espial", "kylo/", "vidaa", "viera", "bravia", "philipstv", "dtv_",
	"digital-tv", "inettvbrowser", "firetv", "fire tv", "mibox", "sraf/", "directfb",
	"linux mips", "linux sh4", "freebox", "tivo", "titanos", "zeasn", "foxxum", "vizio",
	"large screen", "set-top", "settopbox", "tv bro/",
}

var tvMatcher = newMatcher(tvTokens)

// isTV reports smart TVs and other devices on a TV: tvTokens, the word "TV"
// ("... (lite) TV Safari/537.36", "Profilo 4K Android TV", "(TV; rv:") and
// Amazon Fire TV models ("AFTMM").
func isTV(s, l string, msp span) bool {
	if tvMatcher.anyWordPrefix(l) || fireTV(s) {
		return true
	}
	// "TV" in the model, or a model named as a box, is weaker evidence: some
	// phones are named for their TV tuner ("myA9 DTV", "KAZAM TV 45"). It
	// counts unless the user agent says Mobile.
	inModel := false
	for off := 0; ; {
		i := strings.Index(s[off:], "TV")
		if i < 0 {
			break
		}
		i += off
		off = i + 1
		if (i > 0 && isAlnum(s[i-1])) || (i+2 < len(s) && isAlnum(s[i+2])) {
			continue
		}
		if !msp.contains(i) {
			return true
		}
		inModel = true
	}
	return (inModel || isTVModel(l[msp.lo:msp.hi])) && !isMobile(l)
}

// fireTV reports Amazon Fire TV models, "AFT" and capitals: "AFTMM", "AFTSSS".
func fireTV(s string) bool {
	for off := 0; ; {
		i := strings.Index(s[off:], "AFT")
		if i < 0 {
			return false
		}
		i += off
		off = i + 1
		if j := i + 3; (i == 0 || !isAlnum(s[i-1])) && j < len(s) && 'A' <= s[j] && s[j] <= 'Z' {
			return true
		}
	}
}

// isTVModel reports Android models named as TV boxes, sticks and TV sets:
// a word "Box" or one ending in it ("Smart Box F2", "MBOX", "SberBox"; the
// Xbox is found before), "Stick", "Dongle", "Shell" (the TV platform of
// several Russian brands), "MiTV", or a model ending in "TV" ("MD09TV").
func isTVModel(lm string) bool {
	if lm == "" {
		return false
	}
	return hasToken(lm, "box") || hasWord(lm, "stick") || hasWord(lm, "dongle") || hasWord(lm, "shell") ||
		hasWordPrefix(lm, "mitv") || (strings.HasSuffix(lm, "tv") && !strings.HasSuffix(lm, "dtv"))
}

// mobileTokens, in lower case, mark phones and other pocket devices.
var mobileTokens = []string{
	"iphone", "ipod", "opera mini", "opera mobi", "blackberry", "bb10", "symbian", "symbos",
	"series40", "series60", "s60;", "midp", "cldc", "j2me", "kaios", "palmos", "palmsource",
	"webos", "hpwos", "maemo", "meego", "sailfish", "tizen", "bada/", "brew/", "brew-", "nokia",
	"sonyericsson", "samsung-sgh", "samsung-gt", "ucweb", "netfront", "obigo", "up.browser",
	"up.link", "openwave", "teleca", "polaris", "minimo", "fennec", "watchos", "watch os",
	"wear os", "apple watch", "mre/", "spreadtrum", "mobile safari",
	"mobileapp", "wap", "maui", "up/", "up.", "docomo", "kddi", "softbank", "vodafone/", "j-phone",
	"dorado", "profile/", "palm", "iph",
}

var mobileMatcher = newMatcher(mobileTokens)

// isMobile reports phones: the word "Mobile" or "Mobi" (the signal MDN
// recommends; not the carrier "T-Mobile"), or mobileTokens.
func isMobile(l string) bool {
	for _, w := range []string{"mobile", "mobi"} {
		for off := 0; ; {
			i := strings.Index(l[off:], w)
			if i < 0 {
				break
			}
			i += off
			off = i + 1
			if i > 0 && (isAlnum(l[i-1]) || l[i-1] == '-' || l[i-1] == '_' || l[i-1] == '.') {
				continue
			}
			if j := i + len(w); j < len(l) && isLetter(l[j]) {
				continue
			}
			return true
		}
	}
	return mobileMatcher.anyWordPrefix(l) || hasWord(l, "phone") || strings.Contains(l, "mobilesafari/")
}

// windowsWord finds Windows named the short way: "win10", "win7 x64", "winxp".
func windowsWord(l string) bool {
	for off := 0; ; {
		i := strings.Index(l[off:], "win")
		if i < 0 {
			return false
		}
		i += off
		off = i + 1
		if j := i + 3; (i == 0 || !isAlnum(l[i-1])) && j < len(l) && (isDigit(l[j]) || strings.HasPrefix(l[j:], "xp") || strings.HasPrefix(l[j:], "nt")) {
			return true
		}
	}
}

// desktopTokens, in lower case, mark desktop operating systems.
var desktopTokens = []string{
	"macintosh", "mac os x", "mac_powerpc", "mac os", "macos", "x11", "linux", "cros", "freebsd",
	"openbsd", "netbsd", "dragonfly", "sunos", "solaris", "haiku", "beos", "os/2", "amiga",
	"risc os", "ubuntu", "fedora", "debian", "irix", "hp-ux", "aix", "osf1", "unix", "win32",
	"win64", "winnt", "win98", "win95", "win 9x", "macbook", "imac", "macmini", "macpro",
	"openharmony", "inferno", "syllable", "wtos", "aros", "lindows", "centos",
}

var desktopMatcher = newMatcher(desktopTokens)

// isDesktop reports desktop systems; a CFNetwork client on "Darwin" counts
// only when it names an Intel CPU (apps on Macs), as iPhone apps use it too.
func isDesktop(l string) bool {
	return desktopMatcher.anyWordPrefix(l) || strings.Contains(l, "macintosh") || windowsWord(l) ||
		(strings.Contains(l, "darwin") && strings.Contains(l, "x86"))
}
