package mapreduce

import (
	"math/rand/v2"
	"testing"
)

// TestOpenTable checks the table against a Go map through random puts,
// deletes and lookups, with visitor hashes drawn from a small range so
// that runs of probes collide, wrap around and shift back.
func TestOpenTable(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tab := newOpenTable()
	ref := map[uint64]*fragment{}
	frags := make([]fragment, 64)
	for step := range 200_000 {
		h := rng.Uint64N(5000)
		if step%7 == 0 {
			h = rng.Uint64() // now and then any hash, 0 included
		}
		switch rng.IntN(3) {
		case 0:
			f := &frags[rng.IntN(len(frags))]
			tab.put(h, f)
			ref[h] = f
		case 1:
			tab.del(h)
			delete(ref, h)
		}
		if got := tab.get(h); got != ref[h] {
			t.Fatalf("step %d: get(%d) = %p, want %p", step, h, got, ref[h])
		}
		if tab.n != len(ref) {
			t.Fatalf("step %d: %d entries, want %d", step, tab.n, len(ref))
		}
	}
	for h, f := range ref {
		if tab.get(h) != f {
			t.Fatalf("get(%d) wrong at the end", h)
		}
	}
	n := 0
	tab.each(func(*fragment) { n++ })
	if n != len(ref) {
		t.Fatalf("each saw %d entries, want %d", n, len(ref))
	}
	tab.reset()
	if tab.n != 0 || tab.get(1) != nil {
		t.Fatal("reset left entries")
	}
}
