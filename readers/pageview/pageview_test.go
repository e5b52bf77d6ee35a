package pageview_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/pageview"
	"github.com/pvjobs/pvjobs/readers/synth"
	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// Hand-made msgpack, byte by byte from the spec, so the decoder is not only
// checked against the encoder it shares a library with.

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func fixstr(s string) []byte {
	if len(s) > 31 {
		panic("fixstr too long")
	}
	return append([]byte{0xa0 | byte(len(s))}, s...)
}

func hdr8(code byte, n int) []byte { return []byte{code, byte(n)} }
func hdr16(code byte, n int) []byte {
	return binary.BigEndian.AppendUint16([]byte{code}, uint16(n))
}
func hdr32(code byte, n int) []byte {
	return binary.BigEndian.AppendUint32([]byte{code}, uint32(n))
}

func str8(s string) []byte  { return append(hdr8(0xd9, len(s)), s...) }
func str16(s string) []byte { return append(hdr16(0xda, len(s)), s...) }
func str32(s string) []byte { return append(hdr32(0xdb, len(s)), s...) }
func bin8(s string) []byte  { return append(hdr8(0xc4, len(s)), s...) }
func bin16(s string) []byte { return append(hdr16(0xc5, len(s)), s...) }
func bin32(s string) []byte { return append(hdr32(0xc6, len(s)), s...) }

// Legacy raw forms (msgpack before 2013 had no str8 and no bin): fixraw is
// fixstr, raw16 and raw32 are the codes of str16 and str32.
func fixraw(s string) []byte { return fixstr(s) }
func raw16(s string) []byte  { return str16(s) }
func raw32(s string) []byte  { return str32(s) }

func fixmap(n int) []byte { return []byte{0x80 | byte(n)} }
func map16(n int) []byte  { return hdr16(0xde, n) }
func map32(n int) []byte  { return hdr32(0xdf, n) }

var nilv = []byte{0xc0}

// kv encodes a string key with fixstr and appends the value.
func kv(key string, value []byte) []byte { return cat(fixstr(key), value) }

type fields struct {
	URL, Title, IP, Referrer, UserAgent, Language, VisitorID string
}

func fieldsOf(pv *mapreduce.PageView) fields {
	return fields{string(pv.URL), string(pv.Title), string(pv.IP), string(pv.Referrer),
		string(pv.UserAgent), string(pv.Language), string(pv.VisitorID)}
}

var (
	long300   = strings.Repeat("u", 300)
	long70000 = strings.Repeat("t", 70000)
	ua        = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
)

// all7 is a page view with every field set, encoded with enc.
func all7(enc func(string) []byte, keyEnc func(string) []byte) []byte {
	return cat(fixmap(7),
		keyEnc("url"), enc("https://example.com/"),
		keyEnc("title"), enc("Home"),
		keyEnc("ip"), enc("192.0.2.1"),
		keyEnc("referrer"), enc("https://www.google.com/"),
		keyEnc("user_agent"), enc(ua),
		keyEnc("language"), enc("en-US"),
		keyEnc("visitor_id"), enc("v1"),
	)
}

var all7Fields = fields{"https://example.com/", "Home", "192.0.2.1", "https://www.google.com/", ua, "en-US", "v1"}

// validCases are page views the decoder must accept, with the fields it
// must return.
var validCases = []struct {
	name  string
	value []byte
	want  fields
}{
	{"str8 values fixstr keys", all7(str8, fixstr), all7Fields},
	{"str8 keys and values", all7(str8, str8), all7Fields},
	{"str16 keys and values", all7(str16, str16), all7Fields},
	{"str32 keys and values", all7(str32, str32), all7Fields},
	{"bin8 values", all7(bin8, fixstr), all7Fields},
	{"bin16 values", all7(bin16, fixstr), all7Fields},
	{"bin32 values", all7(bin32, fixstr), all7Fields},
	{"bin keys", all7(str8, bin8), all7Fields},
	{"fixstr values", cat(fixmap(2), kv("url", fixstr("/x")), kv("language", fixstr("de"))), fields{URL: "/x", Language: "de"}},
	{"legacy fixraw and raw16", cat(fixmap(3),
		fixraw("url"), raw16("http://example.com/legacy"),
		fixraw("title"), fixraw("Old"),
		fixraw("user_agent"), raw16(ua)),
		fields{URL: "http://example.com/legacy", Title: "Old", UserAgent: ua}},
	{"legacy raw32", cat(fixmap(1), fixraw("url"), raw32("/r32")), fields{URL: "/r32"}},
	{"long values str16 and str32", cat(fixmap(2), kv("url", str16(long300)), kv("title", str32(long70000))),
		fields{URL: long300, Title: long70000}},
	{"map16 header", cat(map16(2), kv("url", fixstr("/m16")), kv("ip", fixstr("::1"))), fields{URL: "/m16", IP: "::1"}},
	{"map32 header", cat(map32(2), kv("url", fixstr("/m32")), kv("ip", fixstr("::1"))), fields{URL: "/m32", IP: "::1"}},
	{"empty map", fixmap(0), fields{}},
	{"empty map16", map16(0), fields{}},
	{"nil values", cat(fixmap(4), kv("url", fixstr("/n")), kv("title", nilv), kv("referrer", nilv), kv("visitor_id", nilv)),
		fields{URL: "/n"}},
	{"empty strings", cat(fixmap(3), kv("url", fixstr("")), kv("title", str8("")), kv("ip", bin8(""))), fields{}},
	{"missing keys", cat(fixmap(1), kv("user_agent", fixstr("curl/8"))), fields{UserAgent: "curl/8"}},
	{"no visitor_id", cat(fixmap(6),
		kv("url", fixstr("/")), kv("title", fixstr("t")), kv("ip", fixstr("1.2.3.4")),
		kv("referrer", fixstr("")), kv("user_agent", fixstr("ua")), kv("language", fixstr("en"))),
		fields{URL: "/", Title: "t", IP: "1.2.3.4", UserAgent: "ua", Language: "en"}},
	{"unknown string keys of every type", cat(fixmap(14),
		kv("url", fixstr("/u")),
		kv("width", []byte{0xcd, 0x07, 0x80}),                   // uint16 1920
		kv("neg", []byte{0xff}),                                 // negative fixint
		kv("big", []byte{0xd3, 1, 2, 3, 4, 5, 6, 7, 8}),         // int64
		kv("ratio", []byte{0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0}), // float64 1.5
		kv("f32", []byte{0xca, 0x3f, 0xc0, 0, 0}),
		kv("dnt", []byte{0xc3}),
		kv("gdpr", nilv),
		kv("tags", cat([]byte{0x94}, fixstr("a"), []byte{0x01}, nilv, []byte{0x91, 0xa1, 'n'})),
		kv("extra", cat(fixmap(2), fixstr("k"), fixstr("v"), fixstr("n"), cat(fixmap(1), fixstr("deep"), []byte{0x93, 1, 2, 3}))),
		kv("blob", bin16("\x00\xff")),
		kv("ext", []byte{0xd4, 0x01, 0x02}),      // fixext1
		kv("ts", []byte{0xd6, 0xff, 0, 0, 0, 1}), // timestamp ext
		kv("title", fixstr("T"))),
		fields{URL: "/u", Title: "T"}},
	{"non-string keys", cat(fixmap(8),
		[]byte{0x2a}, fixstr("int key"),
		[]byte{0xd0, 0x80}, fixstr("int8 key"),
		[]byte{0x92, 0x01, 0x02}, fixstr("array key"),
		cat(fixmap(1), fixstr("a"), fixstr("b")), fixstr("map key"),
		[]byte{0xc2}, []byte{0xc3},
		nilv, fixstr("nil key"),
		[]byte{0xcb, 0, 0, 0, 0, 0, 0, 0, 0}, cat(fixmap(1), fixstr("url"), fixstr("nested url is not ours")),
		kv("url", fixstr("/k"))),
		fields{URL: "/k"}},
	{"array16 and map16 unknown values", cat(map16(3),
		kv("arr", cat(hdr16(0xdc, 2), fixstr("x"), fixstr("y"))),
		kv("m", cat(map16(1), fixstr("url"), fixstr("inner"))),
		kv("url", str8("/outer"))),
		fields{URL: "/outer"}},
	{"keys are case-sensitive", cat(fixmap(2), kv("URL", fixstr("/upper")), kv("url", fixstr("/lower"))), fields{URL: "/lower"}},
	{"repeated key: last wins", cat(fixmap(2), kv("url", fixstr("/first")), kv("url", fixstr("/second"))), fields{URL: "/second"}},
	{"utf-8 and bytes kept as is", cat(fixmap(2), kv("title", str8("caf\u00e9 \u65e5\u672c")), kv("ip", bin8("\xff\x00"))),
		fields{Title: "caf\u00e9 \u65e5\u672c", IP: "\xff\x00"}},
}

func TestDecodeValid(t *testing.T) {
	dec := pageview.NewDecoder()
	for _, tt := range validCases {
		t.Run(tt.name, func(t *testing.T) {
			var pv mapreduce.PageView
			// Fill pv first: Decode must overwrite every field.
			pv.URL, pv.Title, pv.VisitorID, pv.Language = []byte("old"), []byte("old"), []byte("old"), []byte("old")
			if err := dec.Decode(tt.value, &pv); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if got := fieldsOf(&pv); got != tt.want {
				t.Errorf("Decode =\n %+v\nwant\n %+v", got, tt.want)
			}
			checkAliases(t, &pv, tt.value)
			// The reference decoder agrees.
			ref, err := refDecode(tt.value)
			if err != nil || ref != tt.want {
				t.Errorf("reference decoder: %+v, %v", ref, err)
			}
		})
	}
}

// checkAliases checks that the decoded fields point into value: no copies.
func checkAliases(t *testing.T, pv *mapreduce.PageView, value []byte) {
	t.Helper()
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(value)))
	hi := lo + uintptr(len(value))
	for _, f := range [][]byte{pv.URL, pv.Title, pv.IP, pv.Referrer, pv.UserAgent, pv.Language, pv.VisitorID} {
		if len(f) == 0 {
			continue
		}
		p := uintptr(unsafe.Pointer(unsafe.SliceData(f)))
		if p < lo || p+uintptr(len(f)) > hi {
			t.Errorf("field %q is not a slice of the value", f)
		}
		if cap(f) != len(f) {
			t.Errorf("field %q has spare capacity %d: appending to it would overwrite the value", f, cap(f)-len(f))
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name  string
		value []byte
		want  string
		is    error
	}{
		{"empty", nil, "empty", nil},
		{"fixarray", []byte{0x92, 0xa1, 'a', 0xa1, 'b'}, "not a msgpack map", pageview.ErrNotMap},
		{"string", fixstr("url"), "not a msgpack map", pageview.ErrNotMap},
		{"int", []byte{0x05}, "not a msgpack map", pageview.ErrNotMap},
		{"nil", nilv, "not a msgpack map", pageview.ErrNotMap},
		{"never-used code", []byte{0xc1}, "not a msgpack map", pageview.ErrNotMap},
		{"json", []byte(`{"url":"/"}`), "not a msgpack map", pageview.ErrNotMap},
		{"map16 header cut", []byte{0xde, 0x00}, "truncated", nil},
		{"map32 header cut", []byte{0xdf, 0x00, 0x00, 0x01}, "truncated", nil},
		{"url is an int", cat(fixmap(1), kv("url", []byte{0x05})), `"url"`, nil},
		{"title is a uint16", cat(fixmap(2), kv("url", fixstr("/")), kv("title", []byte{0xcd, 1, 2})), `"title"`, nil},
		{"ip is a float", cat(fixmap(1), kv("ip", []byte{0xca, 0, 0, 0, 0})), `"ip"`, nil},
		{"user_agent is a bool", cat(fixmap(1), kv("user_agent", []byte{0xc3})), `"user_agent"`, nil},
		{"referrer is an array", cat(fixmap(1), kv("referrer", []byte{0x91, 0xa0})), `"referrer"`, nil},
		{"visitor_id is a map", cat(fixmap(1), kv("visitor_id", fixmap(0))), `"visitor_id"`, nil},
		{"language is an ext", cat(fixmap(1), kv("language", []byte{0xd4, 1, 1})), `"language"`, nil},
		{"trailing byte", cat(fixmap(1), kv("url", fixstr("/")), []byte{0x00}), "1 bytes after the map", nil},
		{"two maps", cat(fixmap(0), fixmap(0)), "1 bytes after the map", nil},
		{"fewer entries than the header says", cat(fixmap(3), kv("url", fixstr("/"))), "truncated", nil},
		{"map32 claims 4 billion entries", cat(map32(0xffffffff), kv("url", fixstr("/"))), "truncated", nil},
		{"str32 claims 4 GiB", cat(fixmap(1), fixstr("url"), hdr32(0xdb, 0xffffffff), []byte("abc")), "truncated", nil},
		{"unknown value with a never-used code", cat(fixmap(2), kv("x", []byte{0xc1}), kv("url", fixstr("/"))), "malformed", nil},
		{"unknown value claims more than there is", cat(fixmap(2), kv("url", fixstr("/")), kv("x", hdr32(0xc6, 100)), []byte("abc")), "truncated", nil},
		{"unknown array claims more than there is", cat(fixmap(2), kv("url", fixstr("/")), kv("x", hdr32(0xdd, 1000)), []byte{1, 2}), "truncated", nil},
	}
	dec := pageview.NewDecoder()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var pv mapreduce.PageView
			err := dec.Decode(tt.value, &pv)
			if err == nil {
				t.Fatalf("Decode accepted it: %+v", fieldsOf(&pv))
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v does not wrap %v", err, tt.is)
			}
			if _, rerr := refDecode(tt.value); rerr == nil {
				t.Errorf("the reference decoder accepts it")
			}
			// The decoder is still usable afterwards.
			if err := dec.Decode(all7(str8, fixstr), &pv); err != nil || fieldsOf(&pv) != all7Fields {
				t.Errorf("decoder broken after an error: %v", err)
			}
		})
	}
}

// TestDecodeEveryPrefix cuts every valid value at every byte: each prefix
// must be an error, never a panic or a success.
func TestDecodeEveryPrefix(t *testing.T) {
	dec := pageview.NewDecoder()
	for _, tt := range validCases {
		v := tt.value
		if len(v) > 2000 {
			v = nil // the long cases' prefixes are the same headers over and over
		}
		for i := range v {
			var pv mapreduce.PageView
			// A fresh slice of exactly the prefix, so reading past it is
			// caught by the bounds check, not by luck.
			p := bytes.Clone(v[:i])
			if err := dec.Decode(p, &pv); err == nil {
				t.Errorf("%s: prefix of %d of %d bytes accepted: %+v", tt.name, i, len(v), fieldsOf(&pv))
			}
		}
	}
}

// refDecode is a reference decoder written on msgpack/v5's streaming API.
func refDecode(b []byte) (fields, error) {
	var f fields
	r := bytes.NewReader(b)
	d := msgpack.NewDecoder(r)
	c, err := d.PeekCode()
	if err != nil {
		return f, err
	}
	if !msgpcode.IsFixedMap(c) && c != msgpcode.Map16 && c != msgpcode.Map32 {
		return f, errors.New("not a map")
	}
	n, err := d.DecodeMapLen()
	if err != nil {
		return f, err
	}
	stringy := func(c byte) bool { return msgpcode.IsString(c) || msgpcode.IsBin(c) || c == msgpcode.Nil }
	// bytesOf reads a str, bin or nil. msgpack's DecodeBytes would allocate
	// whatever length a header claims, so the length is checked first; the
	// decoder reads r directly (a bytes.Reader is an io.ByteScanner).
	bytesOf := func() ([]byte, error) {
		n, err := d.DecodeBytesLen()
		if err != nil || n <= 0 {
			return nil, err
		}
		if n > r.Len() {
			return nil, io.ErrUnexpectedEOF
		}
		b := make([]byte, n)
		_, err = io.ReadFull(r, b)
		return b, err
	}
	for i := 0; i < n; i++ {
		c, err := d.PeekCode()
		if err != nil {
			return f, err
		}
		if !stringy(c) {
			if err := d.Skip(); err != nil {
				return f, err
			}
			if err := d.Skip(); err != nil {
				return f, err
			}
			continue
		}
		k, err := bytesOf()
		if err != nil {
			return f, err
		}
		var dst *string
		switch string(k) {
		case "url":
			dst = &f.URL
		case "title":
			dst = &f.Title
		case "ip":
			dst = &f.IP
		case "referrer":
			dst = &f.Referrer
		case "user_agent":
			dst = &f.UserAgent
		case "language":
			dst = &f.Language
		case "visitor_id":
			dst = &f.VisitorID
		}
		if dst == nil {
			if err := d.Skip(); err != nil {
				return f, err
			}
			continue
		}
		c, err = d.PeekCode()
		if err != nil {
			return f, err
		}
		if !stringy(c) {
			return f, fmt.Errorf("field %s: code %#x", k, c)
		}
		v, err := bytesOf()
		if err != nil {
			return f, err
		}
		*dst = string(v)
	}
	if r.Len() != 0 {
		return f, errors.New("trailing bytes")
	}
	return f, nil
}

// encodeOptions says how encodePV writes a page view.
type encodeOptions struct {
	bin       bool // values as bin rather than str
	nilEmpty  bool // empty values as nil rather than ""
	omitEmpty bool // leave out empty fields
	unknown   bool // add unknown keys of several types
	reverse   bool // keys in reverse order
	map16     bool // force a map16 header
}

// encodePV encodes f with msgpack/v5's Encoder.
func encodePV(t testing.TB, f fields, o encodeOptions) []byte {
	t.Helper()
	type pair struct{ k, v string }
	ps := []pair{{"url", f.URL}, {"title", f.Title}, {"ip", f.IP}, {"referrer", f.Referrer},
		{"user_agent", f.UserAgent}, {"language", f.Language}, {"visitor_id", f.VisitorID}}
	if o.omitEmpty {
		var keep []pair
		for _, p := range ps {
			if p.v != "" {
				keep = append(keep, p)
			}
		}
		ps = keep
	}
	if o.reverse {
		for i, j := 0, len(ps)-1; i < j; i, j = i+1, j-1 {
			ps[i], ps[j] = ps[j], ps[i]
		}
	}
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	n := len(ps)
	if o.unknown {
		n += 3
	}
	var err error
	if o.map16 {
		buf.Write(map16(n))
	} else {
		err = enc.EncodeMapLen(n)
	}
	if o.unknown {
		err = errors.Join(err, enc.EncodeInt(42), enc.EncodeString("int key"),
			enc.EncodeString("screen"), enc.Encode(map[string]any{"w": 1920, "h": []int{1, 2}, "url": "nested"}))
	}
	for i, p := range ps {
		err = errors.Join(err, enc.EncodeString(p.k))
		switch {
		case p.v == "" && o.nilEmpty:
			err = errors.Join(err, enc.EncodeNil())
		case o.bin:
			err = errors.Join(err, enc.EncodeBytes([]byte(p.v)))
		default:
			err = errors.Join(err, enc.EncodeString(p.v))
		}
		if o.unknown && i == len(ps)/2 {
			err = errors.Join(err, enc.EncodeString("dnt"), enc.EncodeBool(true))
		}
	}
	if o.unknown && len(ps) == 0 {
		err = errors.Join(err, enc.EncodeString("dnt"), enc.EncodeBool(true))
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func optionsOf(bits uint8) encodeOptions {
	return encodeOptions{bin: bits&1 != 0, nilEmpty: bits&2 != 0, omitEmpty: bits&4 != 0,
		unknown: bits&8 != 0, reverse: bits&16 != 0, map16: bits&32 != 0}
}

// checkRoundTrip encodes f with msgpack/v5 and decodes it.
func checkRoundTrip(t *testing.T, dec *pageview.Decoder, f fields, bits uint8) {
	t.Helper()
	o := optionsOf(bits)
	v := encodePV(t, f, o)
	var pv mapreduce.PageView
	if err := dec.Decode(v, &pv); err != nil {
		t.Fatalf("Decode(%+v, %+v): %v", f, o, err)
	}
	if got := fieldsOf(&pv); got != f {
		t.Fatalf("round trip with %+v:\n got %+v\nwant %+v", o, got, f)
	}
}

func randomString(r *rand.Rand) string {
	alphabets := []string{"abcxyz/?=&.:", "\u00e9\u65e5\u0416 ", "\x00\xff\t\n\"'"}
	n := []int{0, 1, 5, 31, 32, 255, 256, 300, 70000}[r.IntN(9)]
	if n == 70000 && r.IntN(20) != 0 {
		n = 40
	}
	var b strings.Builder
	for b.Len() < n {
		a := alphabets[r.IntN(len(alphabets))]
		b.WriteByte(a[r.IntN(len(a))])
	}
	return b.String()
}

func TestDecodeRoundTripRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	dec := pageview.NewDecoder()
	for i := range 3000 {
		f := fields{randomString(r), randomString(r), randomString(r), randomString(r), randomString(r), randomString(r), randomString(r)}
		checkRoundTrip(t, dec, f, uint8(i))
	}
}

func FuzzDecodeRoundTrip(f *testing.F) {
	f.Add("https://example.com/", "Home", "192.0.2.1", "", ua, "en-US", "", uint8(0))
	f.Add("", "", "", "", "", "", "", uint8(0xff))
	f.Add(long300, "\u00e9", "::1", "r", "u", "l", "v", uint8(9))
	f.Fuzz(func(t *testing.T, url, title, ip, ref, uagent, lang, vid string, bits uint8) {
		checkRoundTrip(t, pageview.NewDecoder(), fields{url, title, ip, ref, uagent, lang, vid}, bits)
	})
}

// FuzzDecode feeds arbitrary bytes to the decoder: it must never panic, must
// agree with the reference decoder, and what it accepts must survive a
// re-encoding.
func FuzzDecode(f *testing.F) {
	for _, tt := range validCases {
		if len(tt.value) < 4096 {
			f.Add(tt.value)
		}
	}
	g, err := synth.New(synth.Config{Accounts: []string{"blog"}, From: mapreduce.Date{Year: 2024, Month: 8, Day: 1},
		To: mapreduce.Date{Year: 2024, Month: 8, Day: 1}, RowsPerDay: 20, Seed: 1})
	if err != nil {
		f.Fatal(err)
	}
	for _, r := range g.Rows(g.Shards()[0]) {
		f.Add(r.Value)
	}
	f.Add([]byte{})
	f.Add([]byte{0xdf, 0xff, 0xff, 0xff, 0xff})
	dec := pageview.NewDecoder()
	f.Fuzz(func(t *testing.T, data []byte) {
		var pv mapreduce.PageView
		err := dec.Decode(data, &pv)
		ref, rerr := refDecode(data)
		if (err == nil) != (rerr == nil) {
			t.Fatalf("Decode error %v, reference error %v", err, rerr)
		}
		if err != nil {
			return
		}
		got := fieldsOf(&pv)
		if got != ref {
			t.Fatalf("Decode %+v, reference %+v", got, ref)
		}
		checkAliases(t, &pv, data)
		checkRoundTrip(t, dec, got, uint8(len(data)))
		// Any trailing byte makes it an error.
		if err := dec.Decode(append(bytes.Clone(data), 0xc0), &pv); err == nil {
			t.Fatalf("trailing byte accepted")
		}
	})
}

func TestDecodeNoAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	vals := synthValues(t, 200)
	dec := pageview.NewDecoder()
	var pv mapreduce.PageView
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		if err := dec.Decode(vals[i%len(vals)], &pv); err != nil {
			t.Fatal(err)
		}
		i++
	})
	if allocs != 0 {
		t.Errorf("Decode allocates %.1f times per row", allocs)
	}
}

func synthValues(t testing.TB, rows int) [][]byte {
	t.Helper()
	g, err := synth.New(synth.Config{Accounts: []string{"blog", "shop"}, From: mapreduce.Date{Year: 2024, Month: 8, Day: 1},
		To: mapreduce.Date{Year: 2024, Month: 8, Day: 1}, RowsPerDay: rows, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var vals [][]byte
	for _, k := range g.Shards() {
		for _, r := range g.Rows(k) {
			vals = append(vals, r.Value)
		}
	}
	return vals
}

// BenchmarkDecode decodes realistic page views (from readers/synth): one
// operation is one row.
func BenchmarkDecode(b *testing.B) {
	vals := synthValues(b, 2000)
	var withUnknown [][]byte
	for _, v := range vals[:500] {
		// The same page views with two unknown keys the decoder must skip.
		w := bytes.Clone(v)
		w[0]++ // fixmap count: 6 or 7 fields, + 2 below
		w[0]++
		w = append(w, kv("screen", fixstr("1920x1080"))...)
		w = append(w, kv("extra", cat(fixmap(1), fixstr("n"), []byte{0x93, 1, 2, 3}))...)
		withUnknown = append(withUnknown, w)
	}
	for _, bc := range []struct {
		name string
		vals [][]byte
	}{{"synth", vals}, {"synth+unknown-keys", withUnknown}} {
		b.Run(bc.name, func(b *testing.B) {
			var size int
			for _, v := range bc.vals {
				size += len(v)
			}
			b.SetBytes(int64(size / len(bc.vals)))
			b.ReportAllocs()
			dec := pageview.NewDecoder()
			var pv mapreduce.PageView
			i := 0
			for b.Loop() {
				if err := dec.Decode(bc.vals[i], &pv); err != nil {
					b.Fatal(err)
				}
				if i++; i == len(bc.vals) {
					i = 0
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/row")
		})
	}
}

// TestDecodeHostileLengths checks that headers claiming more than the value
// holds, and deep nesting in unknown values, cost no memory: a bad row must
// not make the decoder allocate (or keep) what the header claims.
func TestDecodeHostileLengths(t *testing.T) {
	dec := pageview.NewDecoder()
	var pv mapreduce.PageView
	for _, v := range [][]byte{
		[]byte("\x860\xdb000\xa8"), // fuzz-found: int key, then a str32 claiming 808 MB
		cat(fixmap(2), kv("url", fixstr("/")), kv("x", hdr32(0xc6, 0xffffffff))),
		cat(fixmap(2), kv("url", fixstr("/")), kv("x", hdr32(0xc9, 0xfffffff0)), []byte{1}),
		cat(fixmap(2), kv("url", fixstr("/")), kv("x", cat(hdr32(0xdd, 0xffffffff), hdr32(0xdb, 0xffffff00)))),
		cat(fixmap(2), kv("url", fixstr("/")), kv("x", hdr32(0xdf, 0x7fffffff))),
	} {
		// Only the error message may allocate: well under 1 KiB a row.
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		before := ms.TotalAlloc
		for range 1000 {
			if err := dec.Decode(v, &pv); err == nil {
				t.Fatalf("% x accepted", v)
			}
		}
		runtime.ReadMemStats(&ms)
		if d := ms.TotalAlloc - before; d > 1<<20 {
			t.Errorf("% x: 1000 decodes allocated %d bytes", v, d)
		}
	}
	// A million nested arrays in an unknown value: valid, and no stack to spare.
	deep := cat(fixmap(2), fixstr("x"), bytes.Repeat([]byte{0x91}, 1_000_000), []byte{0x01}, kv("url", fixstr("/deep")))
	if err := dec.Decode(deep, &pv); err != nil || string(pv.URL) != "/deep" {
		t.Errorf("deeply nested unknown value: %q, %v", pv.URL, err)
	}
}
