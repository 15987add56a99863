package logging_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/openvolt/openvolt/logging"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     logging.Config
		wantErr error
		wantMsg string // substring of the error
	}{
		{name: "zero value", cfg: logging.Config{}},
		{name: "json debug", cfg: logging.Config{Level: "debug", Format: "json"}},
		{name: "any case", cfg: logging.Config{Level: "WARN", Format: "Text"}},
		{name: "bad level", cfg: logging.Config{Level: "trace"}, wantErr: logging.ErrInvalidLevel,
			wantMsg: `logging: invalid log level "trace" (valid: debug, info, warn, error)`},
		{name: "bad format", cfg: logging.Config{Format: "logfmt"}, wantErr: logging.ErrInvalidFormat,
			wantMsg: `logging: invalid log format "logfmt" (valid: text, json)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("Validate() = %v, want %v", err, tt.wantErr)
			}
			if err != nil && err.Error() != tt.wantMsg {
				t.Errorf("message = %q, want %q", err, tt.wantMsg)
			}
			if _, err := logging.New(tt.cfg); !errors.Is(err, tt.wantErr) {
				t.Errorf("New() = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestParseLevel(t *testing.T) {
	tests := []struct {
		in   string
		want slog.Level
		ok   bool
	}{
		{"debug", slog.LevelDebug, true},
		{"info", slog.LevelInfo, true},
		{"warn", slog.LevelWarn, true},
		{"error", slog.LevelError, true},
		{"ERROR", slog.LevelError, true},
		{" info ", slog.LevelInfo, true},
		{"", 0, false},
		{"warning", 0, false},
		{"debug+2", 0, false}, // slog's own syntax is not part of the API
	}
	for _, tt := range tests {
		got, err := logging.ParseLevel(tt.in)
		if tt.ok != (err == nil) || got != tt.want {
			t.Errorf("ParseLevel(%q) = %v, %v; want %v, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "debug, info, warn, error") {
			t.Errorf("ParseLevel(%q) error %q does not list the valid levels", tt.in, err)
		}
	}
}

func TestSetLevel(t *testing.T) {
	tests := []struct {
		name    string
		pkg     string
		level   string
		want    []logging.PackageLevel // returned by SetLevel
		after   []logging.PackageLevel // Levels("") afterwards
		wantErr error
	}{
		{
			name: "one package", pkg: "a", level: "debug",
			want:  []logging.PackageLevel{{"a", "debug"}},
			after: []logging.PackageLevel{{"default", "info"}, {"a", "debug"}, {"b", "info"}},
		},
		{
			name: "every package and the default", pkg: "", level: "error",
			want:  []logging.PackageLevel{{"default", "error"}, {"a", "error"}, {"b", "error"}},
			after: []logging.PackageLevel{{"default", "error"}, {"a", "error"}, {"b", "error"}},
		},
		{
			name: "only the default", pkg: "default", level: "warn",
			want:  []logging.PackageLevel{{"default", "warn"}},
			after: []logging.PackageLevel{{"default", "warn"}, {"a", "info"}, {"b", "info"}},
		},
		{
			name: "case folded", pkg: "b", level: "DEBUG",
			want:  []logging.PackageLevel{{"b", "debug"}},
			after: []logging.PackageLevel{{"default", "info"}, {"a", "info"}, {"b", "debug"}},
		},
		{
			name: "unknown package", pkg: "nope", level: "debug", wantErr: logging.ErrUnknownPackage,
			after: []logging.PackageLevel{{"default", "info"}, {"a", "info"}, {"b", "info"}},
		},
		{
			name: "invalid level", pkg: "a", level: "loud", wantErr: logging.ErrInvalidLevel,
			after: []logging.PackageLevel{{"default", "info"}, {"a", "info"}, {"b", "info"}},
		},
		{
			name: "invalid level wins over unknown package", pkg: "nope", level: "loud", wantErr: logging.ErrInvalidLevel,
			after: []logging.PackageLevel{{"default", "info"}, {"a", "info"}, {"b", "info"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := logging.Discard()
			reg.Logger("b") // creation order must not matter
			reg.Logger("a")
			got, err := reg.SetLevel(tt.pkg, tt.level)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("SetLevel(%q, %q) error = %v, want %v", tt.pkg, tt.level, err, tt.wantErr)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("SetLevel(%q, %q) = %v, want %v", tt.pkg, tt.level, got, tt.want)
			}
			after, err := reg.Levels("")
			if err != nil || !slices.Equal(after, tt.after) {
				t.Errorf("Levels(\"\") = %v, %v; want %v", after, err, tt.after)
			}
		})
	}
}

func TestErrorMessages(t *testing.T) {
	reg := logging.Discard()
	_, err := reg.SetLevel("x", "trace")
	if want := `invalid log level "trace" (valid: debug, info, warn, error)`; err == nil || err.Error() != want {
		t.Errorf("bad level: %v, want %q", err, want)
	}
	_, err = reg.SetLevel("x", "debug")
	if want := `unknown package "x"`; err == nil || err.Error() != want {
		t.Errorf("unknown package: %v, want %q", err, want)
	}
}

func TestLevelsAndPackages(t *testing.T) {
	reg, _ := logging.Capture("warn")
	if got := reg.Packages(); len(got) != 0 {
		t.Errorf("Packages() of a new registry = %v", got)
	}
	reg.Logger("zeta")
	reg.Logger("alpha")
	reg.Logger("alpha")
	if got, want := reg.Packages(), []string{"alpha", "zeta"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("Packages() = %v, want %v", got, want)
	}
	if got, err := reg.Levels("alpha"); err != nil || !slices.Equal(got, []logging.PackageLevel{{"alpha", "warn"}}) {
		t.Errorf("Levels(alpha) = %v, %v", got, err)
	}
	if got, err := reg.Levels("default"); err != nil || !slices.Equal(got, []logging.PackageLevel{{"default", "warn"}}) {
		t.Errorf("Levels(default) = %v, %v", got, err)
	}
	if _, err := reg.Levels("beta"); !errors.Is(err, logging.ErrUnknownPackage) {
		t.Errorf("Levels(beta) error = %v, want ErrUnknownPackage", err)
	}
}

// New packages start at the default as it is when they are created, and keep
// their own level after that.
func TestDefaultAppliesToNewPackages(t *testing.T) {
	reg := logging.Discard()
	reg.Logger("old")
	if _, err := reg.SetLevel("default", "error"); err != nil {
		t.Fatal(err)
	}
	reg.Logger("new")
	got, _ := reg.Levels("")
	want := []logging.PackageLevel{{"default", "error"}, {"new", "error"}, {"old", "info"}}
	if !slices.Equal(got, want) {
		t.Errorf("Levels() = %v, want %v", got, want)
	}
}

func TestLoggerIsReusedAndFollowsSetLevel(t *testing.T) {
	reg, buf := logging.Capture("info")
	l1 := reg.Logger("core/device")
	derived := l1.With("device", "olt-1").WithGroup("flow")
	if l2 := reg.Logger("core/device"); l2 != l1 {
		t.Fatal("Logger returned a new logger for a known name")
	}
	derived.Debug("hidden")
	if _, err := reg.SetLevel("core/device", "debug"); err != nil {
		t.Fatal(err)
	}
	derived.Debug("shown", "id", 7)
	l1.Debug("also shown")
	lines := buf.Lines()
	if len(lines) != 2 {
		t.Fatalf("got lines %q, want 2", lines)
	}
	for _, want := range []string{"level=DEBUG", "msg=shown", "pkg=core/device", "device=olt-1", "flow.id=7"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("line %q lacks %q", lines[0], want)
		}
	}
	if !strings.Contains(lines[1], "msg=\"also shown\"") || strings.Contains(lines[1], "device=") {
		t.Errorf("With leaked into the parent logger: %q", lines[1])
	}
}

func TestJSONWithAttrsAndGroups(t *testing.T) {
	var buf bytes.Buffer
	reg, err := logging.New(logging.Config{Format: "json", Output: &buf})
	if err != nil {
		t.Fatal(err)
	}
	log := reg.Logger("ofagent").With("switch", 1).WithGroup("conn").With("peer", "c1").WithGroup("")
	log.Info("up", "rtt", 3)
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("line %q: %v", buf.String(), err)
	}
	conn, _ := got["conn"].(map[string]any)
	if got["pkg"] != "ofagent" || got["switch"] != 1.0 || got["msg"] != "up" || conn["peer"] != "c1" || conn["rtt"] != 3.0 {
		t.Errorf("decoded line = %v", got)
	}
}

func TestReservedNamesPanic(t *testing.T) {
	for _, name := range []string{"", "default"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Logger(%q) did not panic", name)
				}
			}()
			logging.Discard().Logger(name)
		}()
	}
}

func TestNilRegistryDiscards(t *testing.T) {
	var reg *logging.Registry
	log := reg.Logger("x")
	if log.Enabled(t.Context(), slog.LevelError) {
		t.Error("nil registry's logger is enabled")
	}
	log.Error("goes nowhere")
}

func TestDiscardWritesNothingButKeepsLevels(t *testing.T) {
	reg := logging.Discard()
	log := reg.Logger("x")
	log.Error("nothing")
	if _, err := reg.SetLevel("x", "debug"); err != nil {
		t.Fatal(err)
	}
	if got, _ := reg.Levels("x"); !slices.Equal(got, []logging.PackageLevel{{"x", "debug"}}) {
		t.Errorf("Levels(x) = %v", got)
	}
}

// Loggers write while levels change and new packages appear; run with -race.
func TestConcurrentUse(t *testing.T) {
	reg, buf := logging.Capture("info")
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			log := reg.Logger([]string{"a", "b"}[i%2])
			for range 200 {
				log.Debug("d")
				log.Info("i")
			}
		})
	}
	wg.Go(func() {
		for j := range 200 {
			_, _ = reg.SetLevel("", []string{"debug", "info"}[j%2])
			_ = reg.Packages()
			_ = buf.Lines()
		}
	})
	wg.Wait()
	if n := strings.Count(buf.String(), "msg=i"); n != 800 {
		t.Errorf("got %d info lines, want 800", n)
	}
}
