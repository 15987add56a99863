// Package testkit holds what tests across the tree share: for now, the one
// way to wait for something that happens in another goroutine or process.
// Tests poll; they never sleep for a fixed time or assert on timing.
package testkit

import (
	"errors"
	"testing"
	"time"
)

// Wait is how long Eventually polls before it fails the test. It is
// generous: a passing test returns as soon as its condition holds, so only
// a failing one (or a slow, shared CI machine) ever waits this long.
const Wait = 60 * time.Second

// Eventually polls cond, backing off from 1ms to 100ms, until it returns
// nil; after Wait it fails t with what and cond's last error.
func Eventually(t testing.TB, what string, cond func() error) {
	t.Helper()
	poll(t, what, Wait, cond)
}

// poll is Eventually with a given wait.
func poll(t testing.TB, what string, limit time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(limit)
	wait := time.Millisecond
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %v: %v", what, limit, err)
			return
		}
		time.Sleep(wait)
		wait = min(2*wait, 100*time.Millisecond)
	}
}

// errNotYet is what a boolean condition that does not hold yet reports.
var errNotYet = errors.New("condition does not hold")

// Becomes is Eventually for a condition with no error to tell.
func Becomes(t testing.TB, what string, cond func() bool) {
	t.Helper()
	Eventually(t, what, func() error {
		if cond() {
			return nil
		}
		return errNotYet
	})
}
