// Package pageview decodes stored page views: the msgpack maps that the
// tracking collector writes into Cassandra's value column and shard files.
//
// A page view is a msgpack map with string keys url, title, ip, referrer,
// user_agent, language and the optional visitor_id. Keys and values may be any
// msgpack string form (fixstr, str8/16/32, the legacy raw forms of old
// encoders) or bin; nil values read as empty strings; unknown keys, including
// non-string ones, are skipped; maps of any size are accepted. Anything else —
// a value that is not a map, a known field that is not a string, a truncated
// value or bytes after the map — is an error, never a panic.
package pageview

import (
	"errors"
	"fmt"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// Field names as stored.
const (
	FieldURL       = "url"
	FieldTitle     = "title"
	FieldIP        = "ip"
	FieldReferrer  = "referrer"
	FieldUserAgent = "user_agent"
	FieldLanguage  = "language"
	FieldVisitorID = "visitor_id"
)

// Decoder decodes page views without allocating: the page view's byte slices
// alias the value passed to Decode. Everything — map and string headers, and
// the values of unknown keys, whatever their type — is read straight from the
// byte slice, every length checked against the bytes that are left. A Decoder
// is not safe for concurrent use.
type Decoder struct{}

// NewDecoder returns a Decoder.
func NewDecoder() *Decoder { return &Decoder{} }

// NewMapreduceDecoder returns a new Decoder as a mapreduce.Decoder, for
// mapreduce.Options.NewDecoder.
func NewMapreduceDecoder() mapreduce.Decoder { return NewDecoder() }

// ErrNotMap is wrapped by the error for a value that is not a msgpack map.
var ErrNotMap = errors.New("page view is not a msgpack map")

// Decode decodes value into pv. pv's byte fields alias value afterwards.
func (d *Decoder) Decode(value []byte, pv *mapreduce.PageView) error {
	pv.URL, pv.Title, pv.IP, pv.Referrer = nil, nil, nil, nil
	pv.UserAgent, pv.Language, pv.VisitorID = nil, nil, nil
	if len(value) == 0 {
		return errors.New("page view: empty value")
	}
	n, pos, err := mapHeader(value)
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		key, next, ok := str(value, pos)
		if !ok {
			if next < 0 {
				return d.fail("key", pos)
			}
			// A key that is not a string is not ours: skip key and value.
			if pos, err = d.skip(value, pos); err != nil {
				return d.fail("key", pos)
			}
			at := pos
			if pos, err = d.skip(value, pos); err != nil {
				return d.fail("value", at)
			}
			continue
		}
		pos = next
		dst := field(pv, key)
		if dst == nil {
			at := pos
			if pos, err = d.skip(value, pos); err != nil {
				return d.fail(fmt.Sprintf("value of %q", key), at)
			}
			continue
		}
		v, next, ok := str(value, pos)
		if !ok {
			if next < 0 {
				return d.fail(fmt.Sprintf("value of %q", key), pos)
			}
			return fmt.Errorf("page view field %q: msgpack type 0x%02x at byte %d, want a string", key, value[pos], pos)
		}
		*dst, pos = v, next
	}
	if pos != len(value) {
		return fmt.Errorf("page view: %d bytes after the map", len(value)-pos)
	}
	return nil
}

// mapHeader reads a fixmap, map16 or map32 header.
func mapHeader(b []byte) (n, pos int, err error) {
	c := b[0]
	switch {
	case c >= 0x80 && c <= 0x8f:
		return int(c & 0x0f), 1, nil
	case c == msgpcode.Map16 && len(b) >= 3:
		return int(b[1])<<8 | int(b[2]), 3, nil
	case c == msgpcode.Map32 && len(b) >= 5:
		return int(b[1])<<24 | int(b[2])<<16 | int(b[3])<<8 | int(b[4]), 5, nil
	case c == msgpcode.Map16 || c == msgpcode.Map32:
		return 0, 0, fmt.Errorf("page view truncated in map header")
	}
	return 0, 0, fmt.Errorf("%w: starts with byte 0x%02x", ErrNotMap, c)
}

// str reads a str (any width, including legacy raw), bin or nil at pos and
// returns it as a slice of b and the position after it. ok is false when the
// item is of another type (next = pos) or truncated (next = -1).
func str(b []byte, pos int) (s []byte, next int, ok bool) {
	if pos >= len(b) {
		return nil, -1, false
	}
	c := b[pos]
	var n, hdr int
	switch {
	case c >= 0xa0 && c <= 0xbf:
		n, hdr = int(c&0x1f), 1
	case c == msgpcode.Nil:
		return nil, pos + 1, true
	case c == msgpcode.Str8 || c == msgpcode.Bin8:
		if pos+2 > len(b) {
			return nil, -1, false
		}
		n, hdr = int(b[pos+1]), 2
	case c == msgpcode.Str16 || c == msgpcode.Bin16:
		if pos+3 > len(b) {
			return nil, -1, false
		}
		n, hdr = int(b[pos+1])<<8|int(b[pos+2]), 3
	case c == msgpcode.Str32 || c == msgpcode.Bin32:
		if pos+5 > len(b) {
			return nil, -1, false
		}
		n, hdr = int(b[pos+1])<<24|int(b[pos+2])<<16|int(b[pos+3])<<8|int(b[pos+4]), 5
	default:
		return nil, pos, false
	}
	start := pos + hdr
	if n > len(b)-start {
		return nil, -1, false
	}
	if n == 0 {
		return nil, start, true
	}
	return b[start : start+n : start+n], start + n, true
}

// errMalformed marks an item that is truncated or not msgpack.
var errMalformed = errors.New("truncated or malformed")

// skip skips the msgpack item at pos, whatever its type, and returns the
// position after it. It checks every length against the bytes left before
// using it and walks nested arrays and maps with a counter, not recursion:
// a header claiming 4 GiB, or a million nested arrays, cost nothing.
// (msgpack/v5's Decoder.Skip grows its buffer by 1 MiB for every header that
// claims more than there is, and keeps it, and recurses without a limit.)
func (d *Decoder) skip(b []byte, pos int) (int, error) {
	for pending := 1; pending > 0; pending-- {
		if pos >= len(b) {
			return pos, errMalformed
		}
		c := b[pos]
		var hdr, n, items int // header bytes, payload bytes, nested items
		switch {
		case c <= 0x7f || c >= 0xe0, c == 0xc0, c == 0xc2, c == 0xc3: // fixint, nil, bool
			hdr = 1
		case c <= 0x8f: // fixmap
			hdr, items = 1, 2*int(c&0x0f)
		case c <= 0x9f: // fixarray
			hdr, items = 1, int(c&0x0f)
		case c <= 0xbf: // fixstr
			hdr, n = 1, int(c&0x1f)
		case c == 0xcc || c == 0xd0: // uint8, int8
			hdr, n = 1, 1
		case c == 0xcd || c == 0xd1:
			hdr, n = 1, 2
		case c == 0xce || c == 0xd2 || c == 0xca: // 32-bit ints, float32
			hdr, n = 1, 4
		case c == 0xcf || c == 0xd3 || c == 0xcb:
			hdr, n = 1, 8
		case c >= 0xd4 && c <= 0xd8: // fixext 1, 2, 4, 8, 16: type byte + data
			hdr, n = 2, 1<<(c-0xd4)
		default:
			// Items with a length field of 1, 2 or 4 bytes.
			var lenBytes, extra int
			switch c {
			case 0xc4, 0xd9: // bin8, str8
				lenBytes = 1
			case 0xc5, 0xda, 0xdc, 0xde: // bin16, str16, array16, map16
				lenBytes = 2
			case 0xc6, 0xdb, 0xdd, 0xdf: // bin32, str32, array32, map32
				lenBytes = 4
			case 0xc7, 0xc8, 0xc9: // ext8, ext16, ext32: length, then a type byte
				lenBytes, extra = 1<<(c-0xc7), 1
			default: // 0xc1, never used
				return pos, errMalformed
			}
			if pos+1+lenBytes > len(b) {
				return pos, errMalformed
			}
			l := 0
			for _, x := range b[pos+1 : pos+1+lenBytes] {
				l = l<<8 | int(x)
			}
			hdr = 1 + lenBytes + extra
			switch c {
			case 0xdc, 0xdd:
				items = l
			case 0xde, 0xdf:
				items = 2 * l
			default:
				n = l
			}
		}
		rest := len(b) - pos - hdr
		// Every nested item takes at least one byte.
		if rest < 0 || n > rest || items > rest {
			return pos, errMalformed
		}
		pos += hdr + n
		pending += items
	}
	return pos, nil
}

func (d *Decoder) fail(what string, at int) error {
	return fmt.Errorf("page view truncated or malformed in %s at byte %d", what, at)
}

// field returns the PageView field named key, or nil.
func field(pv *mapreduce.PageView, key []byte) *[]byte {
	switch string(key) {
	case FieldURL:
		return &pv.URL
	case FieldTitle:
		return &pv.Title
	case FieldIP:
		return &pv.IP
	case FieldReferrer:
		return &pv.Referrer
	case FieldUserAgent:
		return &pv.UserAgent
	case FieldLanguage:
		return &pv.Language
	case FieldVisitorID:
		return &pv.VisitorID
	}
	return nil
}
