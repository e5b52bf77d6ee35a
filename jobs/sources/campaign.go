package sources

import "strings"

// campaign is what the page URL's utm_medium and utm_source say, normalised;
// either may be "".
type campaign struct{ medium, source string }

// campaignMedia maps utm_medium values to the media of this package, after
// Google Analytics' default channel rules; other values are kept as they are.
var campaignMedia = map[string]string{
	"organic": MediumSearch,
	"cpc":     MediumCPC, "ppc": MediumCPC, "paidsearch": MediumCPC, "paid search": MediumCPC,
	"paid-search": MediumCPC, "paid_search": MediumCPC,
	"email": MediumEmail, "e-mail": MediumEmail, "e_mail": MediumEmail, "e mail": MediumEmail,
	"social": MediumSocial, "social-network": MediumSocial, "social-media": MediumSocial, "sm": MediumSocial,
	"social network": MediumSocial, "social media": MediumSocial, "social_network": MediumSocial,
	"social_media": MediumSocial,
	"referral":     MediumReferral,
	"(none)":       MediumDirect, "none": MediumDirect,
}

// pageSignals are the campaign parameters of a page URL.
type pageSignals struct {
	medium, source []byte
	// google: gclid, gbraid or wbraid; bing: msclkid; facebook: fbclid.
	google, bing, facebook bool
}

func readSignals(q []byte) (s pageSignals) {
	for len(q) > 0 {
		var p param
		p, q = nextParam(q)
		if len(p.name) < 5 || len(p.value) == 0 {
			continue
		}
		switch {
		case equalFoldASCII(p.name, "utm_medium"):
			s.medium = p.value
		case equalFoldASCII(p.name, "utm_source"):
			s.source = p.value
		case equalFoldASCII(p.name, "gclid"), equalFoldASCII(p.name, "gbraid"), equalFoldASCII(p.name, "wbraid"):
			s.google = true
		case equalFoldASCII(p.name, "msclkid"):
			s.bing = true
		case equalFoldASCII(p.name, "fbclid"):
			s.facebook = true
		}
	}
	return s
}

// applyCampaign lets the page URL's campaign parameters override r, as
// analytics tools do (see the package documentation, "Campaigns").
func (k *Cache) applyCampaign(r *Result, page *urlParts) {
	if page == nil || len(page.query) == 0 {
		return
	}
	s := readSignals(page.query)
	fromRef := r.Medium
	switch {
	case len(s.medium) > 0 || len(s.source) > 0:
		c := k.campaign(s.medium, s.source)
		if c.medium == "" && c.source == "" {
			return
		}
		external := fromRef != MediumDirect && fromRef != MediumInternal
		switch {
		case c.medium != "":
			r.Medium = c.medium
			if c.source != "" {
				r.Source = c.source
			} else if !external {
				r.Source = NotSet
			}
		case external:
			r.Source = c.source
		default:
			r.Medium, r.Source = NotSet, c.source
		}
	case s.google:
		r.Medium, r.Source = MediumCPC, "Google"
	case s.bing:
		r.Medium, r.Source = MediumCPC, "Bing"
	case s.facebook && fromRef == MediumDirect:
		r.Medium, r.Source = MediumSocial, "Facebook"
	default:
		return
	}
	r.Campaign = true
}

// campaign returns the normalised campaign of the raw utm_medium and
// utm_source values, cached.
func (k *Cache) campaign(medium, source []byte) *campaign {
	k.key = append(append(append(k.key[:0], medium...), 0), source...)
	if c, ok := k.campaigns[string(k.key)]; ok {
		return c
	}
	c := &campaign{medium: k.utmValue(medium), source: k.utmValue(source)}
	if m, ok := campaignMedia[c.medium]; ok {
		c.medium = m
	}
	c.source = canonSource(c.source)
	if len(k.campaigns) >= maxCampaigns {
		clear(k.campaigns)
	}
	k.campaigns[string(k.key)] = c
	return c
}

// utmValue decodes and normalises a utm_* value: lower case, single spaces,
// valid UTF-8.
func (k *Cache) utmValue(v []byte) string {
	if len(v) == 0 {
		return ""
	}
	k.raw = appendUnescape(k.raw[:0], v)
	k.norm = appendNormalized(k.norm[:0], toUTF8(k.raw, "", nil))
	return string(k.norm)
}

// canonSource maps a campaign source that names a known engine, network or
// web mail, by name ("google", "Hacker News", "fb") or by host
// ("facebook.com", "t.co", "https://l.instagram.com/"), to the tables' name;
// other sources stay as they are.
func canonSource(v string) string {
	t := tables()
	if v == "" {
		return v
	}
	if n, ok := t.aliases[v]; ok {
		return n
	}
	if n, ok := t.aliases[strings.ReplaceAll(v, " ", "")]; ok {
		return n
	}
	if p, ok := splitURL([]byte(strings.TrimSpace(v))); ok && validHost(p.host) {
		if s := t.index.lookup(string(siteHost(appendLowerASCII(nil, p.host)))); s != nil {
			return s.name
		}
	}
	return v
}
