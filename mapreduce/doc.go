// Package mapreduce is the engine of pvjobs: it plans the work of a run (day shards
// × accounts, each day cut into time slices), fans the work items out to a pool of
// worker goroutines, feeds every row to every job of the run in one pass, and merges
// the workers' partial results into deterministic reports.
//
// The package sits at the bottom of the layering: readers (sources of rows), jobs
// (what is computed) and reports (where results go) all import it, and it imports
// none of them. The data types they share live here: [PageView], [Row], [ShardKey],
// [WorkItem], [Report].
//
// # Concurrency contract
//
// A run has N workers (default GOMAXPROCS). Each starts with a run of work items of
// its own, consecutive in account and time order, and takes half of the longest run
// left when it has finished. Each worker owns one partial result per
// job and one [Decoder]; rows are folded into the worker's own partials with no
// locks on the per-row path. Partials are merged once, in one goroutine, after all
// workers finished. A cancelled or failed run returns an error and no reports.
package mapreduce
