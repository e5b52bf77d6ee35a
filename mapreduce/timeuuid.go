package mapreduce

import (
	"encoding/binary"
	"time"
)

// gregorianOffset is the number of 100 ns intervals between the start of the
// Gregorian calendar (1582-10-15) and the Unix epoch.
const gregorianOffset = 0x01B21DD213814000

// UUIDTime returns the time of a version-1 (time-based) UUID in Unix nanoseconds.
// It does not check the version; see [IsTimeUUID].
func UUIDTime(u [16]byte) int64 {
	low := uint64(binary.BigEndian.Uint32(u[0:4]))
	mid := uint64(binary.BigEndian.Uint16(u[4:6]))
	hi := uint64(binary.BigEndian.Uint16(u[6:8]) & 0x0fff)
	ticks := hi<<48 | mid<<32 | low
	return (int64(ticks) - gregorianOffset) * 100
}

// IsTimeUUID reports whether u is a version-1 UUID.
func IsTimeUUID(u [16]byte) bool { return u[6]>>4 == 1 }

// TimeUUID builds a version-1 UUID for t with the given clock sequence and node
// (the low 14 and 48 bits are used). Times are truncated to 100 ns.
func TimeUUID(t time.Time, clockSeq uint16, node uint64) [16]byte {
	ns := t.UnixNano()
	n := ns / 100
	if ns%100 < 0 {
		n-- // round down before 1970 too, as Truncate does
	}
	ticks := uint64(n + gregorianOffset)
	var u [16]byte
	binary.BigEndian.PutUint32(u[0:4], uint32(ticks))
	binary.BigEndian.PutUint16(u[4:6], uint16(ticks>>32))
	binary.BigEndian.PutUint16(u[6:8], uint16(ticks>>48)&0x0fff|0x1000)
	binary.BigEndian.PutUint16(u[8:10], clockSeq&0x3fff|0x8000)
	u[10] = byte(node >> 40)
	u[11] = byte(node >> 32)
	binary.BigEndian.PutUint32(u[12:16], uint32(node))
	return u
}

// MinTimeUUID returns the smallest timeuuid Cassandra orders at time t (its
// minTimeuuid()): clock sequence and node all set to the lowest signed byte.
func MinTimeUUID(t time.Time) [16]byte {
	u := TimeUUID(t, 0, 0)
	copy(u[8:], []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80})
	return u
}

// MaxTimeUUID returns the largest timeuuid Cassandra orders at time t (its
// maxTimeuuid()).
func MaxTimeUUID(t time.Time) [16]byte {
	u := TimeUUID(t, 0, 0)
	copy(u[8:], []byte{0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f})
	return u
}
