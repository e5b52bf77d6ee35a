package main

import (
	"cmp"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/sharding"
	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/reports/csv"
)

// defaultProgressEvery is the interval of progress log lines.
const defaultProgressEvery = 10 * time.Second

// barEvery is how often the progress bar is redrawn.
const barEvery = 200 * time.Millisecond

// startRun is called by execute just before the engine runs s: it shows the
// run's progress on stderr (per --progress) through s.opts.OnItem, and
// returns the function execute calls with the engine's result and error,
// which stops the display and keeps the result for the run's metrics.
func startRun(p *runParams, s *runSetup, stderr io.Writer) func(*mapreduce.Result, error) {
	pr := newProgress(p, s, stderr)
	if pr != nil {
		if s.opts.Read == nil {
			s.opts.Read = pr.rows
		} else {
			pr.rows = s.opts.Read
		}
		prev := s.opts.OnItem
		s.opts.OnItem = func(it mapreduce.WorkItem, rows int64) {
			if prev != nil {
				prev(it, rows)
			}
			pr.item(it, rows)
		}
	}
	return func(res *mapreduce.Result, err error) {
		if pr != nil {
			pr.stop(err == nil)
		}
		p.result = res
	}
}

// progress counts finished work items and shards; item is called from the
// engine's workers concurrently.
type progress struct {
	start      time.Time
	items      int
	shards     int
	perShard   []int32 // work items per shard
	doneShard  []atomic.Int32
	doneItems  atomic.Int64
	doneShards atomic.Int64
	rows       *atomic.Int64 // rows read so far, live (the engine's Options.Read)

	bar  *progressbar.ProgressBar
	log  *slog.Logger
	out  io.Writer
	quit chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

// newProgress returns the progress display p asks for, or nil.
func newProgress(p *runParams, s *runSetup, stderr io.Writer) *progress {
	mode := p.Progress
	if mode == "" || mode == "auto" {
		mode = "log"
		if isTerminal(stderr) && !p.Quiet {
			mode = "bar"
		}
	}
	if mode == "none" {
		return nil
	}
	// The run's items, counted without cutting them (which reads files).
	split := s.src.Split()
	items, parts := s.plan.Items(split), s.plan.PartsPerItem(split, p.Workers)
	pr := &progress{start: time.Now(), log: slog.Default(), out: stderr, items: len(items) * parts, shards: len(s.plan.Shards),
		perShard: make([]int32, len(s.plan.Shards)), doneShard: make([]atomic.Int32, len(s.plan.Shards)), quit: make(chan struct{}), rows: new(atomic.Int64)}
	for _, it := range items {
		pr.perShard[it.ShardIndex] += int32(parts)
	}
	switch mode {
	case "bar":
		pr.bar = progressbar.NewOptions(pr.items,
			progressbar.OptionSetWriter(stderr),
			progressbar.OptionSetDescription(pr.describe()),
			progressbar.OptionSetWidth(24),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionThrottle(0), // drawEvery paces it
			progressbar.OptionClearOnFinish(),
		)
		pr.wg.Go(func() { pr.drawEvery(barEvery) })
	case "log":
		every := p.ProgressEvery
		if every <= 0 {
			every = defaultProgressEvery
		}
		pr.wg.Go(func() { pr.logEvery(every) })
	}
	return pr
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func (pr *progress) item(it mapreduce.WorkItem, _ int64) {
	pr.doneItems.Add(1)
	if pr.doneShard[it.ShardIndex].Add(1) == pr.perShard[it.ShardIndex] {
		pr.doneShards.Add(1)
	}
}

// draw redraws the bar: it fills by work items, its description counts
// shards and the read rate.
func (pr *progress) draw() {
	pr.bar.Describe(pr.describe())
	pr.bar.Set64(pr.doneItems.Load())
}

// drawEvery redraws the bar every interval until stop.
func (pr *progress) drawEvery(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-pr.quit:
			return
		case <-t.C:
			pr.draw()
		}
	}
}

// rate returns the rows read per second so far.
func (pr *progress) rate() float64 {
	el := time.Since(pr.start).Seconds()
	if el <= 0 {
		return 0
	}
	return float64(pr.rows.Load()) / el
}

func (pr *progress) describe() string {
	return fmt.Sprintf("shards %d/%d · %s rows/s", pr.doneShards.Load(), pr.shards, humanCount(pr.rate()))
}

// eta estimates the time left from the work items done so far; ok is
// false before the first one is done.
func (pr *progress) eta() (left time.Duration, ok bool) {
	done := pr.doneItems.Load()
	if done == 0 {
		return 0, false
	}
	el := time.Since(pr.start)
	return time.Duration(float64(el) * float64(int64(pr.items)-done) / float64(done)).Round(time.Second), true
}

// logEvery logs a progress line every interval until stop.
func (pr *progress) logEvery(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-pr.quit:
			return
		case <-t.C:
			eta := "unknown"
			if left, ok := pr.eta(); ok {
				eta = left.String()
			}
			pr.log.Info("progress",
				"shards", fmt.Sprintf("%d/%d", pr.doneShards.Load(), pr.shards),
				"items", fmt.Sprintf("%d/%d", pr.doneItems.Load(), pr.items),
				"rows", pr.rows.Load(),
				"rows_per_s", int64(pr.rate()),
				"elapsed", time.Since(pr.start).Round(time.Second).String(),
				"eta", eta)
		}
	}
}

// stop ends the display: a finished bar is cleared (the summary follows), a
// failed run's bar stays where it stopped.
func (pr *progress) stop(ok bool) {
	pr.once.Do(func() {
		close(pr.quit)
		pr.wg.Wait()
		if pr.bar != nil {
			pr.draw()
			if ok {
				pr.bar.Finish()
			} else {
				pr.bar.Exit()
				fmt.Fprintln(pr.out)
			}
		}
	})
}

// humanCount formats n with a k/M/G suffix.
func humanCount(n float64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.1fG", n/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1fM", n/1e6)
	case n >= 1e4:
		return fmt.Sprintf("%.0fk", n/1e3)
	}
	return fmt.Sprintf("%.0f", n)
}

// printPlan prints what a run of s would read and write (--dry-run).
func printPlan(w io.Writer, p *runParams, s *runSetup) error {
	plan := s.plan
	loc := plan.Loc
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "dry run: nothing is read or written\n")
	if p.Job != "" {
		fmt.Fprintf(tw, "job\t%s\n", p.Job)
	}
	days, hours := 0, 0
	for d := range plan.Calendar.Days {
		if plan.InRange(d) {
			days++
		}
	}
	for h := range plan.Calendar.Hours {
		if plan.HourInRange(h) {
			hours++
		}
	}
	fmt.Fprintf(tw, "range\t%s to %s (%s; %s, %s)\n",
		plan.Start.In(loc).Format(time.RFC3339), plan.End.In(loc).Format(time.RFC3339), loc,
		plural(days, "local day"), plural(hours, "hour"))
	fmt.Fprintf(tw, "\t%s to %s UTC\n", plan.Start.UTC().Format("2006-01-02T15:04:05"), plan.End.UTC().Format("2006-01-02T15:04:05"))
	if !plan.PrevStart.IsZero() {
		fmt.Fprintf(tw, "compare\t%s to %s, the previous period, read in the same pass (previous rows)\n",
			plan.PrevStart.In(loc).Format(time.RFC3339), plan.PrevEnd.In(loc).Format(time.RFC3339))
	}
	fmt.Fprintf(tw, "source\t%s\n", s.src)
	fmt.Fprintf(tw, "accounts\t%s\n", strings.Join(plan.Accounts, ", "))
	if sh := s.shard; !sh.IsZero() {
		what := "its accounts (FNV-1a-64 of the id mod " + strconv.Itoa(sh.Count) + ")"
		if sh.By == sharding.ByDay {
			what = "no day"
			if d := s.partials.header.Days; len(d) > 0 {
				what = fmt.Sprintf("local days %s to %s", d[0], d[len(d)-1])
			}
		}
		fmt.Fprintf(tw, "shard\t%d of %d by %s: %s\n", sh.Index, sh.Count, sh.By, what)
	}
	var reports []string
	for _, d := range s.defs {
		reports = append(reports, d.Reports...)
	}
	fmt.Fprintf(tw, "reports\t%s\n", strings.Join(reports, ", "))
	split := s.src.Split()
	// The items uncut: a dry run reads nothing (cutting reads files).
	items, parts := plan.Items(split), plan.PartsPerItem(split, p.Workers)
	how := fmt.Sprintf("%d work items: %d time slices per UTC day, clipped to the range", len(items), plan.Slices)
	switch {
	case parts > 1:
		how = fmt.Sprintf("%d work items: each shard's time cut into %d parts, one per worker, each reading the shard whole and keeping its part's rows", len(items)*parts, parts)
	case split != mapreduce.SplitSlices:
		how = fmt.Sprintf("%d work items: each shard read whole, once; rows outside the range skipped", len(items))
	}
	fmt.Fprintf(tw, "shards\t%d (%s)\n", len(plan.Shards), how)
	perShard := make([]int, len(plan.Shards))
	// Each shard is read between its first item's start and its last
	// item's end: the range, a comparison period or a shard's days clip it.
	spans := make([][2]time.Time, len(plan.Shards))
	for _, it := range items {
		sp := &spans[it.ShardIndex]
		if perShard[it.ShardIndex] == 0 || it.Start.Before(sp[0]) {
			sp[0] = it.Start
		}
		if perShard[it.ShardIndex] == 0 || it.End.After(sp[1]) {
			sp[1] = it.End
		}
		perShard[it.ShardIndex]++
	}
	for i, sk := range plan.Shards {
		lo, hi := spans[i][0], spans[i][1]
		end := hi.Format("15:04")
		if hi.Equal(sk.End()) {
			end = "24:00"
		}
		slices := ""
		if split == mapreduce.SplitSlices {
			slices = fmt.Sprintf("%d slices", perShard[i])
		}
		if s.files != nil { // the file each shard is read from
			slices = cmp.Or(s.files[i], "(no file)")
		}
		fmt.Fprintf(tw, "\t%s\t[%s, %s) UTC\t%s\n", sk, lo.Format("15:04"), end, slices)
	}
	for _, o := range s.outs {
		fmt.Fprintf(tw, "output\t%s\n", o)
		if cs, ok := o.sink.(*csvSink); ok {
			var files []string
			for _, r := range reports {
				files = append(files, csv.FileName(cs.opt.Pattern, r, plan))
			}
			fmt.Fprintf(tw, "\tfiles: %s\n", strings.Join(files, ", "))
		}
		if hs, ok := o.sink.(*htmlSink); ok {
			fmt.Fprintf(tw, "\tfiles: %s\n", strings.Join(hs.files(plan), ", "))
		}
	}
	if s.partials != nil {
		fmt.Fprintf(tw, "output\tpartial results in %s (for pvjobs merge; run %.12s)\n", s.partials.path, s.partials.header.Fingerprint)
	}
	if p.MetricsFile != "" {
		fmt.Fprintf(tw, "metrics\t%s\n", p.MetricsFile)
	}
	return tw.Flush()
}

// plural formats n and noun, with an s unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
