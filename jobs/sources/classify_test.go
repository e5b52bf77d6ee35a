package sources_test

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/pvjobs/pvjobs/jobs/sources"
)

const page = "https://www.example.com/blog/post?id=7"

func TestMedium(t *testing.T) {
	c := sources.NewClassifier([]string{"example.net", "https://Partner.Example.ORG/path"})
	cases := []struct {
		name, page, ref, medium, source string
	}{
		{"empty", page, "", "direct", "(direct)"},
		{"blank", page, "  \t ", "direct", "(direct)"},
		{"not a url", page, "not a url", "direct", "(direct)"},
		{"about blank", page, "about:blank", "direct", "(direct)"},
		{"scheme without host", page, "https://", "direct", "(direct)"},
		{"same host", page, "https://www.example.com/other", "internal", "example.com"},
		{"bare host vs www page", page, "https://example.com/", "internal", "example.com"},
		{"www referrer vs bare page", "http://example.com/", "https://www.example.com/x", "internal", "example.com"},
		{"mobile front end", page, "https://m.example.com/", "internal", "m.example.com"},
		{"upper case, port, trailing dot", page, "HTTPS://WWW.EXAMPLE.COM.:443/x", "internal", "example.com"},
		{"other subdomain", page, "https://blog.example.com/", "referral", "blog.example.com"},
		{"internal domain", page, "https://shop.example.net/checkout", "internal", "shop.example.net"},
		{"internal domain itself", page, "http://example.net", "internal", "example.net"},
		{"internal domain from url", page, "https://partner.example.org/", "internal", "partner.example.org"},
		{"not below internal domain", page, "https://notexample.net/", "referral", "notexample.net"},
		{"google", page, "https://www.google.com/", "search", "Google"},
		{"google userinfo and port", page, "https://user:pw@www.google.com:443/", "search", "Google"},
		{"google country", page, "https://www.google.com.br/", "search", "Google"},
		{"google maps is not search", page, "https://www.google.com/maps/place/Cafe", "referral", "google.com"},
		{"google.org is no search", page, "https://www.google.org/", "referral", "google.org"},
		{"google docs", page, "https://docs.google.com/document/d/1/edit", "referral", "docs.google.com"},
		{"lookalike subdomain", page, "https://google.evil.com/search?q=x", "referral", "google.evil.com"},
		{"lookalike name", page, "https://notgoogle.com/search?q=x", "referral", "notgoogle.com"},
		{"google under other tld", page, "https://www.google.com.evil.net/", "referral", "google.com.evil.net"},
		{"twitter t.co", page, "https://t.co/AbC123xyz", "social", "Twitter"},
		{"x.com", page, "https://x.com/someone/status/1", "social", "Twitter"},
		{"facebook l.", page, "https://l.facebook.com/l.php?u=https%3A%2F%2Fwww.example.com%2F&h=AT0", "social", "Facebook"},
		{"facebook lm.", page, "https://lm.facebook.com/", "social", "Facebook"},
		{"facebook mobile", page, "http://m.facebook.com/l.php?u=x", "social", "Facebook"},
		{"linkedin short", page, "https://lnkd.in/eXyZ", "social", "LinkedIn"},
		{"reddit out", page, "https://out.reddit.com/t3_abc", "social", "Reddit"},
		{"hacker news", page, "https://news.ycombinator.com/item?id=1", "social", "Hacker News"},
		{"tumblr blog", page, "http://psychicbazaar.tumblr.com/", "social", "Tumblr"},
		{"bluesky", page, "https://go.bsky.app/redirect?u=https%3A%2F%2Fexample.com", "social", "Bluesky"},
		{"pinterest country", page, "https://www.pinterest.co.uk/pin/1/", "social", "Pinterest"},
		{"youtube", page, "https://www.youtube.com/", "social", "YouTube"},
		{"telegram", page, "https://t.me/channel/12", "social", "Telegram"},
		{"threads", page, "https://l.threads.net/l/ABC", "social", "Threads"},
		{"gmail app", page, "android-app://com.google.android.gm/", "email", "Gmail"},
		{"google app", page, "android-app://com.google.android.googlequicksearchbox/https/www.google.com", "search", "Google"},
		{"facebook app", page, "android-app://com.facebook.katana/", "social", "Facebook"},
		{"app package as host", page, "https://com.google.android.gm/", "email", "Gmail"},
		{"unknown app", page, "android-app://com.Example.Reader/", "referral", "com.example.reader"},
		{"gmail", page, "https://mail.google.com/mail/u/0/", "email", "Gmail"},
		{"outlook", page, "https://outlook.live.com/", "email", "Outlook.com"},
		{"old hotmail", page, "http://co106w.col106.mail.live.com/default.aspx?rru=inbox", "email", "Outlook.com"},
		{"yahoo mail japan", page, "https://mail.yahoo.co.jp/", "email", "Yahoo Mail"},
		{"yandex mail", page, "https://mail.yandex.ru/?uid=1", "email", "Yandex Mail"},
		{"gmx deref", page, "https://deref-gmx.net/mail/client/I_f/dereferrer/", "email", "GMX"},
		{"webmail of a domain", page, "https://webmail.example.org/?_task=mail", "email", "webmail.example.org"},
		{"mail.ru is a site, not a webmail", page, "https://mail.ru/", "referral", "mail.ru"},
		{"referral", page, "https://www.heise.de/news/x.html", "referral", "heise.de"},
		{"search portal without term", page, "https://search.snap.do/", "referral", "search.snap.do"},
		{"search portal with term", page, "https://search.snap.do/?q=x", "search", "search.snap.do"},
		{"search console", page, "https://search.google.com/search-console?resource_id=x&query=y", "referral", "search.google.com"},
		{"referral keeps subdomain", page, "https://dev.to/someone", "referral", "dev.to"},
		{"ip address", page, "http://192.168.1.10:8080/admin", "referral", "192.168.1.10"},
		{"ipv6", page, "http://[2001:db8::1]:8080/", "referral", "[2001:db8::1]"},
		{"no scheme", page, "www.other.org/page?a=1", "referral", "other.org"},
		{"protocol relative", page, "//cdn.other.org/x", "referral", "cdn.other.org"},
		{"backslash path", page, "https://other.org\\path", "referral", "other.org"},
		{"bad host", page, "http://exa mple.com/", "direct", "(direct)"},
		{"page without host", "/relative/path", "https://www.example.com/", "referral", "example.com"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := c.Classify([]byte(tc.page), []byte(tc.ref))
			if r.Medium != tc.medium || r.Source != tc.source {
				t.Errorf("Classify(%q, %q) = %s / %s, want %s / %s", tc.page, tc.ref, r.Medium, r.Source, tc.medium, tc.source)
			}
		})
	}
}

func TestValidateDomains(t *testing.T) {
	for _, ok := range [][]string{nil, {"example.com"}, {" Example.COM ", "*.example.net", ".example.org", "https://shop.example.com/x", "localhost", ""}} {
		if err := sources.ValidateDomains(ok); err != nil {
			t.Errorf("ValidateDomains(%q) = %v", ok, err)
		}
	}
	for _, bad := range [][]string{{"exa mple.com"}, {"example.com", "http://"}, {"a/b"}, {"ex%41mple.com"}} {
		if err := sources.ValidateDomains(bad); err == nil {
			t.Errorf("ValidateDomains(%q) = nil, want an error", bad)
		}
	}
}

func TestCampaign(t *testing.T) {
	c := sources.NewClassifier(nil)
	cases := []struct {
		name, query, ref, medium, source string
	}{
		{"email newsletter", "utm_source=newsletter&utm_medium=email", "", "email", "newsletter"},
		{"medium synonym and case", "utm_medium=E-Mail&utm_source=Weekly%20Digest", "", "email", "weekly digest"},
		{"cpc google", "utm_medium=cpc&utm_source=google", "https://www.google.com/", "cpc", "Google"},
		{"ppc is cpc", "utm_medium=ppc&utm_source=bing", "", "cpc", "Bing"},
		{"organic is search", "utm_medium=organic&utm_source=duckduckgo", "", "search", "DuckDuckGo"},
		{"social by name", "utm_source=Facebook&utm_medium=Social", "", "social", "Facebook"},
		{"social by host", "utm_source=l.instagram.com&utm_medium=social-media", "", "social", "Instagram"},
		{"own medium kept", "utm_medium=affiliate&utm_source=partner+site", "https://partner.example/", "affiliate", "partner site"},
		{"source only, external referrer", "utm_source=facebook.com", "https://t.co/x", "social", "Facebook"},
		{"source only, direct", "utm_source=spring_sale", "", "(not set)", "spring_sale"},
		{"medium only, direct", "utm_medium=email", "", "email", "(not set)"},
		{"medium only, referrer source", "utm_medium=email", "https://mail.google.com/", "email", "Gmail"},
		{"empty tags ignored", "utm_source=&utm_medium=", "https://www.bing.com/", "search", "Bing"},
		{"gclid", "gclid=Cj0KCQ", "https://www.google.com/", "cpc", "Google"},
		{"gbraid", "gbraid=0AAAA", "", "cpc", "Google"},
		{"msclkid", "msclkid=abc", "https://www.bing.com/", "cpc", "Bing"},
		{"utm beats gclid", "gclid=x&utm_medium=display&utm_source=gdn", "", "display", "gdn"},
		{"fbclid without referrer", "fbclid=IwAR0", "", "social", "Facebook"},
		{"fbclid with referrer", "fbclid=IwAR0", "https://www.bing.com/", "search", "Bing"},
		{"tags on internal page view", "utm_medium=banner&utm_source=home", "https://www.example.com/", "banner", "home"},
		{"tab in tag", "utm_medium=e%09mail&utm_source=a%0Ab", "", "email", "a b"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := c.Classify([]byte("https://www.example.com/landing?"+tc.query), []byte(tc.ref))
			if r.Medium != tc.medium || r.Source != tc.source {
				t.Errorf("query %q referrer %q = %s / %s, want %s / %s", tc.query, tc.ref, r.Medium, r.Source, tc.medium, tc.source)
			}
		})
	}
}

func TestSearchTerms(t *testing.T) {
	c := sources.NewClassifier(nil)
	cases := []struct {
		name, ref, engine, term string
	}{
		// Google.
		{"google origin only", "https://www.google.com/", "Google", "(not provided)"},
		{"google no slash", "https://www.google.co.uk", "Google", "(not provided)"},
		{"google search", "https://www.google.com/search?q=golang+map+reduce&oq=golang&aqs=chrome..69i57j0l5.3456j0j7&sourceid=chrome&ie=UTF-8", "Google", "golang map reduce"},
		{"google brazil", "https://www.google.com.br/search?q=caf%C3%A9+com+leite&hl=pt-BR", "Google", "café com leite"},
		{"google germany", "https://www.google.de/search?q=M%C3%BCnchen+Wetter&hl=de", "Google", "münchen wetter"},
		{"google japan", "https://www.google.co.jp/search?q=%E6%9D%B1%E4%BA%AC+%E5%A4%A9%E6%B0%97", "Google", "東京 天気"},
		{"google images", "https://images.google.de/images?q=Katze&hl=de", "Google", "katze"},
		{"google scholar", "https://scholar.google.com/scholar?hl=en&q=deep+learning", "Google", "deep learning"},
		{"google plus sign", "https://www.google.com/search?q=C%2B%2B+tutorial", "Google", "c++ tutorial"},
		{"google latin-1 declared", "http://www.google.fr/search?q=caf%E9+cr%E8me&ie=ISO-8859-1", "Google", "café crème"},
		{"google serp redirect", "http://www.google.com/url?sa=t&source=web&cd=7&url=http%3A%2F%2Fwww.example.com%2F&rct=j&q=flowers&usg=AFQj", "Google", "flowers"},
		{"google hidden redirect", "https://www.google.com/url?sa=t&rct=j&q=&esrc=s&source=web&cd=1&url=https%3A%2F%2Fexample.com%2F", "Google", "(not provided)"},
		{"gmail link redirect", "https://www.google.com/url?q=https://www.example.com/x&sa=D&source=editors", "Google", "(not provided)"},
		{"google instant fragment", "http://www.google.com/#hl=en&source=hp&q=test+hash&aq=f", "Google", "test hash"},
		{"google cache", "http://webcache.googleusercontent.com/search?q=cache:CD2SncROLs4J:piwik.org/blog/+piwik+security&cd=1", "Google", "piwik security"},
		{"google advanced", "http://www.google.ca/search?as_q=web+analytics&as_epq=real+time&as_oq=gpl+open+source&as_eq=oracle&num=10", "Google", `web analytics gpl or open or source "real time" -oracle`},
		{"google images prev", "http://www.google.com/imgres?imgurl=http://x/a.jpg&prev=/images%3Fq%3DFull%2BSupport%2BTummy%26hl%3Den", "Google", "full support tummy"},
		{"google app", "android-app://com.google.android.googlequicksearchbox/https/www.google.com", "Google", "(not provided)"},
		// Bing.
		{"bing", "https://www.bing.com/search?q=weather+%22new+york%22&form=QBLH&sp=-1", "Bing", `weather "new york"`},
		{"bing china", "https://cn.bing.com/search?q=%E5%A4%A9%E6%B0%94&FORM=BESBTB", "Bing", "天气"},
		{"bing mobile upper-case Q", "http://m.bing.com/search/search.aspx?Q=piwik&d=&dl=", "Bing", "piwik"},
		{"bing cache", "http://cc.bingj.com/cache.aspx?q=web+analytics&d=5020318678516316&mkt=en-CA", "Bing", "web analytics"},
		{"bing click redirect", "https://www.bing.com/ck/a?!&&p=6d1b3f&ptn=3&u=a1aHR0cHM6Ly9leGFtcGxlLmNvbS8", "Bing", "(not provided)"},
		// Yahoo.
		{"yahoo", "https://search.yahoo.com/search;_ylt=AwrE1x?p=best+pizza&fr=yfp-t&ei=UTF-8", "Yahoo", "best pizza"},
		{"yahoo country", "http://uk.search.yahoo.com/search?p=piwik&ei=UTF-8&fr=moz2", "Yahoo", "piwik"},
		{"yahoo images", "https://images.search.yahoo.com/search/images;_ylt=A0?p=kittens&fr=sfp", "Yahoo", "kittens"},
		{"yahoo partner q", "http://us.yhs4.search.yahoo.com/yhs/search;_ylt=A0oG7?q=piwik", "Yahoo", "piwik"},
		{"yahoo redirect", "https://r.search.yahoo.com/_ylt=A0/RV=2/RE=1/RO=10/RU=https%3a%2f%2fexample.com%2f/RK=2/RS=x-", "Yahoo", "(not provided)"},
		{"yahoo japan", "https://search.yahoo.co.jp/search?p=%E5%A4%A9%E6%B0%97&ei=UTF-8&fr=top_ga1_sa", "Yahoo Japan", "天気"},
		{"yahoo japan euc-jp", "http://search.yahoo.co.jp/search?p=%C5%EC%B5%FE&ei=EUC-JP", "Yahoo Japan", "東京"},
		{"yahoo japan shift_jis undeclared", "http://search.yahoo.co.jp/search?p=%93%8C%8B%9E", "Yahoo Japan", "東京"},
		{"yahoo japan images fullwidth", "http://image.search.yahoo.co.jp/search?ei=UTF-8&p=%EF%BD%94%EF%BD%8F+%EF%BD%88%EF%BD%85%EF%BD%81%EF%BD%92%EF%BD%94", "Yahoo Japan", "ｔｏ ｈｅａｒｔ"},
		// DuckDuckGo.
		{"duckduckgo origin", "https://duckduckgo.com/", "DuckDuckGo", "(not provided)"},
		{"duckduckgo", "https://duckduckgo.com/?q=privacy+tools&t=h_&ia=web", "DuckDuckGo", "privacy tools"},
		{"duckduckgo html", "https://html.duckduckgo.com/html/?q=go+generics", "DuckDuckGo", "go generics"},
		// Yandex.
		{"yandex", "https://yandex.ru/search/?text=%D0%BF%D0%BE%D0%B3%D0%BE%D0%B4%D0%B0&lr=213", "Yandex", "погода"},
		{"yandex turkey", "https://yandex.com.tr/search/?text=hava+durumu&lr=11508", "Yandex", "hava durumu"},
		{"yandex windows-1251", "http://yandex.ru/yandsearch?text=%EF%EE%E3%EE%E4%E0", "Yandex", "погода"},
		{"ya.ru", "https://ya.ru/search/?text=test", "Yandex", "test"},
		{"yandex images", "http://images.yandex.ru/yandsearch?text=Blue%20Angel%20Oracle&noreask=1", "Yandex", "blue angel oracle"},
		{"yandex hidden", "http://yandex.ru/clck/jsredir?from=yandex.ru%3Bsearch&text=&etext=385.4_2Hh6u", "Yandex", "(not provided)"},
		// Baidu.
		{"baidu utf-8", "https://www.baidu.com/s?ie=utf-8&wd=%E5%A4%A9%E6%B0%94&rsv_spt=1", "Baidu", "天气"},
		{"baidu gbk declared", "http://www.baidu.com/s?ie=gb2312&bs=x&wd=%BF%D5%BC%E4+%BA%C3123+%7C+%B8%FC%B6%E0%3E%3E&ct=0", "Baidu", "空间 好123 | 更多>>"},
		{"baidu gbk undeclared", "http://www.baidu.com/s?wd=%C1%F7%D0%D0%C3%C0%D3%EF%CF%C2%D4%D8", "Baidu", "流行美语下载"},
		{"baidu word", "http://www.baidu.com/s?kw=&sc=web&ie=gb2312&word=%B7%E8%BF%F1%CB%B5%D3%A2%D3%EF+%D4%DA%CF%DF%B9%DB%BF%B4", "Baidu", "疯狂说英语 在线观看"},
		{"baidu mobile word", "https://m.baidu.com/s?word=%E5%A4%A9%E6%B0%94&from=1", "Baidu", "天气"},
		{"baidu link", "https://www.baidu.com/link?url=Ab1&wd=&eqid=f00", "Baidu", "(not provided)"},
		// Naver, Daum, Nate.
		{"naver", "https://search.naver.com/search.naver?where=nexearch&sm=top_hty&fbm=1&ie=utf8&query=%EB%82%A0%EC%94%A8", "Naver", "날씨"},
		{"naver mobile", "https://m.search.naver.com/search.naver?query=FAU+&where=m", "Naver", "fau"},
		{"naver euc-kr undeclared", "http://search.naver.com/search.naver?query=%B3%AF%BE%BE", "Naver", "날씨"},
		{"daum", "https://search.daum.net/search?w=tot&DA=YZR&q=%EB%89%B4%EC%8A%A4", "Daum", "뉴스"},
		{"nate euc-kr", "http://search.nate.com/search/all.html?thr=sbus&q=%B0%CB%BB%F6+++1%C0%A7", "Nate", "검색 1위"},
		// Chinese engines.
		{"sogou", "https://www.sogou.com/web?query=%E5%A4%A9%E6%B0%94&ie=utf8", "Sogou", "天气"},
		{"sogou gbk", "http://www.sogou.com/web?query=%C6%F3%D2%B5%CD%C6%B9%E3&_asf=www.sogou.com&w=01019900", "Sogou", "企业推广"},
		{"sogou mobile keyword", "https://m.sogou.com/web/searchList.jsp?keyword=golang&pid=1", "Sogou", "golang"},
		{"so.com", "https://www.so.com/s?q=%E6%96%B0%E9%97%BB&src=srp", "So.com", "新闻"},
		{"so.com gbk", "https://www.so.com/s?ie=gbk&q=%CC%EC%C6%F8", "So.com", "天气"},
		{"shenma", "https://m.sm.cn/s?q=%E5%A4%A9%E6%B0%94&from=smor", "Shenma", "天气"},
		// European and other engines.
		{"seznam", "https://search.seznam.cz/?q=po%C4%8Das%C3%AD+praha&sourceid=szn-HP", "Seznam", "počasí praha"},
		{"seznam windows-1250", "https://search.seznam.cz/?q=P%F8%EDli%9A%20%9Elu%9Dou%E8k%FD", "Seznam", "příliš žluťoučký"},
		{"ecosia", "https://www.ecosia.org/search?method=index&q=trees", "Ecosia", "trees"},
		{"qwant", "https://www.qwant.com/?q=m%C3%A9t%C3%A9o&t=web", "Qwant", "météo"},
		{"startpage", "https://www.startpage.com/do/search?query=privacy&cat=web", "Startpage", "privacy"},
		{"startpage hidden", "https://www.startpage.com/sp/search", "Startpage", "(not provided)"},
		{"ixquick", "https://s3-us3.ixquick.com/do/search", "Startpage", "(not provided)"},
		{"brave", "https://search.brave.com/search?q=rust+lang&source=web", "Brave", "rust lang"},
		{"ask", "https://www.ask.com/web?q=how+to+tie+a+tie&qsrc=0&o=0&l=dir", "Ask", "how to tie a tie"},
		{"ask toolbar", "http://search.tb.ask.com/search/GGmain.jhtml?st=hp&searchfor=Drinkable+sunscreen&tpr=tt", "Ask", "drinkable sunscreen"},
		{"ask network", "http://uk.search-results.com/web?qsrc=1&o=1921&l=dis&q=pendulums&dm=ctry", "Ask", "pendulums"},
		{"aol", "https://search.aol.com/aol/search?q=news+today&s_it=aolmail", "AOL", "news today"},
		{"aol uk query", "http://www.aolsearch.com/search?s_pt=hp&query=voorbeeld+cv", "AOL", "voorbeeld cv"},
		{"mojeek", "https://www.mojeek.com/search?q=independent+search", "Mojeek", "independent search"},
		{"mail.ru windows-1251", "http://go.mail.ru/search?q=%F5%E8%EC%F1%EE%F1%F2%E0%E2%20%F0%E0%F1%F2%EE%F0%EE%EF%F8%E8", "Mail.ru", "химсостав расторопши"},
		{"mail.ru utf-8", "http://go.mail.ru/search?q=Gothic%20Tarot%20Cards&where=any", "Mail.ru", "gothic tarot cards"},
		{"coc coc", "https://coccoc.com/search?query=th%E1%BB%9Di+ti%E1%BA%BFt", "Coc Coc", "thời tiết"},
		{"kagi", "https://kagi.com/search?q=zig+allocator", "Kagi", "zig allocator"},
		{"swisscows", "https://swisscows.com/web?query=alps", "Swisscows", "alps"},
		{"metager", "https://metager.de/meta/meta.ger3?eingabe=wetter+berlin", "MetaGer", "wetter berlin"},
		{"web.de", "http://suche.web.de/web?origin=HP&q=test+5&jsenabled=true", "Web.de", "test 5"},
		{"onet", "https://szukaj.onet.pl/wyniki?qt=pogoda", "Onet", "pogoda"},
		{"virgilio", "http://ricerca.virgilio.it/ricerca?qs=meteo+roma", "Virgilio", "meteo roma"},
		// Search portals no table lists.
		{"portal search.", "http://search.snap.do/?q=piwik&category=Web", "search.snap.do", "piwik"},
		{"portal suche.", "https://suche.example.de/web?q=Wetter+Berlin", "suche.example.de", "wetter berlin"},
		{"portal named for search", "http://www.searchmobileonline.com/search?q=searchterm", "searchmobileonline.com", "searchterm"},
		{"portal fragment", "http://search.iminent.com/SearchTheWeb/v6/1036/homepage/Default.aspx#q=rest&s=images", "search.iminent.com", "rest"},
		// Normalisation.
		{"trim and case", "http://www.google.com/search?hl=en&q=+piWIk+&btnG=Google+Search", "Google", "piwik"},
		{"collapse white space", "https://www.bing.com/search?q=++a+++b%09%0Ac%C2%A0d%E3%80%80e++", "Bing", "a b c d e"},
		{"unicode upper case", "https://www.google.fr/search?q=%C3%89COLE+%C3%80+PARIS", "Google", "école à paris"},
		{"html entities kept", "http://www.google.fr/search?hl=en&q=%3C%3E+%26test%3B+piwik+%26quot%3B", "Google", "<> &test; piwik &quot;"},
		{"percent literal", "https://www.google.com/search?q=100%25+sure+50%+off", "Google", "100% sure 50% off"},
		{"js escape", "https://www.google.com/search?q=%u4E2D%u6587+%uD83D%uDE00", "Google", "中文 😀"},
		{"lone surrogate", "https://www.google.com/search?q=a%uD800b", "Google", "a\uFFFDb"},
		{"invalid utf-8 replaced", "https://www.google.com/search?q=ab%FF%FEcd", "Google", "ab\uFFFD\uFFFDcd"},
		{"declared utf-8 but invalid", "https://www.bing.com/search?q=x%C3", "Bing", "x\uFFFD"},
		{"only spaces", "https://www.google.com/search?q=+++", "Google", "(not provided)"},
		{"zero width dropped", "https://www.google.com/search?q=go%E2%80%8Blang", "Google", "golang"},
		{"empty q, next param", "https://www.baidu.com/s?wd=&word=abc", "Baidu", "abc"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := c.Classify([]byte(page), []byte(tc.ref))
			if !r.IsSearch || r.Engine != tc.engine || r.Term != tc.term {
				t.Errorf("Classify(%q) = search %v, %q, %q; want %q, %q", tc.ref, r.IsSearch, r.Engine, r.Term, tc.engine, tc.term)
			}
			if r.Medium != "search" || r.Source != tc.engine {
				t.Errorf("Classify(%q) = %s / %s, want search / %s", tc.ref, r.Medium, r.Source, tc.engine)
			}
		})
	}
}

func TestNotSearch(t *testing.T) {
	c := sources.NewClassifier(nil)
	for _, ref := range []string{
		"",
		"https://www.example.com/x",
		"https://t.co/x?q=not+a+search",
		"https://www.google.com/maps/search/pizza?q=pizza",
		"http://googleads.g.doubleclick.net/pagead/ads?client=ca-pub-x&q=x",
		"https://mail.google.com/mail/?q=x",
		"https://www.yahoo.com/news/?p=x",
		"https://brave.com/?q=x",
		"https://www.naver.com/?query=x",
		"https://search.google.com/search-console/performance?resource_id=x&query=y",
		"https://www.searchenginejournal.com/?s=seo",
		"https://research.example.edu/papers?q=x",
	} {
		if r := c.Classify([]byte(page), []byte(ref)); r.IsSearch || r.Engine != "" || r.Term != "" {
			t.Errorf("Classify(%q) = %+v, want no search", ref, r)
		}
	}
}

// TestCacheAgrees checks that a worker's Cache answers repeated and
// interleaved referrers as a fresh classification does, also across the
// clearing of its bounded maps.
func TestCacheAgrees(t *testing.T) {
	c := sources.NewClassifier([]string{"example.net"})
	refs := []string{
		"https://www.google.com/", "https://www.bing.com/search?q=a", "https://www.bing.com/search?q=b",
		"https://WWW.Bing.com/search?q=A", "https://t.co/x", "", "https://www.example.com/", "https://shop.example.net/",
		"android-app://com.google.android.gm/", "https://webmail.foo.org/",
	}
	k := c.NewCache()
	for i := range 30000 {
		ref := refs[i%len(refs)]
		if i%3 == 0 {
			ref = fmt.Sprintf("https://site%d.example.org/?q=%d", i, i)
		}
		if i%7 == 0 {
			ref = fmt.Sprintf("https://www.bing.com/search?q=term+%d", i)
		}
		pg := page
		if i%5 == 0 {
			pg = fmt.Sprintf("https://www.example.com/?utm_source=s%d&utm_medium=m%d", i%2000, i%3)
		}
		got := k.Classify([]byte(pg), []byte(ref))
		want := c.NewCache().Classify([]byte(pg), []byte(ref))
		if got != want {
			t.Fatalf("row %d: cached %+v, fresh %+v", i, got, want)
		}
	}
}

func FuzzClassify(f *testing.F) {
	for _, s := range []string{
		"", "https://www.google.com/search?q=a+b", "http://www.baidu.com/s?wd=%C1%F7&ie=gbk", "android-app://x/",
		"https://[::1]:80/", "//h.example/?q=%u12", "https://search.yahoo.co.jp/search?p=%93%8C&ei=sjis",
		"https://www.google.com/search?as_q=a&as_oq=b+c&as_eq=d&as_epq=%22e", "https://www.google.com/imgres?prev=%3Fq%3Dx",
	} {
		f.Add([]byte(page+"?utm_source=a&utm_medium=b"), []byte(s))
	}
	c := sources.NewClassifier([]string{"example.net"})
	k := c.NewCache()
	f.Fuzz(func(t *testing.T, pageURL, ref []byte) {
		r := c.NewCache().Classify(pageURL, ref)
		if cached := k.Classify(pageURL, ref); cached != r {
			t.Fatalf("Classify(%q, %q): cached %+v, fresh %+v", pageURL, ref, cached, r)
		}
		for _, s := range []string{r.Medium, r.Source, r.Engine, r.Term} {
			if !utf8.ValidString(s) || strings.ContainsAny(s, "\t\n\r") {
				t.Fatalf("Classify(%q, %q) = %+v: field %q is not clean", pageURL, ref, r, s)
			}
		}
		if r.Medium == "" || r.Source == "" {
			t.Fatalf("Classify(%q, %q) = %+v: empty medium or source", pageURL, ref, r)
		}
		if r.IsSearch != (r.Engine != "") || r.IsSearch != (r.Term != "") {
			t.Fatalf("Classify(%q, %q) = %+v: inconsistent search fields", pageURL, ref, r)
		}
		if len(r.Term) > sources.MaxTermBytes {
			t.Fatalf("term of %d bytes", len(r.Term))
		}
	})
}

func ExampleClassifier_Classify() {
	c := sources.NewClassifier([]string{"shop.example.com"})
	for _, ref := range []string{
		"",
		"https://shop.example.com/cart",
		"https://www.google.co.uk/search?q=Blue+Suede+Shoes",
		"https://www.baidu.com/s?wd=%CC%EC%C6%F8",
		"https://t.co/3xAmPl3",
		"https://news.example.org/story",
	} {
		r := c.Classify([]byte("https://www.example.com/shoes"), []byte(ref))
		fmt.Printf("%s / %s", r.Medium, r.Source)
		if r.IsSearch {
			fmt.Printf(" / %q", r.Term)
		}
		fmt.Println()
	}
	// Output:
	// direct / (direct)
	// internal / shop.example.com
	// search / Google / "blue suede shoes"
	// search / Baidu / "天气"
	// social / Twitter
	// referral / news.example.org
}
