package logging

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
)

// Discard returns a registry at level info whose loggers write nowhere. Levels
// still work, so it can back a LogService in tests.
func Discard() *Registry {
	return newRegistry(slog.DiscardHandler, slog.LevelInfo)
}

// Capture returns a registry that writes text lines into the returned Buffer,
// with new packages starting at level. It is meant for tests, so an invalid
// level panics.
func Capture(level string) (*Registry, *Buffer) {
	buf := new(Buffer)
	reg, err := New(Config{Level: level, Output: buf})
	if err != nil {
		panic(err)
	}
	return reg, buf
}

// Buffer collects log output and may be read while loggers write to it, as
// happens when a test inspects a server's lines. The zero value is ready.
type Buffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Lines returns the lines written so far, without their newlines.
func (b *Buffer) Lines() []string {
	s := strings.TrimSuffix(b.String(), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// Reset discards everything written so far.
func (b *Buffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.b.Reset()
}
