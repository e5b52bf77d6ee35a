package redis_test

import (
	"fmt"
	"time"

	"github.com/pvjobs/pvjobs/reports/redis"
)

// The keys one PFCOUNT reads for the distinct visitors of blog from
// 2024-07-31 22:00 to 2024-09-01 01:30 (UTC): two hours, the month of
// August, an hour and 30 minutes.
func ExampleCover() {
	start := time.Date(2024, 7, 31, 22, 0, 0, 0, time.UTC)
	end := time.Date(2024, 9, 1, 1, 30, 0, 0, time.UTC)
	units, err := redis.Cover(start, end, time.UTC, true)
	if err != nil {
		panic(err)
	}
	keys := redis.Keys{}
	for _, u := range units[:5] {
		fmt.Println(keys.UV("blog", u))
	}
	fmt.Println("...", len(units), "keys")
	// Output:
	// pv:{blog}:uv:2024073122
	// pv:{blog}:uv:2024073123
	// pv:{blog}:uv:202408
	// pv:{blog}:uv:2024090100
	// pv:{blog}:uv:202409010100
	// ... 34 keys
}

// A repeated hour of a daylight-saving fall-back gets the UTC offset.
func ExampleTimePart() {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	for _, utc := range []int{0, 1, 2} { // 02:00 CEST, 02:00 CET, 03:00 CET
		at := time.Date(2024, 10, 27, utc, 0, 0, 0, time.UTC).In(berlin)
		fmt.Println(redis.Keys{}.Key("blog", redis.UVName, redis.TimePart("hour", at, time.Time{})))
	}
	// Output:
	// pv:{blog}:uv:2024102702
	// pv:{blog}:uv:2024102702+0100
	// pv:{blog}:uv:2024102703
}

// The keys of a report's first measure, of another measure, and of an
// average's sum, over a day and a range.
func ExampleMeasureName() {
	keys := redis.Keys{}
	fmt.Println(keys.Key("blog", redis.ReportName("sources"), "20240801"))
	fmt.Println(keys.Key("blog", redis.MeasureName("sources", "visitors"), "20240801"))
	fmt.Println(keys.Key("blog", redis.MeasureName("sources", "duration_ms"), "20240801-20240807"))
	// Output:
	// pv:{blog}:sources:20240801
	// pv:{blog}:sources.visitors:20240801
	// pv:{blog}:sources.duration_ms:20240801-20240807
}
