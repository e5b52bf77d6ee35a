// Package sharding cuts one pvjobs run into N shards that any batch
// scheduler can run as N independent processes (a Kubernetes Indexed Job,
// say), and says which part of the run shard I of N does.
//
// # By account (the default)
//
// Shard I of N computes the accounts a with
//
//	FNV-1a-64(a) mod N == I
//
// where FNV-1a-64 is the 64-bit FNV-1a hash (offset basis
// 0xcbf29ce484222325, prime 0x100000001b3) of the account id's bytes, as
// hash/fnv's New64a computes it. The assignment depends on the account id
// and N alone — not on the other accounts, the order they are listed in, the
// pvjobs version or the machine — so every shard, and any later run, agrees
// on it, and an account is computed whole by exactly one shard.
//
// # By day
//
// Shard I of N reads the local days [I·D/N, (I+1)·D/N) (integer division) of
// the D local days of the run's calendar, in order: contiguous blocks, so
// that a shard reads each UTC day partition it needs once, and every day
// belongs to exactly one shard (none, for a shard of a run of fewer days
// than shards).
package sharding

import (
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

// By says how a run is cut.
type By string

// The ways to cut a run.
const (
	ByAccount By = "account"
	ByDay     By = "day"
)

// MaxShards bounds N.
const MaxShards = 100_000

// Spec is one shard of a run: shard Index of Count, cut By.
type Spec struct {
	Index, Count int
	By           By
}

// IsZero reports whether s is no shard: the whole run.
func (s Spec) IsZero() bool { return s.Count == 0 }

// String formats s as "2/7 by account".
func (s Spec) String() string { return fmt.Sprintf("%d/%d by %s", s.Index, s.Count, s.By) }

// ErrSpec is wrapped by the errors of Parse and Resolve.
var ErrSpec = errors.New("bad shard")

// Parse parses "I/N": shard I (from 0) of N.
func Parse(s string) (index, count int, err error) {
	is, ns, ok := strings.Cut(strings.TrimSpace(s), "/")
	i, ierr := strconv.Atoi(strings.TrimSpace(is))
	n, nerr := strconv.Atoi(strings.TrimSpace(ns))
	if !ok || ierr != nil || nerr != nil {
		return 0, 0, fmt.Errorf("%w %q: want I/N, shard I (0 to N-1) of N, such as 2/7", ErrSpec, s)
	}
	if err := check(i, n); err != nil {
		return 0, 0, fmt.Errorf("%w %q: %v", ErrSpec, s, err)
	}
	return i, n, nil
}

func check(i, n int) error {
	if n < 1 || n > MaxShards {
		return fmt.Errorf("%d shards: want 1 to %d", n, MaxShards)
	}
	if i < 0 || i >= n {
		return fmt.Errorf("shard %d of %d: want 0 to %d", i, n, n-1)
	}
	return nil
}

// Inputs are where a shard's spec may come from.
type Inputs struct {
	// Shard is --shard: "I/N", or "".
	Shard string
	// Count is --shard-count (or PVJOBS_SHARD_COUNT), 0 when not given.
	Count int
	// By is --shard-by: "account", "day" or "" (account).
	By string
	// CompletionIndex is $JOB_COMPLETION_INDEX, which Kubernetes sets in
	// the pods of an Indexed Job ("" when unset).
	CompletionIndex string
}

// Resolve returns the shard that in says: --shard I/N, else
// JOB_COMPLETION_INDEX with --shard-count, else no shard (the zero Spec). A
// completion index without a count is an error: pvjobs would otherwise run
// the whole run in every pod of the Job.
func Resolve(in Inputs) (Spec, error) {
	var s Spec
	switch in.By {
	case "", string(ByAccount):
		s.By = ByAccount
	case string(ByDay):
		s.By = ByDay
	default:
		return Spec{}, fmt.Errorf("%w: --shard-by %q: want account or day", ErrSpec, in.By)
	}
	switch {
	case in.Shard != "":
		i, n, err := Parse(in.Shard)
		if err != nil {
			return Spec{}, err
		}
		if in.Count != 0 && in.Count != n {
			return Spec{}, fmt.Errorf("%w: --shard %s and --shard-count %d disagree", ErrSpec, in.Shard, in.Count)
		}
		s.Index, s.Count = i, n
	case in.CompletionIndex != "":
		i, err := strconv.Atoi(strings.TrimSpace(in.CompletionIndex))
		if err != nil {
			return Spec{}, fmt.Errorf("%w: JOB_COMPLETION_INDEX %q: not a number", ErrSpec, in.CompletionIndex)
		}
		if in.Count == 0 {
			return Spec{}, fmt.Errorf("%w: JOB_COMPLETION_INDEX is %d but the number of shards is not given: set --shard-count or PVJOBS_SHARD_COUNT to the Job's completions", ErrSpec, i)
		}
		if err := check(i, in.Count); err != nil {
			return Spec{}, fmt.Errorf("%w: JOB_COMPLETION_INDEX %d, --shard-count %d: %v", ErrSpec, i, in.Count, err)
		}
		s.Index, s.Count = i, in.Count
	case in.Count != 0:
		return Spec{}, fmt.Errorf("%w: --shard-count %d without --shard or JOB_COMPLETION_INDEX", ErrSpec, in.Count)
	default:
		if in.By != "" {
			return Spec{}, fmt.Errorf("%w: --shard-by %s without --shard I/N or JOB_COMPLETION_INDEX", ErrSpec, in.By)
		}
		return Spec{}, nil
	}
	return s, nil
}

// Of returns the shard (0 to n-1) that computes account when a run is cut
// into n shards by account.
func Of(account string, n int) int {
	h := fnv.New64a()
	h.Write([]byte(account))
	return int(h.Sum64() % uint64(n))
}

// Accounts returns the accounts of shard s, in their order.
func (s Spec) Accounts(accounts []string) []string {
	var out []string
	for _, a := range accounts {
		if Of(a, s.Count) == s.Index {
			out = append(out, a)
		}
	}
	return out
}

// Days returns the days [first, last) of shard s of a run of days local
// days.
func (s Spec) Days(days int) (first, last int) {
	return s.Index * days / s.Count, (s.Index + 1) * days / s.Count
}
