package ofp13

import "net"

// Port messages: port status, port-mod, port description and statistics.

// Port config bits (ofp_port_config).
const (
	PortConfigPortDown   uint32 = 1 << 0
	PortConfigNoRecv     uint32 = 1 << 2
	PortConfigNoFwd      uint32 = 1 << 5
	PortConfigNoPacketIn uint32 = 1 << 6
)

// Port state bits (ofp_port_state).
const (
	PortStateLinkDown uint32 = 1 << 0
	PortStateBlocked  uint32 = 1 << 1
	PortStateLive     uint32 = 1 << 2
)

// Port feature bits (ofp_port_features).
const (
	PortFeature10MbHD    uint32 = 1 << 0
	PortFeature10MbFD    uint32 = 1 << 1
	PortFeature100MbHD   uint32 = 1 << 2
	PortFeature100MbFD   uint32 = 1 << 3
	PortFeature1GbHD     uint32 = 1 << 4
	PortFeature1GbFD     uint32 = 1 << 5
	PortFeature10GbFD    uint32 = 1 << 6
	PortFeature40GbFD    uint32 = 1 << 7
	PortFeature100GbFD   uint32 = 1 << 8
	PortFeature1TbFD     uint32 = 1 << 9
	PortFeatureOther     uint32 = 1 << 10
	PortFeatureCopper    uint32 = 1 << 11
	PortFeatureFiber     uint32 = 1 << 12
	PortFeatureAutoneg   uint32 = 1 << 13
	PortFeaturePause     uint32 = 1 << 14
	PortFeaturePauseAsym uint32 = 1 << 15
)

// MaxPortNameLen is OFP_MAX_PORT_NAME_LEN, NUL included.
const MaxPortNameLen = 16

// Port is ofp_port. Names longer than 15 bytes are truncated when
// encoding.
type Port struct {
	PortNo     uint32
	HWAddr     [6]byte
	Name       string
	Config     uint32
	State      uint32
	Curr       uint32
	Advertised uint32
	Supported  uint32
	Peer       uint32
	CurrSpeed  uint32 // kbps
	MaxSpeed   uint32 // kbps
}

const portLen = 64

func (p *Port) append(b []byte) []byte {
	b = appendZeros(be.AppendUint32(b, p.PortNo), 4)
	b = appendZeros(append(b, p.HWAddr[:]...), 2)
	b = appendString(b, p.Name, MaxPortNameLen)
	for _, v := range [...]uint32{p.Config, p.State, p.Curr, p.Advertised, p.Supported, p.Peer, p.CurrSpeed, p.MaxSpeed} {
		b = be.AppendUint32(b, v)
	}
	return b
}

// decodePort reads a 64-byte ofp_port (the caller checks the size).
func decodePort(p []byte) Port {
	w := func(off int) uint32 { return be.Uint32(p[off:]) }
	port := Port{
		PortNo: w(0), Name: cString(p[16:32]),
		Config: w(32), State: w(36), Curr: w(40), Advertised: w(44),
		Supported: w(48), Peer: w(52), CurrSpeed: w(56), MaxSpeed: w(60),
	}
	copy(port.HWAddr[:], p[8:14])
	return port
}

// HardwareAddr returns the port's MAC address.
func (p *Port) HardwareAddr() net.HardwareAddr { return net.HardwareAddr(p.HWAddr[:]) }

// PortReason is ofp_port_reason.
type PortReason uint8

// Port status reasons (OFPPR_*).
const (
	PortReasonAdd    PortReason = 0
	PortReasonDelete PortReason = 1
	PortReasonModify PortReason = 2
)

// PortStatus is OFPT_PORT_STATUS.
type PortStatus struct {
	Header
	Reason PortReason
	Desc   Port
}

func (m *PortStatus) msgType() MsgType { return TypePortStatus }

func (m *PortStatus) appendBody(b []byte) ([]byte, error) {
	b = appendZeros(append(b, byte(m.Reason)), 7)
	return m.Desc.append(b), nil
}

func decodePortStatus(body []byte) (Message, error) {
	if err := wantLen(body, 8+portLen, "port status"); err != nil {
		return nil, err
	}
	return &PortStatus{Reason: PortReason(body[0]), Desc: decodePort(body[8:])}, nil
}

// PortMod is OFPT_PORT_MOD: set the Config bits selected by Mask.
type PortMod struct {
	Header
	PortNo    uint32
	HWAddr    [6]byte
	Config    uint32
	Mask      uint32
	Advertise uint32
}

func (m *PortMod) msgType() MsgType { return TypePortMod }

func (m *PortMod) appendBody(b []byte) ([]byte, error) {
	b = appendZeros(be.AppendUint32(b, m.PortNo), 4)
	b = appendZeros(append(b, m.HWAddr[:]...), 2)
	b = be.AppendUint32(b, m.Config)
	b = be.AppendUint32(b, m.Mask)
	b = be.AppendUint32(b, m.Advertise)
	return appendZeros(b, 4), nil
}

func decodePortMod(body []byte) (Message, error) {
	if err := wantLen(body, 32, "port-mod"); err != nil {
		return nil, err
	}
	m := &PortMod{PortNo: be.Uint32(body), Config: be.Uint32(body[16:]), Mask: be.Uint32(body[20:]), Advertise: be.Uint32(body[24:])}
	copy(m.HWAddr[:], body[8:14])
	return m, nil
}

// PortDescRequest is the OFPMP_PORT_DESC request.
type PortDescRequest struct {
	Header
	Flags uint16
}

// PortDescReply is the OFPMP_PORT_DESC reply.
type PortDescReply struct {
	Header
	Flags uint16
	Ports []Port
}

func (m *PortDescRequest) msgType() MsgType             { return TypeMultipartRequest }
func (m *PortDescRequest) MultipartType() MultipartType { return MultipartPortDesc }
func (m *PortDescRequest) flagsPtr() *uint16            { return &m.Flags }
func (m *PortDescRequest) appendBody(b []byte) ([]byte, error) {
	return appendMultipartHeader(b, MultipartPortDesc, m.Flags), nil
}

func (m *PortDescReply) msgType() MsgType             { return TypeMultipartReply }
func (m *PortDescReply) MultipartType() MultipartType { return MultipartPortDesc }
func (m *PortDescReply) flagsPtr() *uint16            { return &m.Flags }
func (m *PortDescReply) numEntries() int              { return len(m.Ports) }
func (m *PortDescReply) appendEntry(b []byte, i int) ([]byte, error) {
	return m.Ports[i].append(b), nil
}
func (m *PortDescReply) appendBody(b []byte) ([]byte, error) {
	return appendEntries(appendMultipartHeader(b, MultipartPortDesc, m.Flags), m)
}

func decodePortDescReply(p []byte) (Multipart, error) {
	m := &PortDescReply{}
	err := decodeFixedEntries(p, portLen, "port desc", func(e []byte) { m.Ports = append(m.Ports, decodePort(e)) })
	if err != nil {
		return nil, err
	}
	return m, nil
}

// PortStatsRequest is the OFPMP_PORT_STATS request; PortNo may be PortAny.
type PortStatsRequest struct {
	Header
	Flags  uint16
	PortNo uint32
}

// PortStats is ofp_port_stats.
type PortStats struct {
	PortNo       uint32
	RxPackets    uint64
	TxPackets    uint64
	RxBytes      uint64
	TxBytes      uint64
	RxDropped    uint64
	TxDropped    uint64
	RxErrors     uint64
	TxErrors     uint64
	RxFrameErr   uint64
	RxOverErr    uint64
	RxCRCErr     uint64
	Collisions   uint64
	DurationSec  uint32
	DurationNsec uint32
}

// PortStatsReply is the OFPMP_PORT_STATS reply.
type PortStatsReply struct {
	Header
	Flags uint16
	Stats []PortStats
}

func (m *PortStatsRequest) msgType() MsgType             { return TypeMultipartRequest }
func (m *PortStatsRequest) MultipartType() MultipartType { return MultipartPortStats }
func (m *PortStatsRequest) flagsPtr() *uint16            { return &m.Flags }
func (m *PortStatsRequest) appendBody(b []byte) ([]byte, error) {
	b = appendMultipartHeader(b, MultipartPortStats, m.Flags)
	return appendZeros(be.AppendUint32(b, m.PortNo), 4), nil
}

func decodePortStatsRequest(p []byte) (Multipart, error) {
	if err := wantLen(p, 8, "port stats request"); err != nil {
		return nil, err
	}
	return &PortStatsRequest{PortNo: be.Uint32(p)}, nil
}

const portStatsLen = 112

func (m *PortStatsReply) msgType() MsgType             { return TypeMultipartReply }
func (m *PortStatsReply) MultipartType() MultipartType { return MultipartPortStats }
func (m *PortStatsReply) flagsPtr() *uint16            { return &m.Flags }
func (m *PortStatsReply) numEntries() int              { return len(m.Stats) }
func (m *PortStatsReply) appendBody(b []byte) ([]byte, error) {
	return appendEntries(appendMultipartHeader(b, MultipartPortStats, m.Flags), m)
}

func (m *PortStatsReply) appendEntry(b []byte, i int) ([]byte, error) {
	s := &m.Stats[i]
	b = appendZeros(be.AppendUint32(b, s.PortNo), 4)
	for _, v := range [...]uint64{s.RxPackets, s.TxPackets, s.RxBytes, s.TxBytes, s.RxDropped, s.TxDropped,
		s.RxErrors, s.TxErrors, s.RxFrameErr, s.RxOverErr, s.RxCRCErr, s.Collisions} {
		b = be.AppendUint64(b, v)
	}
	b = be.AppendUint32(b, s.DurationSec)
	return be.AppendUint32(b, s.DurationNsec), nil
}

func decodePortStatsReply(p []byte) (Multipart, error) {
	m := &PortStatsReply{}
	err := decodeFixedEntries(p, portStatsLen, "port stats", func(e []byte) {
		d := func(i int) uint64 { return be.Uint64(e[8+8*i:]) }
		m.Stats = append(m.Stats, PortStats{
			PortNo:    be.Uint32(e),
			RxPackets: d(0), TxPackets: d(1), RxBytes: d(2), TxBytes: d(3),
			RxDropped: d(4), TxDropped: d(5), RxErrors: d(6), TxErrors: d(7),
			RxFrameErr: d(8), RxOverErr: d(9), RxCRCErr: d(10), Collisions: d(11),
			DurationSec:  be.Uint32(e[104:]),
			DurationNsec: be.Uint32(e[108:]),
		})
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}
