package main

import (
	"runtime/debug"
	"testing"
)

// The stack's memory limit follows its ONUs, the flag overrides it, a
// negative flag leaves the runtime's, and GOMEMLIMIT wins over both.
func TestStackMemoryLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	t.Setenv("GOMEMLIMIT", "")
	for _, c := range []struct {
		mib, onus int
		want      int64
	}{
		{0, 1024, 256 << 20},
		{0, 4, 192<<20 + 4*64<<10},
		{512, 1024, 512 << 20},
		{-1, 1024, 512 << 20}, // unchanged from the case before
	} {
		if err := setStackMemoryLimit(c.mib, c.onus); err != nil {
			t.Fatal(err)
		}
		if got := debug.SetMemoryLimit(-1); got != c.want {
			t.Errorf("--memory-limit-mib %d, %d ONUs: limit %d MiB, want %d MiB", c.mib, c.onus, got>>20, c.want>>20)
		}
	}
	if err := setStackMemoryLimit(0, -1); err == nil {
		t.Error("a negative ONU count was taken")
	}
	t.Setenv("GOMEMLIMIT", "100MiB")
	debug.SetMemoryLimit(300 << 20)
	if err := setStackMemoryLimit(0, 1024); err != nil || debug.SetMemoryLimit(-1) != 300<<20 {
		t.Error("the limit changed although GOMEMLIMIT is set")
	}
}
