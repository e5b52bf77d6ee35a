package sources

import (
	"bytes"
	"unicode/utf8"
)

// urlParts are the pieces of a URL found by splitURL. They alias the input.
type urlParts struct {
	// scheme is as written ("HTTPS", "android-app"); empty for "//host" and
	// scheme-less referrers.
	scheme []byte
	// host is the host as written, without user info, port or trailing dot;
	// an IPv6 literal keeps its brackets.
	host []byte
	// rest is what follows the host and port: path, query and fragment,
	// which splitRest cuts apart.
	rest                  []byte
	path, query, fragment []byte
}

// splitURL finds scheme, host, path, query and fragment of s by scanning
// bytes, the way browsers read http URLs: "\" counts as "/", user info and
// port are dropped. A string without "scheme://" is read as a URL without
// scheme only when it starts with something that looks like a host name with
// a dot in it ("www.example.com/page"). ok is false when no host is found.
// The host is not checked further: callers that keep it check it with
// validHost (off the per-row path, once per distinct host). s must have no
// white space around it (see trimSpace).
func splitURL(s []byte) (p urlParts, ok bool) {
	rest := s
	switch {
	case len(s) > 8 && string(s[:8]) == "https://":
		p.scheme, rest = s[:5], s[8:]
	case len(s) > 7 && string(s[:7]) == "http://":
		p.scheme, rest = s[:4], s[7:]
	case bytes.HasPrefix(s, []byte("//")):
		rest = s[2:]
	default:
		if i := schemeEnd(s); i > 0 {
			if !bytes.HasPrefix(s[i+1:], []byte("//")) {
				// "about:blank", "mailto:x", "data:...": no host.
				return p, false
			}
			p.scheme = s[:i]
			rest = s[i+3:]
		} else if !looksLikeHost(s) {
			return p, false
		}
	}
	// One pass over the authority finds its end, the last '@' (user info
	// ends there) and the ':' of a port.
	end, at, colon := len(rest), -1, -1
scan:
	for i, c := range rest {
		switch authorityByte[c] {
		case 0:
		case '/':
			end = i
			break scan
		case '@':
			at, colon = i, -1
		case ':':
			if colon < 0 {
				colon = i
			}
		}
	}
	host := rest[at+1 : end]
	rest = rest[end:]
	if len(host) > 0 && host[0] == '[' {
		i := bytes.IndexByte(host, ']')
		if i < 0 {
			return p, false
		}
		host = host[:i+1]
	} else if colon >= 0 {
		host = host[:colon-at-1]
	}
	for len(host) > 0 && host[len(host)-1] == '.' {
		host = host[:len(host)-1]
	}
	if len(host) == 0 {
		return p, false
	}
	p.host, p.rest = host, rest
	return p, true
}

// splitRest cuts p.rest into path, query and fragment; the per-row path
// calls it only for the referrers and pages that need them.
func (p *urlParts) splitRest() {
	rest := p.rest
	if i := bytes.IndexByte(rest, '#'); i >= 0 {
		p.fragment = rest[i+1:]
		rest = rest[:i]
	}
	if i := bytes.IndexByte(rest, '?'); i >= 0 {
		p.query = rest[i+1:]
		rest = rest[:i]
	}
	p.path = rest
}

// authorityByte marks the bytes that matter in an authority: '/' for the
// bytes that end it ('/', '?', '#', '\\'), and '@' and ':' for themselves.
var authorityByte = [256]byte{'/': '/', '?': '/', '#': '/', '\\': '/', '@': '@', ':': ':'}

// schemeEnd returns the index of the ':' that ends a URL scheme at the start
// of s, or -1.
func schemeEnd(s []byte) int {
	for i, c := range s {
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		case i > 0 && c == ':':
			return i
		default:
			return -1
		}
	}
	return -1
}

// looksLikeHost reports whether s starts with a dotted host name followed by
// the end, a port, or a path, query or fragment.
func looksLikeHost(s []byte) bool {
	dot := false
	for i, c := range s {
		switch {
		case c == '.':
			if i == 0 {
				return false
			}
			dot = true
		case c == '/' || c == '?' || c == '#' || c == ':':
			return dot && i > 0
		case !hostByte(c):
			return false
		}
	}
	return dot
}

func hostByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c >= 0x80
}

// validHost accepts host names of letters, digits, '-', '_', '.' and UTF-8
// (internationalised names as browsers sometimes send them), and bracketed
// IPv6 literals.
func validHost(h []byte) bool {
	if len(h) == 0 || len(h) > 253 {
		return false
	}
	if h[0] == '[' {
		for _, c := range h[1 : len(h)-1] {
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == ':' || c == '.') {
				return false
			}
		}
		return len(h) > 2
	}
	high := false
	for _, c := range h {
		if !hostByte(c) {
			return false
		}
		high = high || c >= 0x80
	}
	return !high || utf8.Valid(h)
}

func trimSpace(s []byte) []byte {
	for len(s) > 0 && s[0] <= ' ' {
		s = s[1:]
	}
	for len(s) > 0 && s[len(s)-1] <= ' ' {
		s = s[:len(s)-1]
	}
	return s
}

// appendLowerASCII appends b to dst with ASCII letters lowered.
func appendLowerASCII(dst, b []byte) []byte {
	for _, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

func hasUpperASCII(b []byte) bool {
	for _, c := range b {
		if c >= 'A' && c <= 'Z' {
			return true
		}
	}
	return false
}

// stripWWW drops a leading "www.", "www2." or "ww." label, as sources show
// hosts.
func stripWWW(h []byte) []byte {
	if i := bytes.IndexByte(h, '.'); i > 0 && i < len(h)-1 && isWWW(h[:i]) {
		return h[i+1:]
	}
	return h
}

func isWWW(l []byte) bool {
	if len(l) < 2 || l[0]|0x20 != 'w' || l[1]|0x20 != 'w' {
		return false
	}
	l = l[2:]
	if len(l) > 0 && l[0]|0x20 == 'w' {
		l = l[1:]
	}
	for _, c := range l {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// siteHost drops the leading labels that name the same site on another
// front end: "www", "www2", "m", "mobile", "wap", "amp" (at most two of them,
// and never the last two labels), so that "m.example.com",
// "www.example.com" and "example.com" compare equal.
func siteHost(h []byte) []byte {
	for range 2 {
		i := bytes.IndexByte(h, '.')
		if i <= 0 || bytes.IndexByte(h[i+1:], '.') < 0 {
			return h
		}
		l := h[:i]
		if !isWWW(l) && !equalFoldASCII(l, "m") && !equalFoldASCII(l, "mobile") &&
			!equalFoldASCII(l, "wap") && !equalFoldASCII(l, "amp") {
			return h
		}
		h = h[i+1:]
	}
	return h
}

func equalFoldASCII(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// param is one name=value pair of a query string, both still encoded.
type param struct{ name, value []byte }

// nextParam splits the first '&'-separated pair off q.
func nextParam(q []byte) (p param, rest []byte) {
	seg := q
	if i := bytes.IndexByte(q, '&'); i >= 0 {
		seg, rest = q[:i], q[i+1:]
	}
	if i := bytes.IndexByte(seg, '='); i >= 0 {
		return param{name: seg[:i], value: seg[i+1:]}, rest
	}
	return param{name: seg}, rest
}

// lookupParam returns the value of the first parameter of q named name, and
// whether there is one.
func lookupParam(q []byte, name string) ([]byte, bool) {
	for len(q) > 0 {
		var p param
		p, q = nextParam(q)
		if string(p.name) == name {
			return p.value, true
		}
	}
	return nil, false
}
