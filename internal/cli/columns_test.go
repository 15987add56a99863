package cli

import (
	"testing"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	of "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
)

func TestEnumName(t *testing.T) {
	for _, tt := range []struct {
		e    protoreflect.Enum
		want string
	}{
		{voltv1.AdminState_ADMIN_STATE_ENABLED, "ENABLED"},
		{voltv1.AdminState_ADMIN_STATE_UNSPECIFIED, "UNKNOWN"},
		{voltv1.OperStatus_OPER_STATUS_ACTIVE, "ACTIVE"},
		{voltv1.ConnectStatus_CONNECT_STATUS_UNREACHABLE, "UNREACHABLE"},
		{voltv1.PortType_PORT_TYPE_PON_OLT, "PON_OLT"},
		{of.GroupType_GROUP_TYPE_FAST_FAILOVER, "FAST_FAILOVER"},
		{voltv1.AdminState(42), "42"}, // from a newer core
	} {
		if got := enumName(tt.e); got != tt.want {
			t.Errorf("enumName(%v) = %q, want %q", tt.e, got, tt.want)
		}
	}
}

func TestSince(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		ago  time.Duration
		want string
	}{
		{0, "0s ago"},
		{3*time.Second + 900*time.Millisecond, "3s ago"},
		{59 * time.Second, "59s ago"},
		{5*time.Minute + 59*time.Second, "5m ago"},
		{23*time.Hour + 59*time.Minute, "23h ago"},
		{24 * time.Hour, "2026-02-28T12:00:00Z"},
		{-2 * time.Second, "0s ago"}, // clocks a little apart
		{-time.Hour, "2026-03-01T13:00:00Z"},
	} {
		if got := since(timestamppb.New(now.Add(-tt.ago)), now); got != tt.want {
			t.Errorf("since(now - %s) = %q, want %q", tt.ago, got, tt.want)
		}
	}
	if got := since(nil, now); got != "" {
		t.Errorf("since(nil) = %q", got)
	}
}

func TestPortState(t *testing.T) {
	for _, tt := range []struct {
		config, state uint32
		want          string
	}{
		{0, ofppsLive, "LIVE"},
		{0, ofppsLinkDown, "DOWN"},
		{ofppcPortDown, ofppsLive, "ADMIN-DOWN"},
		{ofppcPortDown, ofppsLinkDown, "ADMIN-DOWN"},
		{0, 0, "UP"},
	} {
		if got := portState(&of.Port{Config: tt.config, State: tt.state}); got != tt.want {
			t.Errorf("config %#x state %#x: %s, want %s", tt.config, tt.state, got, tt.want)
		}
	}
}

func TestEthernetText(t *testing.T) {
	hdr := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 0x01}
	for _, tt := range []struct {
		rest []byte
		want string
	}{
		{[]byte{0x08, 0x06}, "eth_src=02:00:00:00:00:01, eth_dst=ff:ff:ff:ff:ff:ff, eth_type=0x0806"},
		{[]byte{0x88, 0xa8, 0x0f, 0xa0, 0x81, 0x00, 0x20, 0x64, 0x08, 0x00},
			"eth_src=02:00:00:00:00:01, eth_dst=ff:ff:ff:ff:ff:ff, vlan_vid=4000, vlan_vid=100, eth_type=0x0800"},
		{[]byte{0x81, 0x00}, "eth_src=02:00:00:00:00:01, eth_dst=ff:ff:ff:ff:ff:ff, eth_type=0x8100"}, // cut short
	} {
		if got := ethernetText(append(hdr[:12:12], tt.rest...)); got != tt.want {
			t.Errorf("got %s, want %s", got, tt.want)
		}
	}
	if got := ethernetText(hdr); got != "" {
		t.Errorf("a frame cut before its ethertype: %q", got)
	}
}
