package options_test

import (
	"math"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/options"
)

func TestParseDuration(t *testing.T) {
	day := 24 * time.Hour
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"90m", 90 * time.Minute, true},
		{"1h30m", 90 * time.Minute, true},
		{"500ms", 500 * time.Millisecond, true},
		{"1.5s", 1500 * time.Millisecond, true},
		{"3d", 3 * day, true},
		{"1w", 7 * day, true},
		{"2w", 14 * day, true},
		{"1d12h", 36 * time.Hour, true},
		{"1w1d", 8 * day, true},
		{"1.5d", 36 * time.Hour, true},
		{"90d", 90 * day, true},
		{"0", 0, true},
		{"0s", 0, true},
		{"-1h", -time.Hour, true},
		{"-2d", -2 * day, true},
		{"", 0, false},
		{"soon", 0, false},
		{"3 days", 0, false},
		{"3", 0, false},
		{"d", 0, false},
		{"1x", 0, false},
		{"1dd", 0, false},
		{"1d2", 0, false},
		{"..d", 0, false},
		{"999999999w", 0, false},
	} {
		got, err := options.ParseDuration(tc.in)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v (ok %v)", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{time.Minute, "1m"},
		{90 * time.Minute, "1h30m"},
		{2 * time.Hour, "2h"},
		{24 * time.Hour, "1d"},
		{36 * time.Hour, "1d12h"},
		{7 * 24 * time.Hour, "1w"},
		{8 * 24 * time.Hour, "8d"},
		{200 * time.Millisecond, "200ms"},
		{1500 * time.Millisecond, "1.5s"},
		{-time.Hour, "-1h"},
	} {
		got := options.FormatDuration(tc.d)
		if got != tc.want {
			t.Errorf("FormatDuration(%v) = %q; want %q", tc.d, got, tc.want)
		}
		if back, err := options.ParseDuration(got); err != nil || back != tc.d {
			t.Errorf("ParseDuration(FormatDuration(%v)) = %v, %v", tc.d, back, err)
		}
	}
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"90m", "1d12h", "2w", "-1.5d", "0", "1h30m0.5s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := options.ParseDuration(s)
		if err != nil {
			return
		}
		if d == math.MinInt64 {
			return
		}
		back, err := options.ParseDuration(options.FormatDuration(d))
		if err != nil || back != d {
			t.Errorf("%q: %v formats as %q, which reads back as %v, %v", s, d, options.FormatDuration(d), back, err)
		}
	})
}
