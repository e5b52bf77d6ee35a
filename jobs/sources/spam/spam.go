// Package spam recognises referrer spam: sites that fake visits (ghost
// referrers) so that their name shows in analytics reports. pvjobs leaves
// their page views out of every report by default, as it does bots.
//
// The list is embedded (spammers.txt, one host per line, # comments). The
// repository ships a short seed list of long-known spam domains; `make
// spam-list` replaces it with Matomo's community list
// (github.com/matomo-org/referrer-spam-list, public domain), recording its
// source and version in the file's header. A host on the list also covers
// its subdomains.
package spam

import (
	_ "embed"
	"fmt"
	"strings"
	"sync"
)

//go:embed spammers.txt
var listText string

// List is a set of spam hosts.
type List struct {
	hosts map[string]struct{}
	// Version and Source are what the list's header says (# version:,
	// # source:).
	Version, Source string
}

// Embedded returns the embedded list.
var Embedded = sync.OnceValue(func() *List { return Parse(listText) })

// Parse reads a list: one host per line, blank lines and # comments
// ignored, hosts lower-cased.
func Parse(text string) *List {
	l := &List{hosts: map[string]struct{}{}}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if h, ok := strings.CutPrefix(line, "#"); ok {
			h = strings.TrimSpace(h)
			if v, ok := strings.CutPrefix(h, "version:"); ok {
				l.Version = strings.TrimSpace(v)
			} else if v, ok := strings.CutPrefix(h, "source:"); ok {
				l.Source = strings.TrimSpace(v)
			}
			continue
		}
		if line != "" {
			l.hosts[strings.TrimPrefix(strings.ToLower(line), "www.")] = struct{}{}
		}
	}
	return l
}

// With returns a copy of l with the hosts added (local additions, such as
// --spam-domains), each checked.
func (l *List) With(hosts []string) (*List, error) {
	n := &List{hosts: make(map[string]struct{}, len(l.hosts)+len(hosts)), Version: l.Version, Source: l.Source}
	for h := range l.hosts {
		n.hosts[h] = struct{}{}
	}
	for _, h := range hosts {
		h = strings.TrimPrefix(strings.ToLower(strings.TrimSpace(h)), "www.")
		if err := checkHost(h); err != nil {
			return nil, err
		}
		n.hosts[h] = struct{}{}
	}
	return n, nil
}

func checkHost(h string) error {
	if h == "" || strings.HasPrefix(h, ".") || strings.HasSuffix(h, ".") || !strings.Contains(h, ".") {
		return fmt.Errorf("spam domain %q: want a host name such as spam.example", h)
	}
	for _, c := range h {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c > 127) {
			return fmt.Errorf("spam domain %q: character %q is not allowed in a host name", h, c)
		}
	}
	return nil
}

// Len returns the number of hosts.
func (l *List) Len() int { return len(l.hosts) }

// Has reports whether host or a domain above it is on the list.
func (l *List) Has(host string) bool {
	host = strings.TrimPrefix(strings.ToLower(host), "www.")
	for host != "" {
		if _, ok := l.hosts[host]; ok {
			return true
		}
		i := strings.IndexByte(host, '.')
		if i < 0 {
			return false
		}
		host = host[i+1:]
	}
	return false
}
