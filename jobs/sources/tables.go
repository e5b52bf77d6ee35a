package sources

import (
	"errors"
	"fmt"
	"strings"
	"sync"
)

// tableSet is the compiled form of Engines, Socials, Webmails and Apps.
type tableSet struct {
	index *hostIndex
	apps  map[string]*site
	// aliases maps lower-case names ("google", "hacker news", "hackernews",
	// "fb") to the tables' names, for campaign sources.
	aliases map[string]string
}

// tables compiles the tables once; they are read-only afterwards. A bad
// table entry is a programming error, caught by the package's tests.
var tables = sync.OnceValue(func() *tableSet {
	t, err := buildTables()
	if err != nil {
		panic("sources: " + err.Error())
	}
	return t
})

func buildTables() (*tableSet, error) {
	t := &tableSet{index: newHostIndex(), apps: map[string]*site{}, aliases: map[string]string{}}
	var errs []error
	alias := func(name string) {
		for _, a := range []string{strings.ToLower(name), strings.ReplaceAll(strings.ToLower(name), " ", "")} {
			if _, ok := t.aliases[a]; !ok {
				t.aliases[a] = name
			}
		}
	}
	for _, e := range Engines {
		if e.Name == "" || len(e.Hosts) == 0 || len(e.Params) == 0 {
			errs = append(errs, fmt.Errorf("engine %q needs a name, hosts and params", e.Name))
			continue
		}
		s := &site{kind: kindSearch, name: e.Name, engine: e}
		for _, h := range e.Hosts {
			errs = append(errs, t.index.add(h, s))
		}
		for _, cs := range e.Charsets {
			if canonCharset(cs) == "" {
				errs = append(errs, fmt.Errorf("engine %s: unknown charset %q", e.Name, cs))
			}
		}
		alias(e.Name)
	}
	for _, group := range []struct {
		k     kind
		sites []Site
	}{{kindSocial, Socials}, {kindEmail, Webmails}} {
		for _, st := range group.sites {
			s := &site{kind: group.k, name: st.Name}
			for _, h := range st.Hosts {
				errs = append(errs, t.index.add(h, s))
			}
			alias(st.Name)
		}
	}
	for _, a := range Apps {
		k := kindReferral
		switch a.Medium {
		case MediumSearch:
			k = kindSearch
		case MediumSocial:
			k = kindSocial
		case MediumEmail:
			k = kindEmail
		default:
			errs = append(errs, fmt.Errorf("app %s: medium %q", a.Package, a.Medium))
		}
		if _, dup := t.apps[a.Package]; dup {
			errs = append(errs, fmt.Errorf("app %s is listed twice", a.Package))
		}
		s := &site{kind: k, name: a.Name}
		if k == kindSearch {
			s.engine = &Engine{Name: a.Name, Params: []string{"q"}}
		}
		t.apps[a.Package] = s
		// Some clients send the package as a host: "https://com.google.android.gm/".
		errs = append(errs, t.index.add(a.Package, s))
	}
	for a, name := range map[string]string{"fb": "Facebook", "ig": "Instagram", "yt": "YouTube", "x": "Twitter", "ddg": "DuckDuckGo"} {
		t.aliases[a] = name
	}
	return t, errors.Join(errs...)
}
