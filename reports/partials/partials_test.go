package partials_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/reports/partials"
)

func header() *partials.Header {
	fp, params, _ := partials.Fingerprint(map[string]any{"tz": "UTC", "jobs": []string{"urls"}})
	return &partials.Header{Pvjobs: "v1.2.3", Fingerprint: fp, Params: params, Shard: 2, Shards: 7,
		Days: []string{"2024-08-03"}, Rows: 42, Created: time.Date(2024, 8, 4, 2, 30, 0, 0, time.UTC)}
}

func write(t *testing.T, dir string, body string) string {
	t.Helper()
	path := filepath.Join(dir, partials.Name(2, 7))
	n, err := partials.Write(context.Background(), path, header(), func(w io.Writer) error {
		_, err := io.WriteString(w, body)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Size() != n {
		t.Errorf("Write said %d bytes, the file has %d", n, st.Size())
	}
	return path
}

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := write(t, dir, "the body")
	if filepath.Base(path) != "shard-0002-of-0007.pvpart" {
		t.Errorf("name %s", filepath.Base(path))
	}
	f, err := partials.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := header()
	if f.Header.Fingerprint != h.Fingerprint || f.Header.Shard != 2 || f.Header.Shards != 7 || !f.Header.Created.Equal(h.Created) ||
		string(f.Header.Params) != string(h.Params) || f.Header.Pvjobs != "v1.2.3" || f.Header.Rows != 42 {
		t.Errorf("header %+v, want %+v", f.Header, h)
	}
	r, n := f.Body()
	b, _ := io.ReadAll(r)
	if string(b) != "the body" || n != int64(len(b)) {
		t.Errorf("body %q (%d)", b, n)
	}
	got, err := partials.List([]string{dir, path})
	if err != nil || len(got) != 1 || got[0] != path {
		t.Errorf("List: %v, %v", got, err)
	}
}

// TestWriteFails: a body that fails or a cancelled context leave nothing.
func TestWriteFails(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, partials.Name(0, 1))
	boom := errors.New("boom")
	if _, err := partials.Write(context.Background(), path, header(), func(io.Writer) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("error %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := partials.Write(ctx, path, header(), func(w io.Writer) error { _, err := w.Write([]byte("x")); return err }); !errors.Is(err, context.Canceled) {
		t.Errorf("error %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("left %v", ents)
	}
}

// TestRefused: every file cut short, every flipped byte, another version,
// another kind of file: refused, named, with the reason.
func TestRefused(t *testing.T) {
	dir := t.TempDir()
	valid, err := os.ReadFile(write(t, dir, strings.Repeat("body ", 20)))
	if err != nil {
		t.Fatal(err)
	}
	open := func(b []byte) error {
		p := filepath.Join(dir, "x.pvpart")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := partials.Open(p)
		if err == nil {
			f.Close()
			return nil
		}
		var fe *partials.FileError
		if !errors.As(err, &fe) || fe.Path != p || !strings.HasPrefix(err.Error(), p+": ") {
			t.Errorf("error %q does not name the file", err)
		}
		return err
	}
	for n := 0; n < len(valid); n++ {
		if err := open(valid[:n]); !errors.Is(err, partials.ErrTruncated) {
			t.Fatalf("the first %d of %d bytes: %v, want ErrTruncated", n, len(valid), err)
		}
	}
	for i := range valid {
		b := append([]byte(nil), valid...)
		b[i] ^= 0x20
		err := open(b)
		switch {
		case i < 8:
			if !errors.Is(err, partials.ErrNotPartial) {
				t.Errorf("byte %d of the magic: %v", i, err)
			}
		case i < 10:
			if !errors.Is(err, partials.ErrFormatVersion) {
				t.Errorf("byte %d of the version: %v", i, err)
			}
		case err == nil:
			t.Errorf("byte %d flipped: accepted", i)
		}
	}
	// Another version, with a valid checksum.
	v2 := append([]byte(nil), valid...)
	binary.BigEndian.PutUint16(v2[8:], partials.FormatVersion+1)
	sum := sha256.Sum256(v2[:len(v2)-32])
	copy(v2[len(v2)-32:], sum[:])
	err = open(v2)
	var ve *partials.VersionError
	want := fmt.Sprintf("format version %d; this pvjobs reads version %d", partials.FormatVersion+1, partials.FormatVersion)
	if !errors.As(err, &ve) || ve.Got != partials.FormatVersion+1 || ve.Want != partials.FormatVersion || !strings.Contains(err.Error(), want) {
		t.Errorf("a newer version: %v", err)
	}
	if err := open([]byte("account,period\nblog,day\n")); !errors.Is(err, partials.ErrNotPartial) {
		t.Errorf("a CSV file: %v", err)
	}
}

// FuzzOpen: no input makes Open panic; what it accepts has a body within
// the file.
func FuzzOpen(f *testing.F) {
	dir := f.TempDir()
	valid, _ := os.ReadFile(func() string {
		path := filepath.Join(dir, partials.Name(0, 1))
		partials.Write(context.Background(), path, header(), func(w io.Writer) error { _, err := io.WriteString(w, "body"); return err })
		return path
	}())
	f.Add(valid)
	f.Add(valid[:20])
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(t.TempDir(), "f.pvpart")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		pf, err := partials.Open(p)
		if err != nil {
			return
		}
		defer pf.Close()
		r, n := pf.Body()
		if n < 0 {
			t.Fatalf("body of %d bytes", n)
		}
		if got, err := io.Copy(io.Discard, r); err == nil && got > n {
			t.Fatalf("read %d bytes of a body of %d", got, n)
		}
	})
}
