package file_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/file"
	"github.com/pvjobs/pvjobs/readers/pageview"
)

// The interop fixture was written by Python's msgpack package the way the
// original collector wrote rows; see testdata/interop/make_fixture.py, which
// lists the same rows.

const interopDir = "../../testdata/interop"

var (
	uaChrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 " +
		"(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
	uaLong = ("Mozilla/5.0 (X11; Linux x86_64) " + strings.Repeat("Gecko/20100101 Firefox/128.0 ", 6))[:200]
)

type interopRow struct {
	uuid   string
	time   time.Time
	offset int64
	fields pvFields
	// marker is a byte sequence the stored value must contain, to show the
	// row still exercises the encoding it was made for.
	marker []byte
}

type pvFields struct {
	URL, Title, IP, Referrer, UserAgent, Language, VisitorID string
}

var interopRows = []interopRow{
	{
		uuid: "fec94000-4f98-11ef-9234-0123456789ab", time: time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC), offset: 0,
		fields: pvFields{"https://py.example.com/", "Home", "203.0.113.7", "", "curl/8.5.0", "en-US", ""},
		marker: []byte("\x86\xa3url\xb7https://"), // fixmap, fixstr
	},
	{
		uuid: "ffae21c0-4f98-11ef-9234-0123456789ab", time: time.Date(2024, 8, 1, 0, 0, 1, 500000000, time.UTC), offset: 123,
		fields: pvFields{"http://py.example.com/legacy?utm_source=x&id=7", "Legacy raw", "198.51.100.23",
			"https://www.google.com/", uaLong, "de-DE", ""},
		marker: append([]byte("\xaauser_agent\xda\x00\xc8"), uaLong[:10]...), // raw16 where str8 would be
	},
	{
		uuid: "aa23aad3-4fa1-11ef-9234-0123456789ab", time: time.Date(2024, 8, 1, 1, 2, 3, 456789100, time.UTC), offset: 495,
		fields: pvFields{"https://py.example.com/caf\u00e9/\u65e5\u672c", strings.Repeat("T", 299) + "\u00e9", "2001:db8::1",
			"https://duckduckgo.com/", uaChrome, "ja-JP", ""},
		marker: append([]byte{0xc4, byte(len(uaChrome))}, uaChrome[:10]...), // bin8 user agent
	},
	{
		uuid: "93fe2001-4ffd-11ef-9234-0123456789ab", time: time.Date(2024, 8, 1, 12, 0, 0, 100, time.UTC), offset: 1056,
		fields: pvFields{"https://py.example.com/map16", "Sixteen", "192.0.2.1", "https://t.co/abc", uaChrome, "fr-FR", "v0123456789abcdef"},
		marker: []byte{0xde, 0x00, 0x13}, // map16 of 19 entries
	},
	{
		uuid: "2932ffff-5062-11ef-9234-0123456789ab", time: time.Date(2024, 8, 1, 23, 59, 59, 999999900, time.UTC), offset: 1475,
		fields: pvFields{"https://py.example.com/last", "", "203.0.113.8", "", "Wget/1.21", "", ""},
		marker: []byte("\xa5title\xc0"), // None
	},
}

func uuidString(u [16]byte) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

func TestInteropPythonFixture(t *testing.T) {
	src, err := file.Open(interopDir)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := src.Shards()
	if err != nil || len(keys) != 1 || keys[0].String() != "20240801.pyacct" {
		t.Fatalf("Shards = %v, %v", keys, err)
	}
	// Read hands over every row, whatever the item's range; the engine
	// keeps those in range (TestRunInteropRange).
	for _, tc := range []struct {
		name       string
		start, end time.Time
		rows       []int
	}{
		{"whole day", day, day.Add(24 * time.Hour), []int{0, 1, 2, 3, 4}},
		{"from the second row to noon", day.Add(1500 * time.Millisecond), day.Add(12 * time.Hour), []int{0, 1, 2, 3, 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dec := pageview.NewDecoder()
			it := mapreduce.WorkItem{Shard: keys[0], Start: tc.start, End: tc.end}
			var got []int
			err := src.Read(context.Background(), it, func(r *mapreduce.Row) error {
				i := int(r.Index)
				got = append(got, i)
				if i >= len(interopRows) {
					return fmt.Errorf("row index %d", i)
				}
				want := interopRows[i]
				if s := uuidString(r.TS); s != want.uuid {
					t.Errorf("row %d: uuid %s, want %s", i, s, want.uuid)
				}
				if !mapreduce.IsTimeUUID(r.TS) {
					t.Errorf("row %d: not a version-1 uuid", i)
				}
				if tm := mapreduce.UnixTime(r.Time()); !tm.Equal(want.time) {
					t.Errorf("row %d: time %s, want %s", i, tm.Format(time.RFC3339Nano), want.time.Format(time.RFC3339Nano))
				}
				if r.Offset != want.offset {
					t.Errorf("row %d: offset %d, want %d", i, r.Offset, want.offset)
				}
				if !bytes.Contains(r.Value, want.marker) {
					t.Errorf("row %d: value no longer contains % x", i, want.marker)
				}
				var pv mapreduce.PageView
				if err := dec.Decode(r.Value, &pv); err != nil {
					t.Errorf("row %d: %v", i, err)
					return nil
				}
				f := pvFields{string(pv.URL), string(pv.Title), string(pv.IP), string(pv.Referrer),
					string(pv.UserAgent), string(pv.Language), string(pv.VisitorID)}
				if f != want.fields {
					t.Errorf("row %d:\n got %+v\nwant %+v", i, f, want.fields)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.rows) {
				t.Errorf("read rows %v, want %v", got, tc.rows)
			}
		})
	}
}

// TestRunInteropRange runs the engine over the Python-written shard: the rows
// of a range are kept to the 100 ns, the others of the day are skipped.
func TestRunInteropRange(t *testing.T) {
	src, err := file.Open(interopDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		start, end time.Time
		rows       []int
	}{
		{"whole day", day, day.Add(24 * time.Hour), []int{0, 1, 2, 3, 4}},
		{"from the second row to noon", day.Add(1500 * time.Millisecond), day.Add(12 * time.Hour), []int{1, 2}},
		{"noon on, 100ns after the row", day.Add(12*time.Hour + 101), day.Add(24 * time.Hour), []int{4}},
		{"noon on, at the row's 100 ns", day.Add(12*time.Hour + 100), day.Add(24 * time.Hour), []int{3, 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			times, sum := runRange(t, src, "pyacct", tc.start, tc.end)
			var want []int64
			for _, i := range tc.rows {
				want = append(want, interopRows[i].time.UnixNano())
			}
			if fmt.Sprint(times) != fmt.Sprint(want) {
				t.Errorf("kept rows at %v, want %v", times, want)
			}
			if sum.Rows != int64(len(tc.rows)) || sum.Skipped != int64(len(interopRows)-len(tc.rows)) || sum.BadRows != 0 {
				t.Errorf("rows %d, skipped %d, bad %d", sum.Rows, sum.Skipped, sum.BadRows)
			}
		})
	}
}
