package redis

// SetFlushHookForTest sets a function called before each round trip that
// writes temporary keys, with its number, and returns a function that removes
// it.
func SetFlushHookForTest(f func(roundTrip int)) (restore func()) {
	testHookFlush = f
	return func() { testHookFlush = nil }
}
