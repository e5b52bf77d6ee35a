package redis_test

import (
	"strings"
	"testing"

	"github.com/pvjobs/pvjobs/reports/redis"
)

// FuzzParseURL checks that ParseURL never panics and that neither its errors
// nor Target.String show the password.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{
		"redis://localhost:6379/0", "rediss://u:secretpw@h:1/2?prefix=x&batch=5", "redis://:secretpw@h/0?cluster=true&addr=h2:2",
		"redis://u:secretpw@[::1]:6379/0?dial_timeout=3s", "redis://h/0?pipeline=0", "redis://secretpw@h/%zz",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tg, err := redis.ParseURL(s)
		if !strings.Contains(s, ":secretpw@") || strings.Count(s, "secretpw") > 1 {
			return // Only the password must not show.
		}
		if err != nil {
			if strings.Contains(err.Error(), "secretpw") {
				t.Errorf("ParseURL(%q) error shows the password: %v", s, err)
			}
			return
		}
		if strings.Contains(tg.String(), "secretpw") {
			t.Errorf("Target.String() = %q shows the password", tg.String())
		}
		if r := redis.Redact(s); strings.Contains(r, "secretpw") {
			t.Errorf("Redact(%q) = %q", s, r)
		}
	})
}
