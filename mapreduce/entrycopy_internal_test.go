package mapreduce

import (
	"bytes"
	"reflect"
	"testing"
)

// TestEntryCopy: a visit's entry, kept compactly while the visit is open,
// is the page view it was made from, field for field, and owns its bytes.
func TestEntryCopy(t *testing.T) {
	agent := &Agent{Class: "desktop", Browser: "Firefox", OS: "Linux"}
	cases := []PageView{
		{URL: []byte("https://a.example/x?utm_source=n"), Title: []byte("X"), IP: []byte("203.0.113.9"),
			Referrer: []byte("https://www.google.com/"), UserAgent: []byte("Mozilla/5.0"), Language: []byte("de"),
			VisitorID: []byte("v1"), TS: [16]byte{1, 2, 3}, Shard: 3, Agent: agent,
			Origin: &Origin{Medium: "search", Name: "Google", IsSearch: true, Engine: "Google", Key: 7}, Keep: [KeepSlots]uint64{1, 0, 5}},
		{URL: []byte("https://a.example/"), IP: []byte("2001:db8::1")}, // empty fields stay nil, no Origin
		{},
	}
	var c entryCopy
	c.set(&PageView{URL: []byte("https://a.example/a-much-longer-url-first"), Title: []byte("old")}) // reused
	for _, pv := range cases {
		orig := pv
		for _, f := range []*[]byte{&orig.URL, &orig.Title, &orig.IP, &orig.Referrer, &orig.UserAgent, &orig.Language, &orig.VisitorID} {
			*f = bytes.Clone(*f)
		}
		if pv.Origin != nil {
			o := *pv.Origin
			orig.Origin = &o
		}
		c.set(&pv)
		for _, b := range [][]byte{pv.URL, pv.IP} { // the copy owns its bytes
			for i := range b {
				b[i] = '#'
			}
		}
		var got PageView
		c.fill(&got)
		if !reflect.DeepEqual(got, orig) {
			t.Errorf("entry copy of\n%+v\nfills\n%+v", orig, got)
		}
	}
}
