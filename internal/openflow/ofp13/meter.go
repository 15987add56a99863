package ofp13

// Meter table messages: meter-mod, meter config, stats and features.

// Meter ids with a special meaning (ofp_meter).
const (
	MeterMax        uint32 = 0xffff0000
	MeterSlowPath   uint32 = 0xfffffffd
	MeterController uint32 = 0xfffffffe
	MeterAll        uint32 = 0xffffffff
)

// MeterModCommand is ofp_meter_mod_command.
type MeterModCommand uint16

// Meter-mod commands (OFPMC_*).
const (
	MeterAdd    MeterModCommand = 0
	MeterModify MeterModCommand = 1
	MeterDelete MeterModCommand = 2
)

// Meter flags (ofp_meter_flags).
const (
	MeterFlagKBPS  uint16 = 1 << 0
	MeterFlagPKTPS uint16 = 1 << 1
	MeterFlagBurst uint16 = 1 << 2
	MeterFlagStats uint16 = 1 << 3
)

// MeterBandType is ofp_meter_band_type.
type MeterBandType uint16

// Meter band types (OFPMBT_*).
const (
	MeterBandDrop         MeterBandType = 1
	MeterBandDSCPRemark   MeterBandType = 2
	MeterBandExperimenter MeterBandType = 0xffff
)

// MeterBand is one meter band. PrecLevel is used by DSCP remark bands,
// Experimenter and Data by experimenter bands (Data zero-padded to a
// multiple of 8 bytes on the wire).
type MeterBand struct {
	Type         MeterBandType
	Rate         uint32
	BurstSize    uint32
	PrecLevel    uint8
	Experimenter uint32
	Data         []byte
}

const meterBandLen = 16

func appendMeterBands(b []byte, bands []MeterBand) ([]byte, error) {
	for i := range bands {
		mb := &bands[i]
		start := len(b)
		b = be.AppendUint16(b, uint16(mb.Type))
		b = be.AppendUint16(b, meterBandLen)
		b = be.AppendUint32(b, mb.Rate)
		b = be.AppendUint32(b, mb.BurstSize)
		switch mb.Type {
		case MeterBandDrop:
			b = appendZeros(b, 4)
		case MeterBandDSCPRemark:
			b = appendZeros(append(b, mb.PrecLevel), 3)
		case MeterBandExperimenter:
			b = be.AppendUint32(b, mb.Experimenter)
			b = padTo8(append(b, mb.Data...), start)
			if err := putLen16(b, start, start+2); err != nil {
				return b[:start], err
			}
		default:
			return b[:start], Errorf(ErrTypeMeterModFailed, MeterModFailedBadBand, "meter band type %d", mb.Type)
		}
	}
	return b, nil
}

// decodeMeterBands reads bands that fill p exactly.
func decodeMeterBands(p []byte) ([]MeterBand, error) {
	var bands []MeterBand
	for len(p) > 0 {
		if len(p) < meterBandLen {
			return nil, Errorf(ErrTypeBadRequest, BadRequestBadLen, "meter band truncated: %d bytes", len(p))
		}
		t, n := MeterBandType(be.Uint16(p)), int(be.Uint16(p[2:]))
		if n < meterBandLen || n%8 != 0 || n > len(p) || (n != meterBandLen && t != MeterBandExperimenter) {
			return nil, Errorf(ErrTypeBadRequest, BadRequestBadLen, "meter band length %d with %d bytes left", n, len(p))
		}
		mb := MeterBand{Type: t, Rate: be.Uint32(p[4:]), BurstSize: be.Uint32(p[8:])}
		switch t {
		case MeterBandDrop:
		case MeterBandDSCPRemark:
			mb.PrecLevel = p[12]
		case MeterBandExperimenter:
			mb.Experimenter = be.Uint32(p[12:])
			mb.Data = cloneBytes(p[16:n])
		default:
			return nil, Errorf(ErrTypeMeterModFailed, MeterModFailedBadBand, "meter band type %d", t)
		}
		bands = append(bands, mb)
		p = p[n:]
	}
	return bands, nil
}

// MeterMod is OFPT_METER_MOD.
type MeterMod struct {
	Header
	Command MeterModCommand
	Flags   uint16
	MeterID uint32
	Bands   []MeterBand
}

func (m *MeterMod) msgType() MsgType { return TypeMeterMod }

func (m *MeterMod) appendBody(b []byte) ([]byte, error) {
	b = be.AppendUint16(b, uint16(m.Command))
	b = be.AppendUint16(b, m.Flags)
	b = be.AppendUint32(b, m.MeterID)
	return appendMeterBands(b, m.Bands)
}

func decodeMeterMod(body []byte) (Message, error) {
	if len(body) < 8 {
		return nil, Errorf(ErrTypeBadRequest, BadRequestBadLen, "meter-mod body is %d bytes", len(body))
	}
	m := &MeterMod{Command: MeterModCommand(be.Uint16(body)), Flags: be.Uint16(body[2:]), MeterID: be.Uint32(body[4:])}
	if m.Command > MeterDelete {
		return nil, Errorf(ErrTypeMeterModFailed, MeterModFailedBadCommand, "meter-mod command %d", m.Command)
	}
	bands, err := decodeMeterBands(body[8:])
	if err != nil {
		return nil, err
	}
	m.Bands = bands
	return m, nil
}

// MeterConfig is one ofp_meter_config entry.
type MeterConfig struct {
	Flags   uint16
	MeterID uint32
	Bands   []MeterBand
}

// MeterConfigRequest is the OFPMP_METER_CONFIG request; MeterID may be
// MeterAll.
type MeterConfigRequest struct {
	Header
	Flags   uint16
	MeterID uint32
}

// MeterConfigReply is the OFPMP_METER_CONFIG reply.
type MeterConfigReply struct {
	Header
	Flags   uint16
	Configs []MeterConfig
}

func (m *MeterConfigRequest) msgType() MsgType             { return TypeMultipartRequest }
func (m *MeterConfigRequest) MultipartType() MultipartType { return MultipartMeterConfig }
func (m *MeterConfigRequest) flagsPtr() *uint16            { return &m.Flags }
func (m *MeterConfigRequest) appendBody(b []byte) ([]byte, error) {
	b = appendMultipartHeader(b, MultipartMeterConfig, m.Flags)
	return appendZeros(be.AppendUint32(b, m.MeterID), 4), nil
}

func decodeMeterID(p []byte, what string) (uint32, error) {
	if err := wantLen(p, 8, what); err != nil {
		return 0, err
	}
	return be.Uint32(p), nil
}

func decodeMeterConfigRequest(p []byte) (Multipart, error) {
	id, err := decodeMeterID(p, "meter config request")
	if err != nil {
		return nil, err
	}
	return &MeterConfigRequest{MeterID: id}, nil
}

func (m *MeterConfigReply) msgType() MsgType             { return TypeMultipartReply }
func (m *MeterConfigReply) MultipartType() MultipartType { return MultipartMeterConfig }
func (m *MeterConfigReply) flagsPtr() *uint16            { return &m.Flags }
func (m *MeterConfigReply) numEntries() int              { return len(m.Configs) }
func (m *MeterConfigReply) appendBody(b []byte) ([]byte, error) {
	return appendEntries(appendMultipartHeader(b, MultipartMeterConfig, m.Flags), m)
}

func (m *MeterConfigReply) appendEntry(b []byte, i int) ([]byte, error) {
	c := &m.Configs[i]
	start := len(b)
	b = be.AppendUint16(b, 0)
	b = be.AppendUint16(b, c.Flags)
	b = be.AppendUint32(b, c.MeterID)
	b, err := appendMeterBands(b, c.Bands)
	if err != nil {
		return b[:start], err
	}
	if err := putLen16(b, start, start); err != nil {
		return b[:start], err
	}
	return b, nil
}

func decodeMeterConfigReply(p []byte) (Multipart, error) {
	m := &MeterConfigReply{}
	err := decodeVarEntries(p, 0, 8, "meter config", func(e []byte) error {
		bands, err := decodeMeterBands(e[8:])
		if err != nil {
			return err
		}
		m.Configs = append(m.Configs, MeterConfig{Flags: be.Uint16(e[2:]), MeterID: be.Uint32(e[4:]), Bands: bands})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// MeterStatsRequest is the OFPMP_METER request; MeterID may be MeterAll.
type MeterStatsRequest struct {
	Header
	Flags   uint16
	MeterID uint32
}

// MeterBandStats is ofp_meter_band_stats.
type MeterBandStats struct {
	PacketBandCount uint64
	ByteBandCount   uint64
}

// MeterStats is one ofp_meter_stats entry.
type MeterStats struct {
	MeterID       uint32
	FlowCount     uint32
	PacketInCount uint64
	ByteInCount   uint64
	DurationSec   uint32
	DurationNsec  uint32
	BandStats     []MeterBandStats
}

// MeterStatsReply is the OFPMP_METER reply.
type MeterStatsReply struct {
	Header
	Flags uint16
	Stats []MeterStats
}

func (m *MeterStatsRequest) msgType() MsgType             { return TypeMultipartRequest }
func (m *MeterStatsRequest) MultipartType() MultipartType { return MultipartMeter }
func (m *MeterStatsRequest) flagsPtr() *uint16            { return &m.Flags }
func (m *MeterStatsRequest) appendBody(b []byte) ([]byte, error) {
	b = appendMultipartHeader(b, MultipartMeter, m.Flags)
	return appendZeros(be.AppendUint32(b, m.MeterID), 4), nil
}

func decodeMeterStatsRequest(p []byte) (Multipart, error) {
	id, err := decodeMeterID(p, "meter stats request")
	if err != nil {
		return nil, err
	}
	return &MeterStatsRequest{MeterID: id}, nil
}

func (m *MeterStatsReply) msgType() MsgType             { return TypeMultipartReply }
func (m *MeterStatsReply) MultipartType() MultipartType { return MultipartMeter }
func (m *MeterStatsReply) flagsPtr() *uint16            { return &m.Flags }
func (m *MeterStatsReply) numEntries() int              { return len(m.Stats) }
func (m *MeterStatsReply) appendBody(b []byte) ([]byte, error) {
	return appendEntries(appendMultipartHeader(b, MultipartMeter, m.Flags), m)
}

const meterStatsFixedLen = 40

func (m *MeterStatsReply) appendEntry(b []byte, i int) ([]byte, error) {
	s := &m.Stats[i]
	start := len(b)
	b = be.AppendUint32(b, s.MeterID)
	b = appendZeros(b, 8) // len, pad[6]
	b = be.AppendUint32(b, s.FlowCount)
	b = be.AppendUint64(b, s.PacketInCount)
	b = be.AppendUint64(b, s.ByteInCount)
	b = be.AppendUint32(b, s.DurationSec)
	b = be.AppendUint32(b, s.DurationNsec)
	for _, c := range s.BandStats {
		b = be.AppendUint64(b, c.PacketBandCount)
		b = be.AppendUint64(b, c.ByteBandCount)
	}
	if err := putLen16(b, start, start+4); err != nil {
		return b[:start], err
	}
	return b, nil
}

func decodeMeterStatsReply(p []byte) (Multipart, error) {
	m := &MeterStatsReply{}
	err := decodeVarEntries(p, 4, meterStatsFixedLen, "meter stats", func(e []byte) error {
		if (len(e)-meterStatsFixedLen)%16 != 0 {
			return Errorf(ErrTypeBadRequest, BadRequestBadLen, "meter stats entry of %d bytes", len(e))
		}
		s := MeterStats{
			MeterID:       be.Uint32(e),
			FlowCount:     be.Uint32(e[12:]),
			PacketInCount: be.Uint64(e[16:]),
			ByteInCount:   be.Uint64(e[24:]),
			DurationSec:   be.Uint32(e[32:]),
			DurationNsec:  be.Uint32(e[36:]),
		}
		for c := e[meterStatsFixedLen:]; len(c) > 0; c = c[16:] {
			s.BandStats = append(s.BandStats, MeterBandStats{PacketBandCount: be.Uint64(c), ByteBandCount: be.Uint64(c[8:])})
		}
		m.Stats = append(m.Stats, s)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// MeterFeaturesRequest is the OFPMP_METER_FEATURES request.
type MeterFeaturesRequest struct {
	Header
	Flags uint16
}

// MeterFeaturesReply is the OFPMP_METER_FEATURES reply
// (ofp_meter_features). BandTypes is a bitmap of 1<<OFPMBT_*.
type MeterFeaturesReply struct {
	Header
	Flags        uint16
	MaxMeter     uint32
	BandTypes    uint32
	Capabilities uint32
	MaxBands     uint8
	MaxColor     uint8
}

func (m *MeterFeaturesRequest) msgType() MsgType             { return TypeMultipartRequest }
func (m *MeterFeaturesRequest) MultipartType() MultipartType { return MultipartMeterFeatures }
func (m *MeterFeaturesRequest) flagsPtr() *uint16            { return &m.Flags }
func (m *MeterFeaturesRequest) appendBody(b []byte) ([]byte, error) {
	return appendMultipartHeader(b, MultipartMeterFeatures, m.Flags), nil
}

func (m *MeterFeaturesReply) msgType() MsgType             { return TypeMultipartReply }
func (m *MeterFeaturesReply) MultipartType() MultipartType { return MultipartMeterFeatures }
func (m *MeterFeaturesReply) flagsPtr() *uint16            { return &m.Flags }
func (m *MeterFeaturesReply) appendBody(b []byte) ([]byte, error) {
	b = appendMultipartHeader(b, MultipartMeterFeatures, m.Flags)
	b = be.AppendUint32(b, m.MaxMeter)
	b = be.AppendUint32(b, m.BandTypes)
	b = be.AppendUint32(b, m.Capabilities)
	return append(b, m.MaxBands, m.MaxColor, 0, 0), nil
}

func decodeMeterFeaturesReply(p []byte) (Multipart, error) {
	if err := wantLen(p, 16, "meter features reply"); err != nil {
		return nil, err
	}
	return &MeterFeaturesReply{
		MaxMeter:     be.Uint32(p),
		BandTypes:    be.Uint32(p[4:]),
		Capabilities: be.Uint32(p[8:]),
		MaxBands:     p[12],
		MaxColor:     p[13],
	}, nil
}
