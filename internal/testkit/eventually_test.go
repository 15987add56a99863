package testkit

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder is a testing.TB that records a failure instead of ending the
// goroutine, so Eventually's failing path can be tested.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	failed string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = fmt.Sprintf(format, args...)
}

func TestEventuallyReturnsOnceTheConditionHolds(t *testing.T) {
	calls := 0
	Eventually(t, "third call", func() error {
		calls++
		if calls < 3 {
			return fmt.Errorf("call %d", calls)
		}
		return nil
	})
	if calls != 3 {
		t.Errorf("cond ran %d times, want 3", calls)
	}
}

func TestBecomesReturnsOnceTheConditionHolds(t *testing.T) {
	calls := 0
	Becomes(t, "second call", func() bool { calls++; return calls == 2 })
	if calls != 2 {
		t.Errorf("cond ran %d times, want 2", calls)
	}
}

// A condition that never holds fails the test with what and the last
// error.
func TestEventuallyFailsWithTheLastError(t *testing.T) {
	r := &recorder{TB: t}
	poll(r, "never", 20*time.Millisecond, func() error { return errors.New("still down") })
	if !strings.Contains(r.failed, "never") || !strings.Contains(r.failed, "still down") {
		t.Errorf("failure = %q, want what and the last error", r.failed)
	}
}
