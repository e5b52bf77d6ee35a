// Package redis writes reports to Redis: counts as sorted sets, unique
// visitors as native HyperLogLog values.
package redis
