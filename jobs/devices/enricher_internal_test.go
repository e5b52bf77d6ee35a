package devices

import (
	"fmt"
	"testing"
)

func TestCacheBound(t *testing.T) {
	tests := []struct {
		name      string
		size, max int
	}{
		{"default", 0, DefaultCacheSize},
		{"one", 1, 2},
		{"small", 10, 10},
		{"odd", 7, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCache(tt.size)
			for i := range 3 * max(tt.max, 100) {
				c.agent(fmt.Appendf(nil, "Foo/%d", i))
				if n := c.len(); n > tt.max {
					t.Fatalf("after %d user agents the cache holds %d, want at most %d", i+1, n, tt.max)
				}
			}
		})
	}
}

// TestCacheKeepsHotAgents checks the two generations: a user agent looked up
// in every round survives the turnovers that the others cause.
func TestCacheKeepsHotAgents(t *testing.T) {
	c := newCache(8)
	hot := []byte("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36")
	first := c.agent(hot)
	for i := range 100 {
		c.agent(fmt.Appendf(nil, "Foo/%d", i))
		if a := c.agent(hot); a != first {
			t.Fatalf("round %d: the hot user agent was classified again", i)
		}
	}
}

func TestCacheLongAgents(t *testing.T) {
	c := newCache(4)
	long := make([]byte, 3*MaxLen)
	for i := range long {
		long[i] = 'a'
	}
	a := c.agent(long)
	long[2*MaxLen] = 'b' // past MaxLen: the same entry
	if b := c.agent(long); b != a {
		t.Error("user agents equal in their first MaxLen bytes got different entries")
	}
	for k := range c.cur {
		if len(k) > MaxLen {
			t.Errorf("cache key of %d bytes, want at most %d", len(k), MaxLen)
		}
	}
}
