package redis_test

// Tests load zones such as Europe/Berlin and America/Santiago; the embedded
// database makes them run (never skip) on hosts without tzdata.
import _ "time/tzdata"
