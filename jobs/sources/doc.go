// Package sources holds the traffic-source jobs: "sources" counts page views
// per medium and source, "searchterms" counts page views from search engines
// per engine and search term. Both rest on a reusable [Classifier] of
// referrers, with a per-worker [Cache] for the per-row path, and on the
// package's own tables: [Engines], [Socials], [Webmails] and [Apps]. The
// tables are compiled when the first classification needs them; changing
// them afterwards has no effect.
//
// # Media
//
// A page view's referrer is classified, in this order, as
//   - direct: no referrer, or one that is not a URL with a host ("not a
//     url", "about:blank"); source "(direct)";
//   - internal: the referrer's host is the page URL's host, ignoring a
//     leading "www.", "m.", "mobile.", "wap." or "amp." (so www.example.com
//     and example.com are one site, blog.example.com another), or it is one
//     of the internal domains or below one; source: the referrer's host without
//     "www.";
//   - search: the host is a search engine's ([Engines]), unless its path is
//     one of the engine's non-search pages (google.com/maps); source: the
//     engine's name. A host that no table lists but that is named for search
//     (a label "search", "suche", "recherche", "busca", "szukaj", ..., or one
//     that begins or ends with "search", not under a listed domain) is a
//     search portal when its referrer carries a term in a common parameter
//     (q, query, text, kw, ...); source and engine: the host;
//   - social: a social network, forum or messenger, including their link
//     redirectors (t.co, l.facebook.com, lnkd.in, out.reddit.com); source:
//     the network's name;
//   - email: a web mail ([Webmails]), or a host of three labels or more
//     whose first label names a web mail front end ("webmail", "webmail2",
//     "mail", "mail01", "email", "owa", "roundcube", "messagerie...",
//     "...mail"); source: the service's name or the host;
//   - referral: any other host; source: the host without "www.".
//
// Android apps send "android-app://<package>/" referrers: known packages
// ([Apps]: the Google app, Gmail, Facebook, ...) take their medium and name,
// other apps are referrals with the package as source. Hosts are matched
// without port or user info, in lower case, with a trailing dot dropped.
//
// # Campaigns
//
// As in analytics tools, tags on the page URL override the referrer:
//   - utm_medium sets the medium (lower-cased; "organic" is search; cpc, ppc
//     and paidsearch are "cpc"; email, e-mail, e_mail are email; social,
//     social-media, social-network and sm are social; "(none)" is direct;
//     any other value stays as written), and utm_source the source
//     (lower-cased, and mapped to the tables' name when it names a known
//     engine, network or web mail by name or host: "google", "facebook.com").
//     With only utm_medium the source is the referrer's, or "(not set)" for
//     direct and internal page views; with only utm_source the medium is the
//     referrer's, or "(not set)" for direct and internal page views.
//   - Without utm tags, an ad click id sets medium "cpc": gclid, gbraid or
//     wbraid with source Google, msclkid with source Bing; and fbclid on a
//     page view without referrer makes it social from Facebook (Facebook adds
//     fbclid to its outbound links, and in-app browsers often send no
//     referrer).
//
// The override applies to every page view that carries tags, as analytics
// tools do; the searchterms job ignores it and goes by the referrer alone.
//
// # Search terms
//
// The term is read from the engine's own query parameters ([Engine.Params],
// in priority order: Google q, Bing q, Yahoo p, Yandex text, Baidu wd then
// word, Naver query, Sogou query, ...); when the query has none, from the
// fragment (Google's "#q=" instant search), Google's advanced-search
// parameters (as_q, as_epq, as_oq, as_eq) and Google Images' nested "prev"
// URL. The value is percent- and plus-decoded (%uXXXX too), then turned into
// UTF-8: in the charset the engine declares in the referrer ([Engine.CharsetParams]:
// Baidu, Sogou and So.com "ie=gbk", Yahoo "ei=EUC-JP", Google "ie=ISO-8859-1"), else as
// UTF-8 when it is valid UTF-8, else in the engine's first legacy charset
// that decodes it cleanly ([Engine.Charsets]: GB18030 for Baidu, Sogou, So.com
// and Shenma; EUC-KR for Naver, Daum, Nate; EUC-JP then Shift_JIS for Japanese
// engines; windows-1251 for Yandex, Mail.ru, Rambler), else with invalid
// bytes replaced by U+FFFD. It is then lower-cased, runs of white space and
// control characters become one space, the ends are trimmed, and Google's
// "cache:" operator is dropped. A known engine with no term, or an empty
// one, gives [NotProvided]; so does a redirector path whose term is a URL
// (google.com/url?q=https://... from Gmail and Docs).
//
// # Host patterns
//
// Table entries name hosts with four kinds of pattern, matched against the
// referrer's host in lower case with leading "www."/"m."/"wap." labels
// dropped:
//   - "bing.com": that host;
//   - "*.bing.com": that host and every host below it;
//   - "google.{tld}": that name under any two-letter country code, with or
//     without a second level such as co., com., ne. or or., or under .com,
//     .net or .cat (google.de, google.com, google.co.uk, google.com.br,
//     yandex.com.tr); google.evil.com, google.org and notgoogle.com do not
//     match;
//   - "*.search.yahoo.{tld}": both at once.
//
// The most specific pattern wins: an exact host, then the longest "*."
// suffix, then a "{tld}" host, then the longest "*." suffix with "{tld}".
//
// # Cost
//
// A Cache keeps, per worker and in bounded maps (cleared when full), the
// classification of each referrer host, the term of each search referrer
// URL, and each campaign's normalised tags. Referrers are scanned by hand,
// without net/url; on a cache hit classifying a row costs a few map lookups
// and no allocation.
package sources
