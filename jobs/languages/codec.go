package languages

import (
	"github.com/pvjobs/pvjobs/jobs/tally"
	"github.com/pvjobs/pvjobs/mapreduce"
)

// EncodePartial implements mapreduce.PartialCodec.
func (j *Job) EncodePartial(e *mapreduce.PartialEncoder, p *Partial) error {
	return tally.EncodeKeyed(e, p.keys, p.t)
}

// DecodePartial implements mapreduce.PartialCodec.
func (j *Job) DecodePartial(d *mapreduce.PartialDecoder) (*Partial, error) {
	keys, t, err := tally.DecodeKeyed(d, tally.TrafficCols, true)
	return &Partial{keys: keys, t: t}, err
}
