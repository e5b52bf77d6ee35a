package urls_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/pvjobs/pvjobs/jobs/urls"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		strip bool
		want  string
	}{
		// Empty and not set.
		{"empty", "", false, "(not set)"},
		{"white space only", "  \t\n ", false, "(not set)"},
		{"fragment only", "#top", false, "(not set)"},
		{"tracking query only", "?utm_source=x&gclid=1", false, "(not set)"},
		{"query only with strip-query", "?id=1", true, "(not set)"},

		// Scheme, host, port.
		{"scheme and host lower-cased", "HTTPS://WWW.Example.COM/Path/To", false, "https://www.example.com/Path/To"},
		{"path case kept", "https://example.com/About-Us/FAQ.html", false, "https://example.com/About-Us/FAQ.html"},
		{"http default port", "http://example.com:80/a", false, "http://example.com/a"},
		{"https default port", "https://example.com:443/a", false, "https://example.com/a"},
		{"default port upper-case scheme", "HTTP://EXAMPLE.COM:80", false, "http://example.com/"},
		{"other port kept", "https://example.com:8443/a", false, "https://example.com:8443/a"},
		{"port 80 on https kept", "https://example.com:80/a", false, "https://example.com:80/a"},
		{"port 443 on http kept", "http://example.com:443/a", false, "http://example.com:443/a"},
		{"empty port dropped", "http://example.com:/a", false, "http://example.com/a"},
		{"empty path becomes /", "https://example.com", false, "https://example.com/"},
		{"empty path before query", "https://example.com?id=1", false, "https://example.com/?id=1"},
		{"other scheme host lowered", "android-app://COM.Example.App/path", false, "android-app://com.example.app/path"},

		// IPv6 hosts and user info.
		{"ipv6 default port", "http://[2001:DB8::1]:80/a", false, "http://[2001:db8::1]/a"},
		{"ipv6 other port", "https://[::1]:8443/x", false, "https://[::1]:8443/x"},
		{"ipv6 no port", "http://[::1]/", false, "http://[::1]/"},
		{"ipv6 no port no path", "http://[FE80::1]", false, "http://[fe80::1]/"},
		{"userinfo kept, host lowered", "https://User:Pass@EXAMPLE.com:443/a", false, "https://User:Pass@example.com/a"},
		{"@ in the password", "https://u:p@ss@Example.com/", false, "https://u:p@ss@example.com/"},

		// Fragments.
		{"fragment dropped", "https://e.com/a#section-2", false, "https://e.com/a"},
		{"fragment holding a query", "https://e.com/a#x?utm_source=1&id=2", false, "https://e.com/a"},
		{"empty fragment", "https://e.com/a#", false, "https://e.com/a"},

		// Query parameters.
		{"utm dropped", "https://e.com/a?utm_source=x&utm_medium=y&utm_campaign=z", false, "https://e.com/a"},
		{"any utm_ name", "https://e.com/a?utm_id=1&utm_source_platform=2&utm_whatever=3", false, "https://e.com/a"},
		{"utm case-insensitive", "https://e.com/a?UTM_Source=x&Utm_Medium=y&id=1", false, "https://e.com/a?id=1"},
		{"click ids dropped", "https://e.com/?gclid=1&fbclid=2&msclkid=3&yclid=4&ttclid=5&twclid=6&dclid=7&wbraid=8&gbraid=9", false, "https://e.com/"},
		{"click ids case-insensitive", "https://e.com/?GCLID=1&FbClId=2&q=shoes", false, "https://e.com/?q=shoes"},
		{"mailchimp and hubspot", "https://e.com/p?mc_cid=1&mc_eid=2&_hsenc=3&_hsmi=4&__hstc=5&page=2", false, "https://e.com/p?page=2"},
		{"google analytics linker", "https://e.com/p?_ga=2.1.2&_gl=1*abc", false, "https://e.com/p"},
		{"other params kept in order", "https://e.com/s?b=2&a=1&utm_source=x&c=3&A=4", false, "https://e.com/s?b=2&a=1&c=3&A=4"},
		{"params kept as written", "https://e.com/s?Q=Caf%C3%A9+Bar&x=&y", false, "https://e.com/s?Q=Caf%C3%A9+Bar&x=&y"},
		{"empty params dropped", "https://e.com/s?&a=1&&b=2&", false, "https://e.com/s?a=1&b=2"},
		{"bare question mark dropped", "https://e.com/a?", false, "https://e.com/a"},
		{"question mark with only ampersands", "https://e.com/a?&&", false, "https://e.com/a"},
		{"tracking name needs the underscore", "https://e.com/a?utm=1&utmsource=2&xutm_source=3", false, "https://e.com/a?utm=1&utmsource=2&xutm_source=3"},
		{"tracking value without =", "https://e.com/a?gclid&id=1", false, "https://e.com/a?id=1"},
		{"encoded tracking name kept", "https://e.com/a?utm%5Fsource=1", false, "https://e.com/a?utm%5Fsource=1"},
		{"question mark in a value", "https://e.com/login?next=/a?b=c&utm_source=x", false, "https://e.com/login?next=/a?b=c"},
		{"long utm_ name dropped", "https://e.com/a?utm_source_platform_and_a_long_tail=1&id=2", false, "https://e.com/a?id=2"},
		{"very long param name", "https://e.com/a?" + strings.Repeat("x", 40) + "=1", false, "https://e.com/a?" + strings.Repeat("x", 40) + "=1"},

		// --strip-query.
		{"strip query", "https://e.com/a?id=1&page=2#f", true, "https://e.com/a"},
		{"strip query keeps the rest", "HTTP://E.com:80/A?x", true, "http://e.com/A"},

		// Relative URLs and oddities.
		{"relative path", "/a/B?utm_source=x&q=1", false, "/a/B?q=1"},
		{"relative path alone", "/pricing", false, "/pricing"},
		{"surrounding space", "  https://e.com/a  ", false, "https://e.com/a"},
		{"not a URL", "not a url", false, "not%20a%20url"},
		{"mailto kept", "mailto:Someone@Example.com", false, "mailto:Someone@Example.com"},
		{"scheme only", "https://", false, "https:///"},
		{"percent-encoding kept", "https://e.com/a%2Fb/%7Euser?q=%20", false, "https://e.com/a%2Fb/%7Euser?q=%20"},
		{"non-ASCII path kept", "https://e.com/caf\u00e9/\u65e5\u672c", false, "https://e.com/caf\u00e9/\u65e5\u672c"},

		// Tabs and newlines are removed, as browsers do (WHATWG URL), so a URL
		// never carries the report's tab separator; other control bytes and
		// inner spaces are percent-encoded.
		{"tab inside", "https://e.com/a\tb", false, "https://e.com/ab"},
		{"newlines inside", "https://e.com/a\r\nb?x=1\n", false, "https://e.com/ab?x=1"},
		{"tab in the host", "https://E\t.com/", false, "https://e.com/"},
		{"space before a dropped query", "https://e.com/a ?utm_source=x", false, "https://e.com/a%20"},
		{"space in a kept param", "https://e.com/a?q=a b&utm_source=x", false, "https://e.com/a?q=a%20b"},
		{"control byte", "https://e.com/a\x01b", false, "https://e.com/a%01b"},
		{"no-break space kept", "https://e.com/a\u00a0?utm_source=x", false, "https://e.com/a\u00a0"},
		{"not set stays not set", "(not set)", false, "(not set)"},

		// Ports that are not one number are not ports to drop.
		{"two colons", "http://h:80:80/", false, "http://h:80:80/"},
		{"ipv6 with two ports", "http://[::1]:80:80/", false, "http://[::1]:80:80/"},
		{"ipv6 empty port", "http://[::1]:/", false, "http://[::1]/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(urls.Normalize(nil, []byte(tt.in), tt.strip))
			if got != tt.want {
				t.Errorf("Normalize(%q, strip=%v) = %q, want %q", tt.in, tt.strip, got, tt.want)
			}
			if again := string(urls.Normalize(nil, []byte(got), tt.strip)); again != got {
				t.Errorf("not idempotent: %q -> %q", got, again)
			}
		})
	}
}

func TestNormalizeAppends(t *testing.T) {
	dst := []byte("prefix:")
	got := urls.Normalize(dst, []byte("HTTPS://E.COM:443/a?utm_source=x&b=1#f"), false)
	if string(got) != "prefix:https://e.com/a?b=1" {
		t.Errorf("Normalize appended %q", got)
	}
	raw := []byte("https://e.com/x")
	_ = urls.Normalize(raw[:0:0], raw, false)
	if string(raw) != "https://e.com/x" {
		t.Errorf("Normalize changed its input: %q", raw)
	}
}

func TestIsTrackingParam(t *testing.T) {
	for name, want := range map[string]bool{
		"utm_source": true, "UTM_CAMPAIGN": true, "utm_": true, "gclid": true, "GClid": true, "fbclid": true,
		"msclkid": true, "mc_eid": true, "_ga": true, "igshid": true,
		"utm": false, "id": false, "q": false, "page": false, "ref": false, "gclidx": false, "": false,
	} {
		if got := urls.IsTrackingParam(name); got != want {
			t.Errorf("IsTrackingParam(%q) = %v, want %v", name, got, want)
		}
	}
}

// FuzzNormalize: URLs are outside data. Normalize must never panic, must be
// idempotent, and its output must hold none of what it promises to remove.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"", "https://Example.com:443/a?utm_source=x&b=1#f", "http://[::1]:80", "/a?b", "?utm_x=1",
		"https://u:p@h:8080/p?q=1&&r=2", "  x  ", "a\tb", "http://h:80:80", "#", "?&&", "HTTP://",
		"https://e.com/a ?utm_source=x", "http://[::1]:80:80/", "/a\u00a0?utm_x=1", "(not set)",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, raw string, strip bool) {
		out := urls.Normalize(nil, []byte(raw), strip)
		if len(out) == 0 {
			t.Fatalf("Normalize(%q) is empty", raw)
		}
		again := urls.Normalize(nil, out, strip)
		if !bytes.Equal(again, out) {
			t.Fatalf("not idempotent: %q -> %q -> %q", raw, out, again)
		}
		if bytes.ContainsAny(out, "#\t\n\r") {
			t.Fatalf("Normalize(%q) = %q keeps a fragment, tab or newline", raw, out)
		}
		if string(out) == urls.NotSet {
			return
		}
		base, query, hasQuery := bytes.Cut(out, []byte("?"))
		if strip && hasQuery {
			t.Fatalf("Normalize(%q, strip) = %q has a query", raw, out)
		}
		if hasQuery && len(query) == 0 {
			t.Fatalf("Normalize(%q) = %q ends in a bare ?", raw, out)
		}
		for _, p := range bytes.Split(query, []byte("&")) {
			name, _, _ := bytes.Cut(p, []byte("="))
			if hasQuery && (len(p) == 0 || urls.IsTrackingParam(string(name))) {
				t.Fatalf("Normalize(%q) = %q keeps parameter %q", raw, out, p)
			}
		}
		_ = base
	})
}

func ExampleNormalize() {
	for _, raw := range []string{
		"HTTPS://Example.COM:443/Blog/Post-1?utm_source=newsletter&page=2#comments",
		"https://example.com/?gclid=abc123",
		"",
	} {
		fmt.Println(string(urls.Normalize(nil, []byte(raw), false)))
	}
	fmt.Println(string(urls.Normalize(nil, []byte("https://example.com/search?q=go"), true)))
	// Output:
	// https://example.com/Blog/Post-1?page=2
	// https://example.com/
	// (not set)
	// https://example.com/search
}
