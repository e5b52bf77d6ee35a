package synth_test

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/file"
	"github.com/pvjobs/pvjobs/readers/pageview"
	"github.com/pvjobs/pvjobs/readers/synth"
)

func cfg(seed uint64) synth.Config {
	return synth.Config{
		Accounts:   []string{"blog", "my_shop"},
		From:       mapreduce.Date{Year: 2024, Month: 8, Day: 2},
		To:         mapreduce.Date{Year: 2024, Month: 8, Day: 4},
		RowsPerDay: 400,
		Seed:       seed,
	}
}

func TestGeneratorDeterministic(t *testing.T) {
	a, err := synth.New(cfg(1))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := synth.New(cfg(1))
	c, _ := synth.New(cfg(2))
	if !reflect.DeepEqual(a.Shards(), b.Shards()) {
		t.Fatal("shards differ")
	}
	var names []string
	for _, k := range a.Shards() {
		names = append(names, k.String())
		if !reflect.DeepEqual(a.Rows(k), b.Rows(k)) {
			t.Errorf("shard %s differs between two generators of the same seed", k)
		}
		if reflect.DeepEqual(a.Rows(k), c.Rows(k)) {
			t.Errorf("shard %s is the same for seeds 1 and 2", k)
		}
	}
	want := "20240802.blog 20240802.my_shop 20240803.blog 20240803.my_shop 20240804.blog 20240804.my_shop"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("Shards = %s, want %s", got, want)
	}
}

func TestGeneratorRows(t *testing.T) {
	g, _ := synth.New(cfg(3))
	dec := pageview.NewDecoder()
	for _, k := range g.Shards() {
		rows := g.Rows(k)
		if len(rows) < 100 || len(rows) > 800 {
			t.Errorf("shard %s: %d rows for a mean of 400", k, len(rows))
		}
		var last int64
		for i, r := range rows {
			if !mapreduce.IsTimeUUID(r.TS) {
				t.Fatalf("shard %s row %d: not a version-1 uuid", k, i)
			}
			ns := mapreduce.UUIDTime(r.TS)
			if ns < k.Start().UnixNano() || ns >= k.End().UnixNano() {
				t.Fatalf("shard %s row %d: time %s outside the day", k, i, mapreduce.UnixTime(ns))
			}
			if i > 0 && ns <= last {
				t.Fatalf("shard %s row %d: time not increasing", k, i)
			}
			last = ns
			var pv mapreduce.PageView
			if err := dec.Decode(r.Value, &pv); err != nil {
				t.Fatalf("shard %s row %d: %v", k, i, err)
			}
			host := "://" + strings.ReplaceAll(k.Account, "_", "-") + ".example.com/"
			if !bytes.Contains(pv.URL, []byte(host)) || len(pv.UserAgent) == 0 || len(pv.IP) == 0 || len(pv.Language) == 0 || len(pv.Title) == 0 {
				t.Fatalf("shard %s row %d: unrealistic page view %q %q %q", k, i, pv.URL, pv.UserAgent, pv.IP)
			}
		}
	}
}

func TestNewErrors(t *testing.T) {
	for name, mod := range map[string]func(*synth.Config){
		"no accounts": func(c *synth.Config) { c.Accounts = nil },
		"bad account": func(c *synth.Config) { c.Accounts = []string{"a.b"} },
		"to < from":   func(c *synth.Config) { c.To = mapreduce.Date{Year: 2024, Month: 8, Day: 1} },
		"no rows":     func(c *synth.Config) { c.RowsPerDay = 0 },
	} {
		t.Run(name, func(t *testing.T) {
			c := cfg(1)
			mod(&c)
			if _, err := synth.New(c); err == nil {
				t.Error("New accepted it")
			}
		})
	}
}

func TestMemSource(t *testing.T) {
	g, _ := synth.New(cfg(4))
	m := g.Memory(mapreduce.SplitSlices)
	if m.Split() != mapreduce.SplitSlices {
		t.Error("Split")
	}
	var total int64
	for _, k := range g.Shards() {
		total += int64(len(g.Rows(k)))
	}
	if m.Rows() != total {
		t.Errorf("Rows() = %d, want %d", m.Rows(), total)
	}
	k := g.Shards()[0]
	rows := g.Rows(k)
	lo, hi := k.Day.Add(9*time.Hour), k.Day.Add(17*time.Hour)
	var want []int64
	for i, r := range rows {
		if ns := mapreduce.UUIDTime(r.TS); ns >= lo.UnixNano() && ns < hi.UnixNano() {
			want = append(want, int64(i))
		}
	}
	var got []int64
	err := m.Read(context.Background(), mapreduce.WorkItem{Shard: k, Start: lo, End: hi}, func(r *mapreduce.Row) error {
		if r.TS != rows[r.Index].TS || !bytes.Equal(r.Value, rows[r.Index].Value) || r.Offset != -1 {
			t.Fatalf("row %d differs", r.Index)
		}
		got = append(got, r.Index)
		return nil
	})
	if err != nil || !reflect.DeepEqual(got, want) || len(got) == 0 {
		t.Errorf("Read [09:00,17:00) = %d rows (%v), want %d", len(got), err, len(want))
	}
	missing := mapreduce.ShardKey{Day: k.Day, Account: "nobody"}
	if err := m.Read(context.Background(), mapreduce.WorkItem{Shard: missing, Start: lo, End: hi}, nil); !errors.Is(err, mapreduce.ErrNoShard) {
		t.Errorf("missing shard: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := m.Read(ctx, mapreduce.WorkItem{Shard: k, Start: k.Start(), End: k.End()}, func(*mapreduce.Row) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestWriteDir(t *testing.T) {
	g, _ := synth.New(cfg(5))
	for _, gz := range []bool{false, true} {
		dir := t.TempDir()
		n, err := g.WriteDir(context.Background(), dir, gz)
		if err != nil {
			t.Fatal(err)
		}
		src, err := file.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		keys, _ := src.Shards()
		if !reflect.DeepEqual(keys, g.Shards()) {
			t.Fatalf("files hold shards %v", keys)
		}
		var read int64
		for _, k := range keys {
			rows := g.Rows(k)
			i := 0
			err := src.Read(context.Background(), mapreduce.WorkItem{Shard: k, Start: k.Start(), End: k.End()}, func(r *mapreduce.Row) error {
				if r.TS != rows[i].TS || !bytes.Equal(r.Value, rows[i].Value) {
					t.Fatalf("gzip=%v shard %s row %d differs", gz, k, i)
				}
				i++
				return nil
			})
			if err != nil || i != len(rows) {
				t.Fatalf("gzip=%v shard %s: read %d of %d rows: %v", gz, k, i, len(rows), err)
			}
			read += int64(i)
		}
		if read != n {
			t.Errorf("WriteDir said %d rows, files hold %d", n, read)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := g.WriteDir(ctx, t.TempDir(), false); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled WriteDir: %v", err)
	}
}
