// Package logging hands out named log/slog loggers whose levels can change
// while the process runs, one level per name ("package").
//
// A process builds one Registry from its Config and passes it down; each
// package asks it for a logger under its own name:
//
//	reg, err := logging.New(logging.Config{Level: "info", Format: "json"})
//	log := reg.Logger("core/device")
//	log.Debug("adopting", "device", id) // hidden until someone sets core/device to debug
//
// Every daemon serves the registry over gRPC (see Register), so an operator
// can turn one package up to debug without a restart.
package logging

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"sort"
	"strings"
	"sync"
)

// PackageKey is the attribute every line carries with its logger's name.
const PackageKey = "pkg"

// DefaultPackage is the name SetLevel and Levels use for the level new
// packages start at. It is reserved: no logger can be named so.
const DefaultPackage = "default"

// Sentinel errors; callers test with errors.Is. Returned errors wrap them
// with the offending value.
var (
	// ErrInvalidLevel reports a level other than debug, info, warn or error.
	ErrInvalidLevel = errors.New("invalid log level")
	// ErrUnknownPackage reports a package no logger has been created for.
	ErrUnknownPackage = errors.New("unknown package")
	// ErrInvalidFormat reports a Config.Format other than text or json.
	ErrInvalidFormat = errors.New("invalid log format")
)

// levelNames is the order levels are listed in, least severe first.
var levelNames = []string{"debug", "info", "warn", "error"}

var levelValues = map[string]slog.Level{
	"debug": slog.LevelDebug,
	"info":  slog.LevelInfo,
	"warn":  slog.LevelWarn,
	"error": slog.LevelError,
}

// LevelNames lists the valid level names, least severe first.
func LevelNames() []string { return append([]string(nil), levelNames...) }

// ParseLevel turns a level name (any case) into a slog.Level. The error wraps
// ErrInvalidLevel and lists the valid names.
func ParseLevel(s string) (slog.Level, error) {
	if l, ok := levelValues[strings.ToLower(strings.TrimSpace(s))]; ok {
		return l, nil
	}
	return 0, fmt.Errorf("%w %q (valid: %s)", ErrInvalidLevel, s, strings.Join(levelNames, ", "))
}

// levelName is the inverse of ParseLevel. Only the four named levels are
// ever stored, so the fallback is for completeness.
func levelName(l slog.Level) string {
	switch l {
	case slog.LevelDebug:
		return "debug"
	case slog.LevelInfo:
		return "info"
	case slog.LevelWarn:
		return "warn"
	case slog.LevelError:
		return "error"
	}
	return strings.ToLower(l.String())
}

// Config says how a process logs. The zero value logs text at info to
// os.Stderr.
type Config struct {
	// Level new packages start at: debug, info, warn or error (default info).
	Level string
	// Format of each line: text (key=value) or json (default text).
	Format string
	// Output receives the lines (default os.Stderr). Writes are serialised,
	// so it need not be safe for concurrent use.
	Output io.Writer
}

// Validate reports the first invalid field as one line naming the valid
// values.
func (c Config) Validate() error {
	if c.Level != "" {
		if _, err := ParseLevel(c.Level); err != nil {
			return fmt.Errorf("logging: %w", err)
		}
	}
	switch strings.ToLower(c.Format) {
	case "", "text", "json":
	default:
		return fmt.Errorf("logging: %w %q (valid: text, json)", ErrInvalidFormat, c.Format)
	}
	return nil
}

// PackageLevel is the level one package logs at.
type PackageLevel struct {
	Package string
	Level   string
}

// Registry hands out named loggers, each with its own level. A process owns
// one and passes it to the packages that log. It is safe for concurrent use.
type Registry struct {
	// base formats and writes every line. It lets everything through; the
	// per-package handlers do the level filtering. Immutable after New.
	base slog.Handler

	// def is the level new packages start at. Its value changes atomically;
	// mu only orders it against the creation of new packages.
	def *slog.LevelVar

	// mu guards loggers (the map, not the LevelVars inside, which are
	// atomic). Held only for map access and level fan-out, never while
	// logging.
	mu      sync.Mutex
	loggers map[string]*entry
}

type entry struct {
	level  *slog.LevelVar
	logger *slog.Logger
}

// minLevel lets the base handler accept any level a logger might use
// (including below debug), since filtering happens before it.
const minLevel = slog.Level(math.MinInt32)

// New builds a registry from cfg, filling in defaults.
func New(cfg Config) (*Registry, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	level := slog.LevelInfo
	if cfg.Level != "" {
		level, _ = ParseLevel(cfg.Level) // validated above
	}
	out := cfg.Output
	if out == nil {
		out = os.Stderr
	}
	opts := &slog.HandlerOptions{Level: minLevel}
	var base slog.Handler
	if strings.EqualFold(cfg.Format, "json") {
		base = slog.NewJSONHandler(out, opts)
	} else {
		base = slog.NewTextHandler(out, opts)
	}
	return newRegistry(base, level), nil
}

func newRegistry(base slog.Handler, level slog.Level) *Registry {
	r := &Registry{base: base, def: new(slog.LevelVar), loggers: make(map[string]*entry)}
	r.def.Set(level)
	return r
}

// Logger returns the logger named pkg; every line it writes carries
// pkg=<name>. The first call for a name creates it at the default level;
// later calls return the same logger, whose level SetLevel changes in place.
//
// The names "" and "default" are reserved (SetLevel gives them meaning) and
// panic, as a programming error. A nil Registry returns a logger that
// discards everything, so a component's Config may leave its registry unset.
func (r *Registry) Logger(pkg string) *slog.Logger {
	if r == nil {
		return slog.New(slog.DiscardHandler)
	}
	if pkg == "" || pkg == DefaultPackage {
		panic(fmt.Sprintf("logging: reserved logger name %q", pkg))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.loggers[pkg]; ok {
		return e.logger
	}
	lv := new(slog.LevelVar)
	lv.Set(r.def.Level())
	h := &handler{level: lv, next: r.base.WithAttrs([]slog.Attr{slog.String(PackageKey, pkg)})}
	e := &entry{level: lv, logger: slog.New(h)}
	r.loggers[pkg] = e
	return e.logger
}

// SetLevel changes the level of pkg and returns the resulting levels of what
// it changed. pkg "" changes every known package and the default; pkg
// "default" changes only the level new packages start at. Errors wrap
// ErrInvalidLevel or ErrUnknownPackage.
func (r *Registry) SetLevel(pkg, level string) ([]PackageLevel, error) {
	l, err := ParseLevel(level)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch pkg {
	case "":
		r.def.Set(l)
		for _, e := range r.loggers {
			e.level.Set(l)
		}
		return r.levelsLocked(), nil
	case DefaultPackage:
		r.def.Set(l)
		return []PackageLevel{{Package: DefaultPackage, Level: levelName(l)}}, nil
	}
	e, ok := r.loggers[pkg]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownPackage, pkg)
	}
	e.level.Set(l)
	return []PackageLevel{{Package: pkg, Level: levelName(l)}}, nil
}

// Levels returns the level of pkg; pkg "" returns the default first, then
// every package sorted by name. The error wraps ErrUnknownPackage.
func (r *Registry) Levels(pkg string) ([]PackageLevel, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch pkg {
	case "":
		return r.levelsLocked(), nil
	case DefaultPackage:
		return []PackageLevel{{Package: DefaultPackage, Level: levelName(r.def.Level())}}, nil
	}
	e, ok := r.loggers[pkg]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownPackage, pkg)
	}
	return []PackageLevel{{Package: pkg, Level: levelName(e.level.Level())}}, nil
}

// Packages returns the names of the loggers created so far, sorted.
func (r *Registry) Packages() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.packagesLocked()
}

func (r *Registry) packagesLocked() []string {
	names := make([]string, 0, len(r.loggers))
	for name := range r.loggers {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

func (r *Registry) levelsLocked() []PackageLevel {
	out := []PackageLevel{{Package: DefaultPackage, Level: levelName(r.def.Level())}}
	for _, name := range r.packagesLocked() {
		out = append(out, PackageLevel{Package: name, Level: levelName(r.loggers[name].level.Level())})
	}
	return out
}
