package zapbridge

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

func TestBridge(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	drop := func(e zapcore.Entry, fields map[string]any) bool { return fields["error"] == "noise" }
	zl := New(l, zapcore.WarnLevel, drop).Named("etcd").With(zap.String("member", "m1"))

	zl.Info("not at warn")
	zl.Warn("slow apply", zap.Int("ms", 150))
	zl.Error("serve failed", zap.Error(errors.New("noise")))
	zl.Error("serve failed", zap.Error(errors.New("real")))

	got := buf.String()
	for _, want := range []string{
		`level=WARN msg="slow apply" logger=etcd member=m1 ms=150`,
		`level=ERROR msg="serve failed" logger=etcd error=real member=m1`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if n := strings.Count(got, "\n"); n != 2 {
		t.Errorf("got %d lines, want 2:\n%s", n, got)
	}
}

func TestNilLogger(t *testing.T) {
	if New(nil, zapcore.DebugLevel, nil).Core().Enabled(zapcore.ErrorLevel) {
		t.Error("nil slog.Logger should give a disabled zap logger")
	}
}
