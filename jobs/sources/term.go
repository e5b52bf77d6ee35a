package sources

import (
	"bytes"
	"unicode"
	"unicode/utf8"
)

// MaxTermBytes bounds the length of a search term in bytes; longer terms are
// cut at a character boundary.
const MaxTermBytes = 500

// appendUnescape appends the decoded query value v to dst: '+' is a space,
// %XX a byte, %uXXXX a UTF-16 code unit written as UTF-8 (JavaScript's old
// escape()), and a '%' that starts no valid escape stays as it is.
func appendUnescape(dst, v []byte) []byte {
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '+':
			dst = append(dst, ' ')
		case c == '%' && i+2 < len(v) && isHex(v[i+1]) && isHex(v[i+2]):
			dst = append(dst, unhex(v[i+1])<<4|unhex(v[i+2]))
			i += 2
		case c == '%' && i+5 < len(v) && (v[i+1] == 'u' || v[i+1] == 'U') && isHex4(v[i+2:i+6]):
			r := rune(hex4(v[i+2 : i+6]))
			i += 5
			if utf16Surrogate(r) {
				if r < 0xDC00 && i+6 < len(v) && v[i+1] == '%' && (v[i+2] == 'u' || v[i+2] == 'U') && isHex4(v[i+3:i+7]) {
					if lo := rune(hex4(v[i+3 : i+7])); lo >= 0xDC00 && lo < 0xE000 {
						r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
						i += 6
						dst = utf8.AppendRune(dst, r)
						continue
					}
				}
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

func utf16Surrogate(r rune) bool { return r >= 0xD800 && r < 0xE000 }

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isHex4(b []byte) bool {
	return isHex(b[0]) && isHex(b[1]) && isHex(b[2]) && isHex(b[3])
}

func hex4(b []byte) uint16 {
	return uint16(unhex(b[0]))<<12 | uint16(unhex(b[1]))<<8 | uint16(unhex(b[2]))<<4 | uint16(unhex(b[3]))
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// toUTF8 returns raw (decoded bytes of a term) as UTF-8, choosing the charset
// as browsers and engines do: the charset the engine declares in the
// referrer (when this build can decode it), else UTF-8 when raw is valid
// UTF-8, else the first of the engine's legacy charsets that decodes raw
// cleanly. Failing all that raw is returned as is and its invalid bytes
// become U+FFFD in normalisation. The result may alias raw.
func toUTF8(raw []byte, declared string, fallbacks []string) []byte {
	if declared != "" {
		cs := canonCharset(declared)
		switch {
		case cs == "utf-8":
			// Declared UTF-8 that is not: fall through to the engine's
			// legacy charsets.
		case cs != "":
			if out, clean, known := decodeLegacy(nil, cs, raw); known && (clean || !utf8.Valid(raw)) {
				return out
			}
		}
	}
	if utf8.Valid(raw) {
		return raw
	}
	for _, cs := range fallbacks {
		if out, clean, known := decodeLegacy(nil, cs, raw); known && clean {
			return out
		}
	}
	return raw
}

// appendNormalized appends the report form of the UTF-8 term s to dst:
// invalid bytes become U+FFFD, letters are lower-cased (Unicode simple
// folding to lower case), runs of white space and control characters become
// one space, zero-width spaces and byte-order marks are dropped, the ends are
// trimmed, and the result is cut to MaxTermBytes. So the term holds no tab
// or newline and is valid UTF-8.
func appendNormalized(dst, s []byte) []byte {
	start := len(dst)
	space := false
	for len(s) > 0 {
		r, n := rune(s[0]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRune(s)
		}
		s = s[n:]
		switch {
		case r < utf8.RuneSelf:
			if r <= ' ' || r == 0x7f {
				space = len(dst) > start
				continue
			}
			if r >= 'A' && r <= 'Z' {
				r += 'a' - 'A'
			}
		case r == 0x200B || r == 0xFEFF || r == 0x2060:
			continue
		case unicode.IsSpace(r) || unicode.IsControl(r) || r == 0x2028 || r == 0x2029:
			space = len(dst) > start
			continue
		default:
			r = unicode.ToLower(r)
		}
		w := utf8.RuneLen(r)
		if w < 0 {
			r, w = utf8.RuneError, 3
		}
		if len(dst)-start+w+1 > MaxTermBytes {
			break
		}
		if space {
			dst = append(dst, ' ')
			space = false
		}
		dst = utf8.AppendRune(dst, r)
	}
	return dst
}

// dropCacheOperator turns Google's cache-page query "cache:ID:url words"
// into "words".
func dropCacheOperator(t []byte) []byte {
	if !bytes.HasPrefix(t, []byte("cache:")) {
		return t
	}
	if i := bytes.IndexByte(t, ' '); i >= 0 {
		return t[i+1:]
	}
	return t[:0]
}

// isAbsoluteURL reports whether the term is a lone http(s) URL.
func isAbsoluteURL(t []byte) bool {
	return (bytes.HasPrefix(t, []byte("http://")) || bytes.HasPrefix(t, []byte("https://"))) &&
		bytes.IndexByte(t, ' ') < 0
}
