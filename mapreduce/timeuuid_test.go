package mapreduce_test

import (
	"bytes"
	"encoding/hex"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
)

func parseUUID(t *testing.T, s string) [16]byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(b) != 16 {
		t.Fatalf("bad uuid %q", s)
	}
	return [16]byte(b)
}

func TestTimeUUIDKnownVectors(t *testing.T) {
	tests := []struct {
		name  string
		uuid  string
		time  time.Time
		clock uint16
		node  uint64
	}{
		{
			// RFC 9562 appendix A.1, the version-1 test vector.
			name:  "rfc9562",
			uuid:  "C232AB00-9414-11EC-B3C8-9F6BDECED846",
			time:  time.Date(2022, 2, 22, 19, 22, 22, 0, time.UTC),
			clock: 0x33C8,
			node:  0x9F6BDECED846,
		},
		{
			// Python: uuid.uuid1(node=0x0123456789AB, clock_seq=0x1234) with
			// time.time_ns() pinned (testdata/interop/make_fixture.py, row 0).
			name:  "python uuid1",
			uuid:  "fec94000-4f98-11ef-9234-0123456789ab",
			time:  time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC),
			clock: 0x1234,
			node:  0x0123456789AB,
		},
		{
			// Same generator, row 2: 100 ns precision.
			name:  "python uuid1 100ns",
			uuid:  "aa23aad3-4fa1-11ef-9234-0123456789ab",
			time:  time.Date(2024, 8, 1, 1, 2, 3, 456789100, time.UTC),
			clock: 0x1234,
			node:  0x0123456789AB,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := parseUUID(t, tt.uuid)
			got := mapreduce.TimeUUID(tt.time, tt.clock, tt.node)
			if got != want {
				t.Errorf("TimeUUID = %x, want %x", got, want)
			}
			if ns := mapreduce.UUIDTime(want); ns != tt.time.UnixNano() {
				t.Errorf("UUIDTime = %s, want %s", mapreduce.UnixTime(ns), tt.time)
			}
			if !mapreduce.IsTimeUUID(want) {
				t.Errorf("IsTimeUUID = false")
			}
		})
	}
}

func TestTimeUUIDRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	// UnixNano is defined from 1678 to 2262; take times across that span.
	lo := time.Date(1678, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	hi := time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	times := []time.Time{
		time.Unix(0, 0),
		time.Unix(0, 99),
		time.Unix(0, -1),
		time.Unix(0, -150),
		time.Date(2024, 2, 29, 23, 59, 59, 999999999, time.UTC),
	}
	for range 2000 {
		times = append(times, time.Unix(0, lo+2*r.Int64N(hi/2-lo/2)+r.Int64N(2)))
	}
	for _, tm := range times {
		clock := uint16(r.Uint32())
		node := r.Uint64()
		u := mapreduce.TimeUUID(tm, clock, node)
		want := tm.Truncate(100 * time.Nanosecond).UnixNano()
		if got := mapreduce.UUIDTime(u); got != want {
			t.Fatalf("UUIDTime(TimeUUID(%s)) = %s, want %s", tm.Format(time.RFC3339Nano),
				mapreduce.UnixTime(got).Format(time.RFC3339Nano), mapreduce.UnixTime(want).Format(time.RFC3339Nano))
		}
		if !mapreduce.IsTimeUUID(u) {
			t.Fatalf("TimeUUID(%s) is not version 1: %x", tm, u)
		}
		if u[8]&0xc0 != 0x80 {
			t.Fatalf("TimeUUID variant bits %08b, want 10 (RFC 4122)", u[8]>>6)
		}
		if got := (uint16(u[8])<<8 | uint16(u[9])) & 0x3fff; got != clock&0x3fff {
			t.Fatalf("clock sequence %#x, want %#x", got, clock&0x3fff)
		}
		var gotNode uint64
		for _, b := range u[10:] {
			gotNode = gotNode<<8 | uint64(b)
		}
		if gotNode != node&(1<<48-1) {
			t.Fatalf("node %#x, want %#x", gotNode, node&(1<<48-1))
		}
	}
}

func TestIsTimeUUID(t *testing.T) {
	for _, tt := range []struct {
		name string
		uuid string
		want bool
	}{
		{"v1", "C232AB00-9414-11EC-B3C8-9F6BDECED846", true},
		{"v4", "919108f7-52d1-4320-9bac-f847db4148a8", false},
		{"v6", "1EC9414C-232A-6B00-B3C8-9F6BDECED846", false},
		{"nil", "00000000-0000-0000-0000-000000000000", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := mapreduce.IsTimeUUID(parseUUID(t, tt.uuid)); got != tt.want {
				t.Errorf("IsTimeUUID = %v, want %v", got, tt.want)
			}
		})
	}
}

// cassandraCompare orders timeuuids as Cassandra's TimeUUIDType does: by
// timestamp, then by the low 8 bytes compared as signed bytes.
func cassandraCompare(a, b [16]byte) int {
	ta, tb := mapreduce.UUIDTime(a), mapreduce.UUIDTime(b)
	switch {
	case ta < tb:
		return -1
	case ta > tb:
		return 1
	}
	for i := 8; i < 16; i++ {
		x, y := int8(a[i]), int8(b[i])
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
	}
	return 0
}

func TestMinMaxTimeUUID(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	base := time.Date(2024, 8, 1, 12, 0, 0, 0, time.UTC)
	extremes := [][8]byte{
		{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80},
		{0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f},
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, // largest unsigned, -1 signed
		{0, 0, 0, 0, 0, 0, 0, 0},
		{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x81},
	}
	for i := range 500 {
		tm := base.Add(time.Duration(r.Int64N(int64(time.Hour))) / 100 * 100)
		u := mapreduce.TimeUUID(tm, uint16(r.Uint32()), r.Uint64())
		if i < len(extremes) {
			copy(u[8:], extremes[i][:])
		}
		lo, hi := mapreduce.MinTimeUUID(tm), mapreduce.MaxTimeUUID(tm)
		if cassandraCompare(lo, u) > 0 {
			t.Fatalf("MinTimeUUID(%s) = %x orders after %x", tm, lo, u)
		}
		if cassandraCompare(u, hi) > 0 {
			t.Fatalf("MaxTimeUUID(%s) = %x orders before %x", tm, hi, u)
		}
		// Any uuid of the next 100 ns tick orders after Max of this one;
		// any uuid of the previous tick orders before Min of this one.
		next := mapreduce.TimeUUID(tm.Add(100), uint16(r.Uint32()), r.Uint64())
		prev := mapreduce.TimeUUID(tm.Add(-100), uint16(r.Uint32()), r.Uint64())
		if cassandraCompare(hi, next) >= 0 || cassandraCompare(prev, lo) >= 0 {
			t.Fatalf("Min/MaxTimeUUID(%s) overlap the neighbouring ticks", tm)
		}
	}
	tm := base
	lo, hi := mapreduce.MinTimeUUID(tm), mapreduce.MaxTimeUUID(tm)
	if !mapreduce.IsTimeUUID(lo) || !mapreduce.IsTimeUUID(hi) {
		t.Errorf("Min/MaxTimeUUID are not version 1: %x %x", lo, hi)
	}
	if mapreduce.UUIDTime(lo) != tm.UnixNano() || mapreduce.UUIDTime(hi) != tm.UnixNano() {
		t.Errorf("Min/MaxTimeUUID time differs from %s", tm)
	}
	if !bytes.Equal(lo[8:], bytes.Repeat([]byte{0x80}, 8)) || !bytes.Equal(hi[8:], bytes.Repeat([]byte{0x7f}, 8)) {
		t.Errorf("low bytes: min %x max %x, want Cassandra's 8080808080808080 and 7f7f7f7f7f7f7f7f", lo[8:], hi[8:])
	}
}
