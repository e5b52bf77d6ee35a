package collector

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ParseProxies parses a comma-separated list of CIDRs or single addresses
// ("10.0.0.0/8, 127.0.0.1, ::1").
func ParseProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if strings.Contains(f, "/") {
			p, err := netip.ParsePrefix(f)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q: want a CIDR such as 10.0.0.0/8 or an address", f)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: want a CIDR such as 10.0.0.0/8 or an address", f)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// ClientIP returns the visitor's address: the connection's peer, unless the
// peer is a trusted proxy. Then X-Forwarded-For is read from the right (the
// hop nearest to us) leftwards, skipping trusted proxies: the first address
// that is not one is the client, as nginx's real_ip_recursive does; a
// malformed entry stops the walk at the last good hop. Without
// X-Forwarded-For, X-Real-IP is taken when it holds an address. Headers of a
// peer that is not trusted are ignored: anyone can send them.
func ClientIP(remoteAddr string, h http.Header, trusted []netip.Prefix) netip.Addr {
	peer := parseHost(remoteAddr)
	if !peer.IsValid() || !contains(trusted, peer) {
		return peer
	}
	if xff := h.Values("X-Forwarded-For"); len(xff) > 0 {
		hops := strings.Split(strings.Join(xff, ","), ",")
		client := peer
		for i := len(hops) - 1; i >= 0; i-- {
			a := parseHost(strings.TrimSpace(hops[i]))
			if !a.IsValid() {
				break
			}
			client = a
			if !contains(trusted, a) {
				break
			}
		}
		return client
	}
	if a := parseHost(strings.TrimSpace(h.Get("X-Real-IP"))); a.IsValid() {
		return a
	}
	return peer
}

// parseHost parses "1.2.3.4", "1.2.3.4:5678", "::1", "[::1]:5678"; IPv4 in
// IPv6 is unmapped, the zone dropped.
func parseHost(s string) netip.Addr {
	if s == "" {
		return netip.Addr{}
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone("")
	}
	host, _, err := net.SplitHostPort(s)
	if err != nil {
		return netip.Addr{}
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap().WithZone("")
}

func contains(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Anonymize zeroes the host part of a: the last octet of an IPv4 address
// (a /24), the last 80 bits of an IPv6 address (a /48), the way Matomo and
// Google Analytics anonymise.
func Anonymize(a netip.Addr) netip.Addr {
	if a.Is4() {
		p, _ := a.Prefix(24)
		return p.Addr()
	}
	p, _ := a.Prefix(48)
	return p.Addr()
}
