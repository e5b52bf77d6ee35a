package collector

import (
	"slices"
	"testing"
	"time"
)

// TestGather: gather takes what the channel holds up to the buffer's
// capacity, lingers only while it has fewer than min, and reports a closed
// channel.
func TestGather(t *testing.T) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	fill := func(n int, closed bool) chan int {
		ch := make(chan int, 16)
		for i := range n {
			ch <- i
		}
		if closed {
			close(ch)
		}
		return ch
	}

	// Enough waiting: no linger, capped by the buffer.
	ch := fill(12, false)
	start := time.Now()
	got, open := gather(ch, make([]int, 0, 8), 4, timer)
	if !open || !slices.Equal(got, []int{0, 1, 2, 3, 4, 5, 6, 7}) {
		t.Fatalf("gather = %v, %v; want 0..7, open", got, open)
	}
	if len(ch) != 4 {
		t.Fatalf("%d left in the channel, want 4", len(ch))
	}
	// Fewer than min: it waits for linger, then returns what it has.
	got, open = gather(ch, make([]int, 0, 8), 6, timer)
	if !open || !slices.Equal(got, []int{8, 9, 10, 11}) {
		t.Fatalf("gather = %v, %v; want 8..11, open", got, open)
	}
	if el := time.Since(start); el < linger {
		t.Fatalf("returned after %s with fewer than min, want a wait of %s", el, linger)
	}
	// Closed: what was left, and false.
	got, open = gather(fill(2, true), make([]int, 0, 8), 6, timer)
	if open || !slices.Equal(got, []int{0, 1}) {
		t.Fatalf("gather = %v, %v; want [0 1], closed", got, open)
	}
}
