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
	"bytes"
	"errors"
	"fmt"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/vmihailenco/msgpack/v5"
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
// alias the value passed to Decode. Map and string headers — the whole of a
// well-formed page view — are read straight from the byte slice; msgpack/v5's
// streaming Decoder skips the values of unknown keys, whatever their type. A
// Decoder is not safe for concurrent use.
type Decoder struct {
	r   bytes.Reader
	dec *msgpack.Decoder
}

// NewDecoder returns a Decoder.
func NewDecoder() *Decoder {
	d := &Decoder{}
	d.dec = msgpack.NewDecoder(&d.r)
	return d
}

// NewMapreduceDecoder returns a new Decoder as a mapreduce.Decoder, for
// mapreduce.Options.NewDecoder.
func NewMapreduceDecoder() mapreduce.Decoder { return NewDecoder() }

// ErrNotMap is wrapped by the error for a value that is not a msgpack map.
var ErrNotMap = errors.New("page view is not a msgpack map")

// errTruncated marks a value that ends inside an item.
var errTruncated = errors.New("truncated")

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

// skip skips the msgpack item at pos, whatever its type, with msgpack/v5.
func (d *Decoder) skip(b []byte, pos int) (int, error) {
	if pos >= len(b) {
		return pos, errTruncated
	}
	d.r.Reset(b[pos:])
	d.dec.ResetReader(&d.r)
	if err := d.dec.Skip(); err != nil {
		return pos, err
	}
	return len(b) - d.r.Len(), nil
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
