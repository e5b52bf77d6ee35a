// Package validtext makes the text columns of reports valid UTF-8 before any
// sink writes them, so that every sink (CSV files, the table on stdout,
// Redis members) holds the same text and programs that decode it as UTF-8
// do not fail.
//
// URLs, titles, referrers and search terms come from the open internet and
// may hold bytes that are not UTF-8 (Latin-1 paths, truncated multi-byte
// characters). The rule:
//
//   - URL columns (url, referrer, page, landing_page, exit_page and names
//     ending in _url) percent-encode each byte of an invalid sequence, %E9
//     for a Latin-1 é: the URL stays usable, and it is what a browser
//     sends for those bytes.
//   - Every other key column replaces each run of invalid bytes with U+FFFD
//     (�), as Go's strings.ToValidUTF8 does.
//
// Valid UTF-8 is never changed. jobs/tally applies the rule to every report
// key before it adds rows up, so two spellings of one URL are one row (page
// views added, visitors a union); Reports applies it to what reaches the
// sinks, so that every sink holds the same text whatever made the report.
package validtext

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/pvjobs/pvjobs/mapreduce"
)

// IsURLColumn reports whether the key column named col holds URLs.
func IsURLColumn(col string) bool {
	switch col {
	case "url", "referrer", "page", "landing_page", "exit_page":
		return true
	}
	return strings.HasSuffix(col, "_url")
}

// Cell returns s made valid UTF-8 by the rule of column col.
func Cell(col, s string) string {
	if utf8.ValidString(s) {
		return s
	}
	if IsURLColumn(col) {
		return URL(s)
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// URL returns s with each byte of its invalid UTF-8 sequences
// percent-encoded (%XX, upper-case hex); valid characters are kept.
func URL(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 {
			c := s[i]
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
			i++
			continue
		}
		b.WriteString(s[i : i+n])
		i += n
	}
	return b.String()
}

// Reports makes every key of every row of reps valid UTF-8, in place, and
// returns the number of cells it changed. Reports built by jobs/tally are
// valid already (the tally cleans keys before it adds rows up, so that keys
// that become equal are one row, their visitors a union); Reports is the
// guarantee for every other report. It does not merge rows whose keys become
// equal: their distinct counts cannot be added.
func Reports(reps []mapreduce.Report) int {
	changed := 0
	for i := range reps {
		rep := &reps[i]
		for j := range rep.Rows {
			row := &rep.Rows[j]
			copied := false
			for k, v := range row.Keys {
				if utf8.ValidString(v) {
					continue
				}
				if !copied { // rows may share key slices
					row.Keys, copied = slices.Clone(row.Keys), true
				}
				col := ""
				if k < len(rep.Keys) {
					col = rep.Keys[k]
				}
				row.Keys[k] = Cell(col, v)
				changed++
			}
		}
	}
	return changed
}
