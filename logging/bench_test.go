package logging_test

import (
	"io"
	"testing"

	"github.com/openvolt/openvolt/logging"
)

// A disabled debug line must cost about nothing: it stops at Enabled, before
// slog builds a record or reads the caller.
func BenchmarkDisabledDebug(b *testing.B) {
	reg, err := logging.New(logging.Config{Level: "info", Output: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	log := reg.Logger("bench")
	b.ReportAllocs()
	for b.Loop() {
		log.Debug("flow added", "device", "olt-1", "cookie", 42)
	}
}

// The same call through a With-derived logger, as components use them.
func BenchmarkDisabledDebugDerived(b *testing.B) {
	reg, err := logging.New(logging.Config{Level: "info", Output: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	log := reg.Logger("bench").With("device", "olt-1").WithGroup("flow")
	b.ReportAllocs()
	for b.Loop() {
		log.Debug("flow added", "cookie", 42)
	}
}

func BenchmarkEnabledInfoText(b *testing.B) {
	benchmarkEnabledInfo(b, "text")
}

func BenchmarkEnabledInfoJSON(b *testing.B) {
	benchmarkEnabledInfo(b, "json")
}

func benchmarkEnabledInfo(b *testing.B, format string) {
	reg, err := logging.New(logging.Config{Level: "info", Format: format, Output: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	log := reg.Logger("bench")
	b.ReportAllocs()
	for b.Loop() {
		log.Info("flow added", "device", "olt-1", "cookie", 42)
	}
}
