package geo

import "testing"

// FuzzParseIPv4 checks that the resolver's fast path agrees with ParseIP
// on every field it accepts, and accepts the plain addresses.
func FuzzParseIPv4(f *testing.F) {
	for _, s := range []string{"81.2.69.142", "0.0.0.0", "255.255.255.255", "01.2.3.4", "1.2.3.04",
		"256.1.1.1", "1.2.3", "1.2.3.4.5", "1..2.3", "1.2.3.", ".1.2.3", " 1.2.3.4", "1.2.3.4:80",
		"1.2.3.4, 5.6.7.8", "::ffff:1.2.3.4", "1.2.3.1000", "", "10.0.0.1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ip, ok := parseIPv4([]byte(s))
		want, err := ParseIP(s)
		if ok && (err != nil || ip != want) {
			t.Fatalf("parseIPv4(%q) = %s, ParseIP = %s, %v", s, ip, want, err)
		}
		if !ok && err == nil && want.Is4() && want.String() == s {
			t.Fatalf("parseIPv4(%q) refused a plain address", s)
		}
	})
}
