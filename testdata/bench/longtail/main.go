// Command longtail writes the shard files of make bench's long-tail case
// (issue 10's hostile cardinality): one UTC day of page views, by default
// 2,000,000 of one account whose URLs carry session ids in the query, so
// that half of them are distinct (1,000,000 distinct URLs), from 200,000
// visitors (distinct addresses and a few hundred user agents).
//
//	go run ./testdata/bench/longtail -dir DIR [-rows 2000000] [-distinct 1000000]
package main

import (
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/collector"
	"github.com/pvjobs/pvjobs/readers/file"
)

func main() {
	dir := flag.String("dir", "", "directory for the shard file (required)")
	rows := flag.Int("rows", 2_000_000, "page views")
	distinct := flag.Int("distinct", 1_000_000, "distinct URLs (each session id is used rows/distinct times)")
	visitors := flag.Int("visitors", 200_000, "distinct visitors")
	flag.Parse()
	if *dir == "" || *rows <= 0 || *distinct <= 0 || *distinct > *rows || *visitors <= 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		log.Fatal(err)
	}
	day := time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC)
	key, err := mapreduce.ParseShardKey("20240801.tail")
	if err != nil {
		log.Fatal(err)
	}
	w, err := file.Create(*dir, key, false)
	if err != nil {
		log.Fatal(err)
	}
	r := rand.New(rand.NewPCG(10, 18))
	pages := []string{"/", "/cart", "/product", "/search", "/account", "/checkout", "/blog/post", "/help"}
	var b []byte
	for i := range *rows {
		// Rows in time order; URL i/(rows/distinct) so each session id
		// repeats a few times, close together, as a crawler trap's would.
		sid := i * *distinct / *rows
		v := r.IntN(*visitors)
		// The stored form the collector writes (every field a str, in a
		// fixed order).
		b = collector.AppendValue(b[:0], &collector.PageView{
			URL:       fmt.Sprintf("https://shop.example.com%s?sid=%016x", pages[sid%len(pages)], uint64(sid)*0x9e3779b97f4a7c15),
			Title:     "Shop",
			IP:        fmt.Sprintf("%d.%d.%d.%d", 1+v>>16%223, v>>8&255, v&255, 1+v%200),
			UserAgent: fmt.Sprintf("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.%d.0 Safari/537.36", 100+v%30, v%300),
		})
		t := day.Add(time.Duration(float64(i) / float64(*rows) * float64(24*time.Hour)))
		if err := w.Write(mapreduce.TimeUUID(t, uint16(i), uint64(i)), b); err != nil {
			log.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
}
