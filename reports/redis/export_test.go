package redis

// SetFlushHookForTest sets a function called before each transaction that
// writes temporary keys, with its number, and returns a function that
// removes it.
func SetFlushHookForTest(f func(roundTrip int)) (restore func()) {
	testHooks.flush = f
	return func() { testHooks.flush = nil }
}

// SetRetryHookForTest sets a function called before each wait after a
// transient failure, with the operation and its error, and returns a
// function that removes it.
func SetRetryHookForTest(f func(what string, err error)) (restore func()) {
	testHooks.retry = f
	return func() { testHooks.retry = nil }
}

// SetSwapHookForTest sets a function called before the swap of each
// account, and returns a function that removes it.
func SetSwapHookForTest(f func(account string)) (restore func()) {
	testHooks.swap = f
	return func() { testHooks.swap = nil }
}

// Transient exports transient to the tests.
var Transient = transient

// ProbeAccounts exports probeAccounts to the tests.
var ProbeAccounts = probeAccounts
