package sources

import (
	"fmt"
	"strings"
)

// kind is what a known host is.
type kind uint8

const (
	kindReferral kind = iota
	kindSearch
	kindSocial
	kindEmail
)

func (k kind) medium() string {
	switch k {
	case kindSearch:
		return MediumSearch
	case kindSocial:
		return MediumSocial
	case kindEmail:
		return MediumEmail
	}
	return MediumReferral
}

// site is one entry of the host tables: an engine, a network or a webmail.
type site struct {
	kind   kind
	name   string
	engine *Engine
}

// hostIndex finds the site of a host from the host patterns of the tables
// (see the package documentation, "Host patterns"). It is read-only after
// construction.
type hostIndex struct {
	// exact holds "a.b.c"; suffix holds "*.a.b.c" under "a.b.c";
	// exactTLD holds "a.b.{tld}" under "a.b"; suffixTLD holds "*.a.{tld}"
	// under "a".
	exact, suffix, exactTLD, suffixTLD map[string]*site
}

func newHostIndex() *hostIndex {
	return &hostIndex{
		exact: map[string]*site{}, suffix: map[string]*site{},
		exactTLD: map[string]*site{}, suffixTLD: map[string]*site{},
	}
}

// add indexes pattern for s. It fails on a malformed pattern or one that an
// earlier entry already holds.
func (ix *hostIndex) add(pattern string, s *site) error {
	p := strings.ToLower(pattern)
	sub, tld := false, false
	p, sub = strings.CutPrefix(p, "*.")
	p, tld = strings.CutSuffix(p, ".{tld}")
	m := ix.exact
	switch {
	case sub && tld:
		m = ix.suffixTLD
	case sub:
		m = ix.suffix
	case tld:
		m = ix.exactTLD
	}
	if p == "" || strings.ContainsAny(p, "*{}/ ") || strings.HasPrefix(p, ".") || strings.HasSuffix(p, ".") {
		return fmt.Errorf("host pattern %q: want a.b, *.a.b, a.{tld} or *.a.{tld}", pattern)
	}
	if old, ok := m[p]; ok && old != s {
		return fmt.Errorf("host pattern %q is given to both %s and %s", pattern, old.name, s.name)
	}
	m[p] = s
	return nil
}

// lookup returns the site of host h (lower case, front-end labels such as
// "www." dropped by siteHost), or nil. The most specific pattern wins:
// an exact host, then the longest "*." suffix, then a host with any country
// or generic TLD, then the longest "*." suffix of one.
func (ix *hostIndex) lookup(h string) *site {
	if s := ix.exact[h]; s != nil {
		return s
	}
	for s := h; ; {
		if e := ix.suffix[s]; e != nil {
			return e
		}
		i := strings.IndexByte(s, '.')
		if i < 0 {
			break
		}
		s = s[i+1:]
	}
	tails := tldTails(h)
	for _, n := range tails {
		if n == 0 {
			continue
		}
		base := h[:len(h)-n-1]
		if s := ix.exactTLD[base]; s != nil {
			return s
		}
	}
	for _, n := range tails {
		if n == 0 {
			continue
		}
		for s := h[:len(h)-n-1]; ; {
			if e := ix.suffixTLD[s]; e != nil {
				return e
			}
			i := strings.IndexByte(s, '.')
			if i < 0 {
				break
			}
			s = s[i+1:]
		}
	}
	return nil
}

// genericTLDs are the generic top-level domains a "{tld}" pattern accepts
// besides the two-letter country codes. Not .org: google.org is a charity.
var genericTLDs = map[string]bool{"com": true, "net": true, "cat": true}

// secondLevels are the labels under a country code that registries hand out
// as public suffixes ("co.uk", "com.br", "com.tr", "ne.jp").
var secondLevels = map[string]bool{
	"com": true, "co": true, "net": true, "org": true, "ne": true, "or": true,
	"ac": true, "gov": true, "gob": true, "edu": true, "go": true, "nom": true,
}

// tldTails returns the lengths of the endings of h that a "{tld}" pattern
// matches, longest first: a second level under a country code ("co.uk",
// "com.br"), then a country code or generic TLD alone. Zero means none.
func tldTails(h string) [2]int {
	var out [2]int
	i := strings.LastIndexByte(h, '.')
	if i <= 0 {
		return out
	}
	last := h[i+1:]
	cc := len(last) == 2 && isAlpha(last)
	if !cc && !genericTLDs[last] {
		return out
	}
	if cc {
		if j := strings.LastIndexByte(h[:i], '.'); j > 0 && secondLevels[h[j+1:i]] {
			out[0] = len(h) - j - 1
		}
	}
	out[1] = len(last)
	return out
}

func isAlpha(s string) bool {
	for i := range len(s) {
		if c := s[i]; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}
