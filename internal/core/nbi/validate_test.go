package nbi

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/coreerr"
)

// hosts is a resolver over a fixed table: a name it lacks is not found, as
// DNS says it.
type hosts map[string][]netip.Addr

func (h hosts) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if ips, ok := h[host]; ok {
		return ips, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func TestCanonicalAddress(t *testing.T) {
	r := hosts{
		"olt1.example":   {netip.MustParseAddr("::1"), netip.MustParseAddr("10.0.0.7")},
		"v6only.example": {netip.MustParseAddr("2001:db8::1")},
	}
	for _, tt := range []struct{ in, want, err string }{
		{"127.0.0.1:50060", "127.0.0.1:50060", ""},
		{"[::ffff:127.0.0.1]:50060", "127.0.0.1:50060", ""},
		{"[::1]:50060", "[::1]:50060", ""},
		{"olt1.example:50060", "10.0.0.7:50060", ""}, // IPv4 first
		{"v6only.example:1", "[2001:db8::1]:1", ""},
		{"300.1.1.1:50060", "", `address "300.1.1.1:50060": 300.1.1.1 is not an IP address`},
		{"1.2.3:50060", "", "is not an IP address"},
		{"nosuch.example:50060", "", `address "nosuch.example:50060": host nosuch.example does not resolve (no such host)`},
		{"0.0.0.0:50060", "", "cannot be a device's address"},
		{"127.0.0.1", "", "malformed: want HOST:PORT"},
		{"127.0.0.1:0", "", "bad port"},
		{"127.0.0.1:65536", "", "bad port"},
		{"127.0.0.1:http", "", "bad port"},
	} {
		got, err := canonicalAddress(context.Background(), r, tt.in)
		switch {
		case tt.err == "" && (err != nil || got != tt.want):
			t.Errorf("canonicalAddress(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("canonicalAddress(%q) = %q, %v; want an error with %q", tt.in, got, err, tt.err)
		case tt.err != "" && status.Code(coreerr.ToStatus(err)) != codes.InvalidArgument:
			t.Errorf("canonicalAddress(%q): %v is not InvalidArgument", tt.in, err)
		}
	}
	// The system resolver knows localhost.
	if got, err := canonicalAddress(context.Background(), nil, "localhost:50060"); err != nil || (got != "127.0.0.1:50060" && got != "[::1]:50060") {
		t.Errorf("localhost:50060 = %q, %v", got, err)
	}
}

// registry is the adapter registry as the NBI reads it.
type registry []string

func (r registry) Adapters() []*voltv1.Adapter { return nil }
func (r registry) DeviceTypes() []*voltv1.DeviceType {
	var out []*voltv1.DeviceType
	for _, t := range r {
		out = append(out, &voltv1.DeviceType{Id: t})
	}
	return out
}

// The type is checked before the address, and sizes before both; each
// error names what to fix.
func TestCheckNewDevice(t *testing.T) {
	s := New(Config{Adapters: registry{"ponsim_olt", "ponsim_onu"}, Resolver: hosts{}})
	for _, tt := range []struct {
		name string
		dev  *voltv1.Device
		err  string
	}{
		{"unknown type, bad address", &voltv1.Device{Type: "nosuchtype", HostAndPort: "300.1.1.1:50060"},
			`unknown device type "nosuchtype" (registered by the adapters: ponsim_olt, ponsim_onu)`},
		{"no type", &voltv1.Device{HostAndPort: "1.2.3.4:5"}, "device type is required"},
		{"bad address", &voltv1.Device{Type: "ponsim_olt", HostAndPort: "300.1.1.1:50060"}, "300.1.1.1 is not an IP address"},
		{"big extra_args", &voltv1.Device{Type: "ponsim_olt", HostAndPort: "1.2.3.4:5", ExtraArgs: strings.Repeat("x", 1<<20)},
			"extra_args is 1048576 bytes, more than the limit of 4096"},
		{"big address", &voltv1.Device{Type: "ponsim_olt", HostAndPort: strings.Repeat("a", 300) + ":1"},
			"host_and_port is 302 bytes, more than the limit of 261"},
		{"big id", &voltv1.Device{Id: strings.Repeat("i", 65), Type: "ponsim_olt", HostAndPort: "1.2.3.4:5"},
			"id is 65 bytes, more than the limit of 64"},
		{"not UTF-8", &voltv1.Device{Type: "ponsim_olt", HostAndPort: "1.2.3.4:5", ExtraArgs: "\xff"}, "extra_args is not valid UTF-8"},
	} {
		_, err := s.checkNewDevice(context.Background(), tt.dev)
		st := status.Convert(coreerr.ToStatus(err))
		if err == nil || st.Code() != codes.InvalidArgument || !strings.Contains(st.Message(), tt.err) {
			t.Errorf("%s: %v, want InvalidArgument with %q", tt.name, err, tt.err)
		}
	}
	d, err := s.checkNewDevice(context.Background(), &voltv1.Device{Type: "ponsim_olt", HostAndPort: "[::ffff:10.0.0.1]:50060", ExtraArgs: "x"})
	if err != nil || d.GetHostAndPort() != "10.0.0.1:50060" || d.GetExtraArgs() != "x" {
		t.Errorf("valid device: %v, %v", d, err)
	}
}
