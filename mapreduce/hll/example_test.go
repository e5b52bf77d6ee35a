package hll_test

import (
	"fmt"

	"github.com/pvjobs/pvjobs/mapreduce/hll"
)

func Example() {
	// Two workers count the visitors of the same hour.
	var w1, w2 hll.Sketch
	for _, v := range []string{"alice", "bob", "alice", "carol"} {
		w1.AddString(v)
	}
	for _, v := range []string{"carol", "dave"} {
		w2.AddString(v)
	}
	fmt.Println(w1.Count(), w2.Count())

	// Their union, as PFMERGE would compute it.
	hour := w1.Clone()
	hour.Merge(&w2)
	fmt.Println(hour.Count())

	// The value to SET in Redis: the same 30 bytes that PFADDing the four
	// visitors leaves in a key; PFCOUNT on it answers 4 too.
	v := hour.AppendRedis(nil)
	fmt.Printf("%s, encoding %d (sparse), %d bytes\n", v[:4], v[4], len(v))

	back, err := hll.ParseRedis(v)
	if err != nil {
		panic(err)
	}
	fmt.Println(back.Count())
	// Output:
	// 3 2
	// 4
	// HYLL, encoding 1 (sparse), 30 bytes
	// 4
}
