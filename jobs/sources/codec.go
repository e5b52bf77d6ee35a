package sources

import (
	"github.com/pvjobs/pvjobs/jobs/tally"
	"github.com/pvjobs/pvjobs/mapreduce"
)

// The partial results of the sources, searchterms and campaigns jobs are
// their keys and tallies; the classification caches are left out (only
// Map uses them).

func (p *Partial) encode(e *mapreduce.PartialEncoder) error { return tally.EncodeKeyed(e, p.keys, p.t) }

func decodePartial(d *mapreduce.PartialDecoder) (*Partial, error) {
	keys, t, err := tally.DecodeKeyed(d, tally.TrafficCols, true)
	return &Partial{keys: keys, t: t}, err
}

// EncodePartial implements mapreduce.PartialCodec.
func (j *SourcesJob) EncodePartial(e *mapreduce.PartialEncoder, p *Partial) error { return p.encode(e) }

// DecodePartial implements mapreduce.PartialCodec.
func (j *SourcesJob) DecodePartial(d *mapreduce.PartialDecoder) (*Partial, error) {
	return decodePartial(d)
}

// EncodePartial implements mapreduce.PartialCodec.
func (j *SearchTermsJob) EncodePartial(e *mapreduce.PartialEncoder, p *Partial) error {
	return p.encode(e)
}

// DecodePartial implements mapreduce.PartialCodec.
func (j *SearchTermsJob) DecodePartial(d *mapreduce.PartialDecoder) (*Partial, error) {
	return decodePartial(d)
}

// EncodePartial implements mapreduce.PartialCodec: sources, then search
// terms.
func (j *BothJob) EncodePartial(e *mapreduce.PartialEncoder, p *BothPartial) error {
	if err := p.sources.encode(e); err != nil {
		return err
	}
	return p.terms.encode(e)
}

// DecodePartial implements mapreduce.PartialCodec.
func (j *BothJob) DecodePartial(d *mapreduce.PartialDecoder) (*BothPartial, error) {
	s, err := decodePartial(d)
	if err != nil {
		return nil, err
	}
	t, err := decodePartial(d)
	return &BothPartial{sources: s, terms: t}, err
}

// EncodePartial implements mapreduce.PartialCodec.
func (j *CampaignsJob) EncodePartial(e *mapreduce.PartialEncoder, p *CampaignsPartial) error {
	return p.encode(e)
}

// DecodePartial implements mapreduce.PartialCodec.
func (j *CampaignsJob) DecodePartial(d *mapreduce.PartialDecoder) (*CampaignsPartial, error) {
	p, err := decodePartial(d)
	if err != nil {
		return nil, err
	}
	return &CampaignsPartial{Partial: *p}, nil
}
