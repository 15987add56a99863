package cli_test

import (
	"testing"

	"github.com/openvolt/openvolt/internal/cli"
)

// Flags that cannot go together are refused before the server is asked.
func TestTelemetryFlagsRefused(t *testing.T) {
	for _, c := range []struct {
		name string
		run  func() error
		want string
	}{
		{"pm enable and disable", func() error {
			_, _, err := run(t, cli.NewDeviceCommand(), "pm", "olt1", "--enable", "--disable", "--server", "127.0.0.1:1")
			return err
		}, "--enable and --disable: pick one"},
		{"kpis yaml", func() error {
			_, _, err := run(t, cli.NewKpisCommand(), "-o", "yaml", "--brokers", "127.0.0.1:1")
			return err
		}, "-o yaml: volt kpis prints table or json"},
	} {
		if err := c.run(); err == nil || err.Error() != c.want {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}
