package mapreduce

// Job is a map/reduce job over page views, generic over its partial result P
// (typically a pointer to a struct of maps).
//
// The engine calls NewPartial once per worker, with the run's plan; Map is called for each page view
// from that worker's goroutine only, with the worker's own partial, so Map needs
// no locks. pv and its byte slices are valid only during the call. After all
// workers finished, Merge folds each other partial into the first one, from a
// single goroutine, and Reports turns the merged partial into reports.
type Job[P any] interface {
	NewPartial(plan *Plan) P
	Map(p P, pv *PageView)
	Merge(dst, src P)
	Reports(p P, plan *Plan) []Report
}

// VisitJob is implemented by jobs that count visits as well as page views:
// the engine calls MapVisit once for every visit of the run (see Visit), on
// one of the partials, from that worker's goroutine or, for visits completed
// while the partials are merged, from the merging goroutine before Merge. v
// and its page views are valid only during the call. A job of visits
// withheld from bots sees no visit whose first page view is a bot's.
type VisitJob[P any] interface {
	MapVisit(p P, v *Visit)
}

// Task is a Job bound to a name, type-erased so jobs of different partial types
// share one run. Build one with NewTask.
type Task interface {
	// Name returns the job's name, as given to NewTask.
	Name() string
	newPartial(plan *Plan) partial
	reports(parts []partial, plan *Plan) []Report
	seesBots() bool
	seesVisits() bool
}

// partial is one worker's state of one task.
type partial interface {
	mapRow(pv *PageView)
	mapVisit(v *Visit)
}

// TaskOption configures a Task.
type TaskOption func(*taskOptions)

type taskOptions struct{ bots bool }

// WithBots makes the task see page views of bots, which are otherwise withheld
// from it unless the run includes bots (Options.IncludeBots).
func WithBots() TaskOption { return func(o *taskOptions) { o.bots = true } }

// NewTask binds job to name.
func NewTask[P any](name string, job Job[P], opts ...TaskOption) Task {
	t := &task[P]{name: name, job: job}
	for _, o := range opts {
		o(&t.opts)
	}
	return t
}

type task[P any] struct {
	name string
	job  Job[P]
	opts taskOptions
}

type taskPartial[P any] struct {
	job Job[P]
	p   P
}

func (tp *taskPartial[P]) mapRow(pv *PageView) { tp.job.Map(tp.p, pv) }

func (tp *taskPartial[P]) mapVisit(v *Visit) {
	if vj, ok := tp.job.(VisitJob[P]); ok {
		vj.MapVisit(tp.p, v)
	}
}

func (t *task[P]) Name() string   { return t.name }
func (t *task[P]) seesBots() bool { return t.opts.bots }
func (t *task[P]) seesVisits() bool {
	_, ok := t.job.(VisitJob[P])
	return ok
}
func (t *task[P]) newPartial(plan *Plan) partial {
	return &taskPartial[P]{job: t.job, p: t.job.NewPartial(plan)}
}

func (t *task[P]) reports(parts []partial, plan *Plan) []Report {
	dst := parts[0].(*taskPartial[P]).p
	for _, p := range parts[1:] {
		t.job.Merge(dst, p.(*taskPartial[P]).p)
	}
	reps := t.job.Reports(dst, plan)
	for i := range reps {
		SortRows(reps[i].Rows)
	}
	return reps
}
