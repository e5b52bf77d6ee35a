// Package location is the one registry of the places pvjobs reads from and
// writes to: sources (a directory of shard files, cassandra://...), outputs
// (csv:DIR, redis://..., rediss://...) and the scheduler's lock. It follows
// restic's backend location registry: each scheme has one Factory that
// recognises it, parses it into its configuration, opens it and hides its
// secrets, and a Registry lists the factories of one kind explicitly.
//
// Every message, log line, metric label and dry-run line that shows a
// location shows it through Redact (or the parsed Location's String). The
// errors of Parse and Open never hold a secret of the location, whatever the
// libraries underneath put into them: they are scrubbed of every secret
// Secrets finds (the userinfo password, password=, token=, secret=... query
// values, in their raw, decoded, escaped and quoted forms).
package location

import (
	"context"
	"fmt"
	"strings"
)

// Factory is one scheme of a Registry: E is what opening needs besides the
// location (the run's options), T what it opens. Make one with New.
type Factory[E, T any] interface {
	// Scheme names the scheme: "csv", "redis", "cassandra", "dir".
	Scheme() string
	// Syntax shows how the scheme is written, for help and errors:
	// "csv:DIR".
	Syntax() string
	// Match reports whether raw is written in this scheme.
	Match(raw string) bool
	// Redact returns raw with its secrets hidden. It works on text that
	// does not parse too.
	Redact(raw string) string

	parse(raw string) (any, error)
	open(ctx context.Context, cfg any, env E) (T, error)
}

// Spec describes a scheme for New. C is the scheme's parsed configuration.
type Spec[C, E, T any] struct {
	// Scheme and Syntax are the Factory's.
	Scheme, Syntax string
	// Prefix selects the scheme: locations that start with it ("csv:",
	// "redis://"). Match, when set, is used instead.
	Prefix string
	Match  func(raw string) bool
	// Parse parses a location of the scheme. It must not touch the network
	// or the file system: config files are checked with it.
	Parse func(raw string) (C, error)
	// Redact hides the secrets of raw; nil means the package's Redact,
	// which knows URLs' passwords and secret query parameters.
	Redact func(raw string) string
	// Open opens a parsed location.
	Open func(ctx context.Context, cfg C, env E) (T, error)
}

// New returns the Factory of s.
func New[C, E, T any](s Spec[C, E, T]) Factory[E, T] {
	if s.Scheme == "" || s.Parse == nil || s.Open == nil || (s.Prefix == "" && s.Match == nil) {
		panic("location: incomplete Spec for scheme " + s.Scheme)
	}
	return &factory[C, E, T]{s}
}

type factory[C, E, T any] struct{ s Spec[C, E, T] }

func (f *factory[C, E, T]) Scheme() string { return f.s.Scheme }
func (f *factory[C, E, T]) Syntax() string { return f.s.Syntax }

func (f *factory[C, E, T]) Match(raw string) bool {
	if f.s.Match != nil {
		return f.s.Match(raw)
	}
	return strings.HasPrefix(raw, f.s.Prefix)
}

func (f *factory[C, E, T]) Redact(raw string) string {
	if f.s.Redact != nil {
		return Redact(f.s.Redact(raw))
	}
	return Redact(raw)
}

func (f *factory[C, E, T]) parse(raw string) (any, error) { return f.s.Parse(raw) }

func (f *factory[C, E, T]) open(ctx context.Context, cfg any, env E) (T, error) {
	return f.s.Open(ctx, cfg.(C), env)
}

// Registry is the explicit list of the schemes of one kind of location.
type Registry[E, T any] struct {
	what      string
	factories []Factory[E, T]
}

// NewRegistry returns a registry of the factories, tried in order; what
// names the kind of location in messages ("output", "source"). It panics on a
// scheme listed twice.
func NewRegistry[E, T any](what string, factories ...Factory[E, T]) *Registry[E, T] {
	seen := map[string]bool{}
	for _, f := range factories {
		if seen[f.Scheme()] {
			panic("location: scheme " + f.Scheme() + " registered twice for " + what)
		}
		seen[f.Scheme()] = true
	}
	return &Registry[E, T]{what: what, factories: factories}
}

// Syntax lists how the registry's locations are written: "csv:DIR,
// redis://host:port/db or rediss://host:port/db".
func (r *Registry[E, T]) Syntax() string {
	var s []string
	for _, f := range r.factories {
		if f.Syntax() != "" {
			s = append(s, f.Syntax())
		}
	}
	if len(s) <= 1 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// Schemes returns the registry's schemes in order.
func (r *Registry[E, T]) Schemes() []string {
	out := make([]string, len(r.factories))
	for i, f := range r.factories {
		out[i] = f.Scheme()
	}
	return out
}

func (r *Registry[E, T]) lookup(raw string) Factory[E, T] {
	for _, f := range r.factories {
		if f.Match(raw) {
			return f
		}
	}
	return nil
}

// Redact returns raw with its secrets hidden, by its scheme's rules (the
// package's Redact for text no scheme matches).
func (r *Registry[E, T]) Redact(raw string) string {
	if f := r.lookup(raw); f != nil {
		return f.Redact(raw)
	}
	return Redact(raw)
}

// Parse parses raw by the scheme it matches. Its error is an *Error, free of
// raw's secrets.
func (r *Registry[E, T]) Parse(raw string) (*Location[E, T], error) {
	f := r.lookup(raw)
	if f == nil {
		return nil, &Error{What: r.what, Loc: Redact(raw), Err: fmt.Errorf("want %s", r.Syntax())}
	}
	cfg, err := f.parse(raw)
	if err != nil {
		return nil, newError(r.what, raw, f.Redact(raw), err)
	}
	return &Location[E, T]{Scheme: f.Scheme(), Config: cfg, raw: raw, f: f, what: r.what}, nil
}

// Check parses raw and reports only the error: for config files, which are
// checked long before anything is opened.
func (r *Registry[E, T]) Check(raw string) error {
	_, err := r.Parse(raw)
	return err
}

// Checker is the part of a Registry that checks and redacts, whatever it
// opens.
type Checker interface {
	Check(raw string) error
	Redact(raw string) string
	Syntax() string
}

// Location is a parsed location.
type Location[E, T any] struct {
	// Scheme is the factory's scheme.
	Scheme string
	// Config is what the scheme's Parse returned.
	Config any

	raw  string
	what string
	f    Factory[E, T]
}

// String returns the location with its secrets hidden.
func (l *Location[E, T]) String() string { return l.f.Redact(l.raw) }

// Raw returns the location as written, secrets included: for the code that
// opens it, never for messages.
func (l *Location[E, T]) Raw() string { return l.raw }

// Open opens the location with env. Its error is an *Error, free of the
// location's secrets, that wraps what Open returned (errors.Is and
// errors.As see through it).
func (l *Location[E, T]) Open(ctx context.Context, env E) (T, error) {
	t, err := l.f.open(ctx, l.Config, env)
	if err != nil {
		return t, newError(l.what, l.raw, l.String(), err)
	}
	return t, nil
}

// Scrub returns err with every secret of raw hidden from its message; it
// still wraps err. For errors of code that used raw outside Open.
func Scrub(err error, raw string) error {
	if err == nil {
		return nil
	}
	msg := scrub(err.Error(), raw)
	if msg == err.Error() {
		return err
	}
	return &scrubbed{msg: msg, err: err}
}

type scrubbed struct {
	msg string
	err error
}

func (s *scrubbed) Error() string { return s.msg }
func (s *scrubbed) Unwrap() error { return s.err }

// Error is a location that could not be parsed or opened.
type Error struct {
	// What is the kind of location: "output", "source".
	What string
	// Loc is the location, secrets hidden.
	Loc string
	// Err says what is wrong; its message holds no secret.
	Err error
}

// Error returns `"<location>": <what is wrong>`.
func (e *Error) Error() string {
	msg := e.Err.Error()
	if strings.Contains(msg, e.Loc) {
		return msg
	}
	return fmt.Sprintf("%q: %s", e.Loc, msg)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

func newError(what, raw, redacted string, err error) *Error {
	return &Error{What: what, Loc: redacted, Err: Scrub(err, raw)}
}
