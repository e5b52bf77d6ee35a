// Package metrics keeps per-job run metrics and writes them in the Prometheus
// text exposition format (version 0.0.4): to a file for node_exporter's
// textfile collector (written atomically, and read back first so counters and
// the last success survive from run to run), or over HTTP for the scheduler's
// /metrics.
//
// Every series has the label job:
//
//	pvjobs_runs_total                      runs started and finished
//	pvjobs_failures_total                  runs that failed
//	pvjobs_last_run_timestamp_seconds      when the last run finished
//	pvjobs_last_run_success                1 if it succeeded, else 0
//	pvjobs_last_success_timestamp_seconds  when the last successful run finished
//	pvjobs_last_run_duration_seconds       how long the last run took
//	pvjobs_last_run_rows                   rows it read
//	pvjobs_last_run_bad_rows               rows it skipped as bad
//	pvjobs_last_run_spam_pageviews         page views it left out as referrer spam
//	pvjobs_last_run_outside_rows           rows of its shards outside its range
//	pvjobs_last_run_rows_per_second        its read rate
//	pvjobs_last_run_shards{state}          shards found, missing and unread
//	pvjobs_last_run_report_rows{report}    rows per report written
//
// An alert on a nightly job: time() - pvjobs_last_success_timestamp_seconds > 26*3600.
package metrics

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pvjobs/pvjobs/reports/atomicfile"
)

// ContentType is the HTTP content type of the text format.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// Run is what one run of a job did.
type Run struct {
	Job string
	// Finished is when the run ended.
	Finished time.Time
	Success  bool
	Duration time.Duration
	Rows     int64
	BadRows  int64
	// Spam counts the page views left out as referrer spam.
	Spam int64
	// OutsideRows counts the rows of the shards read that were outside the
	// run's range (a local day reads two UTC shards), left out.
	OutsideRows int64
	// ShardsFound and ShardsMissing count the shards of the plan read with
	// and without rows; ShardsUnread those a failed run did not finish
	// reading.
	ShardsFound, ShardsMissing, ShardsUnread int
	// ReportRows is the number of rows of each report (successful runs).
	ReportRows map[string]int64
}

// job is what the registry keeps per job.
type job struct {
	last        Run
	hasLast     bool
	lastSuccess time.Time
	runs        int64
	failures    int64
	// scheduled jobs have the dropped counter.
	scheduled bool
	dropped   int64
}

// Registry keeps the latest metrics of each job. The zero Registry is ready to
// use and safe for concurrent use.
type Registry struct {
	mu   sync.Mutex
	jobs map[string]*job
}

func (r *Registry) job(name string) *job {
	if r.jobs == nil {
		r.jobs = map[string]*job{}
	}
	j := r.jobs[name]
	if j == nil {
		j = &job{}
		r.jobs[name] = j
	}
	return j
}

// Record records a finished run.
func (r *Registry) Record(run Run) {
	r.mu.Lock()
	defer r.mu.Unlock()
	j := r.job(run.Job)
	j.last, j.hasLast = run, true
	j.runs++
	if run.Success {
		j.lastSuccess = run.Finished
	} else {
		j.failures++
	}
}

// Scheduled says the job runs on a schedule: its metrics include the count
// of dropped slots, from zero.
func (r *Registry) Scheduled(jobName string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.job(jobName).scheduled = true
}

// Dropped counts a slot of a scheduled job that was dropped: older than the
// job's catch-up window, it never ran.
func (r *Registry) Dropped(jobName string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	j := r.job(jobName)
	j.scheduled = true
	j.dropped++
}

// family is one metric family of the format.
type family struct {
	name, typ, help string
	// value returns the job's samples: label pairs (without job) and value.
	value func(j *job) []sample
}

type sample struct {
	labels [][2]string
	v      float64
}

func one(v float64) []sample { return []sample{{v: v}} }

// seconds returns t in Unix seconds, to the microsecond: fromSeconds reads
// the value back exactly.
func seconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixMicro()) / 1e6
}

// durationSeconds returns d in seconds, to the microsecond.
func durationSeconds(d time.Duration) float64 { return float64(d.Microseconds()) / 1e6 }

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// lastOnly returns the samples of f only when the job has a last run.
func lastOnly(f func(j *job) []sample) func(j *job) []sample {
	return func(j *job) []sample {
		if !j.hasLast {
			return nil
		}
		return f(j)
	}
}

var families = []family{
	{"pvjobs_runs_total", "counter", "Runs of the job that finished (successfully or not).",
		func(j *job) []sample { return one(float64(j.runs)) }},
	{"pvjobs_failures_total", "counter", "Runs of the job that failed.",
		func(j *job) []sample { return one(float64(j.failures)) }},
	{"pvjobs_slots_dropped_total", "counter", "Slots of the scheduled job that were dropped: older than its catch-up window, they never ran.",
		func(j *job) []sample {
			if !j.scheduled {
				return nil
			}
			return one(float64(j.dropped))
		}},
	{"pvjobs_last_run_timestamp_seconds", "gauge", "When the job's last run finished, in Unix seconds.",
		lastOnly(func(j *job) []sample { return one(seconds(j.last.Finished)) })},
	{"pvjobs_last_run_success", "gauge", "1 if the job's last run succeeded, else 0.",
		lastOnly(func(j *job) []sample { return one(boolValue(j.last.Success)) })},
	{"pvjobs_last_success_timestamp_seconds", "gauge", "When the job's last successful run finished, in Unix seconds (0: never).",
		func(j *job) []sample { return one(seconds(j.lastSuccess)) }},
	{"pvjobs_last_run_duration_seconds", "gauge", "How long the job's last run took.",
		lastOnly(func(j *job) []sample { return one(durationSeconds(j.last.Duration)) })},
	{"pvjobs_last_run_rows", "gauge", "Rows (page views) the job's last run read.",
		lastOnly(func(j *job) []sample { return one(float64(j.last.Rows)) })},
	{"pvjobs_last_run_bad_rows", "gauge", "Rows the job's last run skipped as bad.",
		lastOnly(func(j *job) []sample { return one(float64(j.last.BadRows)) })},
	{"pvjobs_last_run_spam_pageviews", "gauge", "Page views the job's last run left out as referrer spam.",
		lastOnly(func(j *job) []sample { return one(float64(j.last.Spam)) })},
	{"pvjobs_last_run_outside_rows", "gauge", "Rows of the shards the job's last run read that were outside its range, left out.",
		lastOnly(func(j *job) []sample { return one(float64(j.last.OutsideRows)) })},
	{"pvjobs_last_run_rows_per_second", "gauge", "Rows per second the job's last run read.",
		lastOnly(func(j *job) []sample {
			if j.last.Duration <= 0 {
				return one(0)
			}
			return one(float64(j.last.Rows) / j.last.Duration.Seconds())
		})},
	{"pvjobs_last_run_shards", "gauge", "Shards of the job's last run, by state: found (read, with rows), missing (read, no rows) or unread (the run failed first).",
		lastOnly(func(j *job) []sample {
			return []sample{
				{labels: [][2]string{{"state", "found"}}, v: float64(j.last.ShardsFound)},
				{labels: [][2]string{{"state", "missing"}}, v: float64(j.last.ShardsMissing)},
				{labels: [][2]string{{"state", "unread"}}, v: float64(j.last.ShardsUnread)},
			}
		})},
	{"pvjobs_last_run_report_rows", "gauge", "Rows of each report of the job's last run.",
		lastOnly(func(j *job) []sample {
			var out []sample
			for _, name := range slices.Sorted(maps.Keys(j.last.ReportRows)) {
				out = append(out, sample{labels: [][2]string{{"report", name}}, v: float64(j.last.ReportRows[name])})
			}
			return out
		})},
}

// WriteTo writes every job's metrics in the text format, families in a fixed
// order and jobs sorted by name.
func (r *Registry) WriteTo(w io.Writer) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := slices.Sorted(maps.Keys(r.jobs))
	var b bytes.Buffer
	for _, f := range families {
		var lines []string
		for _, name := range names {
			for _, s := range f.value(r.jobs[name]) {
				lines = append(lines, f.name+formatLabels(name, s.labels)+" "+formatValue(s.v))
			}
		}
		if len(lines) == 0 {
			continue
		}
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", f.name, f.help, f.name, f.typ)
		for _, l := range lines {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	n, err := w.Write(b.Bytes())
	return int64(n), err
}

func formatLabels(job string, extra [][2]string) string {
	var b strings.Builder
	b.WriteString(`{job="`)
	b.WriteString(escape(job))
	b.WriteByte('"')
	for _, kv := range extra {
		b.WriteString("," + kv[0] + `="`)
		b.WriteString(escape(kv[1]))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

// escape escapes a label value: backslash, double quote and line feed.
func escape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

func formatValue(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// ServeHTTP serves the metrics in the text format (the scheduler's /metrics).
func (r *Registry) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	var b bytes.Buffer
	r.WriteTo(&b)
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	if req.Method == http.MethodGet {
		w.Write(b.Bytes())
	}
}

// WriteFile writes r's metrics to path atomically (package atomicfile: a
// temporary file in the same directory, synced and renamed into place), as
// node_exporter's textfile collector requires: it never reads a
// half-written file. The temporary file's name starts with a dot and does
// not end in .prom, so the collector ignores it. A new file gets mode 0666
// less the umask; a replaced one keeps its mode.
func (r *Registry) WriteFile(path string) error {
	var b bytes.Buffer
	r.WriteTo(&b)
	if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
		return fmt.Errorf("writing metrics: %w", err)
	}
	if err := atomicfile.WriteFile(path, b.Bytes()); err != nil {
		return fmt.Errorf("writing metrics: %w", err)
	}
	return nil
}

// ReadFile reads the metrics a Registry wrote to path, so that a job run from
// cron keeps its counters and last success from run to run. A missing file is
// an empty Registry. Lines of other metrics are ignored; a malformed line of
// ours is an error naming it.
func ReadFile(path string) (*Registry, error) {
	r := &Registry{}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading metrics: %w", err)
	}
	defer f.Close()
	if err := r.read(f); err != nil {
		return nil, fmt.Errorf("reading metrics %s: %w", path, err)
	}
	return r, nil
}

// read loads samples written by WriteTo.
func (r *Registry) read(rd io.Reader) error {
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") || !strings.HasPrefix(text, "pvjobs_") {
			continue
		}
		name, labels, v, err := parseSample(text)
		if err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		jobName, ok := labels["job"]
		if !ok {
			return fmt.Errorf("line %d: %s has no job label", line, name)
		}
		j := r.job(jobName)
		last := &j.last
		last.Job = jobName
		switch name {
		case "pvjobs_runs_total":
			j.runs = int64(v)
		case "pvjobs_failures_total":
			j.failures = int64(v)
		case "pvjobs_slots_dropped_total":
			j.scheduled, j.dropped = true, int64(v)
		case "pvjobs_last_success_timestamp_seconds":
			j.lastSuccess = fromSeconds(v)
		case "pvjobs_last_run_timestamp_seconds":
			last.Finished, j.hasLast = fromSeconds(v), true
		case "pvjobs_last_run_success":
			last.Success = v == 1
		case "pvjobs_last_run_duration_seconds":
			last.Duration = fromDuration(v)
		case "pvjobs_last_run_rows":
			last.Rows = int64(v)
		case "pvjobs_last_run_bad_rows":
			last.BadRows = int64(v)
		case "pvjobs_last_run_spam_pageviews":
			last.Spam = int64(v)
		case "pvjobs_last_run_outside_rows":
			last.OutsideRows = int64(v)
		case "pvjobs_last_run_shards":
			switch labels["state"] {
			case "found":
				last.ShardsFound = int(v)
			case "missing":
				last.ShardsMissing = int(v)
			case "unread":
				last.ShardsUnread = int(v)
			}
		case "pvjobs_last_run_report_rows":
			if last.ReportRows == nil {
				last.ReportRows = map[string]int64{}
			}
			last.ReportRows[labels["report"]] = int64(v)
		}
	}
	return sc.Err()
}

// fromSeconds reads what seconds wrote; values out of range read as zero.
func fromSeconds(v float64) time.Time {
	if !(v > 0 && v < 1e11) {
		return time.Time{}
	}
	return time.UnixMicro(int64(math.Round(v * 1e6)))
}

// fromDuration reads what durationSeconds wrote.
func fromDuration(v float64) time.Duration {
	if !(v > 0 && v < 1e9) {
		return 0
	}
	return time.Duration(math.Round(v*1e6)) * time.Microsecond
}

// parseSample parses `name{k="v",...} value`.
func parseSample(s string) (name string, labels map[string]string, v float64, err error) {
	i := strings.IndexAny(s, "{ ")
	if i <= 0 {
		return "", nil, 0, fmt.Errorf("malformed sample %.60q", s)
	}
	name, s = s[:i], s[i:]
	labels = map[string]string{}
	if s[0] == '{' {
		s = s[1:]
		for {
			s = strings.TrimLeft(s, " ,")
			if strings.HasPrefix(s, "}") {
				s = s[1:]
				break
			}
			eq := strings.Index(s, `="`)
			if eq <= 0 {
				return "", nil, 0, fmt.Errorf("malformed labels in %s", name)
			}
			key := strings.TrimSpace(s[:eq])
			s = s[eq+2:]
			var val strings.Builder
			closed := false
			for k := 0; k < len(s); k++ {
				c := s[k]
				if c == '\\' && k+1 < len(s) {
					k++
					switch s[k] {
					case 'n':
						val.WriteByte('\n')
					default:
						val.WriteByte(s[k])
					}
					continue
				}
				if c == '"' {
					s, closed = s[k+1:], true
					break
				}
				val.WriteByte(c)
			}
			if !closed {
				return "", nil, 0, fmt.Errorf("unterminated label value in %s", name)
			}
			labels[key] = val.String()
		}
	}
	fields := strings.Fields(s)
	if len(fields) < 1 || len(fields) > 2 { // value [timestamp]
		return "", nil, 0, fmt.Errorf("malformed value in %s", name)
	}
	v, err = strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return "", nil, 0, fmt.Errorf("value %q of %s: not a number", fields[0], name)
	}
	return name, labels, v, nil
}
