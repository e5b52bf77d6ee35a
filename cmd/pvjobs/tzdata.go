package main

// The binary carries the IANA time-zone database, so --tz and a config job's
// tz work the same on hosts without tzdata (minimal containers); the tests of
// this package then never depend on the host's zones either.
import _ "time/tzdata"
