package scheduler_test

import (
	"fmt"
	"time"

	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/scheduler"
)

// A nightly job at 02:30 Berlin time runs once every local day, also on the
// nights the clocks change.
func ExampleParseCron() {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	s, err := scheduler.ParseCron("30 2 * * *", berlin)
	if err != nil {
		panic(err)
	}
	at := time.Date(2024, 3, 30, 12, 0, 0, 0, berlin)
	for range 2 {
		at = s.Next(at)
		fmt.Println(at.Format(time.RFC3339))
	}
	at = time.Date(2024, 10, 26, 12, 0, 0, 0, berlin)
	for range 2 {
		at = s.Next(at)
		fmt.Println(at.Format(time.RFC3339))
	}
	// Output:
	// 2024-03-31T03:30:00+02:00
	// 2024-04-01T02:30:00+02:00
	// 2024-10-27T02:30:00+02:00
	// 2024-10-28T02:30:00+01:00
}
