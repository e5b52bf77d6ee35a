package sharding_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/sharding"
)

func TestResolve(t *testing.T) {
	tests := []struct {
		name string
		in   sharding.Inputs
		want sharding.Spec
		err  string
	}{
		{"none", sharding.Inputs{}, sharding.Spec{}, ""},
		{"flag", sharding.Inputs{Shard: "2/7"}, sharding.Spec{Index: 2, Count: 7, By: sharding.ByAccount}, ""},
		{"flag by day", sharding.Inputs{Shard: "0/1", By: "day"}, sharding.Spec{Index: 0, Count: 1, By: sharding.ByDay}, ""},
		{"kubernetes", sharding.Inputs{CompletionIndex: "3", Count: 8}, sharding.Spec{Index: 3, Count: 8, By: sharding.ByAccount}, ""},
		{"flag wins over the index", sharding.Inputs{Shard: "1/8", CompletionIndex: "3", Count: 8}, sharding.Spec{Index: 1, Count: 8, By: sharding.ByAccount}, ""},
		{"index without a count", sharding.Inputs{CompletionIndex: "3"}, sharding.Spec{}, "PVJOBS_SHARD_COUNT"},
		{"index beyond the count", sharding.Inputs{CompletionIndex: "8", Count: 8}, sharding.Spec{}, "want 0 to 7"},
		{"index not a number", sharding.Inputs{CompletionIndex: "x", Count: 8}, sharding.Spec{}, "not a number"},
		{"count alone", sharding.Inputs{Count: 8}, sharding.Spec{}, "without --shard"},
		{"by alone", sharding.Inputs{By: "day"}, sharding.Spec{}, "without --shard"},
		{"bad by", sharding.Inputs{Shard: "0/2", By: "week"}, sharding.Spec{}, "want account or day"},
		{"I = N", sharding.Inputs{Shard: "7/7"}, sharding.Spec{}, "want 0 to 6"},
		{"no N", sharding.Inputs{Shard: "7"}, sharding.Spec{}, "want I/N"},
		{"zero shards", sharding.Inputs{Shard: "0/0"}, sharding.Spec{}, "want 1 to"},
		{"negative", sharding.Inputs{Shard: "-1/3"}, sharding.Spec{}, "want 0 to 2"},
		{"flag and count disagree", sharding.Inputs{Shard: "1/3", Count: 4}, sharding.Spec{}, "disagree"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := sharding.Resolve(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, sharding.ErrSpec) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

// TestOf pins the assignment: any version of pvjobs must compute the same.
// The values were computed apart from Go, by a few lines of Python of the
// FNV-1a-64 definition (blog hashes to 0xc573b09bc29143b1, shop to
// 0x46dc5e18e28e2409).
func TestOf(t *testing.T) {
	for _, tc := range []struct {
		account string
		n, want int
	}{
		{"blog", 7, 4}, {"shop", 7, 5}, {"blog", 3, 2}, {"shop", 3, 2}, {"a", 1000, 996}, {"customer-0042", 16, 14},
	} {
		if got := sharding.Of(tc.account, tc.n); got != tc.want {
			t.Errorf("Of(%q, %d) = %d, want %d", tc.account, tc.n, got, tc.want)
		}
	}
}

// TestPartition: every account and every day is in exactly one shard, and
// the accounts spread evenly.
func TestPartition(t *testing.T) {
	var accounts []string
	for i := range 5000 {
		accounts = append(accounts, fmt.Sprintf("acct%d", i))
	}
	for _, n := range []int{1, 3, 7, 64} {
		var all []string
		for i := range n {
			s := sharding.Spec{Index: i, Count: n, By: sharding.ByAccount}
			got := s.Accounts(accounts)
			if want := len(accounts) / n; n > 1 && (len(got) < want*8/10 || len(got) > want*12/10) {
				t.Errorf("shard %d of %d has %d accounts, about %d expected", i, n, len(got), want)
			}
			all = append(all, got...)
		}
		slices.Sort(all)
		want := slices.Clone(accounts)
		slices.Sort(want)
		if !slices.Equal(all, want) {
			t.Errorf("%d shards: the union of the accounts is not the accounts", n)
		}
		for _, days := range []int{1, 5, 7, 31, 365} {
			next := 0
			for i := range n {
				first, last := sharding.Spec{Index: i, Count: n, By: sharding.ByDay}.Days(days)
				if first != next || last < first {
					t.Fatalf("%d days, shard %d of %d: [%d, %d) after %d", days, i, n, first, last, next)
				}
				next = last
			}
			if next != days {
				t.Errorf("%d days in %d shards end at %d", days, n, next)
			}
		}
	}
}
