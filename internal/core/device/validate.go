package device

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/coreerr"
)

var (
	typeRE = regexp.MustCompile(`^[a-z][a-z0-9_.-]{0,63}$`)
	idRE   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
)

func invalid(format string, args ...any) error {
	return coreerr.New(coreerr.ErrInvalidArgument, fmt.Sprintf(format, args...))
}

// ValidType checks a device type name.
func ValidType(t string) error {
	if t == "" {
		return invalid("device type is required")
	}
	if !typeRE.MatchString(t) {
		return invalid("device type %q is malformed: use lowercase letters, digits, '_', '.' or '-', starting with a letter", t)
	}
	return nil
}

// normalizeAddress checks host:port and returns it unchanged.
func normalizeAddress(a string) (string, error) {
	host, port, err := net.SplitHostPort(a)
	if err != nil || host == "" {
		return "", invalid("address %q is malformed: want HOST:PORT", a)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "", invalid("address %q has a bad port: want 1-65535", a)
	}
	return a, nil
}

// NormalizeMAC checks a MAC address and returns it as lowercase
// colon-separated octets.
func NormalizeMAC(m string) (string, error) {
	hw, err := net.ParseMAC(m)
	if err != nil || len(hw) != 6 {
		return "", invalid("MAC address %q is malformed: want six hex octets like aa:bb:cc:dd:ee:ff", m)
	}
	return strings.ToLower(hw.String()), nil
}

// validateNew checks a device the NBI asks to create and returns the fields
// the core keeps.
func validateNew(d *voltv1.Device) (*voltv1.Device, error) {
	if d == nil {
		return nil, invalid("device is required")
	}
	if err := ValidType(d.GetType()); err != nil {
		return nil, err
	}
	if d.GetId() != "" && !idRE.MatchString(d.GetId()) {
		return nil, invalid("device id %q is malformed: use letters, digits, '_', '.' or '-' (at most 64)", d.GetId())
	}
	out := &voltv1.Device{Id: d.GetId(), Type: d.GetType(), Root: true, ExtraArgs: d.GetExtraArgs(), Vlan: d.GetVlan()}
	if a := d.GetHostAndPort(); a != "" {
		addr, err := normalizeAddress(a)
		if err != nil {
			return nil, err
		}
		out.HostAndPort = addr
	}
	if m := d.GetMacAddress(); m != "" {
		mac, err := NormalizeMAC(m)
		if err != nil {
			return nil, err
		}
		out.MacAddress = mac
	}
	if out.HostAndPort == "" && out.MacAddress == "" {
		return nil, invalid("a device needs an address (HOST:PORT) or a MAC address")
	}
	if d.GetParentId() != "" {
		return nil, invalid("child devices are created by their parent's adapter, not through the NBI")
	}
	return out, nil
}
