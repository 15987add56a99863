//go:build !linux

package frameio

import (
	"errors"
	"fmt"
)

// RawPort is a Port on a network interface; it needs Linux (AF_PACKET).
type RawPort struct{ *hub }

// Open fails: raw frame I/O needs Linux. Use NewMemPair elsewhere.
func Open(ifname string, opts Options) (*RawPort, error) {
	return nil, fmt.Errorf("frameio: open %s: %w", ifname, errors.ErrUnsupported)
}
