package html

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"strings"
)

//go:embed assets/page.html.tmpl assets/report.css assets/report.js
var assets embed.FS

var (
	// css is the page's style sheet: the embedded one and the bar widths.
	css = func() string {
		b, err := assets.ReadFile("assets/report.css")
		if err != nil {
			panic(err)
		}
		var s strings.Builder
		s.Write(b)
		for w := 1; w <= 100; w++ {
			fmt.Fprintf(&s, ".w%d{width:%d%%}", w, w)
		}
		s.WriteString("\n")
		return s.String()
	}()
	// script is the page's one script.
	script = func() string {
		b, err := assets.ReadFile("assets/report.js")
		if err != nil {
			panic(err)
		}
		return string(b)
	}()
	// CSP is the Content-Security-Policy of every page: nothing is loaded
	// from anywhere (default-src 'none'; the icon is an empty data: URL),
	// the only script and style sheet that run are the page's own, by their
	// SHA-256, and no markup may be built from strings (Trusted Types).
	CSP = "default-src 'none'; script-src '" + hash(script) + "'; style-src '" + hash(css) +
		"'; img-src data:; base-uri 'none'; form-action 'none'; require-trusted-types-for 'script'; trusted-types 'none'"

	pageTemplate = template.Must(template.New("page.html.tmpl").Funcs(template.FuncMap{
		"sub":  func(a, b float64) float64 { return a - b },
		"add":  func(a, b float64) float64 { return a + b },
		"join": strings.Join,
	}).ParseFS(assets, "assets/page.html.tmpl"))
)

// hash returns the CSP source of s: 'sha256-<base64>' without the quotes.
func hash(s string) string {
	h := sha256.Sum256([]byte(s))
	return "sha256-" + base64.StdEncoding.EncodeToString(h[:])
}

// view is what the page template is executed with.
type view struct {
	CSP string
	CSS template.CSS
	JS  template.JS
	P   *page
}

// renderPage writes p as a page. Every value from the reports reaches the
// page through html/template, escaped for where it lands (text, attribute,
// the JSON of the script's data).
func renderPage(w io.Writer, p *page) error {
	return pageTemplate.Execute(w, view{CSP: CSP, CSS: template.CSS(css), JS: template.JS(script), P: p})
}
