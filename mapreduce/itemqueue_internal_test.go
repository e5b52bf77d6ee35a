package mapreduce

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestItemQueue: every item is handed out once, whatever order the workers
// ask in; a worker's first items are consecutive in account and time
// order; and a worker that has finished its run takes part of another's.
func TestItemQueue(t *testing.T) {
	day := time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC)
	var items []WorkItem
	for slice := range 24 { // plan order: by shard (here: by time), then account
		for account := range 3 {
			items = append(items, WorkItem{Account: account, Start: day.Add(time.Duration(slice) * time.Hour), Seq: len(items)})
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, workers := range []int{1, 2, 5, 100} {
		q := newItemQueue(items, min(workers, len(items)))
		seen := map[int]int{}
		got := make([][]WorkItem, len(q.runs))
		for left := len(items); left > 0; {
			w := rng.IntN(len(q.runs))
			if w == 0 && workers > 1 {
				continue // worker 0 is slow: the others take from its run
			}
			it, ok := q.next(w)
			if !ok {
				t.Fatalf("workers %d: no item for worker %d with %d left", workers, w, left)
			}
			seen[it.Seq]++
			got[w] = append(got[w], it)
			left--
		}
		for w := range q.runs {
			if _, ok := q.next(w); ok {
				t.Fatalf("workers %d: an item after the last", workers)
			}
		}
		for seq := range items {
			if seen[seq] != 1 {
				t.Fatalf("workers %d: item %d handed out %d times", workers, seq, seen[seq])
			}
		}
		for w, its := range got {
			for i := 1; i < len(its) && i < len(items)/len(q.runs); i++ {
				a, b := its[i-1], its[i]
				if a.Account != b.Account || !b.Start.Equal(a.Start.Add(time.Hour)) {
					if a.Account == b.Account-1 && b.Start.Equal(day) {
						continue // from one account's last slice to the next one's first
					}
					t.Errorf("workers %d: worker %d's item %d (%d %s) does not follow (%d %s)", workers, w, i, b.Account, b.Start, a.Account, a.Start)
				}
			}
		}
	}
}
