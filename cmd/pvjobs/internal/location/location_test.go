package location_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/location"
)

func TestRedact(t *testing.T) {
	f := func(raw, want string) {
		t.Helper()
		if got := location.Redact(raw); got != want {
			t.Errorf("Redact(%q) = %q, want %q", raw, got, want)
		}
	}
	f("csv:pvjobs-out", "csv:pvjobs-out")
	f("/data/shards", "/data/shards")
	f("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0")
	f("redis://user@127.0.0.1:6379/0", "redis://user@127.0.0.1:6379/0")
	f("redis://user:s3cret@h:6379/0", "redis://user:xxxxx@h:6379/0")
	f("redis://:s3cret@h:6379/0", "redis://:xxxxx@h:6379/0")
	f("redis://user:s3cret@h:63x9/0", "redis://user:xxxxx@h:63x9/0")              // does not parse
	f("rediss://user:s3:cr@et@h:6379/0", "rediss://user:xxxxx@h:6379/0")          // unescaped : and @
	f("redis://user:s3%40cret@h/0?prefix=pv", "redis://user:xxxxx@h/0?prefix=pv") // escaped @
	f("cassandra://u:s3cret@h1,h2:9042/ks?table=t", "cassandra://u:xxxxx@h1,h2:9042/ks?table=t")
	f("cassandra://h/ks?user=u&password=s3cret&table=t", "cassandra://h/ks?user=u&password=xxxxx&table=t")
	f("cassandra://h/ks?PASSWORD=s3cret", "cassandra://h/ks?PASSWORD=xxxxx")
	f("redis://h/0?sasl_password=a&token=b;auth_token=c#frag", "redis://h/0?sasl_password=xxxxx&token=xxxxx;auth_token=xxxxx")
	f("redis://h/0?pass%77ord=s3cret", "redis://h/0?pass%77ord=xxxxx")
	f("redis://u:p@h/0?password=q", "redis://u:xxxxx@h/0?password=xxxxx")
	f("redis://h/0?password=", "redis://h/0?password=")
	f("not a url: user:pw@host", "not a url: user:pw@host") // no scheme: no userinfo to find
}

func TestSecrets(t *testing.T) {
	got := location.Secrets("redis://u:s3%40c%22r@h/0?password=a+b%21")
	for _, want := range []string{"s3%40c%22r", "s3@c\"r", `s3@c\"r`, "a+b%21", "a b!", "a+b!"} {
		found := false
		for _, s := range got {
			if s == want {
				found = true
			}
		}
		if !found {
			t.Errorf("Secrets lacks %q: %q", want, got)
		}
	}
	if s := location.Secrets("redis://h:6379/0"); len(s) != 0 {
		t.Errorf("Secrets of a URL without one: %q", s)
	}
}

// cfg is the configuration of the test schemes.
type cfg struct{ raw string }

// echo is a scheme whose parse and open errors quote the raw location and
// its decoded password, as careless libraries do (net/url's errors quote the
// whole URL).
func echo(scheme string) location.Factory[string, string] {
	return location.New(location.Spec[cfg, string, string]{
		Scheme: scheme,
		Syntax: scheme + "://host/db",
		Prefix: scheme + "://",
		Parse: func(raw string) (cfg, error) {
			if strings.Contains(raw, "bad") {
				u, err := url.Parse(raw)
				pw := ""
				if err == nil {
					pw, _ = u.User.Password()
				}
				return cfg{}, fmt.Errorf("cannot parse %s (password %q): %w", raw, pw, err)
			}
			return cfg{raw}, nil
		},
		Open: func(_ context.Context, c cfg, env string) (string, error) {
			if env == "fail" {
				return "", fmt.Errorf("dial %s: %w", c.raw, errBoom)
			}
			return "opened " + c.raw, nil
		},
	})
}

var errBoom = errors.New("boom")

func TestRegistry(t *testing.T) {
	reg := location.NewRegistry("output", echo("aa"), echo("bb"))
	if got := reg.Syntax(); got != "aa://host/db or bb://host/db" {
		t.Errorf("Syntax() = %q", got)
	}
	for _, raw := range []string{
		"aa://u:s3cret@bad:63x9/0",
		"bb://u:s3%21cret@bad/0?password=t0ken",
		"aa://u:s3cret@bad/0",
	} {
		_, err := reg.Parse(raw)
		if err == nil {
			t.Fatalf("Parse(%q) succeeded", raw)
		}
		var le *location.Error
		if !errors.As(err, &le) || le.What != "output" {
			t.Errorf("Parse(%q): %v is not a location.Error of an output", raw, err)
		}
		for _, s := range []string{"s3cret", "s3!cret", "s3%21cret", "t0ken"} {
			if strings.Contains(err.Error(), s) {
				t.Errorf("Parse(%q) error shows %q: %v", raw, s, err)
			}
		}
		if !strings.Contains(err.Error(), "xxxxx") {
			t.Errorf("Parse(%q) error %q shows no mask", raw, err)
		}
	}
	if _, err := reg.Parse("cc://u:s3cret@h/0"); err == nil || strings.Contains(err.Error(), "s3cret") ||
		!strings.Contains(err.Error(), "want aa://host/db or bb://host/db") {
		t.Errorf("unknown scheme: %v", err)
	}
	loc, err := reg.Parse("bb://u:s3cret@h/0")
	if err != nil {
		t.Fatal(err)
	}
	if loc.Scheme != "bb" || loc.String() != "bb://u:xxxxx@h/0" || loc.Raw() != "bb://u:s3cret@h/0" {
		t.Errorf("parsed %q: scheme %q, String %q, Raw %q", "bb://u:s3cret@h/0", loc.Scheme, loc.String(), loc.Raw())
	}
	got, err := loc.Open(context.Background(), "ok")
	if err != nil || got != "opened bb://u:s3cret@h/0" {
		t.Errorf("Open: %q, %v", got, err)
	}
	_, err = loc.Open(context.Background(), "fail")
	if !errors.Is(err, errBoom) || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Open error %v: want errBoom without the password", err)
	}
	if err := reg.Check("aa://h/0"); err != nil {
		t.Errorf("Check: %v", err)
	}
	if r := reg.Redact("aa://u:s3cret@h/0"); r != "aa://u:xxxxx@h/0" {
		t.Errorf("Redact: %q", r)
	}
}

func TestRegistryDuplicate(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("a scheme registered twice did not panic")
		}
	}()
	location.NewRegistry("output", echo("aa"), echo("aa"))
}

func TestScrub(t *testing.T) {
	raw := "redis://u:s3cret@h:1/0"
	err := location.Scrub(fmt.Errorf("parse %q: %w", raw, errBoom), raw)
	if strings.Contains(err.Error(), "s3cret") || !errors.Is(err, errBoom) {
		t.Errorf("Scrub: %v", err)
	}
	plain := errors.New("no secret here")
	if location.Scrub(plain, raw) != plain {
		t.Error("Scrub wrapped an error without secrets")
	}
}

// FuzzRedact: whatever the text, Redact's result holds none of the secrets
// Secrets finds.
func FuzzRedact(f *testing.F) {
	for _, s := range []string{"redis://u:p@h/0", "cassandra://h/ks?password=x&user=y", "redis://u:a@b@c:1/0?token=t#f", "csv:dir", "a://:@?=&"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		red := location.Redact(raw)
		for _, sec := range location.Secrets(raw) {
			// A secret written once, long enough not to occur by chance in
			// what is kept, must be gone.
			if len(sec) >= 4 && !strings.Contains(sec, "x") && strings.Count(raw, sec) == 1 && strings.Contains(red, sec) {
				t.Fatalf("Redact(%q) = %q shows secret %q", raw, red, sec)
			}
		}
	})
}
