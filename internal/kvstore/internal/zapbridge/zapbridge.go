// Package zapbridge sends the zap logs of etcd's client and server to a
// slog.Logger, so etcd logs where and how the rest of OpenVOLT does.
package zapbridge

import (
	"context"
	"log/slog"
	"maps"
	"slices"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// DropFunc reports whether an entry should be discarded. fields holds the
// entry's fields encoded as plain values (errors become strings).
type DropFunc func(e zapcore.Entry, fields map[string]any) bool

// New returns a zap.Logger that writes entries at min or above to l.
// A nil l gives a no-op logger. drop may be nil.
func New(l *slog.Logger, min zapcore.Level, drop DropFunc) *zap.Logger {
	if l == nil {
		return zap.NewNop()
	}
	return zap.New(&core{log: l, min: min, drop: drop})
}

type core struct {
	log    *slog.Logger
	min    zapcore.Level
	drop   DropFunc
	fields []zapcore.Field // from With, shared read-only between copies
}

func (c *core) Enabled(lvl zapcore.Level) bool {
	return lvl >= c.min && c.log.Enabled(context.Background(), slogLevel(lvl))
}

func (c *core) With(fields []zapcore.Field) zapcore.Core {
	cp := *c
	cp.fields = append(slices.Clip(c.fields), fields...)
	return &cp
}

func (c *core) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c *core) Write(e zapcore.Entry, fields []zapcore.Field) error {
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range c.fields {
		f.AddTo(enc)
	}
	for _, f := range fields {
		f.AddTo(enc)
	}
	if c.drop != nil && c.drop(e, enc.Fields) {
		return nil
	}
	attrs := make([]slog.Attr, 0, len(enc.Fields)+1)
	if e.LoggerName != "" {
		attrs = append(attrs, slog.String("logger", e.LoggerName))
	}
	for _, k := range slices.Sorted(maps.Keys(enc.Fields)) {
		attrs = append(attrs, slog.Any(k, enc.Fields[k]))
	}
	c.log.LogAttrs(context.Background(), slogLevel(e.Level), e.Message, attrs...)
	return nil
}

func (c *core) Sync() error { return nil }

func slogLevel(l zapcore.Level) slog.Level {
	switch {
	case l <= zapcore.DebugLevel:
		return slog.LevelDebug
	case l == zapcore.InfoLevel:
		return slog.LevelInfo
	case l == zapcore.WarnLevel:
		return slog.LevelWarn
	default:
		return slog.LevelError
	}
}
