package ofp13

import "strconv"

// Session and switch-configuration messages: hello, echo, experimenter,
// features, get/set config, barrier, role, async config, table-mod.

// Hello element types (ofp_hello_elem_type).
const helloElemVersionBitmap = 1

// Hello is OFPT_HELLO. VersionBitmap is the OFPHET_VERSIONBITMAP element
// (bit n of word n/32 set for each supported version n), nil when the hello
// has none. Unknown and malformed elements are ignored when decoding, as
// version negotiation must survive them.
type Hello struct {
	Header
	VersionBitmap []uint32
}

// NewHello returns the hello this codec sends: version 0x04, advertising
// OpenFlow 1.3 only.
func NewHello(xid uint32) *Hello {
	return &Hello{Header: Header{Version: Version, Xid: xid}, VersionBitmap: []uint32{1 << Version}}
}

// Supports reports whether the peer that sent m accepts version v: by its
// version bitmap if it sent one, else when v is at most its header version
// (the pre-1.3.1 rule: both sides use the lower of the two versions).
func (m *Hello) Supports(v uint8) bool {
	if m.VersionBitmap != nil {
		w := int(v) / 32
		return w < len(m.VersionBitmap) && m.VersionBitmap[w]&(1<<(v%32)) != 0
	}
	return v <= m.Version
}

func (m *Hello) msgType() MsgType { return TypeHello }

func (m *Hello) appendBody(b []byte) ([]byte, error) {
	if m.VersionBitmap == nil {
		return b, nil
	}
	start := len(b)
	b = be.AppendUint16(b, helloElemVersionBitmap)
	b = be.AppendUint16(b, uint16(4+4*len(m.VersionBitmap)))
	for _, w := range m.VersionBitmap {
		b = be.AppendUint32(b, w)
	}
	if len(b)-start > 0xffff {
		return b[:start], ErrTooLong
	}
	return padTo8(b, start), nil
}

func decodeHello(body []byte) (Message, error) {
	m := &Hello{}
	for p := body; len(p) >= 4; {
		t, n := be.Uint16(p), int(be.Uint16(p[2:]))
		if n < 4 || n > len(p) {
			break
		}
		if t == helloElemVersionBitmap && m.VersionBitmap == nil && n%4 == 0 {
			m.VersionBitmap = make([]uint32, 0, (n-4)/4) // n <= len(body): bounded by the input
			for q := p[4:n]; len(q) >= 4; q = q[4:] {
				m.VersionBitmap = append(m.VersionBitmap, be.Uint32(q))
			}
		}
		p = p[min(pad8(n), len(p)):]
	}
	return m, nil
}

// EchoRequest is OFPT_ECHO_REQUEST; Data is echoed back in the reply.
type EchoRequest struct {
	Header
	Data []byte
}

// EchoReply is OFPT_ECHO_REPLY.
type EchoReply struct {
	Header
	Data []byte
}

func (m *EchoRequest) msgType() MsgType                    { return TypeEchoRequest }
func (m *EchoRequest) appendBody(b []byte) ([]byte, error) { return append(b, m.Data...), nil }
func (m *EchoReply) msgType() MsgType                      { return TypeEchoReply }
func (m *EchoReply) appendBody(b []byte) ([]byte, error)   { return append(b, m.Data...), nil }

// Experimenter is OFPT_EXPERIMENTER. The agent implements no experimenter
// extension; decoding it lets the agent answer OFPBRC_BAD_EXPERIMENTER.
type Experimenter struct {
	Header
	Experimenter uint32
	ExpType      uint32
	Data         []byte
}

func (m *Experimenter) msgType() MsgType { return TypeExperimenter }

func (m *Experimenter) appendBody(b []byte) ([]byte, error) {
	b = be.AppendUint32(b, m.Experimenter)
	b = be.AppendUint32(b, m.ExpType)
	return append(b, m.Data...), nil
}

func decodeExperimenter(body []byte) (Message, error) {
	if len(body) < 8 {
		return nil, Errorf(ErrTypeBadRequest, BadRequestBadLen, "experimenter body is %d bytes", len(body))
	}
	return &Experimenter{Experimenter: be.Uint32(body), ExpType: be.Uint32(body[4:]), Data: cloneBytes(body[8:])}, nil
}

// FeaturesRequest is OFPT_FEATURES_REQUEST.
type FeaturesRequest struct{ Header }

func (m *FeaturesRequest) msgType() MsgType                    { return TypeFeaturesRequest }
func (m *FeaturesRequest) appendBody(b []byte) ([]byte, error) { return b, nil }

// Switch capabilities (ofp_capabilities), FeaturesReply.Capabilities.
const (
	CapFlowStats   uint32 = 1 << 0
	CapTableStats  uint32 = 1 << 1
	CapPortStats   uint32 = 1 << 2
	CapGroupStats  uint32 = 1 << 3
	CapIPReasm     uint32 = 1 << 5
	CapQueueStats  uint32 = 1 << 6
	CapPortBlocked uint32 = 1 << 8
)

// FeaturesReply is OFPT_FEATURES_REPLY (ofp_switch_features).
type FeaturesReply struct {
	Header
	DatapathID   uint64
	NBuffers     uint32
	NTables      uint8
	AuxiliaryID  uint8
	Capabilities uint32
	Reserved     uint32
}

func (m *FeaturesReply) msgType() MsgType { return TypeFeaturesReply }

func (m *FeaturesReply) appendBody(b []byte) ([]byte, error) {
	b = be.AppendUint64(b, m.DatapathID)
	b = be.AppendUint32(b, m.NBuffers)
	b = append(b, m.NTables, m.AuxiliaryID, 0, 0)
	b = be.AppendUint32(b, m.Capabilities)
	return be.AppendUint32(b, m.Reserved), nil
}

func decodeFeaturesReply(body []byte) (Message, error) {
	if err := wantLen(body, 24, "features reply"); err != nil {
		return nil, err
	}
	return &FeaturesReply{
		DatapathID:   be.Uint64(body),
		NBuffers:     be.Uint32(body[8:]),
		NTables:      body[12],
		AuxiliaryID:  body[13],
		Capabilities: be.Uint32(body[16:]),
		Reserved:     be.Uint32(body[20:]),
	}, nil
}

// Switch configuration flags (ofp_config_flags).
const (
	ConfigFragNormal uint16 = 0
	ConfigFragDrop   uint16 = 1
	ConfigFragReasm  uint16 = 2
	ConfigFragMask   uint16 = 3
)

// DefaultMissSendLen is OFP_DEFAULT_MISS_SEND_LEN.
const DefaultMissSendLen uint16 = 128

// GetConfigRequest is OFPT_GET_CONFIG_REQUEST.
type GetConfigRequest struct{ Header }

func (m *GetConfigRequest) msgType() MsgType                    { return TypeGetConfigRequest }
func (m *GetConfigRequest) appendBody(b []byte) ([]byte, error) { return b, nil }

// GetConfigReply is OFPT_GET_CONFIG_REPLY (ofp_switch_config).
type GetConfigReply struct {
	Header
	Flags       uint16
	MissSendLen uint16
}

// SetConfig is OFPT_SET_CONFIG (ofp_switch_config).
type SetConfig struct {
	Header
	Flags       uint16
	MissSendLen uint16
}

func (m *GetConfigReply) msgType() MsgType { return TypeGetConfigReply }
func (m *GetConfigReply) appendBody(b []byte) ([]byte, error) {
	return appendSwitchConfig(b, m.Flags, m.MissSendLen), nil
}
func (m *SetConfig) msgType() MsgType { return TypeSetConfig }
func (m *SetConfig) appendBody(b []byte) ([]byte, error) {
	return appendSwitchConfig(b, m.Flags, m.MissSendLen), nil
}

func appendSwitchConfig(b []byte, flags, missSendLen uint16) []byte {
	return be.AppendUint16(be.AppendUint16(b, flags), missSendLen)
}

func decodeSwitchConfig(body []byte) (flags, missSendLen uint16, err error) {
	if len(body) != 4 {
		return 0, 0, Errorf(ErrTypeSwitchConfigFailed, SwitchConfigFailedBadLen, "switch config body is %d bytes", len(body))
	}
	return be.Uint16(body), be.Uint16(body[2:]), nil
}

func decodeGetConfigReply(body []byte) (Message, error) {
	f, l, err := decodeSwitchConfig(body)
	if err != nil {
		return nil, err
	}
	return &GetConfigReply{Flags: f, MissSendLen: l}, nil
}

func decodeSetConfig(body []byte) (Message, error) {
	f, l, err := decodeSwitchConfig(body)
	if err != nil {
		return nil, err
	}
	return &SetConfig{Flags: f, MissSendLen: l}, nil
}

// BarrierRequest is OFPT_BARRIER_REQUEST.
type BarrierRequest struct{ Header }

// BarrierReply is OFPT_BARRIER_REPLY.
type BarrierReply struct{ Header }

func (m *BarrierRequest) msgType() MsgType                    { return TypeBarrierRequest }
func (m *BarrierRequest) appendBody(b []byte) ([]byte, error) { return b, nil }
func (m *BarrierReply) msgType() MsgType                      { return TypeBarrierReply }
func (m *BarrierReply) appendBody(b []byte) ([]byte, error)   { return b, nil }

// ControllerRole is ofp_controller_role.
type ControllerRole uint32

// Controller roles (OFPCR_ROLE_*).
const (
	RoleNoChange ControllerRole = 0
	RoleEqual    ControllerRole = 1
	RoleMaster   ControllerRole = 2
	RoleSlave    ControllerRole = 3
)

func (r ControllerRole) String() string {
	switch r {
	case RoleNoChange:
		return "nochange"
	case RoleEqual:
		return "equal"
	case RoleMaster:
		return "master"
	case RoleSlave:
		return "slave"
	}
	return "role(" + strconv.FormatUint(uint64(r), 10) + ")"
}

// RoleRequest is OFPT_ROLE_REQUEST (ofp_role_request).
type RoleRequest struct {
	Header
	Role         ControllerRole
	GenerationID uint64
}

// RoleReply is OFPT_ROLE_REPLY (ofp_role_request).
type RoleReply struct {
	Header
	Role         ControllerRole
	GenerationID uint64
}

func (m *RoleRequest) msgType() MsgType { return TypeRoleRequest }
func (m *RoleRequest) appendBody(b []byte) ([]byte, error) {
	return appendRole(b, m.Role, m.GenerationID), nil
}
func (m *RoleReply) msgType() MsgType { return TypeRoleReply }
func (m *RoleReply) appendBody(b []byte) ([]byte, error) {
	return appendRole(b, m.Role, m.GenerationID), nil
}

func appendRole(b []byte, r ControllerRole, gen uint64) []byte {
	b = appendZeros(be.AppendUint32(b, uint32(r)), 4)
	return be.AppendUint64(b, gen)
}

// decodeRole reads ofp_role_request; a role beyond OFPCR_ROLE_SLAVE is
// OFPRRFC_BAD_ROLE.
func decodeRole(body []byte) (ControllerRole, uint64, error) {
	if err := wantLen(body, 16, "role"); err != nil {
		return 0, 0, err
	}
	r := ControllerRole(be.Uint32(body))
	if r > RoleSlave {
		return 0, 0, Errorf(ErrTypeRoleRequestFailed, RoleRequestFailedBadRole, "role %d", uint32(r))
	}
	return r, be.Uint64(body[8:]), nil
}

func decodeRoleRequest(body []byte) (Message, error) {
	r, g, err := decodeRole(body)
	if err != nil {
		return nil, err
	}
	return &RoleRequest{Role: r, GenerationID: g}, nil
}

func decodeRoleReply(body []byte) (Message, error) {
	r, g, err := decodeRole(body)
	if err != nil {
		return nil, err
	}
	return &RoleReply{Role: r, GenerationID: g}, nil
}

// AsyncConfig is ofp_async_config: per message kind, element 0 is the mask
// for the master/equal role and element 1 for the slave role; bit n
// enables reason n.
type AsyncConfig struct {
	PacketInMask    [2]uint32
	PortStatusMask  [2]uint32
	FlowRemovedMask [2]uint32
}

// GetAsyncRequest is OFPT_GET_ASYNC_REQUEST.
type GetAsyncRequest struct{ Header }

// GetAsyncReply is OFPT_GET_ASYNC_REPLY.
type GetAsyncReply struct {
	Header
	AsyncConfig
}

// SetAsync is OFPT_SET_ASYNC.
type SetAsync struct {
	Header
	AsyncConfig
}

func (m *GetAsyncRequest) msgType() MsgType                    { return TypeGetAsyncRequest }
func (m *GetAsyncRequest) appendBody(b []byte) ([]byte, error) { return b, nil }
func (m *GetAsyncReply) msgType() MsgType                      { return TypeGetAsyncReply }
func (m *GetAsyncReply) appendBody(b []byte) ([]byte, error)   { return m.AsyncConfig.append(b), nil }
func (m *SetAsync) msgType() MsgType                           { return TypeSetAsync }
func (m *SetAsync) appendBody(b []byte) ([]byte, error)        { return m.AsyncConfig.append(b), nil }

func (a *AsyncConfig) append(b []byte) []byte {
	for _, m := range [][2]uint32{a.PacketInMask, a.PortStatusMask, a.FlowRemovedMask} {
		b = be.AppendUint32(be.AppendUint32(b, m[0]), m[1])
	}
	return b
}

func decodeAsyncConfig(body []byte) (AsyncConfig, error) {
	if err := wantLen(body, 24, "async config"); err != nil {
		return AsyncConfig{}, err
	}
	w := func(i int) uint32 { return be.Uint32(body[4*i:]) }
	return AsyncConfig{
		PacketInMask:    [2]uint32{w(0), w(1)},
		PortStatusMask:  [2]uint32{w(2), w(3)},
		FlowRemovedMask: [2]uint32{w(4), w(5)},
	}, nil
}

// TableMod is OFPT_TABLE_MOD. Its config bits are deprecated in 1.3.
type TableMod struct {
	Header
	TableID uint8
	Config  uint32
}

func (m *TableMod) msgType() MsgType { return TypeTableMod }

func (m *TableMod) appendBody(b []byte) ([]byte, error) {
	b = appendZeros(append(b, m.TableID), 3)
	return be.AppendUint32(b, m.Config), nil
}

func decodeTableMod(body []byte) (Message, error) {
	if err := wantLen(body, 8, "table mod"); err != nil {
		return nil, err
	}
	return &TableMod{TableID: body[0], Config: be.Uint32(body[4:])}, nil
}
