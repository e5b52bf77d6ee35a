// Package synth generates realistic synthetic page views, deterministic for
// a seed: it writes shard files and access logs (pvjobs gen) and serves as
// an in-memory source for tests and benchmarks (MemSource). Every benchmark
// of the project and every figure in the README runs on this traffic.
//
// # The mix
//
// Traffic is made of visits, as on a real site, per account and UTC day:
//
//   - Volume: Config.RowsPerDay page views per account per weekday (70% of
//     it on Saturdays and Sundays, a little noise per day), following a daily
//     curve that is quiet at 04:00 UTC and busiest in the afternoon. Visits
//     that start before midnight go on in the next day's shard.
//   - Visits: 48% bounce (one page view); the others have 2 pages and an
//     exponentially distributed number more (mean 3.5, at most 60), so about
//     3.1 page views per visit, some over 20. Pages of a visit are seconds
//     to minutes apart (log-normal, median 35 s, at most 25 min); 1% of the
//     gaps are a pause of 31-90 minutes, after which analytics count a new
//     visit. Each page after the first has the previous page's URL as its
//     referrer (internal navigation): a popular page, a related one or a
//     section page.
//   - Entry sources (the first page view of a visit): 30% direct (no
//     referrer); 32% search engines with real referrer URLs (Google's
//     country domains and app without the term, Bing, DuckDuckGo, Yahoo,
//     Yandex, Baidu, Ecosia, Brave, Qwant, Naver with the term about a third
//     of the time; terms a few common ones and a long tail); 12% social
//     networks (t.co links and Reddit threads with their own paths); 4%
//     webmail; 12% links from other sites (with paths); 10% campaigns:
//     utm_source/utm_medium/utm_campaign (+utm_content, utm_term) and click
//     ids (gclid, fbclid, msclkid, igshid, a random value per visit) on the
//     landing URL, with or without a referrer.
//   - Visitors: 70% of visits are by a new visitor, 30% by a returning one
//     (earlier the same day, the next days, up to a week later); a quarter
//     of those who return on a later day come from another IP address. A
//     third of the visitors have a visitor_id. Each visitor has a distinct
//     public IP address (Config.Networks empty): IPv4 uniformly over the
//     whole public space (no private, shared, documentation, benchmarking,
//     multicast or reserved ranges), 15% IPv6 in access networks of large
//     providers on every continent; with Config.Networks (the test GeoIP
//     databases' sample networks, geo.SamplePrefixes) every visitor comes
//     from one of those networks.
//   - User agents: 75% of visitors have one of the 952 real user agents of
//     the npm package user-agents 2.1.198 (BSD-2-Clause, see
//     agents/LICENSE.user-agents; agents/refresh.sh rebuilds the table) with
//     its real weights; 25% one of Config.Agents (default 4,000) variants of
//     real shapes — Chrome, Edge, Opera, Firefox, Safari, Samsung Internet,
//     Instagram and Facebook in-app browsers, tablets, ChromeOS, smart TVs —
//     with versions, device models and in-app details filled in and
//     Zipf-like weights: thousands of distinct strings, most of them rare.
//   - Language: 50 values weighted as a worldwide site sees them, mostly one
//     tag (en-US, de-DE, fr, zh-CN, ja-JP, pt-BR, ...), some whole
//     Accept-Language headers ("de-DE,de;q=0.9,en-US;q=0.8,en;q=0.7").
//   - Pages: Config.Pages (default 2,000) per site with titles, drawn by a
//     Zipf law (s = 1.1); 2% of page views are site searches (/search?q=, a
//     long tail of URLs), others paginated (?page=) or sorted (?sort=)
//     listings, 2% have a #fragment.
//   - Bots: Config.BotShare (default 10%) of the page views, as crawls from
//     the crawler's own network where it publishes one: Googlebot (desktop
//     and smartphone), bingbot, GPTBot, ClaudeBot, AhrefsBot, SemrushBot,
//     YandexBot, Applebot, PetalBot, DotBot, Bytespider hit 3 to 200 pages
//     anywhere in the site, seconds apart, without referrers; link
//     previewers (facebookexternalhit, Slackbot, Twitterbot) and uptime
//     monitors one; scripts (curl, python-requests, Go-http-client,
//     HeadlessChrome) and empty user agents a few.
//
// Shards are generated independently (a shard needs only its day's and the
// end of the day before's visits), in time order, streaming: memory does not
// grow with the size of a shard written to a file or an access log.
package synth
