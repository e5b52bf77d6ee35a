package html

// definitions say what every measure means, as the README's "Visits and
// visitors" does; the footer of every page lists those of its measures.
var definitions = map[string]string{
	"pageviews":            "Page views: every page view that is not a bot's or referrer spam's. In the visits report and the time series, a visit's page views count in the hour and day the visit began.",
	"visitors":             "Visitors: distinct visitor keys (visitor_id when the page view has one, else IP address and user agent together). Exact up to 1,536 per row, above that a HyperLogLog estimate (±0.81%). Distinct counts do not add up: the visitors of several rows together are not their sum.",
	"visits":               "Visits: a visitor's run of page views with no gap longer than the visit timeout (30 minutes unless set otherwise). A visit also ends at local midnight, and a new one starts when a page view brings a campaign or an external referrer other than the visit's own. A visit's source, device, location and language are its first page view's.",
	"bounces":              "Bounces: visits of one page view.",
	"bounce_rate":          "Bounce rate: bounces / visits (for entry pages, bounces / entries).",
	"avg_visit_duration_s": "Visit duration: the mean time from a visit's first page view to its last; a bounce counts 0 s.",
	"pageviews_per_visit":  "Views per visit: page views / visits.",
	"entries":              "Entries: visits that began on the page.",
	"exits":                "Exits: visits that ended on the page.",
	"exit_rate":            "Exit rate: exits from a page / page views of the page.",
}

// definition returns the definition of the measure name, or "".
func definition(name string) string { return definitions[name] }
