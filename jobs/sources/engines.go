package sources

// Engine describes one search engine: how to recognise its referrers and how
// to read the search term out of them.
type Engine struct {
	// Name is the engine's name in reports: the source of its referrals and
	// the engine column of search terms.
	Name string
	// Hosts are host patterns (see the package documentation, "Host
	// patterns"). They are matched after the leading "www.", "m.", "wap."
	// labels of the referrer's host are dropped.
	Hosts []string
	// Params are the query parameters that carry the search term, in order of
	// priority: the first one present with a non-empty value wins. Names
	// compare exactly, then, when none matched, ignoring ASCII case.
	Params []string
	// CharsetParams are query parameters by which the engine declares the
	// charset of the term (Baidu's and Sogou's "ie", Yahoo's "ei").
	CharsetParams []string
	// Charsets are legacy charsets tried in order when the term is not valid
	// UTF-8 and no charset parameter declares one (GBK/GB18030 for Chinese
	// engines, EUC-KR for Korean ones, windows-1251 for Russian ones).
	Charsets []string
	// NestedParams are parameters whose value is the path and query of an
	// earlier page of the same engine (Google Images' old "prev"); the term
	// is looked for there when the referrer's own query has none.
	NestedParams []string
	// NotSearch are path prefixes on the engine's hosts that are not search
	// pages (Google Maps at google.com/maps): such referrers are referrals.
	NotSearch []string
	// RedirectPaths are paths of the engine's link redirectors, where a term
	// that is itself an absolute URL is the link's target, not a search
	// (Google's /url?q=https://... from Gmail and Docs).
	RedirectPaths []string
	// Advanced marks Google's advanced-search parameters (as_q, as_epq,
	// as_oq, as_eq), read when Params give no term.
	Advanced bool
}

// The charsets of Engine.Charsets, by their canonical labels.
const (
	chinese  = "gb18030" // superset of GBK and GB2312
	korean   = "euc-kr"  // read as Windows-949, the superset browsers use
	cyrillic = "windows-1251"
	eucJP    = "euc-jp"
	sjis     = "shift_jis"
)

var japanese = []string{eucJP, sjis}

// Engines is pvjobs' own table of search engines, by market share and then
// by name. Engines of one brand are one entry: "Google" covers
// google.co.uk, images.google.de, scholar.google.com and
// webcache.googleusercontent.com alike. Portals' web mail and
// non-search subdomains (mail.google.com, maps.yandex.ru) are not engines.
//
// Sources for hosts and parameters: the engines' own result URLs, and the
// public referrer lists of Matomo (searchengine-and-social-list) and
// Snowplow (referer-parser), checked against their test corpora.
var Engines = []*Engine{
	{
		Name: "Google",
		Hosts: []string{
			"google.{tld}", "images.google.{tld}", "image.google.{tld}", "video.google.{tld}",
			"videos.google.{tld}", "scholar.google.{tld}", "books.google.{tld}",
			"encrypted.google.com", "ipv4.google.com", "ipv6.google.com", "go.google.com",
			"webcache.googleusercontent.com", "googlesyndicatedsearch.com",
		},
		Params:        []string{"q", "query"},
		CharsetParams: []string{"ie"},
		NestedParams:  []string{"prev"},
		NotSearch:     []string{"/maps", "/reader", "/calendar", "/alerts", "/intl/", "/preferences", "/about"},
		RedirectPaths: []string{"/url"},
		Advanced:      true,
	},
	{
		Name:   "Bing",
		Hosts:  []string{"*.bing.com", "*.bingj.com", "search.msn.{tld}", "search.live.com"},
		Params: []string{"q"},
	},
	{
		Name: "Yahoo",
		Hosts: []string{"*.search.yahoo.{tld}", "*.images.yahoo.{tld}", "search.yahoo.net",
			"cade.yahoo.com", "one.cn.yahoo.com"},
		Params:        []string{"p", "q", "va"},
		CharsetParams: []string{"ei"},
	},
	{
		Name:   "Yandex",
		Hosts:  []string{"yandex.{tld}", "ya.ru", "images.yandex.{tld}", "clck.yandex.{tld}", "yabs.yandex.{tld}", "video.yandex.{tld}"},
		Params: []string{"text", "q"},
		// Yandex pages were windows-1251 before they moved to UTF-8.
		Charsets: []string{cyrillic},
	},
	{
		Name: "Baidu",
		Hosts: []string{"baidu.com", "image.baidu.com", "zhidao.baidu.com", "tieba.baidu.com",
			"news.baidu.com", "video.baidu.com", "xueshu.baidu.com", "baidu.co.th"},
		Params:        []string{"wd", "word", "kw", "query"},
		CharsetParams: []string{"ie"},
		Charsets:      []string{chinese},
	},
	{
		Name:   "DuckDuckGo",
		Hosts:  []string{"*.duckduckgo.com", "duck.com"},
		Params: []string{"q"},
	},
	{
		Name:          "Yahoo Japan",
		Hosts:         []string{"*.search.yahoo.co.jp"},
		Params:        []string{"p", "vp"},
		CharsetParams: []string{"ei"},
		Charsets:      japanese,
	},
	{
		Name:          "Naver",
		Hosts:         []string{"*.search.naver.com"},
		Params:        []string{"query"},
		CharsetParams: []string{"ie"},
		Charsets:      []string{korean},
	},
	{
		Name:     "Seznam",
		Hosts:    []string{"*.search.seznam.cz", "obrazky.seznam.cz", "videa.seznam.cz", "search.seznam.sk"},
		Params:   []string{"q", "w"},
		Charsets: []string{"windows-1250"},
	},
	{
		Name:          "Sogou",
		Hosts:         []string{"sogou.com", "pic.sogou.com", "english.sogou.com", "weixin.sogou.com"},
		Params:        []string{"query", "keyword"},
		CharsetParams: []string{"ie"},
		Charsets:      []string{chinese},
	},
	{
		Name:          "So.com",
		Hosts:         []string{"so.com", "so.360.cn", "sou.com", "haosou.com"},
		Params:        []string{"q"},
		CharsetParams: []string{"ie"},
		Charsets:      []string{chinese},
	},
	{
		Name:     "Daum",
		Hosts:    []string{"*.search.daum.net"},
		Params:   []string{"q"},
		Charsets: []string{korean},
	},
	{
		Name:   "Ecosia",
		Hosts:  []string{"*.ecosia.org"},
		Params: []string{"q"},
	},
	{
		Name:   "Qwant",
		Hosts:  []string{"*.qwant.com"},
		Params: []string{"q"},
	},
	{
		Name:   "Startpage",
		Hosts:  []string{"*.startpage.com", "startpage.nl", "*.ixquick.com", "ixquick.{tld}"},
		Params: []string{"query", "q"},
	},
	{
		Name:   "Brave",
		Hosts:  []string{"search.brave.com"},
		Params: []string{"q"},
	},
	{
		Name:   "Ask",
		Hosts:  []string{"*.ask.com", "ask.co.uk", "*.search-results.com", "askkids.com"},
		Params: []string{"q", "searchfor", "ask", "query"},
	},
	{
		Name: "AOL",
		Hosts: []string{"*.search.aol.{tld}", "aolsearch.aol.{tld}", "*.aolsearch.com", "recherche.aol.fr",
			"aolrecherche.aol.fr", "suche.aol.de", "sucheaol.aol.de", "aolbusqueda.aol.com.mx", "search-intl.netscape.com"},
		Params: []string{"q", "query"},
	},
	{
		Name:   "Mojeek",
		Hosts:  []string{"*.mojeek.com", "mojeek.co.uk"},
		Params: []string{"q"},
	},
	{
		Name:     "Mail.ru",
		Hosts:    []string{"go.mail.ru", "search.mail.ru"},
		Params:   []string{"q", "words"},
		Charsets: []string{cyrillic},
	},
	{
		Name:     "Rambler",
		Hosts:    []string{"nova.rambler.ru", "search.rambler.ru"},
		Params:   []string{"query", "words"},
		Charsets: []string{cyrillic},
	},
	{
		Name:   "Coc Coc",
		Hosts:  []string{"coccoc.com"},
		Params: []string{"query"},
	},
	{
		Name:     "Shenma",
		Hosts:    []string{"*.sm.cn"},
		Params:   []string{"q"},
		Charsets: []string{chinese},
	},
	{
		Name:   "Toutiao",
		Hosts:  []string{"so.toutiao.com"},
		Params: []string{"keyword"},
	},
	{
		Name:     "Nate",
		Hosts:    []string{"search.nate.com"},
		Params:   []string{"q"},
		Charsets: []string{korean},
	},
	{
		Name:     "Zum",
		Hosts:    []string{"search.zum.com"},
		Params:   []string{"query"},
		Charsets: []string{korean},
	},
	{
		Name:     "goo",
		Hosts:    []string{"search.goo.ne.jp", "ocnsearch.goo.ne.jp"},
		Params:   []string{"MT"},
		Charsets: japanese,
	},
	{
		Name:          "Biglobe",
		Hosts:         []string{"*.search.biglobe.ne.jp"},
		Params:        []string{"q"},
		CharsetParams: []string{"ie"},
		Charsets:      japanese,
	},
	{
		Name:     "Nifty",
		Hosts:    []string{"*.search.nifty.com"},
		Params:   []string{"Text", "q"},
		Charsets: japanese,
	},
	{
		Name:     "Rakuten",
		Hosts:    []string{"websearch.rakuten.co.jp"},
		Params:   []string{"qt"},
		Charsets: japanese,
	},
	{
		Name:          "auone",
		Hosts:         []string{"*.search.auone.jp", "sp-search.auone.jp", "sp-image.search.auone.jp"},
		Params:        []string{"q"},
		CharsetParams: []string{"ie"},
		Charsets:      japanese,
	},
	{
		Name:   "docomo",
		Hosts:  []string{"*.search.smt.docomo.ne.jp"},
		Params: []string{"MT"},
	},
	{
		Name:   "Sputnik",
		Hosts:  []string{"sputnik.ru"},
		Params: []string{"q"},
	},
	{
		Name:   "Swisscows",
		Hosts:  []string{"*.swisscows.com"},
		Params: []string{"query"},
	},
	{
		Name:   "MetaGer",
		Hosts:  []string{"*.metager.de", "*.metager.org"},
		Params: []string{"eingabe"},
	},
	{
		Name:   "Kagi",
		Hosts:  []string{"kagi.com"},
		Params: []string{"q"},
	},
	{
		Name:   "You.com",
		Hosts:  []string{"you.com"},
		Params: []string{"q"},
	},
	{
		Name:   "Presearch",
		Hosts:  []string{"presearch.com", "presearch.org"},
		Params: []string{"q"},
	},
	{
		Name:   "Yep",
		Hosts:  []string{"yep.com"},
		Params: []string{"q"},
	},
	{
		Name:   "Petal Search",
		Hosts:  []string{"*.petalsearch.com"},
		Params: []string{"query"},
	},
	{
		Name:   "Lilo",
		Hosts:  []string{"search.lilo.org"},
		Params: []string{"q"},
	},
	{
		Name:   "Freespoke",
		Hosts:  []string{"freespoke.com"},
		Params: []string{"q"},
	},
	{
		Name:   "Stract",
		Hosts:  []string{"stract.com"},
		Params: []string{"q"},
	},
	{
		Name:   "Gibiru",
		Hosts:  []string{"gibiru.com"},
		Params: []string{"q"},
	},
	{
		Name:   "OceanHero",
		Hosts:  []string{"oceanhero.today"},
		Params: []string{"q"},
	},
	{
		Name:   "Info.com",
		Hosts:  []string{"info.com"},
		Params: []string{"q"},
	},
	{
		Name:   "Dogpile",
		Hosts:  []string{"dogpile.com"},
		Params: []string{"q"},
	},
	{
		Name:   "WebCrawler",
		Hosts:  []string{"webcrawler.com"},
		Params: []string{"q"},
	},
	{
		Name:   "Lycos",
		Hosts:  []string{"*.search.lycos.{tld}"},
		Params: []string{"q", "query"},
	},
	{
		Name:   "Search.ch",
		Hosts:  []string{"search.ch"},
		Params: []string{"q"},
	},
	{
		Name:   "Onet",
		Hosts:  []string{"szukaj.onet.pl"},
		Params: []string{"qt", "q"},
		// Polish portals served ISO-8859-2 pages before UTF-8.
		Charsets: []string{"iso-8859-2"},
	},
	{
		Name:     "WP",
		Hosts:    []string{"szukaj.wp.pl"},
		Params:   []string{"szukaj", "q"},
		Charsets: []string{"iso-8859-2"},
	},
	{
		Name:     "Interia",
		Hosts:    []string{"szukaj.interia.pl", "google.interia.pl"},
		Params:   []string{"q"},
		Charsets: []string{"iso-8859-2"},
	},
	{
		Name:   "Virgilio",
		Hosts:  []string{"ricerca.virgilio.it", "ricercaimmagini.virgilio.it", "ricercavideo.virgilio.it"},
		Params: []string{"qs"},
	},
	{
		Name:   "Libero",
		Hosts:  []string{"arianna.libero.it", "ricerca.libero.it"},
		Params: []string{"query", "q"},
	},
	{
		Name:   "T-Online",
		Hosts:  []string{"suche.t-online.de"},
		Params: []string{"q"},
	},
	{
		Name:   "Web.de",
		Hosts:  []string{"suche.web.de"},
		Params: []string{"q", "su"},
	},
	{
		Name:   "GMX",
		Hosts:  []string{"suche.gmx.{tld}", "search.gmx.{tld}"},
		Params: []string{"q"},
	},
	{
		Name:   "1&1",
		Hosts:  []string{"suche.1und1.de", "search.1und1.de"},
		Params: []string{"q"},
	},
	{
		Name:   "Sapo",
		Hosts:  []string{"pesquisa.sapo.pt"},
		Params: []string{"q"},
	},
	{
		Name:   "Najdi.si",
		Hosts:  []string{"najdi.si"},
		Params: []string{"q"},
	},
	{
		Name:   "Centrum",
		Hosts:  []string{"search.centrum.cz"},
		Params: []string{"q"},
	},
	{
		Name:   "Zoznam",
		Hosts:  []string{"zoznam.sk"},
		Params: []string{"s"},
	},
	{
		Name:   "Kvasir",
		Hosts:  []string{"kvasir.no"},
		Params: []string{"q"},
	},
	{
		Name:   "Meta.ua",
		Hosts:  []string{"meta.ua"},
		Params: []string{"q"},
	},
	{
		Name:   "UOL",
		Hosts:  []string{"busca.uol.com.br"},
		Params: []string{"q"},
	},
	{
		Name:   "Babylon",
		Hosts:  []string{"search.babylon.com", "searchassist.babylon.com", "isearch.babylon.com"},
		Params: []string{"q"},
	},
	{
		Name:   "Avast",
		Hosts:  []string{"search.avast.com"},
		Params: []string{"q"},
	},
	{
		Name:   "AVG",
		Hosts:  []string{"search.avg.com", "isearch.avg.com"},
		Params: []string{"q"},
	},
	{
		Name:   "Avira",
		Hosts:  []string{"search.avira.com", "search.avira.net", "safesearch.avira.com"},
		Params: []string{"q", "searchfor"},
	},
	{
		Name:   "Conduit",
		Hosts:  []string{"*.search.conduit.com"},
		Params: []string{"q"},
	},
	{
		Name:   "MyWebSearch",
		Hosts:  []string{"search.mywebsearch.com"},
		Params: []string{"searchfor", "q"},
	},
	{
		Name:   "InfoSpace",
		Hosts:  []string{"infospace.com", "metacrawler.com", "search.v9.com"},
		Params: []string{"q"},
	},
	{
		Name:   "Earthlink",
		Hosts:  []string{"search.earthlink.net"},
		Params: []string{"q"},
	},
	{
		Name:   "Comcast",
		Hosts:  []string{"search.comcast.net"},
		Params: []string{"q"},
	},
}
