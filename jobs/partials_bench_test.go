package jobs_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/pvjobs/pvjobs/jobs"
	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/pageview"
)

// BenchmarkPartialsCodec writes the merged partial results of every job
// over the benchmark week (1.2 million page views, two accounts) and reads
// them back into one merge: what a shard of days adds to its run and what
// pvjobs merge does per file, without compression (reports/partials adds
// DEFLATE). It reports the encoded bytes per page view and the encoding and
// decoding speed.
func BenchmarkPartialsCodec(b *testing.B) {
	src, plan := benchData()
	cfg := &jobs.Config{GeoIP: "geo/testdb/test-city.mmdb", MaxRows: 1000}
	defs, _ := jobs.Lookup([]string{"all"})
	tasks, closeTasks, err := jobs.Build(defs, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer closeTasks()
	res, err := mapreduce.Run(context.Background(), plan.ReadDays(0, len(plan.Calendar.Days)), src, tasks,
		mapreduce.Options{NewDecoder: pageview.NewMapreduceDecoder, NewEnricher: jobs.Enricher(defs, cfg), KeepPartials: true})
	if err != nil {
		b.Fatal(err)
	}
	merging := *cfg
	merging.Merging = true
	mtasks, _, err := jobs.Build(defs, &merging)
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	b.Run("encode", func(b *testing.B) {
		for b.Loop() {
			buf.Reset()
			if err := mapreduce.EncodePartials(&buf, res.Partials); err != nil {
				b.Fatal(err)
			}
		}
		b.SetBytes(int64(buf.Len()))
		b.ReportMetric(float64(buf.Len())/float64(res.Summary.Rows), "bytes/pageview")
	})
	b.Run("decode", func(b *testing.B) {
		enc := buf.Bytes()
		b.SetBytes(int64(len(enc)))
		for b.Loop() {
			if _, err := mapreduce.DecodePartials(bytes.NewReader(enc), int64(len(enc)), plan, mtasks); err != nil {
				b.Fatal(err)
			}
		}
	})
}
