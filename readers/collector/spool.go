package collector

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/file"
)

// FsyncPolicy says when the spool's appends are forced to disk (fsync).
// Every append is written to the file (write(2)) before its request is
// answered, whatever the policy: a killed collector (SIGKILL, a crash, OOM)
// loses nothing that was answered 2xx. The policy decides what survives the
// machine losing power or the kernel crashing.
type FsyncPolicy int

// The fsync policies.
const (
	// FsyncInterval syncs the files appended to every Config.FsyncInterval
	// (default 1s), and when a segment is sealed: a power loss loses at
	// most that long of page views.
	FsyncInterval FsyncPolicy = iota
	// FsyncAlways syncs before answering: nothing answered 2xx is lost even
	// to a power loss. Appends are grouped (group commit), so it costs
	// latency more than throughput.
	FsyncAlways
	// FsyncNever leaves writing back to the kernel.
	FsyncNever
)

// ParseFsync parses "always", "never", or an interval such as "1s" or
// "200ms".
func ParseFsync(s string) (FsyncPolicy, time.Duration, error) {
	switch s {
	case "always":
		return FsyncAlways, 0, nil
	case "never":
		return FsyncNever, 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, 0, fmt.Errorf("fsync policy %q: want always, never or an interval such as 1s", s)
	}
	return FsyncInterval, d, nil
}

// ErrSpoolBusy is wrapped by the error of LockSpool when another process
// holds the spool: a running collector.
var ErrSpoolBusy = errors.New("spool is in use by another process (a running pvjobs collect?)")

// ErrClosed is returned for page views offered after the collector began to
// shut down.
var ErrClosed = errors.New("collector is shutting down")

// Spool file names.
const (
	lockName   = "LOCK"
	segPrefix  = "seg-"
	badPrefix  = "bad-"
	maxOpen    = 256 // open shard files per segment
	maxGroup   = 512 // appends written together
	seqDigits  = 12
	spoolPerms = 0o755
)

// LockSpool takes the spool directory dir (creating it) for this process
// with an exclusive flock on dir/LOCK, and returns the function that releases
// it. It fails with ErrSpoolBusy when another process holds it.
func LockSpool(dir string) (unlock func(), err error) {
	if err := os.MkdirAll(dir, spoolPerms); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s", ErrSpoolBusy, dir)
		}
		return nil, fmt.Errorf("spool: locking %s: %w", dir, err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// SpoolSegments returns the segment directories of the spool dir, oldest
// first. Each is a directory of shard files (readers/file): a source for
// pvjobs load or pvjobs run. It returns nil when dir holds no segments.
func SpoolSegments(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	var out []string
	for _, e := range ents {
		if _, ok := segSeq(e.Name()); ok && e.IsDir() {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	slices.Sort(out) // fixed-width sequence numbers sort in order
	return out, nil
}

// segSeq parses "seg-000000000042".
func segSeq(name string) (uint64, bool) {
	digits, ok := strings.CutPrefix(name, segPrefix)
	if !ok || len(digits) != seqDigits {
		return 0, false
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	return n, err == nil
}

// segment is one directory of the spool: a shard file per shard key,
// appended to while the segment is active. Once sealed, it is deleted when
// every row it holds is in Cassandra, or replayed (all of it) when any row
// did not get there from the queue.
type segment struct {
	seq uint64
	dir string
	// appended counts rows written to the segment; settled the rows whose
	// fate is known (written to Cassandra, or failed: left to replay).
	appended, settled, failed atomic.Int64
	bytes                     atomic.Int64
	sealed                    atomic.Bool
	// done is set once the sealed, settled segment is deleted or queued for
	// replay.
	done    atomic.Bool
	created time.Time
	// files are the open shard files (journal goroutine only).
	files map[string]*segFile
	// failedRows holds, per shard file, the offsets of the rows that did
	// not reach Cassandra from the queue: a replay writes those only. nil
	// for a segment an earlier process left, whose every row is replayed.
	mu         sync.Mutex
	failedRows map[string]map[int64]struct{}
	tracked    int
	replayAll  atomic.Bool
	// unsynced says a file or the directory changed since the last fsync.
	unsynced bool
}

// maxTrackedFailures is the most failed rows a segment remembers one by
// one; beyond, it forgets them and its replay writes every row (Cassandra
// was down for most of the segment anyway). It bounds the memory an outage
// costs: at most this many offsets per segment waiting for replay.
const maxTrackedFailures = 10_000

// fail records the row at off of the shard file key as left to replay.
func (seg *segment) fail(key string, off int64) {
	if seg.replayAll.Load() {
		return
	}
	seg.mu.Lock()
	defer seg.mu.Unlock()
	if seg.tracked >= maxTrackedFailures {
		seg.failedRows = nil
		seg.replayAll.Store(true)
		return
	}
	if seg.failedRows == nil {
		seg.failedRows = map[string]map[int64]struct{}{}
	}
	m := seg.failedRows[key]
	if m == nil {
		m = map[int64]struct{}{}
		seg.failedRows[key] = m
	}
	m[off] = struct{}{}
	seg.tracked++
}

// wants reports whether a replay of seg writes the row at off of the shard
// file key.
func (seg *segment) wants(key string, off int64) bool {
	if seg.replayAll.Load() {
		return true
	}
	seg.mu.Lock()
	defer seg.mu.Unlock()
	_, ok := seg.failedRows[key][off]
	return ok
}

// segFile is one open shard file of the active segment.
type segFile struct {
	name    string
	f       *os.File
	size    int64
	buf     []byte
	entries []int
	dirty   bool // written since the last fsync
}

// entry is one page view on its way into the spool.
type entry struct {
	account string
	recv    time.Time
	value   []byte
	pv      PageView // for the live counters (when set)
	done    chan error
	// set by the journal
	ts  [16]byte
	key mapreduce.ShardKey
	off int64
	err error
}

// item is one spooled page view in the queue for Cassandra.
type item struct {
	key   mapreduce.ShardKey
	ts    [16]byte
	value []byte
	seg   *segment
	off   int64 // the row's offset in its shard file of seg
}

var donePool = sync.Pool{New: func() any { return make(chan error, 1) }}

// spool is the append-only journal every accepted page view goes through
// before it is answered. One goroutine (run) appends, in groups: a request
// waits only for its group's write(2) (and fsync, with FsyncAlways).
type spool struct {
	dir    string
	policy FsyncPolicy
	every  time.Duration
	maxAge time.Duration
	maxLen int64
	gen    *UUIDGen
	log    *slog.Logger
	m      *Metrics

	in       chan *entry
	syncs    chan syncJob // to the syncer (FsyncInterval)
	syncDone chan struct{}
	inMu     sync.RWMutex
	closed   bool
	stopped  chan struct{}
	sealReq  chan struct{}

	queue chan<- item     // to the writers
	live  chan<- PageView // to the live counters, or nil

	// journal goroutine state
	active   *segment
	nextSeq  uint64
	lastSync time.Time

	mu       sync.Mutex
	segs     map[uint64]*segment // on disk, not yet deleted
	replay   []*segment          // sealed, settled, waiting for replay (by seq)
	replayCh chan struct{}       // signalled when replay grows
}

// recover lists the segments a previous process left, repairs torn tails
// and queues them all for replay: nothing says which of their rows reached
// Cassandra.
func (s *spool) recover() error {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	for _, e := range ents {
		seq, ok := segSeq(e.Name())
		if !ok || !e.IsDir() {
			continue
		}
		s.nextSeq = max(s.nextSeq, seq+1)
		seg := &segment{seq: seq, dir: filepath.Join(s.dir, e.Name())}
		seg.replayAll.Store(true)
		n, size, err := repairSegment(seg.dir, s.log)
		if err != nil {
			return err
		}
		seg.appended.Store(n)
		seg.settled.Store(n)
		seg.failed.Store(n)
		seg.bytes.Store(size)
		seg.sealed.Store(true)
		seg.done.Store(true)
		s.segs[seq] = seg
		s.replay = append(s.replay, seg)
	}
	slices.SortFunc(s.replay, bySeq)
	return nil
}

// repairSegment scans every shard file of a segment, cuts a torn last row (a
// write the process did not finish, so never answered 2xx) and returns the
// rows and bytes that remain.
func repairSegment(dir string, log *slog.Logger) (rows, size int64, err error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, 0, fmt.Errorf("spool: %w", err)
	}
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), file.Ext) || e.IsDir() {
			continue
		}
		p := filepath.Join(dir, e.Name())
		f, err := os.Open(p)
		if err != nil {
			return 0, 0, fmt.Errorf("spool: %w", err)
		}
		sc := file.NewScanner(f)
		var n int64
		for sc.Next() {
			n++
		}
		f.Close()
		st, _ := os.Stat(p)
		if st != nil {
			size += st.Size()
		}
		var ce *file.CorruptError
		if err := sc.Err(); errors.As(err, &ce) && errors.Is(err, file.ErrTruncated) {
			log.Warn("collect: spool file ends inside a row (an append the process did not finish, never answered); cutting it",
				"file", p, "offset", ce.Offset)
			if err := os.Truncate(p, ce.Offset); err != nil {
				return 0, 0, fmt.Errorf("spool: cutting the torn row of %s: %w", p, err)
			}
			if st != nil {
				size -= st.Size() - ce.Offset
			}
		}
		rows += n
	}
	return rows, size, nil
}

// append hands e to the journal and waits until it is written (or failed).
func (s *spool) append(e *entry) error {
	s.inMu.RLock()
	if s.closed {
		s.inMu.RUnlock()
		return ErrClosed
	}
	e.done = donePool.Get().(chan error)
	s.in <- e
	s.inMu.RUnlock()
	err := <-e.done
	donePool.Put(e.done)
	return err
}

// close stops taking entries, lets the journal write what it has, seal the
// active segment and exit, and waits for it.
func (s *spool) close() {
	s.inMu.Lock()
	if !s.closed {
		s.closed = true
		close(s.in)
	}
	s.inMu.Unlock()
	<-s.stopped
}

// requestSeal asks the journal to seal the active segment soon.
func (s *spool) requestSeal() {
	select {
	case s.sealReq <- struct{}{}:
	default:
	}
}

// run is the journal goroutine.
func (s *spool) run() {
	defer close(s.stopped)
	if s.policy == FsyncInterval {
		s.syncs = make(chan syncJob, 16)
		s.syncDone = make(chan struct{})
		go s.syncer()
		defer func() {
			close(s.syncs)
			<-s.syncDone
		}()
	}
	tick := time.NewTicker(s.tickEvery())
	defer tick.Stop()
	batch := make([]*entry, 0, maxGroup)
	for {
		select {
		case e, ok := <-s.in:
			if !ok {
				s.seal()
				return
			}
			batch = append(batch[:0], e)
			open := true
		drain:
			for len(batch) < maxGroup {
				select {
				case e, ok := <-s.in:
					if !ok {
						open = false
						break drain
					}
					batch = append(batch, e)
				default:
					break drain
				}
			}
			s.write(batch)
			clear(batch)
			if !open {
				s.seal()
				return
			}
		case <-tick.C:
			s.tick()
		case <-s.sealReq:
			s.seal()
		}
	}
}

func (s *spool) tickEvery() time.Duration {
	d := s.maxAge / 4
	if s.policy == FsyncInterval && s.every < d {
		d = s.every
	}
	return max(d, 10*time.Millisecond)
}

// tick seals an old segment and syncs on the interval policy.
func (s *spool) tick() {
	seg := s.active
	if seg == nil {
		return
	}
	if time.Since(seg.created) >= s.maxAge {
		s.seal()
		return
	}
	if s.policy == FsyncInterval && time.Since(s.lastSync) >= s.every {
		s.syncActive()
	}
}

// syncActive hands the active segment's files written since the last sync
// (and its directory, when files were added) to the syncer, unless it is
// still busy with the last ones: an fsync never holds up appends.
func (s *spool) syncActive() {
	seg := s.active
	if seg == nil {
		return
	}
	var files []*segFile
	job := syncJob{}
	for _, f := range seg.files {
		if f.dirty && f.f != nil {
			files = append(files, f)
			job.files = append(job.files, f.f)
		}
	}
	if seg.unsynced {
		job.dir = seg.dir
	}
	if len(job.files) == 0 && job.dir == "" {
		s.lastSync = time.Now()
		return
	}
	select {
	case s.syncs <- job:
		s.lastSync = time.Now()
		for _, f := range files {
			f.dirty = false
		}
		seg.unsynced = false
	default:
	}
}

// syncJob is work for the syncer goroutine (FsyncInterval).
type syncJob struct {
	files []*os.File // fsync each,
	close bool       // then close them,
	dir   string     // then fsync this directory ("": none),
	then  func()     // then call this.
}

// syncer runs the fsyncs of FsyncInterval away from the journal goroutine,
// so that an fsync never holds up an append. With that policy the journal
// never closes a file itself: it hands it to the syncer, which runs its jobs
// in order — a periodic sync queued for the file before, then this sync and
// the close.
func (s *spool) syncer() {
	defer close(s.syncDone)
	for j := range s.syncs {
		for _, f := range j.files {
			if err := f.Sync(); err != nil && !errors.Is(err, os.ErrClosed) {
				s.log.Error("collect: fsync of a spool file failed", "file", f.Name(), "err", err)
			}
			if j.close {
				f.Close()
			}
		}
		if j.dir != "" {
			syncDir(j.dir)
		}
		if j.then != nil {
			j.then()
		}
	}
}

// activeSegment returns the segment being written, creating it.
func (s *spool) activeSegment() (*segment, error) {
	if s.active != nil {
		return s.active, nil
	}
	seq := s.nextSeq
	dir := filepath.Join(s.dir, fmt.Sprintf("%s%0*d", segPrefix, seqDigits, seq))
	if err := os.Mkdir(dir, spoolPerms); err != nil {
		return nil, fmt.Errorf("spool: new segment: %w", err)
	}
	if s.policy != FsyncNever {
		syncDir(s.dir)
	}
	s.nextSeq++
	seg := &segment{seq: seq, dir: dir, created: time.Now(), files: map[string]*segFile{}}
	s.mu.Lock()
	s.segs[seq] = seg
	s.mu.Unlock()
	s.active = seg
	return seg, nil
}

// file returns the open shard file of key in seg.
func (s *spool) file(seg *segment, key string, keep map[*segFile]bool) (*segFile, error) {
	if f := seg.files[key]; f != nil && f.f != nil {
		return f, nil
	}
	if open := s.openFiles(seg); open >= maxOpen {
		s.closeIdle(seg, keep)
	}
	f := seg.files[key]
	if f == nil {
		f = &segFile{name: filepath.Join(seg.dir, key+file.Ext)}
	}
	fh, err := os.OpenFile(f.name, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("spool: %w", err)
	}
	f.f, f.size = fh, st.Size()
	if f.size == 0 {
		seg.unsynced = true
	}
	seg.files[key] = f
	return f, nil
}

func (s *spool) openFiles(seg *segment) int {
	n := 0
	for _, f := range seg.files {
		if f.f != nil {
			n++
		}
	}
	return n
}

// closeIdle closes the open files of seg that the current group does not
// use; with FsyncInterval the syncer syncs and closes those written since
// the last sync.
func (s *spool) closeIdle(seg *segment, keep map[*segFile]bool) {
	job := syncJob{close: true}
	for _, f := range seg.files {
		if f.f == nil || keep[f] {
			continue
		}
		if s.policy == FsyncInterval {
			job.files = append(job.files, f.f) // after any sync queued for it
		} else {
			f.f.Close()
		}
		f.f, f.dirty = nil, false
	}
	if len(job.files) > 0 {
		s.syncs <- job
	}
}

// write appends a group of entries, answers each, and hands the written
// ones to the queue (and the live counters).
func (s *spool) write(batch []*entry) {
	seg, err := s.activeSegment()
	if err != nil {
		s.log.Error("collect: cannot write the spool; answering 503", "err", err)
		for _, e := range batch {
			s.m.spoolErrors.Add(1)
			e.done <- err
		}
		return
	}
	keep := map[*segFile]bool{}
	var touched []*segFile
	for i, e := range batch {
		e.err = nil
		e.ts = s.gen.Next(e.recv)
		e.key = shardOf(e.account, e.ts)
		f, err := s.file(seg, e.key.String(), keep)
		if err != nil {
			e.err = err
			continue
		}
		if !keep[f] {
			keep[f] = true
			touched = append(touched, f)
		}
		e.off = f.size + int64(len(f.buf))
		f.buf = appendRow(f.buf, e.ts, e.value)
		f.entries = append(f.entries, i)
	}
	broken := false
	for _, f := range touched {
		_, err := f.f.Write(f.buf)
		if err == nil && s.policy == FsyncAlways {
			err = f.f.Sync()
		}
		if err != nil {
			// Leave the file as it was before this group, so the rows
			// after it stay readable; a file that cannot be cut ends the
			// segment.
			if terr := f.f.Truncate(f.size); terr != nil {
				broken = true
			}
			s.log.Error("collect: spool append failed; answering 503", "file", f.name, "err", err)
			for _, i := range f.entries {
				batch[i].err = fmt.Errorf("spool: %w", err)
			}
		} else {
			f.size += int64(len(f.buf))
			seg.bytes.Add(int64(len(f.buf)))
			f.dirty = s.policy == FsyncInterval
		}
		f.buf = f.buf[:0]
		f.entries = f.entries[:0]
	}
	if s.policy == FsyncAlways && seg.unsynced {
		syncDir(seg.dir)
		seg.unsynced = false
	}
	var ok int64
	for _, e := range batch {
		if e.err == nil {
			ok++
		}
	}
	seg.appended.Add(ok)
	for _, e := range batch {
		if e.err != nil {
			s.m.spoolErrors.Add(1)
			e.done <- e.err
			continue
		}
		select {
		case s.queue <- item{key: e.key, ts: e.ts, value: e.value, seg: seg, off: e.off}:
		default:
			// Cassandra is not keeping up: the row is on disk, and is
			// replayed once its segment is settled.
			s.m.spooled.Add(1)
			seg.fail(e.key.String(), e.off)
			s.settle(seg, 1, true)
		}
		if s.live != nil {
			pv := e.pv
			pv.Account, pv.TS = e.account, e.ts
			select {
			case s.live <- pv:
			default:
				s.m.liveDropped.Add(1)
			}
		}
		e.done <- nil
	}
	if broken || seg.bytes.Load() >= s.maxLen {
		s.seal()
	}
}

// appendRow appends one shard-file row, the msgpack array [ts, value] with
// both as bin (what readers/file's Writer writes).
func appendRow(dst []byte, ts [16]byte, value []byte) []byte {
	dst = append(dst, 0x92, 0xc4, 16)
	dst = append(dst, ts[:]...)
	n := len(value)
	switch {
	case n < 1<<8:
		dst = append(dst, 0xc4, byte(n))
	case n < 1<<16:
		dst = append(dst, 0xc5, byte(n>>8), byte(n))
	default:
		dst = append(dst, 0xc6, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(dst, value...)
}

// seal closes the active segment: it takes no more rows, and is deleted or
// replayed once all its rows are settled. With FsyncInterval the syncer
// syncs and closes its files and only then marks it sealed.
func (s *spool) seal() {
	seg := s.active
	if seg == nil {
		return
	}
	s.active = nil
	job := syncJob{close: true, then: func() {
		seg.sealed.Store(true)
		s.check(seg)
	}}
	for _, f := range seg.files {
		if f.f == nil {
			continue
		}
		if s.policy == FsyncInterval {
			job.files = append(job.files, f.f) // after any sync queued for it
		} else {
			f.f.Close()
		}
		f.f = nil
	}
	if s.policy == FsyncInterval && seg.unsynced {
		job.dir = seg.dir
	}
	seg.files = nil
	if s.policy == FsyncInterval {
		s.syncs <- job
		return
	}
	job.then()
}

// settle records n rows of seg as written to Cassandra (failed false) or
// left to replay (failed true).
func (s *spool) settle(seg *segment, n int64, failed bool) {
	if failed {
		seg.failed.Add(n)
	}
	seg.settled.Add(n)
	s.check(seg)
}

// check deletes a sealed segment whose rows are all in Cassandra, or queues
// it for replay when some are not. It acts once per segment.
func (s *spool) check(seg *segment) {
	if !seg.sealed.Load() || seg.settled.Load() != seg.appended.Load() {
		return
	}
	if !seg.done.CompareAndSwap(false, true) {
		return
	}
	if seg.failed.Load() == 0 {
		s.remove(seg)
		return
	}
	s.mu.Lock()
	s.replay = append(s.replay, seg)
	slices.SortFunc(s.replay, bySeq)
	s.mu.Unlock()
	select {
	case s.replayCh <- struct{}{}:
	default:
	}
}

// remove deletes a segment whose rows are all in Cassandra.
func (s *spool) remove(seg *segment) {
	if err := os.RemoveAll(seg.dir); err != nil {
		s.log.Error("collect: removing a replayed spool segment", "dir", seg.dir, "err", err)
	}
	s.mu.Lock()
	delete(s.segs, seg.seq)
	s.mu.Unlock()
}

// nextReplay returns the oldest segment waiting for replay, or nil.
func (s *spool) nextReplay() *segment {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.replay) == 0 {
		return nil
	}
	return s.replay[0]
}

// replayed removes seg, replayed in full, from the spool.
func (s *spool) replayed(seg *segment) {
	s.mu.Lock()
	if i := slices.Index(s.replay, seg); i >= 0 {
		s.replay = slices.Delete(s.replay, i, i+1)
	}
	s.mu.Unlock()
	s.remove(seg)
}

// quarantine renames a segment that cannot be read to bad-<seq>, out of the
// replay's way, for a person to look at.
func (s *spool) quarantine(seg *segment, cause error) {
	to := filepath.Join(s.dir, fmt.Sprintf("%s%0*d", badPrefix, seqDigits, seg.seq))
	if err := os.Rename(seg.dir, to); err != nil {
		s.log.Error("collect: cannot move a corrupt spool segment aside", "dir", seg.dir, "err", err)
	}
	s.log.Error("collect: spool segment is corrupt; moved aside (rows before the damage were replayed)", "dir", to, "err", cause)
	s.mu.Lock()
	if i := slices.Index(s.replay, seg); i >= 0 {
		s.replay = slices.Delete(s.replay, i, i+1)
	}
	delete(s.segs, seg.seq)
	s.mu.Unlock()
}

// stats returns the segments on disk and their bytes.
func (s *spool) stats() (segments int, bytes int64, waiting int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, seg := range s.segs {
		bytes += seg.bytes.Load()
	}
	return len(s.segs), bytes, len(s.replay)
}

// bySeq orders segments oldest first.
func bySeq(a, b *segment) int { return cmp.Compare(a.seq, b.seq) }

// syncDir fsyncs a directory, so the files created in it survive a crash.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// readSegment calls fn for every row of every shard file of a segment that
// want (nil: all) accepts, in groups of at most n rows of one shard; fn owns
// each group (a new one every call). A torn last row is not an error (recover cut it; only an
// append that was never answered ends that way).
func readSegment(dir string, n int, want func(key string, off int64) bool, fn func(key mapreduce.ShardKey, rows []mapreduce.Row) error) (int64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("spool: %w", err)
	}
	var total int64
	rows := make([]mapreduce.Row, 0, n)
	ends := make([]int, 0, n)
	var arena []byte
	for _, e := range ents {
		base, ok := strings.CutSuffix(e.Name(), file.Ext)
		if !ok || e.IsDir() {
			continue
		}
		key, err := mapreduce.ParseShardKey(base)
		if err != nil {
			continue
		}
		p := filepath.Join(dir, e.Name())
		f, err := os.Open(p)
		if err != nil {
			return total, fmt.Errorf("spool: %w", err)
		}
		flush := func() error {
			if len(rows) == 0 {
				return nil
			}
			start := 0
			for i, end := range ends {
				rows[i].Value = arena[start:end:end]
				start = end
			}
			err := fn(key, rows)
			total += int64(len(rows))
			rows, ends, arena = make([]mapreduce.Row, 0, n), ends[:0], nil
			return err
		}
		sc := file.NewScanner(f)
		for sc.Next() {
			r := sc.Row()
			if want != nil && !want(base, r.Offset) {
				continue
			}
			arena = append(arena, r.Value...)
			ends = append(ends, len(arena))
			rows = append(rows, mapreduce.Row{TS: r.TS, Index: r.Index, Offset: r.Offset})
			if len(rows) == n {
				if err := flush(); err != nil {
					f.Close()
					return total, err
				}
			}
		}
		err = flush()
		f.Close()
		if err != nil {
			return total, err
		}
		if err := sc.Err(); err != nil && !errors.Is(err, file.ErrTruncated) {
			var ce *file.CorruptError
			if errors.As(err, &ce) {
				ce.File = p
			}
			return total, &corruptSegmentError{err}
		}
	}
	return total, nil
}

// corruptSegmentError marks a segment whose files cannot be read to the end.
type corruptSegmentError struct{ err error }

func (e *corruptSegmentError) Error() string { return e.err.Error() }
func (e *corruptSegmentError) Unwrap() error { return e.err }

// RemoveLoaded removes from the spool dir the shard files that pvjobs load
// has written to Cassandra (files: paths of shard files in segments of dir),
// then every segment of dir left empty, so that a collector started on the
// spool does not replay them. The caller holds the spool (LockSpool): no
// collector appends to it or replays it meanwhile.
//
// Call it only once Cassandra has acknowledged every row of the files. Each
// file is removed by itself (unlink is atomic), so a crash halfway leaves
// whole files only, loaded or not, which a replay or another load writes
// again into the same cells: harmless. A segment directory is removed only
// when empty, so a file the load did not take (another account or day) is
// never lost.
func RemoveLoaded(dir string, files []string) (removedFiles, removedSegments int, err error) {
	for _, f := range files {
		seg := filepath.Dir(f)
		if _, ok := segSeq(filepath.Base(seg)); !ok || filepath.Clean(filepath.Dir(seg)) != filepath.Clean(dir) {
			return removedFiles, 0, fmt.Errorf("spool %s: %s is not a shard file of one of its segments", dir, f)
		}
		if err := os.Remove(f); err != nil {
			return removedFiles, 0, fmt.Errorf("spool: removing a loaded shard file: %w", err)
		}
		removedFiles++
	}
	segs, err := SpoolSegments(dir)
	if err != nil {
		return removedFiles, 0, err
	}
	for _, seg := range segs {
		ents, err := os.ReadDir(seg)
		if err != nil || len(ents) > 0 {
			continue
		}
		if err := os.Remove(seg); err == nil {
			removedSegments++
		}
	}
	syncDir(dir)
	return removedFiles, removedSegments, nil
}
