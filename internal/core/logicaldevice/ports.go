package logicaldevice

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"net"

	"google.golang.org/protobuf/proto"

	"github.com/openvolt/openvolt/adapter/portno"
	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/coreerr"
)

// Logical port numbers follow adapter/portno, the one layout shared by the
// core, the adapters and the OpenFlow agent: a logical port takes the number
// of the device port behind it, so
//
//	root port (OLT NNI n):            1 + n                    portno.NNI(n)
//	non-root port (ONU UNI):          pon<<12 | onu<<4 | uni   portno.UNI(pon, onu, uni)
//
// and its id is portno.Name(number) ("nni-1", "uni-4112"). PON ports
// never become logical ports. A number outside its range, or one that a
// different device already holds, is rejected rather than renumbered: a
// silent renumbering would leave the controller and the adapter disagreeing.

// OpenFlow 1.3 bitmaps (ofp_port_config, ofp_port_state, ofp_port_features,
// ofp_capabilities) as the openflow.v1 model carries them.
const (
	ofppcPortDown = 1 << 0

	ofppsLinkDown = 1 << 0
	ofppsLive     = 1 << 2

	ofppf1GbFD  = 1 << 5
	ofppfFiber  = 1 << 12
	defFeatures = ofppf1GbFD | ofppfFiber
	defSpeed    = 1_000_000 // kbps

	ofpcFlowStats  = 1 << 0
	ofpcTableStats = 1 << 1
	ofpcPortStats  = 1 << 2
	ofpcGroupStats = 1 << 3

	nBuffers = 256
	nTables  = 2
)

// portKind is the device port type that becomes a logical port on dev: the
// NNIs of a root, the UNIs of a child.
func portKind(dev *voltv1.Device) voltv1.PortType {
	if dev.GetRoot() {
		return voltv1.PortType_PORT_TYPE_ETHERNET_NNI
	}
	return voltv1.PortType_PORT_TYPE_ETHERNET_UNI
}

// checkNumber rejects a port number outside the layout's range for its
// kind, with a message naming the expected layout.
func checkNumber(dev *voltv1.Device, p *voltv1.Port) error {
	no := p.GetPortNo()
	if dev.GetRoot() {
		if !portno.IsNNI(no) {
			return coreerr.New(coreerr.ErrInvalidArgument, fmt.Sprintf(
				"device %q: NNI port number %d (%#x) is outside the NNI range 1..15 (see adapter/portno)",
				dev.GetId(), no, no))
		}
		return nil
	}
	if !portno.IsUNI(no) {
		return coreerr.New(coreerr.ErrInvalidArgument, fmt.Sprintf(
			"device %q: UNI port number %d (%#x) is not pon<<12|onu<<4|uni with pon 0..15, onu 1..239 (see adapter/portno)",
			dev.GetId(), no, no))
	}
	return nil
}

// deviceUp: the device carries traffic as far as the core knows.
func deviceUp(d *voltv1.Device) bool {
	return d.GetAdminState() == voltv1.AdminState_ADMIN_STATE_ENABLED &&
		d.GetOperStatus() == voltv1.OperStatus_OPER_STATUS_ACTIVE &&
		d.GetConnectStatus() != voltv1.ConnectStatus_CONNECT_STATUS_UNREACHABLE
}

// deviceActive: the device is in service, so its ports belong on the
// logical device (even while a link is down).
func deviceActive(d *voltv1.Device) bool {
	return d.GetAdminState() == voltv1.AdminState_ADMIN_STATE_ENABLED &&
		d.GetOperStatus() == voltv1.OperStatus_OPER_STATUS_ACTIVE
}

// portUp: the port itself is not reported down. Adapters that give no oper
// status for a port leave the decision to the device's state.
func portUp(p *voltv1.Port) bool {
	if p.GetAdminState() == voltv1.AdminState_ADMIN_STATE_DISABLED {
		return false
	}
	switch p.GetOperStatus() {
	case voltv1.OperStatus_OPER_STATUS_ACTIVE, voltv1.OperStatus_OPER_STATUS_UNSPECIFIED:
		return true
	}
	return false
}

// stateFor is the OFPPS_* state of a port whose link is up or down and
// whose config is given: an administratively down port is never live.
func stateFor(linkUp bool, config uint32) uint32 {
	if linkUp && config&ofppcPortDown == 0 {
		return ofppsLive
	}
	return ofppsLinkDown
}

// buildPort returns the logical port for device port p of dev. cur is the
// logical port it replaces (nil when new): the config (port-down) belongs
// to the logical side and survives a rebuild, so a port the operator
// disabled stays disabled when its device port changes.
func buildPort(ldID string, dev *voltv1.Device, p *voltv1.Port, cur *voltv1.LogicalPort, linkUp bool) *voltv1.LogicalPort {
	no := p.GetPortNo()
	of := p.GetOfpPort()
	name := p.GetLabel()
	if name == "" {
		name = portno.Name(no)
	}
	var config uint32
	switch {
	case cur != nil:
		config = cur.GetOfpPort().GetConfig()
	case p.GetAdminState() == voltv1.AdminState_ADMIN_STATE_DISABLED:
		config = ofppcPortDown
	}
	return &voltv1.LogicalPort{
		Id: portno.Name(no),
		OfpPort: &openflowv1.Port{
			PortNo:     no,
			HwAddr:     hwAddr(dev, p),
			Name:       name,
			Config:     config,
			State:      stateFor(linkUp, config),
			Curr:       orDefault(of.GetCurr(), defFeatures),
			Advertised: orDefault(of.GetAdvertised(), defFeatures),
			Supported:  orDefault(of.GetSupported(), defFeatures),
			Peer:       of.GetPeer(),
			CurrSpeed:  orDefault(of.GetCurrSpeed(), defSpeed),
			MaxSpeed:   orDefault(of.GetMaxSpeed(), defSpeed),
		},
		DeviceId:        dev.GetId(),
		DevicePortNo:    no,
		RootPort:        dev.GetRoot(),
		LogicalDeviceId: ldID,
		Stats:           cur.GetStats(),
	}
}

// withState returns a copy of lp with the given config and state (lp is a
// published snapshot and must not change).
func withState(lp *voltv1.LogicalPort, config, state uint32) *voltv1.LogicalPort {
	next := proto.Clone(lp).(*voltv1.LogicalPort)
	if next.OfpPort == nil {
		next.OfpPort = &openflowv1.Port{PortNo: lp.GetDevicePortNo()}
	}
	next.OfpPort.Config = config
	next.OfpPort.State = state
	return next
}

func orDefault(v, def uint32) uint32 {
	if v == 0 {
		return def
	}
	return v
}

// hwAddr is the adapter's address for the port when it gave one, else a
// locally administered unicast address hashed from the device MAC (or id)
// and the port number, so it is stable across restarts and distinct per
// port.
func hwAddr(dev *voltv1.Device, p *voltv1.Port) []byte {
	if a := p.GetOfpPort().GetHwAddr(); len(a) == 6 {
		return append([]byte(nil), a...)
	}
	h := fnv.New64a()
	base := dev.GetMacAddress()
	if base == "" {
		base = dev.GetId()
	}
	fmt.Fprintf(h, "%s/%d", base, p.GetPortNo())
	var sum [8]byte
	binary.BigEndian.PutUint64(sum[:], h.Sum64())
	return []byte{0x02, sum[3], sum[4], sum[5], sum[6], sum[7]}
}

// datapathID is the OLT MAC as a 48-bit number; without a usable MAC it is
// a 48-bit FNV hash of the device id, stable across restarts. fromMAC says
// which.
func datapathID(dev *voltv1.Device) (dpid uint64, fromMAC bool) {
	if mac, err := net.ParseMAC(dev.GetMacAddress()); err == nil && len(mac) == 6 {
		var b [8]byte
		copy(b[2:], mac)
		if v := binary.BigEndian.Uint64(b[:]); v != 0 {
			return v, true
		}
	}
	h := fnv.New64a()
	h.Write([]byte(dev.GetId()))
	return h.Sum64() & (1<<48 - 1), false
}

// newLogicalDevice describes the switch a root device appears as.
func newLogicalDevice(id string, root *voltv1.Device, dpid uint64) *voltv1.LogicalDevice {
	return &voltv1.LogicalDevice{
		Id:         id,
		DatapathId: dpid,
		Desc: &openflowv1.Desc{
			MfrDesc:   root.GetVendor(),
			HwDesc:    root.GetModel(),
			SwDesc:    root.GetFirmwareVersion(),
			SerialNum: root.GetSerialNumber(),
			DpDesc:    "OpenVOLT logical device for " + root.GetId(),
		},
		SwitchFeatures: &openflowv1.SwitchFeatures{
			DatapathId:   dpid,
			NBuffers:     nBuffers,
			NTables:      nTables,
			Capabilities: ofpcFlowStats | ofpcTableStats | ofpcPortStats | ofpcGroupStats,
		},
		RootDeviceId: root.GetId(),
	}
}
