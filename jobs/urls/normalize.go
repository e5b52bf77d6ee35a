package urls

import (
	"bytes"
)

// NotSet is the report key of a page view without a URL.
const NotSet = "(not set)"

// trackingParams are query parameters that identify a campaign or a click, not a
// page: Google (gclid, gclsrc, dclid, gbraid, wbraid, srsltid, _ga, _gl), Meta
// (fbclid, igshid), Microsoft (msclkid), Yandex (yclid, ysclid), X (twclid),
// TikTok (ttclid), LinkedIn (li_fat_id), Mailchimp (mc_cid, mc_eid), HubSpot
// (_hsenc, _hsmi, __hstc, __hssc, __hsfp, hsctatracking), Marketo (mkt_tok),
// Pinterest (epik), Olytics (oly_anon_id, oly_enc_id), Vero (vero_id,
// vero_conv), Rakuten (rb_clickid), Adobe (s_cid). Every utm_* parameter is
// dropped too. Names compare case-insensitively.
var trackingParams = map[string]bool{
	"gclid": true, "gclsrc": true, "dclid": true, "gbraid": true, "wbraid": true,
	"srsltid": true, "_ga": true, "_gl": true, "fbclid": true, "igshid": true,
	"msclkid": true, "yclid": true, "ysclid": true, "twclid": true, "ttclid": true,
	"li_fat_id": true, "mc_cid": true, "mc_eid": true, "_hsenc": true, "_hsmi": true,
	"__hstc": true, "__hssc": true, "__hsfp": true, "hsctatracking": true,
	"mkt_tok": true, "epik": true, "oly_anon_id": true, "oly_enc_id": true,
	"vero_id": true, "vero_conv": true, "rb_clickid": true, "s_cid": true,
}

// IsTrackingParam reports whether the query parameter name identifies a
// campaign or click rather than content: utm_* and the names in the list above.
func IsTrackingParam(name string) bool { return isTracking([]byte(name)) }

// Normalize appends the report form of the page URL raw to dst. The rule,
// chosen to match what analytics tools show as "one page":
//   - spaces and control bytes around the URL are trimmed; an empty URL, or
//     one with nothing left after the rules below, is "(not set)";
//   - tabs and newlines inside are removed and other control bytes and
//     spaces percent-encoded, as browsers do (WHATWG URL): a report key
//     never holds the tab that separates key columns;
//   - the fragment (#...) is dropped;
//   - the scheme and host are lower-cased, and the default port (:80 for http,
//     :443 for https) is dropped; an empty path becomes "/";
//   - tracking parameters (utm_* and click ids, see IsTrackingParam) are
//     dropped from the query; other parameters keep their order and spelling;
//   - with stripQuery the whole query is dropped;
//   - a "?" with nothing left after it is dropped;
//   - the path's case and percent-encoding are kept: servers may treat them
//     as different pages.
func Normalize(dst, raw []byte, stripQuery bool) []byte {
	start := len(dst)
	dst = normalize(dst, raw, stripQuery)
	if len(dst) == start {
		// Nothing left ("", "#top", "?utm_source=x"): the page is not set.
		dst = append(dst, NotSet...)
	}
	return dst
}

func normalize(dst, raw []byte, stripQuery bool) []byte {
	// Trim C0 controls and spaces, as browsers do; not Unicode spaces, which
	// are kept inside the URL, so that trimming a second time changes nothing.
	s := bytes.TrimFunc(raw, func(r rune) bool { return r <= ' ' })
	if string(s) == NotSet {
		return append(dst, s...) // already a report key
	}
	s = cleanControls(s)
	if i := bytes.IndexByte(s, '#'); i >= 0 {
		s = s[:i]
	}
	var query []byte
	if i := bytes.IndexByte(s, '?'); i >= 0 {
		s, query = s[:i], s[i+1:]
	}
	dst = appendBase(dst, s)
	if stripQuery || len(query) == 0 {
		return dst
	}
	mark := len(dst)
	dst = append(dst, '?')
	for len(query) > 0 {
		var p []byte
		if i := bytes.IndexByte(query, '&'); i >= 0 {
			p, query = query[:i], query[i+1:]
		} else {
			p, query = query, nil
		}
		if len(p) == 0 {
			continue
		}
		name := p
		if i := bytes.IndexByte(p, '='); i >= 0 {
			name = p[:i]
		}
		if isTracking(name) {
			continue
		}
		if len(dst) > mark+1 {
			dst = append(dst, '&')
		}
		dst = append(dst, p...)
	}
	if len(dst) == mark+1 {
		dst = dst[:mark]
	}
	return dst
}

// cleanControls removes tabs and newlines from s and percent-encodes other
// bytes up to space. It returns s itself when there are none.
func cleanControls(s []byte) []byte {
	i := 0
	for i < len(s) && s[i] > ' ' {
		i++
	}
	if i == len(s) {
		return s
	}
	const hex = "0123456789ABCDEF"
	out := append(make([]byte, 0, len(s)+8), s[:i]...)
	for _, c := range s[i:] {
		switch {
		case c == '\t' || c == '\n' || c == '\r':
		case c <= ' ':
			out = append(out, '%', hex[c>>4], hex[c&15])
		default:
			out = append(out, c)
		}
	}
	return out
}

func isTracking(name []byte) bool {
	if len(name) > 32 {
		// Longer than any listed name: only the utm_ prefix can match.
		return bytes.EqualFold(name[:4], []byte("utm_"))
	}
	var buf [32]byte
	for i, c := range name {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	low := buf[:len(name)]
	return bytes.HasPrefix(low, []byte("utm_")) || trackingParams[string(low)]
}

// appendBase appends scheme://host[:port]/path with scheme and host lowered.
func appendBase(dst, s []byte) []byte {
	i := bytes.Index(s, []byte("://"))
	if i <= 0 || !isScheme(s[:i]) {
		return append(dst, s...)
	}
	scheme := s[:i]
	rest := s[i+3:]
	authority, path := rest, []byte(nil)
	if j := bytes.IndexByte(rest, '/'); j >= 0 {
		authority, path = rest[:j], rest[j:]
	}
	start := len(dst)
	dst = appendLower(dst, scheme)
	low := dst[start:]
	dst = append(dst, "://"...)
	// Keep user info as written; lower the host.
	if at := bytes.LastIndexByte(authority, '@'); at >= 0 {
		dst = append(dst, authority[:at+1]...)
		authority = authority[at+1:]
	}
	host := authority
	// The port follows the host's only colon, or the "]" of an IPv6 literal.
	c := bytes.IndexByte(host, ':')
	if len(host) > 0 && host[0] == '[' {
		c = bytes.IndexByte(host, ']') + 1
	}
	if c > 0 && c < len(host) && host[c] == ':' && bytes.IndexByte(host[c+1:], ':') < 0 {
		port := host[c+1:]
		if len(port) == 0 || string(low) == "http" && string(port) == "80" || string(low) == "https" && string(port) == "443" {
			host = host[:c]
		}
	}
	dst = appendLower(dst, host)
	if len(path) == 0 {
		return append(dst, '/')
	}
	return append(dst, path...)
}

func isScheme(b []byte) bool {
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return true
}

func appendLower(dst, b []byte) []byte {
	for _, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}
