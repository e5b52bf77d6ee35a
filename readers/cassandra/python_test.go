package cassandra_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"net"
	"os/exec"
	"strings"
	"testing"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/cassandra"
	"github.com/pvjobs/pvjobs/readers/cassandra/cassandratest"
	"github.com/pvjobs/pvjobs/readers/pageview"
)

// pythonClient returns the venv python that has cassandra-driver and
// msgpack, installing them on first use (testdata/cassandra/python/setup.sh).
func pythonClient(t *testing.T) string {
	t.Helper()
	cmd := exec.Command("bash", "../../testdata/cassandra/python/setup.sh")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := "installing the Python Cassandra driver failed: " + err.Error() + "\n" + stderr.String()
		if _, must := cassandratest.Addr(); must {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return strings.TrimSpace(string(out))
}

// writtenRow is one line of write_rows.py's output.
type writtenRow struct {
	Key     string            `json:"key"`
	UUID    string            `json:"uuid"`
	UnixNs  int64             `json:"unix_ns"`
	Packing string            `json:"packing"`
	Fields  map[string]string `json:"fields"`
}

// TestRowsWrittenByThePythonDriver writes rows as the original collector did
// — uuid1() column names, msgpack.packb(dict) values, one of them in the
// legacy raw-string format — with the DataStax Python driver, and reads them
// back with the Cassandra source and the page-view decoder.
func TestRowsWrittenByThePythonDriver(t *testing.T) {
	t.Parallel()
	ks := cassandratest.KeyspaceFor(t, cassandra.DefaultLayout, customLayout)
	py := pythonClient(t)
	host, port, _ := net.SplitHostPort(ks.Addr)
	for _, l := range []cassandra.Layout{cassandra.DefaultLayout, customLayout} {
		t.Run(l.Table, func(t *testing.T) {
			cmd := exec.Command(py, "../../testdata/cassandra/python/write_rows.py",
				"--host", host, "--port", port, "--keyspace", ks.Name, "--table", l.Table,
				"--key-column", l.Key, "--ts-column", l.TS, "--value-column", l.Value,
				"--account", "py_"+l.Table, "--rows", "25")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("write_rows.py: %v\n%s", err, stderr.String())
			}
			want := map[[16]byte]writtenRow{}
			keys := map[string]bool{}
			sc := bufio.NewScanner(bytes.NewReader(out))
			for sc.Scan() {
				var r writtenRow
				if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
					t.Fatalf("write_rows.py printed %q: %v", sc.Text(), err)
				}
				var u [16]byte
				if b, err := hex.DecodeString(strings.ReplaceAll(r.UUID, "-", "")); err != nil || len(b) != 16 {
					t.Fatalf("uuid %q: %v", r.UUID, err)
				} else {
					copy(u[:], b)
				}
				want[u] = r
				keys[r.Key] = true
			}
			if len(want) != 25 {
				t.Fatalf("write_rows.py wrote %d rows, want 25", len(want))
			}
			cfg := ks.Config()
			cfg.Layout = l
			tbl := open(t, cfg)
			dec := pageview.NewDecoder()
			var pv mapreduce.PageView
			got, legacy := 0, 0
			for key := range keys {
				sk, err := mapreduce.ParseShardKey(key)
				if err != nil {
					t.Fatal(err)
				}
				err = tbl.Read(context.Background(), mapreduce.WorkItem{Shard: sk, Start: sk.Start(), End: sk.End()}, func(r *mapreduce.Row) error {
					w, ok := want[r.TS]
					if !ok {
						t.Errorf("read a row %x that the Python client did not write", r.TS)
						return nil
					}
					got++
					if w.Packing == "legacy-raw" {
						legacy++
					}
					if !mapreduce.IsTimeUUID(r.TS) || r.Time() != w.UnixNs {
						t.Errorf("row %s: time %d, want %d (uuid1)", w.UUID, r.Time(), w.UnixNs)
					}
					if err := dec.Decode(r.Value, &pv); err != nil {
						t.Errorf("row %s (%s): %v", w.UUID, w.Packing, err)
						return nil
					}
					for name, got := range map[string][]byte{
						pageview.FieldURL: pv.URL, pageview.FieldTitle: pv.Title, pageview.FieldIP: pv.IP,
						pageview.FieldReferrer: pv.Referrer, pageview.FieldUserAgent: pv.UserAgent,
						pageview.FieldLanguage: pv.Language, pageview.FieldVisitorID: pv.VisitorID,
					} {
						if string(got) != w.Fields[name] {
							t.Errorf("row %s (%s): %s = %q, want %q", w.UUID, w.Packing, name, got, w.Fields[name])
						}
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			if got != len(want) || legacy != 1 {
				t.Errorf("read %d of %d rows (%d legacy), want all and 1 legacy", got, len(want), legacy)
			}
		})
	}
}
