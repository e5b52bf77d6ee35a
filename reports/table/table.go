// Package table prints reports as compact text tables for ad-hoc runs: the top
// rows of each report over the run's whole range, per account, and the run
// summary.
package table

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/pvjobs/pvjobs/mapreduce"
)

// MaxCell is the widest a key cell is printed; longer ones are cut with "…".
const MaxCell = 60

// Brief is the number of measures the table shows: a report lists its
// measures most important first.
const Brief = 3

// Top prints, for each report and account, the top n rows of the whole range
// (for reports without range rows, the first n rows), with the report's
// first Brief measures and the share of the primary one.
func Top(w io.Writer, reps []mapreduce.Report, n int) error {
	for _, rep := range reps {
		byAccount := map[string][]mapreduce.ReportRow{}
		var accounts []string
		hasRange := false
		for _, r := range rep.Rows {
			if r.Period == mapreduce.PeriodRange {
				hasRange = true
				break
			}
		}
		// A report without keys (unique visitors) shows its days and range.
		series := len(rep.Keys) == 0
		for _, r := range rep.Rows {
			if series && r.Period != mapreduce.PeriodDay && r.Period != mapreduce.PeriodRange {
				continue
			}
			if !series && hasRange && r.Period != mapreduce.PeriodRange {
				continue
			}
			if _, ok := byAccount[r.Account]; !ok {
				accounts = append(accounts, r.Account)
			}
			byAccount[r.Account] = append(byAccount[r.Account], r)
		}
		ms := rep.Measures[:min(Brief, len(rep.Measures))]
		for _, a := range accounts {
			rows := byAccount[a]
			var total float64
			for _, r := range rows {
				total += r.Primary()
			}
			if series {
				fmt.Fprintf(w, "\n%s — account %s\n", rep.Name, a)
			} else {
				fmt.Fprintf(w, "\n%s — account %s — top %d of %d\n", rep.Name, a, min(n, len(rows)), len(rows))
			}
			if series {
				hasRange = false
			} else if len(rows) > n {
				rows = rows[:n]
			}
			widths := make([]int, len(ms))
			for i, m := range ms {
				widths[i] = len(m.Name)
				for _, r := range rows {
					widths[i] = max(widths[i], len(format(m, r.Values[i])))
				}
			}
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			hdr := fmt.Sprintf("%3s", "#")
			for i, m := range ms {
				hdr += fmt.Sprintf("  %*s", widths[i], m.Name)
				if i == 0 {
					hdr += fmt.Sprintf("  %6s", "share")
				}
			}
			if !hasRange {
				hdr += "  start           "
			}
			fmt.Fprintf(tw, "%s\t%s\n", hdr, strings.Join(append(slices.Clone(rep.Keys), rep.Labels...), "\t"))
			for i, r := range rows {
				line := fmt.Sprintf("%3d", i+1)
				for j, m := range ms {
					line += fmt.Sprintf("  %*s", widths[j], format(m, r.Values[j]))
					if j == 0 {
						share := "-"
						if total > 0 && !series {
							share = fmt.Sprintf("%.1f%%", 100*r.Primary()/total)
						}
						line += fmt.Sprintf("  %6s", share)
					}
				}
				if !hasRange {
					line += "  " + r.Start.Format("2006-01-02 15:04")
					if r.Period == mapreduce.PeriodRange {
						line += " (range)"
					}
				}
				keys := make([]string, 0, len(r.Keys)+len(rep.Labels))
				for _, k := range r.Keys {
					keys = append(keys, clip(k))
				}
				for j := range rep.Labels {
					l := ""
					if j < len(r.Labels) {
						l = r.Labels[j]
					}
					keys = append(keys, clip(l))
				}
				fmt.Fprintf(tw, "%s\t%s\n", line, strings.Join(keys, "\t"))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// format formats a value for the table: counts with thousands separators,
// rates as percentages, others as sinks write them.
func format(m mapreduce.Measure, v float64) string {
	switch m.Kind {
	case mapreduce.Count:
		return group(int64(v))
	case mapreduce.Rate:
		if v != v {
			return "-"
		}
		return fmt.Sprintf("%.1f%%", 100*v)
	}
	if s := m.Format(v); s != "" {
		return s
	}
	return "-"
}

// Summary prints the run summary. Shards a failed run did not finish
// reading are counted as unread, not missing; rows of the read shards
// outside the range (a local day reads two UTC shards) are counted as
// outside the range.
func Summary(w io.Writer, s *mapreduce.Summary, reps []mapreduce.Report) {
	unread, outside, spam := "", "", ""
	if s.ShardsUnread > 0 {
		unread = fmt.Sprintf(", %d unread", s.ShardsUnread)
	}
	if s.Skipped > 0 {
		outside = fmt.Sprintf(", %s outside the range", group(s.Skipped))
	}
	if s.Spam > 0 {
		spam = fmt.Sprintf(", %s referrer spam left out", group(s.Spam))
	}
	fmt.Fprintf(w, "\nshards %d read, %d missing%s · rows %s (%s bad%s%s) · %s · %s rows/s · %d workers\n",
		s.ShardsFound, s.ShardsMissing, unread, group(s.Rows), group(s.BadRows), outside, spam,
		s.Duration.Round(time.Millisecond), group(int64(s.RowsPerSecond())), s.Workers)
	for _, r := range reps {
		fmt.Fprintf(w, "report %-12s %s rows\n", r.Name, group(int64(len(r.Rows))))
	}
}

// clip makes a key printable in one cell: control characters (outside data
// may hold tabs, newlines or terminal escape sequences) become spaces, and
// long keys are cut.
func clip(s string) string {
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		s = strings.Map(func(r rune) rune {
			if unicode.IsControl(r) {
				return ' '
			}
			return r
		}, s)
	}
	if utf8.RuneCountInString(s) <= MaxCell {
		return s
	}
	r := []rune(s)
	return string(r[:MaxCell-1]) + "…"
}

// group formats n with thousands separators.
func group(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
