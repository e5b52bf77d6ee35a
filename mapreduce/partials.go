package mapreduce

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// PartialCodec is implemented by jobs whose partial result can be written
// out and read back, so that a run can be cut into shards of local days
// whose partial results are merged later into the reports of the whole run
// (see Partials and Plan.ReadDays).
//
// EncodePartial is called once per task, from one goroutine, with the
// task's merged partial after the run; it writes what Reports needs, with
// e's methods, and returns e.Err() or an error of its own. DecodePartial
// reads back what EncodePartial wrote into a new partial of d.Plan(), the
// plan of the merge, which may have been made by another process: cells
// must be written with e.Account, e.Day and e.Hour (by account id and local
// date, never by raw index), so that they land in the right place of the
// merge's plan. DecodePartial must refuse, never panic on, input that
// EncodePartial did not write: d's methods are bounded and remember the
// first error, so a decoder may read on and check d.Err() at the end. The
// partial it returns is merged with Job.Merge and turned into reports with
// Job.Reports only: caches and other state that only Map needs may be left
// out.
type PartialCodec[P any] interface {
	EncodePartial(e *PartialEncoder, p P) error
	DecodePartial(d *PartialDecoder) (P, error)
}

// ErrNoCodec is returned when a run is asked to keep partial results of a
// job that does not implement PartialCodec.
var ErrNoCodec = errors.New("the job cannot write its partial result")

// ErrBadPartial is wrapped by every error of DecodePartials about what it
// reads: data that EncodePartials did not write, or wrote for another plan.
var ErrBadPartial = errors.New("bad partial result")

// ErrOverlap is wrapped by the error of Partials.Merge when both hold a day.
var ErrOverlap = errors.New("partial results of the same day twice")

// partialTask is the part of *task[P] that Partials use.
type partialTask interface {
	Task
	hasCodec() bool
	merged(parts []partial) partial
	build(p partial, plan *Plan) []Report
	encode(e *PartialEncoder, p partial) error
	decode(d *PartialDecoder) (partial, error)
}

func (t *task[P]) hasCodec() bool {
	_, ok := t.job.(PartialCodec[P])
	return ok
}

// merged folds parts into the first and returns it.
func (t *task[P]) merged(parts []partial) partial {
	dst := parts[0].(*taskPartial[P])
	for _, p := range parts[1:] {
		t.job.Merge(dst.p, p.(*taskPartial[P]).p)
	}
	return dst
}

func (t *task[P]) build(p partial, plan *Plan) []Report {
	reps := t.job.Reports(p.(*taskPartial[P]).p, plan)
	for i := range reps {
		SortRows(reps[i].Rows)
	}
	return reps
}

func (t *task[P]) encode(e *PartialEncoder, p partial) error {
	c, ok := t.job.(PartialCodec[P])
	if !ok {
		return fmt.Errorf("job %s: %w", t.name, ErrNoCodec)
	}
	if err := c.EncodePartial(e, p.(*taskPartial[P]).p); err != nil {
		return fmt.Errorf("job %s: %w", t.name, err)
	}
	return e.Err()
}

func (t *task[P]) decode(d *PartialDecoder) (partial, error) {
	c, ok := t.job.(PartialCodec[P])
	if !ok {
		return nil, fmt.Errorf("job %s: %w", t.name, ErrNoCodec)
	}
	p, err := c.DecodePartial(d)
	if err == nil {
		err = d.Err()
	}
	if err != nil {
		return nil, fmt.Errorf("job %s: %w", t.name, err)
	}
	return &taskPartial[P]{job: t.job, p: p}, nil
}

// CheckCodecs returns an error wrapping ErrNoCodec, naming the first task
// whose job does not implement PartialCodec, or nil.
func CheckCodecs(tasks []Task) error {
	for _, t := range tasks {
		if pt, ok := t.(partialTask); !ok || !pt.hasCodec() {
			return fmt.Errorf("job %s: %w", t.Name(), ErrNoCodec)
		}
	}
	return nil
}

// Partials holds the merged partial result of each task of a run over some
// days of a plan: what Run returns with Options.KeepPartials, what
// EncodePartials writes and DecodePartials reads back. Partials of the
// same plan and tasks that hold different days merge (Merge) into the
// partials of all their days, whose Reports are those a run over all of
// them would make: each partial result holds cells of (account, local day),
// and a visit never spans two local days.
type Partials struct {
	plan  *Plan
	tasks []Task
	parts []partial
	// held marks the calendar days the partials hold.
	held []bool
}

// keepPartials returns the partials of a run: each task's workers' partials
// merged.
func keepPartials(plan *Plan, tasks []Task, workers []*worker) *Partials {
	ps := &Partials{plan: plan, tasks: tasks, held: make([]bool, len(plan.Calendar.Days))}
	for ti, t := range tasks {
		pt := t.(partialTask)
		parts := make([]partial, 0, len(workers))
		for _, w := range workers {
			parts = append(parts, w.parts[ti])
		}
		if len(parts) == 0 {
			parts = append(parts, t.newPartial(plan))
		}
		ps.parts = append(ps.parts, pt.merged(parts))
	}
	first, last := plan.DaysRead()
	for d := first; d < last; d++ {
		ps.held[d] = true
	}
	return ps
}

// Plan returns the plan the partials are of.
func (ps *Partials) Plan() *Plan { return ps.plan }

// Days returns the calendar days (indexes into Plan().Calendar.Days) the
// partials hold, in order.
func (ps *Partials) Days() []int {
	var out []int
	for d, ok := range ps.held {
		if ok {
			out = append(out, d)
		}
	}
	return out
}

// Merge folds o, of the same plan and tasks, into ps. It refuses, changing
// nothing, when both hold a day (ErrOverlap). o must not be used again.
func (ps *Partials) Merge(o *Partials) error {
	if len(o.parts) != len(ps.parts) || len(o.held) != len(ps.held) {
		return errors.New("mapreduce: merging partials of another plan or other tasks")
	}
	var twice []string
	for d, ok := range o.held {
		if ok && ps.held[d] {
			twice = append(twice, DateOf(ps.plan.Calendar.Days[d].Start).String())
		}
	}
	if len(twice) > 0 {
		return fmt.Errorf("%w: %s", ErrOverlap, strings.Join(twice, ", "))
	}
	for i, t := range ps.tasks {
		ps.parts[i] = t.(partialTask).merged([]partial{ps.parts[i], o.parts[i]})
	}
	for d, ok := range o.held {
		ps.held[d] = ps.held[d] || ok
	}
	return nil
}

// Reports builds every task's reports from the partials, as Run would.
func (ps *Partials) Reports() []Report {
	var reps []Report
	for i, t := range ps.tasks {
		reps = append(reps, t.(partialTask).build(ps.parts[i], ps.plan)...)
	}
	return reps
}

// The body of encoded partials (see EncodePartials).
const (
	partialsMagic   = "pvjB"
	partialsVersion = 1
	// taskEnd follows each task's section.
	taskEnd = 0x70766a65 // "pvje"
)

// EncodePartials writes ps to w in the binary form DecodePartials reads.
// The form, all integers unsigned LEB128 varints unless said otherwise:
//
//	"pvjB" version(=1)
//	accounts: count, then each account id (length, bytes)
//	days: count, then per calendar day of the plan its local date (year,
//	      month, day), its first instant (zig-zag varint, Unix ns) and its
//	      number of hours
//	held: count of runs, then each run of days held as (first, end) indexes
//	      into the days above
//	tasks: count, then per task its name (length, bytes), its job's own
//	      section (PartialCodec.EncodePartial) and the 4 bytes "pvje"
//
// A job writes cells by account and day index into these tables (its
// PartialEncoder does), so a decoder maps them by account id and date onto
// its own plan.
func EncodePartials(w io.Writer, ps *Partials) error {
	e := NewPartialEncoder(w, ps.plan)
	e.raw([]byte(partialsMagic))
	e.Uvarint(partialsVersion)
	e.Uvarint(uint64(len(ps.plan.Accounts)))
	for _, a := range ps.plan.Accounts {
		e.String(a)
	}
	cal := ps.plan.Calendar
	e.Uvarint(uint64(len(cal.Days)))
	for d := range cal.Days {
		date := DateOf(cal.Days[d].Start)
		e.Uvarint(uint64(date.Year))
		e.Uvarint(uint64(date.Month))
		e.Uvarint(uint64(date.Day))
		e.Varint(cal.Days[d].StartNs)
		e.Uvarint(uint64(e.hours[d+1] - e.hours[d]))
	}
	var runs [][2]int
	for d := 0; d < len(ps.held); d++ {
		if !ps.held[d] {
			continue
		}
		end := d
		for end < len(ps.held) && ps.held[end] {
			end++
		}
		runs = append(runs, [2]int{d, end})
		d = end
	}
	e.Uvarint(uint64(len(runs)))
	for _, r := range runs {
		e.Uvarint(uint64(r[0]))
		e.Uvarint(uint64(r[1]))
	}
	e.Uvarint(uint64(len(ps.tasks)))
	for i, t := range ps.tasks {
		e.String(t.Name())
		pt, ok := t.(partialTask)
		if !ok {
			return fmt.Errorf("job %s: %w", t.Name(), ErrNoCodec)
		}
		if err := pt.encode(e, ps.parts[i]); err != nil {
			return err
		}
		var end [4]byte
		binary.BigEndian.PutUint32(end[:], taskEnd)
		e.raw(end[:])
	}
	return e.flush()
}

// DecodePartials reads partials that EncodePartials wrote into partials of
// plan and tasks, which must be those of the run that wrote them (the same
// accounts, range, time zone, jobs and job options: a caller checks that,
// for example by a fingerprint of the run's parameters). size bounds the
// bytes r holds (0: unknown); no count or length beyond it is believed, so
// corrupt input costs no more memory than its size. Errors wrap
// ErrBadPartial.
func DecodePartials(r io.Reader, size int64, plan *Plan, tasks []Task) (*Partials, error) {
	if size <= 0 {
		size = math.MaxInt64
	}
	d := newPartialDecoder(r, size, plan)
	ps, err := d.partials(tasks)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadPartial, err)
	}
	return ps, nil
}

func (d *PartialDecoder) partials(tasks []Task) (*Partials, error) {
	var magic [4]byte
	d.read(magic[:])
	if d.err == nil && string(magic[:]) != partialsMagic {
		return nil, fmt.Errorf("starts with %q, not %q", magic[:], partialsMagic)
	}
	if v := d.Uvarint(); d.err == nil && v != partialsVersion {
		return nil, fmt.Errorf("body version %d; this pvjobs reads version %d", v, partialsVersion)
	}
	plan := d.plan
	index := map[string]int{}
	for i, a := range plan.Accounts {
		index[a] = i
	}
	n := d.Count(1)
	for i := 0; i < n && d.err == nil; i++ {
		a := d.String(MaxAccountLen)
		pi, ok := index[a]
		if !ok && d.err == nil {
			d.Fail("account %q is not one of the run's", a)
		}
		d.accounts = append(d.accounts, pi)
	}
	cal := plan.Calendar
	byDate := map[Date]int{}
	for i := range cal.Days {
		byDate[DateOf(cal.Days[i].Start)] = i
	}
	n = d.Count(5)
	for i := 0; i < n && d.err == nil; i++ {
		y, m, dd := d.Uvarint(), d.Uvarint(), d.Uvarint()
		start, hours := d.Varint(), d.Uvarint()
		if d.err != nil {
			break
		}
		date := Date{int(min(y, 1<<20)), time.Month(min(m, 13)), int(min(dd, 32))}
		pd, ok := byDate[date]
		switch {
		case !ok:
			d.Fail("day %s is not in the run's calendar", date)
		case cal.Days[pd].StartNs != start || uint64(d.hours[pd+1]-d.hours[pd]) != hours:
			d.Fail("day %s starts at %s with %d hours in the partial result, at %s with %d hours here: the time zone data differ",
				date, time.Unix(0, start).UTC().Format(time.RFC3339), hours,
				cal.Days[pd].Start.UTC().Format(time.RFC3339), d.hours[pd+1]-d.hours[pd])
		}
		d.days = append(d.days, pd)
	}
	held := make([]bool, len(cal.Days))
	n = d.Count(2)
	for i := 0; i < n && d.err == nil; i++ {
		first, end := d.Uvarint(), d.Uvarint()
		if d.err == nil && (first >= end || end > uint64(len(d.days))) {
			d.Fail("days held [%d, %d) are not within the %d days", first, end, len(d.days))
			break
		}
		for fd := first; fd < end && d.err == nil; fd++ {
			if held[d.days[fd]] {
				d.Fail("day %s held twice", DateOf(cal.Days[d.days[fd]].Start))
			}
			held[d.days[fd]] = true
		}
	}
	d.held = held
	if d.err != nil {
		return nil, d.err
	}
	if n := d.Uvarint(); d.err == nil && n != uint64(len(tasks)) {
		return nil, fmt.Errorf("%d jobs, the run has %d", n, len(tasks))
	}
	ps := &Partials{plan: plan, tasks: tasks, held: held}
	for _, t := range tasks {
		name := d.String(1 << 10)
		if d.err != nil {
			return nil, d.err
		}
		if name != t.Name() {
			return nil, fmt.Errorf("job %q where the run has %q", name, t.Name())
		}
		pt, ok := t.(partialTask)
		if !ok {
			return nil, fmt.Errorf("job %s: %w", t.Name(), ErrNoCodec)
		}
		p, err := pt.decode(d)
		if err != nil {
			return nil, err
		}
		var end [4]byte
		d.read(end[:])
		if d.err == nil && binary.BigEndian.Uint32(end[:]) != taskEnd {
			d.Fail("job %s: its section does not end where its decoder stopped", t.Name())
		}
		if d.err != nil {
			return nil, d.err
		}
		ps.parts = append(ps.parts, p)
	}
	if _, err := d.r.ReadByte(); err != io.EOF {
		return nil, errors.New("data after the last job")
	}
	return ps, nil
}

// PartialEncoder writes a job's partial result (see PartialCodec). It
// remembers the first write error and writes nothing after it.
type PartialEncoder struct {
	w    *bufio.Writer
	plan *Plan
	// hours holds, per calendar day and one past the last, the index of
	// its first hour.
	hours []int
	err   error
	buf   [binary.MaxVarintLen64]byte
}

// NewPartialEncoder returns an encoder that writes to w for plan. Its
// output is flushed by EncodePartials; tests that use one alone call
// Flush.
func NewPartialEncoder(w io.Writer, plan *Plan) *PartialEncoder {
	return &PartialEncoder{w: bufio.NewWriterSize(w, 256<<10), plan: plan, hours: hourStarts(plan.Calendar)}
}

// hourStarts returns, per day of cal and one past the last, the index of
// the day's first hour.
func hourStarts(cal *Calendar) []int {
	s := make([]int, len(cal.Days)+1)
	for i := range s {
		s[i] = len(cal.Hours)
	}
	for h := len(cal.Hours) - 1; h >= 0; h-- {
		s[cal.Hours[h].Parent] = h
	}
	return s
}

// Plan returns the plan of the run whose partial is written.
func (e *PartialEncoder) Plan() *Plan { return e.plan }

// Err returns the first write error.
func (e *PartialEncoder) Err() error { return e.err }

// Flush writes what is buffered and returns the first error.
func (e *PartialEncoder) Flush() error { return e.flush() }

func (e *PartialEncoder) flush() error {
	if e.err == nil {
		e.err = e.w.Flush()
	}
	return e.err
}

func (e *PartialEncoder) raw(b []byte) {
	if e.err == nil {
		_, e.err = e.w.Write(b)
	}
}

// Uvarint writes v as an unsigned varint.
func (e *PartialEncoder) Uvarint(v uint64) { e.raw(binary.AppendUvarint(e.buf[:0], v)) }

// Varint writes v as a zig-zag varint.
func (e *PartialEncoder) Varint(v int64) { e.raw(binary.AppendVarint(e.buf[:0], v)) }

// Uint64 writes v in 8 bytes, little-endian: for hashes, which varints
// would make longer.
func (e *PartialEncoder) Uint64(v uint64) { e.raw(binary.LittleEndian.AppendUint64(e.buf[:0], v)) }

// Bytes writes b with its length.
func (e *PartialEncoder) Bytes(b []byte) {
	e.Uvarint(uint64(len(b)))
	e.raw(b)
}

// String writes s with its length.
func (e *PartialEncoder) String(s string) {
	e.Uvarint(uint64(len(s)))
	if e.err == nil {
		_, e.err = e.w.WriteString(s)
	}
}

// Bool writes b as one byte.
func (e *PartialEncoder) Bool(b bool) {
	v := uint64(0)
	if b {
		v = 1
	}
	e.Uvarint(v)
}

// Account writes account index a (into Plan().Accounts); the decoder reads
// it back by the account's id.
func (e *PartialEncoder) Account(a int) { e.Uvarint(uint64(a)) }

// Day writes calendar day d; the decoder reads it back by its local date.
func (e *PartialEncoder) Day(d int) { e.Uvarint(uint64(d)) }

// Hour writes calendar hour h as its day and its number within the day.
func (e *PartialEncoder) Hour(h int) {
	d := e.plan.Calendar.Hours[h].Parent
	e.Uvarint(uint64(d))
	e.Uvarint(uint64(h - e.hours[d]))
}

// PartialDecoder reads a job's partial result (see PartialCodec). Every
// method is bounded by the bytes left and remembers the first error: after
// it, methods return zero values and Err returns it.
type PartialDecoder struct {
	r    *bufio.Reader
	plan *Plan
	// left is the most bytes left to read.
	left int64
	err  error
	// accounts and days map the writer's account and day indexes to the
	// plan's; held marks the plan's days the partial holds.
	accounts, days []int
	held           []bool
	hours          []int
}

// NewPartialDecoder returns a decoder of what a PartialEncoder of plan
// wrote alone (not within EncodePartials), holding every day of plan: for
// tests of a job's codec. size bounds the bytes r holds.
func NewPartialDecoder(r io.Reader, size int64, plan *Plan) *PartialDecoder {
	d := newPartialDecoder(r, size, plan)
	for i := range plan.Accounts {
		d.accounts = append(d.accounts, i)
	}
	d.held = make([]bool, len(plan.Calendar.Days))
	for i := range plan.Calendar.Days {
		d.days = append(d.days, i)
		d.held[i] = true
	}
	return d
}

func newPartialDecoder(r io.Reader, size int64, plan *Plan) *PartialDecoder {
	return &PartialDecoder{r: bufio.NewReaderSize(r, 256<<10), plan: plan, left: size, hours: hourStarts(plan.Calendar)}
}

// Plan returns the plan the partial is read into: the merge's.
func (d *PartialDecoder) Plan() *Plan { return d.plan }

// Err returns the first error.
func (d *PartialDecoder) Err() error { return d.err }

// Fail records an error (unless there is one already).
func (d *PartialDecoder) Fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf(format, args...)
	}
}

func (d *PartialDecoder) read(b []byte) {
	if d.err != nil {
		clear(b)
		return
	}
	if int64(len(b)) > d.left {
		d.err = io.ErrUnexpectedEOF
		clear(b)
		return
	}
	n, err := io.ReadFull(d.r, b)
	d.left -= int64(n)
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		d.err = err
		clear(b)
	}
}

// ReadByte implements io.ByteReader for binary.ReadUvarint.
func (d *PartialDecoder) ReadByte() (byte, error) {
	if d.left <= 0 {
		return 0, io.ErrUnexpectedEOF
	}
	c, err := d.r.ReadByte()
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	if err == nil {
		d.left--
	}
	return c, err
}

// Uvarint reads an unsigned varint.
func (d *PartialDecoder) Uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, err := binary.ReadUvarint(d)
	if err != nil {
		d.err = err
		return 0
	}
	return v
}

// Varint reads a zig-zag varint.
func (d *PartialDecoder) Varint() int64 {
	if d.err != nil {
		return 0
	}
	v, err := binary.ReadVarint(d)
	if err != nil {
		d.err = err
		return 0
	}
	return v
}

// Uint64 reads 8 bytes, little-endian.
func (d *PartialDecoder) Uint64() uint64 {
	var b [8]byte
	d.read(b[:])
	return binary.LittleEndian.Uint64(b[:])
}

// Count reads a count of things that take at least min bytes each, and
// fails when the bytes left cannot hold that many.
func (d *PartialDecoder) Count(min int) int {
	n := d.Uvarint()
	if d.err != nil {
		return 0
	}
	if min < 1 {
		min = 1
	}
	if n > uint64(d.left/int64(min)) {
		d.Fail("a count of %d where %d bytes are left", n, d.left)
		return 0
	}
	return int(n)
}

// Bytes reads bytes written with PartialEncoder.Bytes, at most max of
// them, into a new slice.
func (d *PartialDecoder) Bytes(max int) []byte {
	n := d.Uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(max) || int64(n) > d.left {
		d.Fail("a length of %d (at most %d, and %d bytes are left)", n, max, d.left)
		return nil
	}
	b := make([]byte, n)
	d.read(b)
	if d.err != nil {
		return nil
	}
	return b
}

// String reads a string written with PartialEncoder.String, at most max
// bytes long.
func (d *PartialDecoder) String(max int) string { return string(d.Bytes(max)) }

// Bool reads a bool.
func (d *PartialDecoder) Bool() bool {
	switch d.Uvarint() {
	case 0:
		return false
	case 1:
		return true
	}
	d.Fail("a bool that is neither 0 nor 1")
	return false
}

// Account reads an account written with PartialEncoder.Account and returns
// its index in Plan().Accounts.
func (d *PartialDecoder) Account() int {
	a := d.Uvarint()
	if d.err != nil {
		return 0
	}
	if a >= uint64(len(d.accounts)) {
		d.Fail("account %d of %d", a, len(d.accounts))
		return 0
	}
	return d.accounts[a]
}

// Day reads a day written with PartialEncoder.Day and returns its index in
// Plan().Calendar.Days. It fails for a day the partial does not hold.
func (d *PartialDecoder) Day() int {
	v := d.Uvarint()
	if d.err != nil {
		return 0
	}
	if v >= uint64(len(d.days)) {
		d.Fail("day %d of %d", v, len(d.days))
		return 0
	}
	pd := d.days[v]
	if !d.held[pd] {
		d.Fail("a cell of %s, a day the partial result does not hold", DateOf(d.plan.Calendar.Days[pd].Start))
		return 0
	}
	return pd
}

// Hour reads an hour written with PartialEncoder.Hour and returns its index
// in Plan().Calendar.Hours.
func (d *PartialDecoder) Hour() int {
	day := d.Day()
	k := d.Uvarint()
	if d.err != nil {
		return 0
	}
	if k >= uint64(d.hours[day+1]-d.hours[day]) {
		d.Fail("hour %d of a day of %d hours", k, d.hours[day+1]-d.hours[day])
		return 0
	}
	return d.hours[day] + int(k)
}
