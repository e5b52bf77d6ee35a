// Package html writes a run's reports as HTML: one self-contained page per
// account for the run's range, and an index page that links the accounts
// with their headline numbers. A page is one file: its style sheet, its
// charts and its one small script are inside it, and it loads nothing from
// anywhere, so it can be opened from disk, mailed and printed.
//
// # Contents
//
// Top to bottom: the account, range and time zone, when and by which
// version the page was made, and the run's data quality (shards read and
// missing, bad rows, bots and referrer spam left out); headline tiles
// (visitors, visits, page views, bounce rate, visit duration, page views per
// visit — those the run's reports have), each with its change against the
// previous period when the reports carry rows of period mapreduce.PeriodPrevious (a run with --compare previous); a
// time series of visitors and page views (hourly for ranges up to two days,
// daily up to 400 days, monthly beyond); tables of pages (with titles;
// entry and exit pages), channels, sources, campaigns, search terms,
// countries, regions and cities, languages, device classes, browsers and
// operating systems; a weekday × hour heatmap of the hours report; and a
// footer with the definition of every measure shown and links to the run's
// CSV files (Run.CSVFiles).
//
// Each table shows its top Options.Top rows, then an "(other)" row that
// sums the rest (with the report's own "(other)" row) and a total, so
// nothing disappears silently. Rows added together add up only what adds
// up: page views, visits, bounces, entries and exits are summed, rates and
// averages are recomputed from them, and distinct counts (visitors), which
// no sum gives, show as a dash.
//
// # Charts: SVG made on the server
//
// The charts are SVG and HTML written by this package, not a charting
// library run in the browser: a bar and line chart and a shaded table are a
// couple of hundred lines of Go, there is nothing to vendor and keep up to
// date, and the charts work where scripts do not (mail readers, print,
// scripts turned off). Every bar has its numbers in a <title> (a tooltip),
// and every chart has a table with the same numbers beside it (the heatmap
// is a table). The page's one script only adds a readout of the bar under
// the finger or the arrow keys, for phones and keyboards; it reads its
// data from a <script type="application/json"> element and writes text,
// never markup.
//
// # Safety
//
// URLs, titles, referrers, search terms, campaign values and user agents
// come from the open internet. Every value reaches the page through
// html/template, escaped for where it lands (element text, attribute, the
// JSON of the script's data, where "<" is written \u003c so "</script>"
// cannot end the element). URLs from page views are shown, never linked:
// the pages link only to the run's own files. The page carries a
// Content-Security-Policy (CSP) that forbids every request and every script
// and style sheet but its own, named by their SHA-256, and builds no markup
// from strings (Trusted Types).
//
// # Files
//
// Options.Pattern names each account's page ({account}, {from}, {to}) and
// Options.Index the index ({from}, {to}), as file names in Options.Dir, so
// a nightly run can keep a history. Pages are written like the CSV files
// (package atomicfile): Check before the run reads any data, Prepare to
// temporary files, then Commit renames them all, or Abort removes them.
//
// Package browsertest drives headless Chromium for the tests.
package html
