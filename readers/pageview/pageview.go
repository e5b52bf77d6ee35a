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
	"io"

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
// alias the value passed to Decode. A Decoder is not safe for concurrent use.
type Decoder struct {
	r   bytes.Reader
	dec *msgpack.Decoder
	cur []byte
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

// Decode decodes value into pv. pv's byte fields alias value afterwards.
func (d *Decoder) Decode(value []byte, pv *mapreduce.PageView) error {
	pv.URL, pv.Title, pv.IP, pv.Referrer = nil, nil, nil, nil
	pv.UserAgent, pv.Language, pv.VisitorID = nil, nil, nil
	d.cur = value
	d.r.Reset(value)
	d.dec.ResetReader(&d.r)
	c, err := d.dec.PeekCode()
	if err != nil {
		return fmt.Errorf("page view: empty value")
	}
	if !msgpcode.IsFixedMap(c) && c != msgpcode.Map16 && c != msgpcode.Map32 {
		return fmt.Errorf("%w: starts with byte 0x%02x", ErrNotMap, c)
	}
	n, err := d.dec.DecodeMapLen()
	if err != nil {
		return d.fail("map header", err)
	}
	for i := 0; i < n; i++ {
		key, err := d.str()
		if err != nil {
			// A key that is not a string is not ours: skip key and value.
			if !errors.Is(err, errNotString) {
				return d.fail("key", err)
			}
			if err := d.dec.Skip(); err != nil {
				return d.fail("key", err)
			}
			if err := d.dec.Skip(); err != nil {
				return d.fail("value", err)
			}
			continue
		}
		dst := field(pv, key)
		if dst == nil {
			if err := d.dec.Skip(); err != nil {
				return d.fail(fmt.Sprintf("value of %q", key), err)
			}
			continue
		}
		v, err := d.str()
		if err != nil {
			if errors.Is(err, errNotString) {
				c, _ := d.dec.PeekCode()
				return fmt.Errorf("page view field %q: msgpack type 0x%02x, want a string", key, c)
			}
			return d.fail(fmt.Sprintf("value of %q", key), err)
		}
		*dst = v
	}
	if d.r.Len() != 0 {
		return fmt.Errorf("page view: %d bytes after the map", d.r.Len())
	}
	return nil
}

var errNotString = errors.New("not a string")

// str reads a str, bin or nil as a slice of the value, without copying.
func (d *Decoder) str() ([]byte, error) {
	c, err := d.dec.PeekCode()
	if err != nil {
		return nil, err
	}
	if !msgpcode.IsString(c) && !msgpcode.IsBin(c) && c != msgpcode.Nil {
		return nil, errNotString
	}
	n, err := d.dec.DecodeBytesLen()
	if err != nil {
		return nil, err
	}
	if n <= 0 {
		return nil, nil
	}
	all := d.cur
	pos := len(all) - d.r.Len()
	if n > d.r.Len() {
		return nil, io.ErrUnexpectedEOF
	}
	if _, err := d.r.Seek(int64(n), io.SeekCurrent); err != nil {
		return nil, err
	}
	return all[pos : pos+n : pos+n], nil
}

func (d *Decoder) fail(what string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("page view truncated in %s at byte %d", what, int(d.r.Size())-d.r.Len())
	}
	return fmt.Errorf("page view %s at byte %d: %w", what, int(d.r.Size())-d.r.Len(), err)
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
