package devices

import "strings"

// This file holds the small string helpers the rules are written with. A user
// agent is examined in two forms of the same length: s as sent and l, its
// ASCII lower case, so that an index found in one is valid in the other.

// lowerASCII returns s with A-Z mapped to a-z and every other byte unchanged,
// so the result has the same length and byte offsets as s.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; 'A' <= c && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

func isLetter(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
func isUpper(c byte) bool  { return 'A' <= c && c <= 'Z' }
func isAlnum(c byte) bool  { return isLetter(c) || isDigit(c) }

// isNameByte reports whether c may be part of a product name such as
// "Googlebot-Image" or "python_requests.v2".
func isNameByte(c byte) bool { return isAlnum(c) || c == '-' || c == '_' || c == '.' }

// containsAny reports whether s contains any of subs.
func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// hasWord reports whether w occurs in s with no letter or digit right before
// or right after it: hasWord("Galaxy Tab S7", "Tab") is true, hasWord("Table",
// "Tab") is false.
func hasWord(s, w string) bool {
	for off := 0; ; {
		i := strings.Index(s[off:], w)
		if i < 0 {
			return false
		}
		i += off
		j := i + len(w)
		if (i == 0 || !isAlnum(s[i-1])) && (j == len(s) || !isAlnum(s[j])) {
			return true
		}
		off = i + 1
	}
}

// hasPrefixFold reports whether s starts with prefix, a lower-case ASCII
// string, in any case.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// hasWordPrefix is hasWord without the check after w: the word starts with w.
func hasWordPrefix(s, w string) bool {
	for off := 0; ; {
		i := strings.Index(s[off:], w)
		if i < 0 {
			return false
		}
		i += off
		if i == 0 || !isAlnum(s[i-1]) {
			return true
		}
		off = i + 1
	}
}

// hasToken reports whether w occurs in s not followed by a letter: the end of
// a word, as "Mobile" in "Mobile Safari" or "Mobile/15E148" but not in
// "Mobiles". Unlike hasWord, a letter may come before it ("YandexMobileBot").
func hasToken(s, w string) bool {
	for off := 0; ; {
		i := strings.Index(s[off:], w)
		if i < 0 {
			return false
		}
		i += off
		if j := i + len(w); j == len(s) || !isLetter(s[j]) {
			return true
		}
		off = i + 1
	}
}

// versionAfter returns the major and minor numbers that follow the first
// occurrence of prefix in s ("Android " in "Android 4.4.2" gives 4, 4); ok is
// false when prefix is absent or not followed by a digit. Separators '.' and
// '_' are accepted ("CPU OS 13_2").
func versionAfter(s, prefix string) (major, minor int, ok bool) {
	i := strings.Index(s, prefix)
	if i < 0 {
		return 0, 0, false
	}
	s = s[i+len(prefix):]
	major, n := leadingInt(s)
	if n == 0 {
		return 0, 0, false
	}
	s = s[n:]
	if len(s) > 1 && (s[0] == '.' || s[0] == '_') {
		minor, _ = leadingInt(s[1:])
	}
	return major, minor, true
}

// leadingInt parses the decimal digits at the start of s (at most 6 of them).
func leadingInt(s string) (v, n int) {
	for n < len(s) && n < 6 && isDigit(s[n]) {
		v = v*10 + int(s[n]-'0')
		n++
	}
	return v, n
}

// firstComment returns the text inside the first parenthesised comment of s,
// "Linux; Android 10; K" for "Mozilla/5.0 (Linux; Android 10; K) ...", and
// its offset in s; an unclosed comment runs to the end of s.
func firstComment(s string) (c string, off int) {
	i := strings.IndexByte(s, '(')
	if i < 0 {
		return "", -1
	}
	rest := s[i+1:]
	if j := strings.IndexByte(rest, ')'); j >= 0 {
		rest = rest[:j]
	}
	return rest, i + 1
}

// sanitizeName keeps a product name fit for a report key: printable ASCII
// without tabs, at most maxName bytes, trimmed; "" if nothing is left.
func sanitizeName(s string) string {
	const maxName = 48
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < maxName; i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f {
			c = ' '
		}
		if c == ' ' && (b.Len() == 0 || strings.HasSuffix(b.String(), " ")) {
			continue
		}
		b.WriteByte(c)
	}
	return strings.TrimSpace(b.String())
}

// matcher finds the occurrences of a set of lower-case tokens in a string in
// one pass, checking at each byte only the tokens that start with it.
type matcher struct {
	toks    []string
	byFirst [256][]int
}

func newMatcher(toks []string) *matcher {
	m := &matcher{toks: toks}
	for k, t := range toks {
		m.byFirst[t[0]] = append(m.byFirst[t[0]], k)
	}
	return m
}

// each calls fn for every occurrence of a token in l, by offset and, at one
// offset, in the order of the tokens; it stops when fn returns false.
func (m *matcher) each(l string, fn func(i, k int) bool) {
	for i := 0; i < len(l); i++ {
		for _, k := range m.byFirst[l[i]] {
			tok := m.toks[k]
			if len(tok) > len(l)-i || (len(tok) > 1 && tok[1] != l[i+1]) || l[i:i+len(tok)] != tok {
				continue
			}
			if !fn(i, k) {
				return
			}
		}
	}
}

// atStart reports whether l starts with a token of m.
func (m *matcher) atStart(l string) bool {
	if l == "" {
		return false
	}
	for _, k := range m.byFirst[l[0]] {
		if strings.HasPrefix(l, m.toks[k]) {
			return true
		}
	}
	return false
}

// anyWordPrefix reports whether a token of m starts a word of l.
func (m *matcher) anyWordPrefix(l string) bool {
	found := false
	m.each(l, func(i, _ int) bool {
		found = i == 0 || !isAlnum(l[i-1])
		return !found
	})
	return found
}
