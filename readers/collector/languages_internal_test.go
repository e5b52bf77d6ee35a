package collector

import (
	"fmt"
	"testing"
)

// TestLanguagesCache: the cached answers are FirstLanguage's, the first
// time and after, and the cache stops growing at languagesMax tags.
func TestLanguagesCache(t *testing.T) {
	var l languages
	for _, h := range []string{"en-us;q=0.9, de", "EN-US,en;q=0.8", "*", "", "xx-!!", "de-CH", " fr ;q=1", "zh-hant-tw"} {
		for range 2 {
			if got, want := l.first(h), FirstLanguage(h); got != want {
				t.Errorf("first(%q) = %q, want %q", h, got, want)
			}
		}
	}
	for i := range languagesMax + 100 {
		h := fmt.Sprintf("x-%d", i)
		if got, want := l.first(h), FirstLanguage(h); got != want {
			t.Fatalf("first(%q) = %q, want %q", h, got, want)
		}
	}
	if n := l.n.Load(); n != languagesMax {
		t.Errorf("the cache holds %d tags, want at most %d", n, languagesMax)
	}
}
