package ofp13

// Group table messages: group-mod, group desc, stats and features.

// Group ids with a special meaning (ofp_group).
const (
	GroupMax uint32 = 0xffffff00
	GroupAll uint32 = 0xfffffffc
	GroupAny uint32 = 0xffffffff
)

// GroupType is ofp_group_type.
type GroupType uint8

// Group types (OFPGT_*).
const (
	GroupTypeAll          GroupType = 0
	GroupTypeSelect       GroupType = 1
	GroupTypeIndirect     GroupType = 2
	GroupTypeFastFailover GroupType = 3
)

// GroupModCommand is ofp_group_mod_command.
type GroupModCommand uint16

// Group-mod commands (OFPGC_*).
const (
	GroupAdd    GroupModCommand = 0
	GroupModify GroupModCommand = 1
	GroupDelete GroupModCommand = 2
)

// Group capabilities (ofp_group_capabilities).
const (
	GroupCapSelectWeight   uint32 = 1 << 0
	GroupCapSelectLiveness uint32 = 1 << 1
	GroupCapChaining       uint32 = 1 << 2
	GroupCapChainingChecks uint32 = 1 << 3
)

// Bucket is ofp_bucket.
type Bucket struct {
	Weight     uint16
	WatchPort  uint32
	WatchGroup uint32
	Actions    []Action
}

const bucketFixedLen = 16

func appendBuckets(b []byte, bs []Bucket) ([]byte, error) {
	for i := range bs {
		bk := &bs[i]
		start := len(b)
		b = be.AppendUint16(b, 0)
		b = be.AppendUint16(b, bk.Weight)
		b = be.AppendUint32(b, bk.WatchPort)
		b = be.AppendUint32(b, bk.WatchGroup)
		b = appendZeros(b, 4)
		var err error
		if b, err = appendActions(b, bk.Actions); err != nil {
			return b[:start], err
		}
		if err := putLen16(b, start, start); err != nil {
			return b[:start], err
		}
	}
	return b, nil
}

// decodeBuckets reads buckets that fill p exactly. A bucket whose length
// does not fit is OFPGMFC_BAD_BUCKET.
func decodeBuckets(p []byte) ([]Bucket, error) {
	var bs []Bucket
	for len(p) > 0 {
		if len(p) < bucketFixedLen {
			return nil, Errorf(ErrTypeGroupModFailed, GroupModFailedBadBucket, "bucket truncated: %d bytes", len(p))
		}
		n := int(be.Uint16(p))
		if n < bucketFixedLen || n%8 != 0 || n > len(p) {
			return nil, Errorf(ErrTypeGroupModFailed, GroupModFailedBadBucket, "bucket length %d with %d bytes left", n, len(p))
		}
		as, err := decodeActions(p[bucketFixedLen:n])
		if err != nil {
			return nil, err
		}
		bs = append(bs, Bucket{
			Weight:     be.Uint16(p[2:]),
			WatchPort:  be.Uint32(p[4:]),
			WatchGroup: be.Uint32(p[8:]),
			Actions:    as,
		})
		p = p[n:]
	}
	return bs, nil
}

// GroupMod is OFPT_GROUP_MOD.
type GroupMod struct {
	Header
	Command GroupModCommand
	Type    GroupType
	GroupID uint32
	Buckets []Bucket
}

func (m *GroupMod) msgType() MsgType { return TypeGroupMod }

func (m *GroupMod) appendBody(b []byte) ([]byte, error) {
	b = be.AppendUint16(b, uint16(m.Command))
	b = append(b, byte(m.Type), 0)
	b = be.AppendUint32(b, m.GroupID)
	return appendBuckets(b, m.Buckets)
}

func decodeGroupMod(body []byte) (Message, error) {
	if len(body) < 8 {
		return nil, Errorf(ErrTypeBadRequest, BadRequestBadLen, "group-mod body is %d bytes", len(body))
	}
	m := &GroupMod{Command: GroupModCommand(be.Uint16(body)), Type: GroupType(body[2]), GroupID: be.Uint32(body[4:])}
	if m.Command > GroupDelete {
		return nil, Errorf(ErrTypeGroupModFailed, GroupModFailedBadCommand, "group-mod command %d", m.Command)
	}
	if m.Type > GroupTypeFastFailover {
		return nil, Errorf(ErrTypeGroupModFailed, GroupModFailedBadType, "group type %d", m.Type)
	}
	bs, err := decodeBuckets(body[8:])
	if err != nil {
		return nil, err
	}
	m.Buckets = bs
	return m, nil
}

// GroupDesc is one ofp_group_desc entry.
type GroupDesc struct {
	Type    GroupType
	GroupID uint32
	Buckets []Bucket
}

// GroupDescRequest is the OFPMP_GROUP_DESC request.
type GroupDescRequest struct {
	Header
	Flags uint16
}

// GroupDescReply is the OFPMP_GROUP_DESC reply.
type GroupDescReply struct {
	Header
	Flags  uint16
	Groups []GroupDesc
}

func (m *GroupDescRequest) msgType() MsgType             { return TypeMultipartRequest }
func (m *GroupDescRequest) MultipartType() MultipartType { return MultipartGroupDesc }
func (m *GroupDescRequest) flagsPtr() *uint16            { return &m.Flags }
func (m *GroupDescRequest) appendBody(b []byte) ([]byte, error) {
	return appendMultipartHeader(b, MultipartGroupDesc, m.Flags), nil
}

func (m *GroupDescReply) msgType() MsgType             { return TypeMultipartReply }
func (m *GroupDescReply) MultipartType() MultipartType { return MultipartGroupDesc }
func (m *GroupDescReply) flagsPtr() *uint16            { return &m.Flags }
func (m *GroupDescReply) numEntries() int              { return len(m.Groups) }
func (m *GroupDescReply) appendBody(b []byte) ([]byte, error) {
	return appendEntries(appendMultipartHeader(b, MultipartGroupDesc, m.Flags), m)
}

func (m *GroupDescReply) appendEntry(b []byte, i int) ([]byte, error) {
	g := &m.Groups[i]
	start := len(b)
	b = append(b, 0, 0, byte(g.Type), 0)
	b = be.AppendUint32(b, g.GroupID)
	b, err := appendBuckets(b, g.Buckets)
	if err != nil {
		return b[:start], err
	}
	if err := putLen16(b, start, start); err != nil {
		return b[:start], err
	}
	return b, nil
}

func decodeGroupDescReply(p []byte) (Multipart, error) {
	m := &GroupDescReply{}
	err := decodeVarEntries(p, 0, 8, "group desc", func(e []byte) error {
		bs, err := decodeBuckets(e[8:])
		if err != nil {
			return err
		}
		m.Groups = append(m.Groups, GroupDesc{Type: GroupType(e[2]), GroupID: be.Uint32(e[4:]), Buckets: bs})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// GroupStatsRequest is the OFPMP_GROUP request; GroupID may be GroupAll.
type GroupStatsRequest struct {
	Header
	Flags   uint16
	GroupID uint32
}

// BucketCounter is ofp_bucket_counter.
type BucketCounter struct {
	PacketCount uint64
	ByteCount   uint64
}

// GroupStats is one ofp_group_stats entry.
type GroupStats struct {
	GroupID      uint32
	RefCount     uint32
	PacketCount  uint64
	ByteCount    uint64
	DurationSec  uint32
	DurationNsec uint32
	BucketStats  []BucketCounter
}

// GroupStatsReply is the OFPMP_GROUP reply.
type GroupStatsReply struct {
	Header
	Flags uint16
	Stats []GroupStats
}

func (m *GroupStatsRequest) msgType() MsgType             { return TypeMultipartRequest }
func (m *GroupStatsRequest) MultipartType() MultipartType { return MultipartGroup }
func (m *GroupStatsRequest) flagsPtr() *uint16            { return &m.Flags }
func (m *GroupStatsRequest) appendBody(b []byte) ([]byte, error) {
	b = appendMultipartHeader(b, MultipartGroup, m.Flags)
	return appendZeros(be.AppendUint32(b, m.GroupID), 4), nil
}

func decodeGroupStatsRequest(p []byte) (Multipart, error) {
	if err := wantLen(p, 8, "group stats request"); err != nil {
		return nil, err
	}
	return &GroupStatsRequest{GroupID: be.Uint32(p)}, nil
}

func (m *GroupStatsReply) msgType() MsgType             { return TypeMultipartReply }
func (m *GroupStatsReply) MultipartType() MultipartType { return MultipartGroup }
func (m *GroupStatsReply) flagsPtr() *uint16            { return &m.Flags }
func (m *GroupStatsReply) numEntries() int              { return len(m.Stats) }
func (m *GroupStatsReply) appendBody(b []byte) ([]byte, error) {
	return appendEntries(appendMultipartHeader(b, MultipartGroup, m.Flags), m)
}

const groupStatsFixedLen = 40

func (m *GroupStatsReply) appendEntry(b []byte, i int) ([]byte, error) {
	s := &m.Stats[i]
	start := len(b)
	b = appendZeros(b, 4)
	b = be.AppendUint32(b, s.GroupID)
	b = be.AppendUint32(b, s.RefCount)
	b = appendZeros(b, 4)
	b = be.AppendUint64(b, s.PacketCount)
	b = be.AppendUint64(b, s.ByteCount)
	b = be.AppendUint32(b, s.DurationSec)
	b = be.AppendUint32(b, s.DurationNsec)
	for _, c := range s.BucketStats {
		b = be.AppendUint64(b, c.PacketCount)
		b = be.AppendUint64(b, c.ByteCount)
	}
	if err := putLen16(b, start, start); err != nil {
		return b[:start], err
	}
	return b, nil
}

func decodeGroupStatsReply(p []byte) (Multipart, error) {
	m := &GroupStatsReply{}
	err := decodeVarEntries(p, 0, groupStatsFixedLen, "group stats", func(e []byte) error {
		if (len(e)-groupStatsFixedLen)%16 != 0 {
			return Errorf(ErrTypeBadRequest, BadRequestBadLen, "group stats entry of %d bytes", len(e))
		}
		s := GroupStats{
			GroupID:      be.Uint32(e[4:]),
			RefCount:     be.Uint32(e[8:]),
			PacketCount:  be.Uint64(e[16:]),
			ByteCount:    be.Uint64(e[24:]),
			DurationSec:  be.Uint32(e[32:]),
			DurationNsec: be.Uint32(e[36:]),
		}
		for c := e[groupStatsFixedLen:]; len(c) > 0; c = c[16:] {
			s.BucketStats = append(s.BucketStats, BucketCounter{PacketCount: be.Uint64(c), ByteCount: be.Uint64(c[8:])})
		}
		m.Stats = append(m.Stats, s)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// GroupFeaturesRequest is the OFPMP_GROUP_FEATURES request.
type GroupFeaturesRequest struct {
	Header
	Flags uint16
}

// GroupFeaturesReply is the OFPMP_GROUP_FEATURES reply
// (ofp_group_features). MaxGroups and Actions are indexed by group type;
// Actions are bitmaps of 1<<OFPAT_*.
type GroupFeaturesReply struct {
	Header
	Flags        uint16
	Types        uint32
	Capabilities uint32
	MaxGroups    [4]uint32
	Actions      [4]uint32
}

func (m *GroupFeaturesRequest) msgType() MsgType             { return TypeMultipartRequest }
func (m *GroupFeaturesRequest) MultipartType() MultipartType { return MultipartGroupFeatures }
func (m *GroupFeaturesRequest) flagsPtr() *uint16            { return &m.Flags }
func (m *GroupFeaturesRequest) appendBody(b []byte) ([]byte, error) {
	return appendMultipartHeader(b, MultipartGroupFeatures, m.Flags), nil
}

func (m *GroupFeaturesReply) msgType() MsgType             { return TypeMultipartReply }
func (m *GroupFeaturesReply) MultipartType() MultipartType { return MultipartGroupFeatures }
func (m *GroupFeaturesReply) flagsPtr() *uint16            { return &m.Flags }
func (m *GroupFeaturesReply) appendBody(b []byte) ([]byte, error) {
	b = appendMultipartHeader(b, MultipartGroupFeatures, m.Flags)
	b = be.AppendUint32(b, m.Types)
	b = be.AppendUint32(b, m.Capabilities)
	for _, v := range m.MaxGroups {
		b = be.AppendUint32(b, v)
	}
	for _, v := range m.Actions {
		b = be.AppendUint32(b, v)
	}
	return b, nil
}

func decodeGroupFeaturesReply(p []byte) (Multipart, error) {
	if err := wantLen(p, 40, "group features reply"); err != nil {
		return nil, err
	}
	m := &GroupFeaturesReply{Types: be.Uint32(p), Capabilities: be.Uint32(p[4:])}
	for i := range 4 {
		m.MaxGroups[i] = be.Uint32(p[8+4*i:])
		m.Actions[i] = be.Uint32(p[24+4*i:])
	}
	return m, nil
}
