package location

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Mask replaces a secret in what Redact returns.
const Mask = "xxxxx"

// span is a secret's place in a location: raw[start:end].
type span struct{ start, end int }

// secretSpans finds the secrets of raw, which need not parse as a URL:
//
//   - the password of the userinfo: after the first ":" following the
//     scheme's "://", up to the last "@" (erring on the side of hiding: an
//     "@" in the query hides more than the password);
//   - the values of query parameters whose names say they are secret
//     (password, passwd, pass, pwd, secret, token, auth, credential, apikey,
//     api_key, access_key, private_key; any case, anywhere in the name).
func secretSpans(raw string) []span {
	var out []span
	if i := strings.Index(raw, "://"); i >= 0 {
		start := i + 3
		if at := strings.LastIndexByte(raw, '@'); at > start {
			if colon := strings.IndexByte(raw[start:at], ':'); colon >= 0 {
				out = append(out, span{start + colon + 1, at})
			}
		}
	}
	q := strings.IndexByte(raw, '?')
	if q < 0 {
		return out
	}
	end := len(raw) // a "#" does not end it: hide more rather than less
	for pos := q + 1; pos < end; {
		amp := strings.IndexAny(raw[pos:end], "&;")
		next := end
		if amp >= 0 {
			next = pos + amp
		}
		kv := raw[pos:next]
		if eq := strings.IndexByte(kv, '='); eq >= 0 && secretName(kv[:eq]) && eq+1 < len(kv) {
			out = append(out, span{pos + eq + 1, next})
		}
		pos = next + 1
	}
	return out
}

var secretWords = []string{"pass", "pwd", "secret", "token", "auth", "credential", "apikey", "api_key", "access_key", "private_key"}

// secretName reports whether a query parameter's name says its value is a
// secret.
func secretName(name string) bool {
	if n, err := url.QueryUnescape(name); err == nil {
		name = n
	}
	name = strings.ToLower(name)
	for _, w := range secretWords {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

// Redact returns raw with every secret (see Secrets) replaced by Mask. It
// works on any text, URL or not; text without secrets is returned as it is.
func Redact(raw string) string {
	spans := secretSpans(raw)
	if len(spans) == 0 {
		return raw
	}
	slices.SortFunc(spans, func(a, b span) int { return a.start - b.start })
	var b strings.Builder
	last := 0
	for _, s := range spans {
		if s.start <= last && last > 0 { // overlapping or touching: one mask
			if s.end > last {
				last = s.end
			}
			continue
		}
		b.WriteString(raw[last:s.start])
		b.WriteString(Mask)
		last = s.end
	}
	b.WriteString(raw[last:])
	return b.String()
}

// Secrets returns the secrets of raw in every form a message may show them:
// as written, percent-decoded, percent-encoded and Go-quoted (%q). Empty
// secrets are left out.
func Secrets(raw string) []string {
	var out []string
	add := func(s string) {
		if s != "" && s != Mask && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for _, sp := range secretSpans(raw) {
		s := raw[sp.start:sp.end]
		forms := []string{s}
		if d, err := url.PathUnescape(s); err == nil {
			forms = append(forms, d)
		}
		if d, err := url.QueryUnescape(s); err == nil {
			forms = append(forms, d)
		}
		for _, f := range slices.Clone(forms) {
			forms = append(forms, url.PathEscape(f), url.QueryEscape(f), url.UserPassword("", f).String()[1:])
			if q := strconv.Quote(f); len(q) > 2 {
				forms = append(forms, q[1:len(q)-1])
			}
		}
		for _, f := range forms {
			add(f)
		}
	}
	// Longest first, so that a secret containing another is hidden whole.
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

// scrub hides every secret of raw in msg.
func scrub(msg, raw string) string {
	if red := Redact(raw); red != raw {
		msg = strings.ReplaceAll(msg, raw, red)
	}
	for _, s := range Secrets(raw) {
		msg = strings.ReplaceAll(msg, s, Mask)
	}
	return msg
}
