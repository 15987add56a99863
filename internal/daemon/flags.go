package daemon

import (
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/openvolt/openvolt/logging"
)

// LogFlags are the logging flags every daemon takes.
type LogFlags struct {
	Level  string
	Format string
}

// AddFlags registers --log-level and --log-format (env VOLT_LOG_LEVEL,
// VOLT_LOG_FORMAT).
func (f *LogFlags) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&f.Level, "log-level", Env("VOLT_LOG_LEVEL", "info"), "log level of every package: "+strings.Join(logging.LevelNames(), ", "))
	fs.StringVar(&f.Format, "log-format", Env("VOLT_LOG_FORMAT", "text"), "log format: text or json")
}

// Registry builds the process's log registry from the flags.
func (f *LogFlags) Registry() (*logging.Registry, error) {
	return logging.New(logging.Config{Level: f.Level, Format: f.Format})
}

// Env returns the environment variable name, or def when it is unset.
func Env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

// List splits a comma-separated flag value, dropping empty items.
func List(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
