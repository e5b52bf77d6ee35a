package collector_test

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/collector"
)

// TestUUIDGenConcurrent issues timeuuids from many goroutines at once, all
// asking for the same instant: every one is distinct, a version-1 RFC 9562
// UUID, and each goroutine sees them strictly increasing in time.
func TestUUIDGenConcurrent(t *testing.T) {
	g, err := collector.NewUUIDGen()
	if err != nil {
		t.Fatal(err)
	}
	const goroutines, each = 64, 5000
	at := time.Date(2024, 8, 1, 12, 0, 0, 0, time.UTC)
	out := make([][][16]byte, goroutines)
	var wg sync.WaitGroup
	for i := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			us := make([][16]byte, each)
			for j := range us {
				us[j] = g.Next(at) // the same instant, again and again
			}
			out[i] = us
		}()
	}
	wg.Wait()
	seen := make(map[[16]byte]bool, goroutines*each)
	for _, us := range out {
		var last int64
		for _, u := range us {
			if seen[u] {
				t.Fatalf("timeuuid %x issued twice", u)
			}
			seen[u] = true
			if !mapreduce.IsTimeUUID(u) || u[8]&0xc0 != 0x80 {
				t.Fatalf("%x is not a version-1 RFC 9562 UUID", u)
			}
			ns := mapreduce.UUIDTime(u)
			if ns <= last {
				t.Fatalf("time went from %d to %d within a goroutine", last, ns)
			}
			last = ns
			if ns < at.UnixNano() {
				t.Fatalf("timeuuid time %d before the requested %d", ns, at.UnixNano())
			}
		}
	}
	// Stepping forward one tick per timeuuid: the last is exactly n-1
	// ticks after the instant asked for.
	var maxNs int64
	for u := range seen {
		maxNs = max(maxNs, mapreduce.UUIDTime(u))
	}
	if want := at.UnixNano() + int64(goroutines*each-1)*100; maxNs != want {
		t.Errorf("latest timeuuid at %d, want %d (one 100 ns tick per timeuuid)", maxNs, want)
	}
}

// TestUUIDGenClock: Now never goes backwards and Next follows it.
func TestUUIDGenClock(t *testing.T) {
	g, err := collector.NewUUIDGen()
	if err != nil {
		t.Fatal(err)
	}
	prev := g.Now()
	if d := time.Since(prev); d < -time.Second || d > time.Second {
		t.Fatalf("Now is %v off the wall clock", d)
	}
	var last int64
	for range 10000 {
		now := g.Now()
		if now.Before(prev) {
			t.Fatalf("Now went back from %v to %v", prev, now)
		}
		prev = now
		ns := mapreduce.UUIDTime(g.Next(now))
		if ns <= last {
			t.Fatalf("Next not increasing: %d after %d", ns, last)
		}
		last = ns
	}
}

// TestUUIDGenNodes: every generator draws its own node id and clock
// sequence, with the multicast bit that marks a random node.
func TestUUIDGenNodes(t *testing.T) {
	nodes := map[uint64]bool{}
	seqs := map[uint16]int{}
	for range 200 {
		g, err := collector.NewUUIDGen()
		if err != nil {
			t.Fatal(err)
		}
		node, seq := g.Node()
		if node>>48 != 0 || seq>>14 != 0 {
			t.Fatalf("node %x or clock sequence %x too wide", node, seq)
		}
		if node&(1<<40) == 0 {
			t.Errorf("node %012x lacks the multicast bit of a random node", node)
		}
		if nodes[node] {
			t.Fatalf("node %012x drawn twice in 200 generators", node)
		}
		nodes[node] = true
		seqs[seq]++
		u := g.Next(time.Now())
		gotNode := uint64(u[10])<<40 | uint64(u[11])<<32 | uint64(u[12])<<24 | uint64(u[13])<<16 | uint64(u[14])<<8 | uint64(u[15])
		if gotNode != node || (uint16(u[8])<<8|uint16(u[9]))&0x3fff != seq {
			t.Fatalf("uuid %x does not carry node %012x and sequence %x", u, node, seq)
		}
	}
	if len(seqs) < 150 {
		t.Errorf("only %d distinct clock sequences in 200 generators", len(seqs))
	}
}

// TestUUIDGenProcesses runs several processes that issue timeuuids for the
// same instants at the same time: none is issued twice across them.
func TestUUIDGenProcesses(t *testing.T) {
	if os.Getenv("PVJOBS_UUID_CHILD") != "" {
		t.Skip("child")
	}
	const procs, each = 4, 20000
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		ids []string
		err error
	}
	res := make([]result, procs)
	var wg sync.WaitGroup
	for i := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(exe, "-test.run=^TestUUIDChild$")
			cmd.Env = append(os.Environ(), "PVJOBS_UUID_CHILD="+fmt.Sprint(each))
			out, err := cmd.StdoutPipe()
			if err != nil {
				res[i].err = err
				return
			}
			if err := cmd.Start(); err != nil {
				res[i].err = err
				return
			}
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				if l := sc.Text(); len(l) == 32 {
					res[i].ids = append(res[i].ids, l)
				}
			}
			res[i].err = cmd.Wait()
		}()
	}
	wg.Wait()
	seen := map[string]int{}
	for i, r := range res {
		if r.err != nil {
			t.Fatalf("process %d: %v", i, r.err)
		}
		if len(r.ids) != each {
			t.Fatalf("process %d printed %d timeuuids, want %d", i, len(r.ids), each)
		}
		for _, id := range r.ids {
			if p, ok := seen[id]; ok {
				t.Fatalf("timeuuid %s issued by processes %d and %d", id, p, i)
			}
			seen[id] = i
		}
	}
}

// TestUUIDChild is the child of TestUUIDGenProcesses: it prints timeuuids
// for the instants 2024-08-01T00:00:00Z + k·100ns, the same in every child.
func TestUUIDChild(t *testing.T) {
	n := os.Getenv("PVJOBS_UUID_CHILD")
	if n == "" {
		t.Skip("run by TestUUIDGenProcesses")
	}
	var each int
	fmt.Sscan(n, &each)
	g, err := collector.NewUUIDGen()
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(os.Stdout)
	at := time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC)
	for i := range each {
		u := g.Next(at.Add(time.Duration(i/4) * 100))
		w.WriteString(hex.EncodeToString(u[:]) + "\n")
	}
	w.Flush()
}
