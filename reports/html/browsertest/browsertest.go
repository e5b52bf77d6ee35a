// Package browsertest drives a headless Chromium for tests of what pvjobs
// writes for browsers (the HTML report): it finds Debian's chromium
// (testdata/chromium/chromium.sh installs it), starts it cut off from the
// network, loads a page and records what happened on the way: console
// messages and exceptions, Content-Security-Policy violations, and every
// request the page made.
//
// Tests that need a browser call Require or New: without a Chromium they
// skip, unless CI or PVJOBS_TEST_DISALLOW_SKIP is set, when they fail.
package browsertest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Require returns the Chromium binary for browser tests: $PVJOBS_CHROMIUM,
// or chromium (or Chrome) on the PATH. Without one the test skips, or fails
// under CI or PVJOBS_TEST_DISALLOW_SKIP.
func Require(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("PVJOBS_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome-stable", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no Chromium: install it with bash testdata/chromium/chromium.sh up (or set PVJOBS_CHROMIUM)"
	if os.Getenv("CI") != "" || os.Getenv("PVJOBS_TEST_DISALLOW_SKIP") != "" {
		tb.Fatal(msg + "; CI / PVJOBS_TEST_DISALLOW_SKIP forbid skipping")
	}
	tb.Skip(msg)
	return ""
}

// Flags are the allocator options every test browser runs with: headless,
// no sandbox (tests run as root in containers), no GPU, and nothing that
// reaches the network on its own (the machine's network is closed, and a
// test must see only the requests the page makes).
func Flags(bin, userDataDir string) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(userDataDir),
	}
}

// Browser is a headless Chromium for one test; its tab is Ctx. It stops
// when the test ends.
type Browser struct {
	// Ctx is the chromedp context of the browser's tab.
	Ctx context.Context
}

// New starts a browser for tb (see Require), with a fresh profile in a
// temporary directory.
func New(tb testing.TB) *Browser {
	tb.Helper()
	bin := Require(tb)
	actx, acancel := chromedp.NewExecAllocator(context.Background(), Flags(bin, tb.TempDir())...)
	ctx, cancel := chromedp.NewContext(actx)
	tb.Cleanup(func() {
		cancel()
		acancel()
	})
	// Start the browser now, with no deadline on this first call (a
	// deadline would stop the browser with it).
	if err := chromedp.Do(ctx); err != nil {
		tb.Fatalf("starting %s: %v", bin, err)
	}
	return &Browser{Ctx: ctx}
}

// Visit is what loading one page showed.
type Visit struct {
	// URL is the page's address.
	URL string
	// Console holds the page's console messages, uncaught exceptions and
	// browser log entries (a CSP violation is one), in order.
	Console []Message
	// Violations holds the page's securitypolicyviolation events, as
	// "directive blocked-uri".
	Violations []string
	// Requests holds the URL of every request the page made, the page's
	// own included, as the browser reports them.
	Requests []string
}

// Message is one console message, exception or browser log entry.
type Message struct {
	// Type is the console API's ("log", "error", ...), "exception", or the
	// log entry's level ("error", "warning", ...).
	Type string
	Text string
	// Source is the log entry's source ("security", "network"...), or
	// "console" and "exception".
	Source string
}

func (m Message) String() string { return m.Source + " " + m.Type + ": " + m.Text }

// Errors returns the messages of type error or exception.
func (v *Visit) Errors() []string {
	var out []string
	for _, m := range v.Console {
		if m.Type == "error" || m.Type == "exception" {
			out = append(out, m.String())
		}
	}
	return out
}

// watch is injected into every document before its own scripts, where the
// page's Content-Security-Policy does not reach (DevTools adds it): it
// records the page's CSP violations.
const watch = `window.__pvjobsViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__pvjobsViolations.push(e.violatedDirective + " " + e.blockedURI);
});`

// Serve serves the files of dir (not its directories) over HTTP on
// loopback for the test, and returns its base URL and a function that lists the paths asked for.
func Serve(tb testing.TB, dir string) (base string, served func() []string) {
	tb.Helper()
	var mu sync.Mutex
	var paths []string
	root, err := os.OpenRoot(dir)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { root.Close() })
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		// Each file as it is: http.FileServer would redirect index.html.
		f, err := root.Open(strings.TrimPrefix(r.URL.Path, "/"))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil || st.IsDir() {
			http.NotFound(w, r)
			return
		}
		http.ServeContent(w, r, st.Name(), st.ModTime(), f)
	}))
	tb.Cleanup(srv.Close)
	return srv.URL, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), paths...)
	}
}

// Open loads url in the browser's tab, waits until it has loaded, runs the
// actions (to look at the page, or to provoke it), and returns what
// happened meanwhile. Events are seen in the order the browser sends them,
// before the reply to the last command: nothing that happened before Open
// returns is missed.
func (b *Browser) Open(url string, actions ...chromedp.Action[chromedp.Void]) (*Visit, error) {
	ctx, cancel := context.WithTimeout(b.Ctx, 60*time.Second)
	defer cancel()
	lctx, lcancel := context.WithCancel(b.Ctx)
	defer lcancel()
	v := &Visit{URL: url}
	var mu sync.Mutex
	err := chromedp.Listen(lctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			var parts []string
			for _, a := range e.Args {
				if len(a.Value) > 0 {
					parts = append(parts, strings.Trim(string(a.Value), `"`))
				} else {
					parts = append(parts, a.Description)
				}
			}
			v.Console = append(v.Console, Message{Type: string(e.Type), Text: strings.Join(parts, " "), Source: "console"})
		case *runtime.EventExceptionThrown:
			text := e.ExceptionDetails.Text
			if e.ExceptionDetails.Exception != nil {
				text += " " + e.ExceptionDetails.Exception.Description
			}
			v.Console = append(v.Console, Message{Type: "exception", Text: text, Source: "exception"})
		case *log.EventEntryAdded:
			v.Console = append(v.Console, Message{Type: string(e.Entry.Level), Text: e.Entry.Text, Source: string(e.Entry.Source)})
		case *network.EventRequestWillBeSent:
			v.Requests = append(v.Requests, e.Request.URL)
		}
	})
	if err != nil {
		return nil, err
	}
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: watch}); err != nil {
		return nil, fmt.Errorf("injecting the CSP watch: %w", err)
	}
	steps := append([]chromedp.Action[chromedp.Void]{chromedp.Navigate(url)}, actions...)
	if err := chromedp.Do(ctx, steps...); err != nil {
		return nil, fmt.Errorf("loading %s: %w", url, err)
	}
	viol, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__pvjobsViolations || []`))
	if err != nil {
		return nil, fmt.Errorf("reading the CSP violations of %s: %w", url, err)
	}
	lcancel()
	mu.Lock()
	defer mu.Unlock()
	v.Violations = viol
	return v, nil
}

// FileURL returns the file:// URL of the file at path.
func FileURL(path string) string {
	return "file://" + strings.ReplaceAll(path, "%", "%25")
}

// ColorScheme returns an action that makes the page see the colour scheme
// ("light" or "dark") as the system's preference.
func ColorScheme(scheme string) chromedp.Action[chromedp.Void] {
	return Media("", "prefers-color-scheme", scheme)
}

// Media returns an action that emulates a media type ("print", "screen";
// "" leaves it) and a media feature (name and value; "" for none).
func Media(typ, feature, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		p := emulation.SetEmulatedMediaParams{Media: typ}
		if feature != "" {
			p.Features = []*emulation.MediaFeature{{Name: feature, Value: value}}
		}
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, p)
		return err
	})
}

// Screenshot loads url in a viewport width pixels wide with the colour
// scheme, and returns a PNG of the whole page.
func (b *Browser) Screenshot(url string, width int64, scheme string) ([]byte, error) {
	if _, err := b.Open(url, chromedp.EmulateViewport(width, 900), ColorScheme(scheme)); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(b.Ctx, 60*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.FullScreenshot(100))
}
