package mapreduce

import "time"

// ReadDays returns a copy of p that reads only the calendar days first to
// last-1 (indexes into p.Calendar.Days), clipped to [ReadStart, End): its
// Shards are those that overlap these days and its work items are clipped to
// them. Everything else is p's — accounts, range, calendar — so the partial
// results of a run of the copy (Options.KeepPartials) are of p's shape and
// merge with those of the other days into p's reports (see Partials).
//
// A run of whole local days needs nothing stitched across its edges: a
// visit ends at local midnight (see Visit), so the visits of the days read
// are exactly those an unrestricted run finds on them. first == last reads
// nothing. It panics when the days are not within the calendar.
func (p *Plan) ReadDays(first, last int) *Plan {
	if first < 0 || last < first || last > len(p.Calendar.Days) {
		panic("mapreduce: ReadDays out of the calendar")
	}
	q := *p
	q.read, q.readSet = [2]int{first, last}, true
	q.Shards, q.ShardAccount = nil, nil
	from, to := q.readWindow()
	for i, sk := range p.Shards {
		if from.Before(to) && sk.Start().Before(to) && from.Before(sk.End()) {
			q.Shards = append(q.Shards, sk)
			q.ShardAccount = append(q.ShardAccount, p.ShardAccount[i])
		}
	}
	return &q
}

// DaysRead returns the calendar days [first, last) the plan reads: every
// day of the calendar unless ReadDays restricted it.
func (p *Plan) DaysRead() (first, last int) {
	if p.readSet {
		return p.read[0], p.read[1]
	}
	return 0, len(p.Calendar.Days)
}

// readWindow returns the instants the plan reads between: [ReadStart, End),
// or the days ReadDays chose, clipped to it.
func (p *Plan) readWindow() (from, to time.Time) {
	from, to = p.ReadStart, p.End
	if !p.readSet {
		return from, to
	}
	first, last := p.read[0], p.read[1]
	if first == last {
		return from, from
	}
	return maxTime(from, p.Calendar.Days[first].Start.UTC()), minTime(to, p.Calendar.Days[last-1].End.UTC())
}
