package logging

import (
	"context"
	"log/slog"
)

// handler gates a shared base handler with one package's level. The level is
// a pointer so that loggers derived with With/WithGroup, and loggers already
// handed out, follow SetLevel.
type handler struct {
	level *slog.LevelVar
	next  slog.Handler
}

// Enabled is the fast path: slog calls it before building a record, so a
// disabled line costs one atomic load and a compare. The base handler is
// asked only for lines that pass, so a discarding base stays cheap too.
func (h *handler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.level.Level() && h.next.Enabled(ctx, l)
}

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	return h.next.Handle(ctx, r)
}

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	return &handler{level: h.level, next: h.next.WithAttrs(attrs)}
}

func (h *handler) WithGroup(name string) slog.Handler {
	if name == "" { // slog's rule: an empty group is no group
		return h
	}
	return &handler{level: h.level, next: h.next.WithGroup(name)}
}
