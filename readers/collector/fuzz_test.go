package collector_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pvjobs/pvjobs/readers/collector"
)

// FuzzParseBeacon: any body parses or is refused without a panic, and what
// parses re-encodes (AppendValue) into a value the readers decode to the
// same fields.
func FuzzParseBeacon(f *testing.F) {
	for _, s := range []string{
		`{"id":"blog","url":"https://b.example/","ref":"","title":"T","vid":"v"}`,
		`id=blog&url=https%3A%2F%2Fb.example%2F&title=%E2%82%AC`,
		`{"id":"blog","url":"https://b.example/\u0000"}`, `{}`, `[]`, `{"id":`, "\xff\xfe", `{"title":"\ud800"}`,
	} {
		f.Add([]byte(s), "text/plain;charset=UTF-8")
	}
	f.Add([]byte("id=blog&url=x"), "application/x-www-form-urlencoded")
	f.Fuzz(func(t *testing.T, body []byte, ctype string) {
		fields, reason := collector.ParseBeacon(body, ctype)
		if reason != collector.ReasonNone {
			if fields != (collector.Fields{}) {
				t.Fatalf("refused (%s) but returned fields %+v", reason, fields)
			}
			return
		}
		roundTrip(t, fields)
	})
}

// FuzzParsePixel: the same for the pixel's query string.
func FuzzParsePixel(f *testing.F) {
	for _, s := range []string{"id=blog&url=https%3A%2F%2Fb.example%2F&ref=&title=Hi", "id=%zz", "url=a&url=b", ";;&&==", "title=%FF%FE"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		fields, reason := collector.ParsePixel(q)
		if reason != collector.ReasonNone {
			return
		}
		roundTrip(t, fields)
	})
}

// roundTrip stores fields as the collector would and decodes them again.
func roundTrip(t *testing.T, f collector.Fields) {
	pv := collector.PageView{URL: f.URL, Title: f.Title, Referrer: f.Ref, VisitorID: f.Vid, IP: "192.0.2.1", UserAgent: "ua", Language: "en"}
	got := decode(t, collector.AppendValue(nil, &pv))
	if got["url"] != f.URL || got["title"] != f.Title || got["referrer"] != f.Ref || got["ip"] != "192.0.2.1" ||
		got["user_agent"] != "ua" || got["language"] != "en" || got["visitor_id"] != f.Vid {
		t.Fatalf("fields %+v came back as %v", f, got)
	}
}

// FuzzHandler sends arbitrary requests through the whole handler: never a
// panic, never a 5xx, and a page view is stored only when the answer is 2xx
// for a listed account.
func FuzzHandler(f *testing.F) {
	f.Add("POST", "/e", `{"id":"blog","url":"https://b.example/"}`, "text/plain", "1.2.3.4, 10.0.0.1", "en-US")
	f.Add("GET", "/a.gif?id=blog&url=https://b.example/&title=x", "", "", "", "*")
	f.Add("GET", "/a.js", "", "", "", "")
	f.Add("OPTIONS", "/e", "", "", "", "")
	st := newMemStore()
	proxies, _ := collector.ParseProxies("10.0.0.0/8")
	c := newCollector(f, collector.Config{Store: st, TrustedProxies: proxies})
	h := c.Handler()
	f.Fuzz(func(t *testing.T, method, target, body, ctype, xff, lang string) {
		if !strings.HasPrefix(target, "/") || strings.ContainsAny(target, " \r\n\t#") || strings.ContainsAny(method, " \r\n\t") || method == "" {
			return
		}
		r, err := http.NewRequestWithContext(context.Background(), method, "http://collector"+target, strings.NewReader(body))
		if err != nil {
			return
		}
		r.RemoteAddr = "10.1.1.1:1000"
		r.Header.Set("Content-Type", ctype)
		r.Header.Set("X-Forwarded-For", xff)
		r.Header.Set("Accept-Language", lang)
		w := httptest.NewRecorder()
		before := c.Metrics().Accepted()
		h.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("%s %s: status %d", method, target, w.Code)
		}
		if c.Metrics().Accepted() > before && (w.Code < 200 || w.Code > 299) {
			t.Fatalf("%s %s: accepted but answered %d", method, target, w.Code)
		}
	})
}
