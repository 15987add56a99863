package nbi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/coreerr"
	"github.com/openvolt/openvolt/internal/core/device"
)

// Limits on the free-text fields the NBI stores. Each is far above what a
// real value needs; they keep one request from bloating etcd and every
// later list.
const (
	MaxExtraArgs   = 4096 // bytes of Device.extra_args
	MaxHostAndPort = 261  // a DNS name (253) and ":65535"
	MaxMACAddress  = 64   // the text before it is parsed
	MaxDeviceID    = 64   // also enforced by the device manager's pattern
	MaxDeviceType  = 64   // likewise
)

// resolveTimeout bounds the name lookup of a device address at create.
const resolveTimeout = 5 * time.Second

// Resolver looks up the addresses of a host name; net.DefaultResolver is
// one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

func invalidArg(format string, args ...any) error {
	return coreerr.New(coreerr.ErrInvalidArgument, fmt.Sprintf(format, args...))
}

// checkSizes refuses a field longer than its limit, naming both.
func checkSizes(d *voltv1.Device) error {
	for _, f := range []struct {
		name  string
		value string
		max   int
	}{
		{"id", d.GetId(), MaxDeviceID},
		{"type", d.GetType(), MaxDeviceType},
		{"host_and_port", d.GetHostAndPort(), MaxHostAndPort},
		{"mac_address", d.GetMacAddress(), MaxMACAddress},
		{"extra_args", d.GetExtraArgs(), MaxExtraArgs},
	} {
		if len(f.value) > f.max {
			return invalidArg("%s is %d bytes, more than the limit of %d", f.name, len(f.value), f.max)
		}
		if !utf8.ValidString(f.value) {
			return invalidArg("%s is not valid UTF-8", f.name)
		}
	}
	return nil
}

// checkNewDevice validates a device to create in the order a person fixes
// them: sizes, then the type (known to an adapter), then the address, which
// it returns in canonical form (names resolved, IP:PORT) so that two
// spellings of one address are one address. Nothing is stored before it
// passes.
func (s *Server) checkNewDevice(ctx context.Context, in *voltv1.Device) (*voltv1.Device, error) {
	if in == nil {
		return nil, invalidArg("device is required")
	}
	if err := checkSizes(in); err != nil {
		return nil, err
	}
	if err := device.ValidType(in.GetType()); err != nil {
		return nil, err
	}
	if err := s.knownType(in.GetType()); err != nil {
		return nil, err
	}
	d := proto.Clone(in).(*voltv1.Device)
	if a := in.GetHostAndPort(); a != "" {
		canon, err := canonicalAddress(ctx, s.cfg.Resolver, a)
		if err != nil {
			return nil, err
		}
		d.HostAndPort = canon
	}
	return d, nil
}

// knownType refuses a device type no adapter has registered (registrations
// persist, so a type stays known while its adapter is down).
func (s *Server) knownType(t string) error {
	if s.cfg.Adapters == nil {
		return nil
	}
	var names []string
	for _, dt := range s.cfg.Adapters.DeviceTypes() {
		if dt.GetId() == t {
			return nil
		}
		names = append(names, dt.GetId())
	}
	known := "none yet: start the adapter first"
	if len(names) > 0 {
		known = strings.Join(names, ", ")
	}
	return invalidArg("unknown device type %q (registered by the adapters: %s)", t, known)
}

// canonicalAddress checks HOST:PORT and returns it as IP:PORT: an IP
// literal as netip writes it, a name resolved (IPv4 first). A host that
// cannot be an address (300.1.1.1) or does not resolve is InvalidArgument.
func canonicalAddress(ctx context.Context, r Resolver, a string) (string, error) {
	host, portText, err := net.SplitHostPort(a)
	if err != nil || host == "" {
		return "", invalidArg("address %q is malformed: want HOST:PORT", a)
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil || port == 0 {
		return "", invalidArg("address %q has a bad port: want 1-65535", a)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.Zone() != "" || ip.IsUnspecified() || ip.IsMulticast() {
			return "", invalidArg("address %q: %s cannot be a device's address", a, host)
		}
		return netip.AddrPortFrom(ip.Unmap(), uint16(port)).String(), nil
	}
	if looksNumeric(host) {
		return "", invalidArg("address %q: %s is not an IP address", a, host)
	}
	if r == nil {
		r = net.DefaultResolver
	}
	ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	ips, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil || len(ips) == 0 {
		why := "no addresses"
		if err != nil {
			why = err.Error()
			var dnsErr *net.DNSError
			if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
				why = "no such host"
			}
		}
		return "", invalidArg("address %q: host %s does not resolve (%s)", a, host, why)
	}
	best := ips[0]
	for _, ip := range ips {
		if ip.Unmap().Is4() {
			best = ip
			break
		}
	}
	return netip.AddrPortFrom(best.Unmap(), uint16(port)).String(), nil
}

// looksNumeric reports whether a host is made of digits and dots only:
// meant as an IPv4 address, never as a name.
func looksNumeric(host string) bool {
	for _, r := range host {
		if (r < '0' || r > '9') && r != '.' {
			return false
		}
	}
	return true
}
