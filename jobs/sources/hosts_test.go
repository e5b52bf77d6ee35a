package sources

import "testing"

func TestTablesCompile(t *testing.T) {
	if _, err := buildTables(); err != nil {
		t.Fatal(err)
	}
}

func TestHostIndex(t *testing.T) {
	ix := tables().index
	cases := []struct{ host, want string }{
		{"google.com", "Google"},
		{"google.de", "Google"},
		{"google.co.uk", "Google"},
		{"google.com.br", "Google"},
		{"images.google.co.jp", "Google"},
		{"google.cat", "Google"},
		{"yandex.com.tr", "Yandex"},
		{"yandex.ru", "Yandex"},
		{"search.yahoo.com", "Yahoo"},
		{"uk.search.yahoo.com", "Yahoo"},
		{"us.yhs4.search.yahoo.com", "Yahoo"},
		{"search.yahoo.co.jp", "Yahoo Japan"},
		{"image.search.yahoo.co.jp", "Yahoo Japan"},
		{"mail.yahoo.com", "Yahoo Mail"},
		{"mail.yahoo.co.uk", "Yahoo Mail"},
		{"bing.com", "Bing"},
		{"cn.bing.com", "Bing"},
		{"t.co", "Twitter"},
		{"pinterest.com.mx", "Pinterest"},
		{"mail.google.com", "Gmail"},
		{"google.evil.com", ""},
		{"google.de.evil.com", ""},
		{"notgoogle.com", ""},
		{"google.org", ""},
		{"google.co.evil", ""},
		{"maps.google.com", ""},
		{"yahoo.com", ""},
		{"tco", ""},
		{"com", ""},
		{"", ""},
	}
	for _, tc := range cases {
		got := ""
		if s := ix.lookup(tc.host); s != nil {
			got = s.name
		}
		if got != tc.want {
			t.Errorf("lookup(%q) = %q, want %q", tc.host, got, tc.want)
		}
	}
}

func TestHostIndexAdd(t *testing.T) {
	ix := newHostIndex()
	a, b := &site{name: "A"}, &site{name: "B"}
	for _, p := range []string{"a.com", "*.a.com", "a.{tld}", "*.a.{tld}"} {
		if err := ix.add(p, a); err != nil {
			t.Errorf("add(%q): %v", p, err)
		}
	}
	if err := ix.add("a.com", a); err != nil {
		t.Errorf("adding a pattern twice to one site: %v", err)
	}
	for _, p := range []string{"a.com", "", "*.", "a.*.com", "{tld}", ".a.com", "a.com."} {
		if err := ix.add(p, b); err == nil {
			t.Errorf("add(%q) to a second site: no error", p)
		}
	}
}
