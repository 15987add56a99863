package ponsim

import (
	"fmt"
	"log/slog"
	"time"
	"unicode"

	"github.com/openvolt/openvolt/internal/daemon"
)

// Limits of the simulated OLT. MaxPONPorts is what the port layout
// (adapter/portno) numbers, PON 0..15; it allows ONU ids 1..239, and
// MaxONUsPerPON keeps one simulator to a size that a laptop forwards
// comfortably (16 × 128 = 2,048 ONUs).
const (
	MaxPONPorts   = 16
	MaxONUsPerPON = 128
	maxNameLen    = 64
)

// Defaults a zero Config field takes.
const (
	DefaultName        = "ponsim"
	DefaultRebootDelay = 200 * time.Millisecond
)

// Config describes one simulated OLT.
type Config struct {
	// Name identifies the OLT. Serial numbers and MAC addresses of the OLT
	// and its ONUs derive from it, so a restart with the same name gives the
	// same identities.
	Name string
	// PONPorts is the number of OLT PON ports, 1..MaxPONPorts.
	PONPorts int
	// ONUsPerPON is the number of ONUs on each PON, 1..MaxONUsPerPON.
	ONUsPerPON int
	// RebootDelay is how long a rebooted OLT or ONU stays away
	// (0: DefaultRebootDelay).
	RebootDelay time.Duration
	// NoCounting turns off the dataplane's counters (flows, meters,
	// ports), which then stay zero: it is for measuring what counting
	// costs (BenchmarkDataplane).
	NoCounting bool
	// Logger receives the simulator's lines (nil: discard).
	Logger *slog.Logger
	// Telemetry, when set, is the process's readiness that Serve reports
	// to, as "ponsim/<Name>" (the process serves it over HTTP).
	Telemetry *daemon.Telemetry
}

// Validate reports the first invalid field as one line, naming the flag of
// `volt ponsim` that sets it.
func (c Config) Validate() error {
	if c.Name == "" {
		return fmt.Errorf("ponsim: --name must not be empty")
	}
	if len(c.Name) > maxNameLen {
		return fmt.Errorf("ponsim: --name is %d bytes long (at most %d)", len(c.Name), maxNameLen)
	}
	for _, r := range c.Name {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return fmt.Errorf("ponsim: --name %q must not contain spaces or control characters", c.Name)
		}
	}
	if c.PONPorts < 1 || c.PONPorts > MaxPONPorts {
		return fmt.Errorf("ponsim: --pon-ports %d out of range 1..%d (the port layout numbers PONs 0..%d)", c.PONPorts, MaxPONPorts, MaxPONPorts-1)
	}
	if c.ONUsPerPON < 1 || c.ONUsPerPON > MaxONUsPerPON {
		return fmt.Errorf("ponsim: --onus-per-pon %d out of range 1..%d", c.ONUsPerPON, MaxONUsPerPON)
	}
	if c.RebootDelay < 0 {
		return fmt.Errorf("ponsim: --reboot-delay %s must not be negative", c.RebootDelay)
	}
	return nil
}

// withDefaults returns c with its optional fields filled in.
func (c Config) withDefaults() Config {
	if c.RebootDelay == 0 {
		c.RebootDelay = DefaultRebootDelay
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}
