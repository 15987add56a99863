package ofp13

// Table features (OFPMP_TABLE_FEATURES). ovs-ofctl asks for them before
// every flow-mod and group-mod it sends over OpenFlow 1.3 and gives up
// without at least one entry, so the agent must answer.

// TableFeaturePropType is ofp_table_feature_prop_type.
type TableFeaturePropType uint16

// Table feature property types (OFPTFPT_*).
const (
	TFPInstructions      TableFeaturePropType = 0
	TFPInstructionsMiss  TableFeaturePropType = 1
	TFPNextTables        TableFeaturePropType = 2
	TFPNextTablesMiss    TableFeaturePropType = 3
	TFPWriteActions      TableFeaturePropType = 4
	TFPWriteActionsMiss  TableFeaturePropType = 5
	TFPApplyActions      TableFeaturePropType = 6
	TFPApplyActionsMiss  TableFeaturePropType = 7
	TFPMatch             TableFeaturePropType = 8
	TFPWildcards         TableFeaturePropType = 10
	TFPWriteSetField     TableFeaturePropType = 12
	TFPWriteSetFieldMiss TableFeaturePropType = 13
	TFPApplySetField     TableFeaturePropType = 14
	TFPApplySetFieldMiss TableFeaturePropType = 15
	TFPExperimenter      TableFeaturePropType = 0xfffe
	TFPExperimenterMiss  TableFeaturePropType = 0xffff
)

const (
	maxTableNameLen       = 32
	tableFeaturesFixedLen = 64
)

// TableFeatureProp is one table feature property. Data is its payload
// after the 4-byte property header, without the padding to 8 bytes; the
// Prop* helpers build and read the usual payloads.
type TableFeatureProp struct {
	Type TableFeaturePropType
	Data []byte
}

// PropInstructions lists instruction types (OFPTFPT_INSTRUCTIONS and
// _MISS): a 4-byte instruction header each.
func PropInstructions(t TableFeaturePropType, its ...InstructionType) TableFeatureProp {
	var d []byte
	for _, it := range its {
		d = be.AppendUint16(be.AppendUint16(d, uint16(it)), 4)
	}
	return TableFeatureProp{Type: t, Data: d}
}

// PropNextTables lists the tables goto-table may name (OFPTFPT_NEXT_TABLES
// and _MISS).
func PropNextTables(t TableFeaturePropType, tables ...uint8) TableFeatureProp {
	return TableFeatureProp{Type: t, Data: cloneBytes(tables)}
}

// PropActions lists action types (OFPTFPT_*_ACTIONS*): a 4-byte action
// header each.
func PropActions(t TableFeaturePropType, ats ...ActionType) TableFeatureProp {
	var d []byte
	for _, at := range ats {
		d = be.AppendUint16(be.AppendUint16(d, uint16(at)), 4)
	}
	return TableFeatureProp{Type: t, Data: d}
}

// PropOXM lists basic-class OXM fields (OFPTFPT_MATCH, _WILDCARDS,
// _*_SETFIELD*): a 4-byte OXM header each, with hasmask set for the fields
// given in masked.
func PropOXM(t TableFeaturePropType, fields []OXMField, masked map[OXMField]bool) TableFeatureProp {
	var d []byte
	for _, f := range fields {
		n, m := f.Size(), uint32(0)
		if masked[f] {
			n, m = 2*n, 1<<8
		}
		d = be.AppendUint32(d, uint32(OXMClassOpenFlowBasic)<<16|uint32(f)<<9|m|uint32(n))
	}
	return TableFeatureProp{Type: t, Data: d}
}

// TableFeatures is one ofp_table_features entry.
type TableFeatures struct {
	TableID       uint8
	Name          string
	MetadataMatch uint64
	MetadataWrite uint64
	Config        uint32
	MaxEntries    uint32
	Properties    []TableFeatureProp
}

func appendTableFeatures(b []byte, f *TableFeatures) ([]byte, error) {
	start := len(b)
	b = append(b, 0, 0, f.TableID)
	b = appendZeros(b, 5)
	b = appendString(b, f.Name, maxTableNameLen)
	b = be.AppendUint64(b, f.MetadataMatch)
	b = be.AppendUint64(b, f.MetadataWrite)
	b = be.AppendUint32(b, f.Config)
	b = be.AppendUint32(b, f.MaxEntries)
	for _, p := range f.Properties {
		ps := len(b)
		b = be.AppendUint16(b, uint16(p.Type))
		b = be.AppendUint16(b, 0)
		b = append(b, p.Data...)
		if err := putLen16(b, ps, ps+2); err != nil {
			return b[:start], err
		}
		b = padTo8(b, ps)
	}
	if err := putLen16(b, start, start); err != nil {
		return b[:start], err
	}
	return b, nil
}

func decodeTableFeaturesList(p []byte) ([]TableFeatures, error) {
	var out []TableFeatures
	err := decodeVarEntries(p, 0, tableFeaturesFixedLen, "table features", func(e []byte) error {
		if len(e)%8 != 0 {
			return Errorf(ErrTypeTableFeaturesFail, TableFeaturesFailedBadLen, "table features entry of %d bytes", len(e))
		}
		f := TableFeatures{
			TableID:       e[2],
			Name:          cString(e[8:40]),
			MetadataMatch: be.Uint64(e[40:]),
			MetadataWrite: be.Uint64(e[48:]),
			Config:        be.Uint32(e[56:]),
			MaxEntries:    be.Uint32(e[60:]),
		}
		for q := e[tableFeaturesFixedLen:]; len(q) > 0; {
			if len(q) < 4 {
				return Errorf(ErrTypeTableFeaturesFail, TableFeaturesFailedBadLen, "%d stray bytes in properties", len(q))
			}
			n := int(be.Uint16(q[2:]))
			if n < 4 || pad8(n) > len(q) {
				return Errorf(ErrTypeTableFeaturesFail, TableFeaturesFailedBadLen, "property length %d with %d bytes left", n, len(q))
			}
			f.Properties = append(f.Properties, TableFeatureProp{Type: TableFeaturePropType(be.Uint16(q)), Data: cloneBytes(q[4:n])})
			q = q[pad8(n):]
		}
		out = append(out, f)
		return nil
	})
	return out, err
}

// TableFeaturesRequest is the OFPMP_TABLE_FEATURES request: empty to ask
// for the current features, or the features to set.
type TableFeaturesRequest struct {
	Header
	Flags  uint16
	Tables []TableFeatures
}

// TableFeaturesReply is the OFPMP_TABLE_FEATURES reply.
type TableFeaturesReply struct {
	Header
	Flags  uint16
	Tables []TableFeatures
}

func (m *TableFeaturesRequest) msgType() MsgType             { return TypeMultipartRequest }
func (m *TableFeaturesRequest) MultipartType() MultipartType { return MultipartTableFeatures }
func (m *TableFeaturesRequest) flagsPtr() *uint16            { return &m.Flags }
func (m *TableFeaturesRequest) appendBody(b []byte) ([]byte, error) {
	b = appendMultipartHeader(b, MultipartTableFeatures, m.Flags)
	for i := range m.Tables {
		var err error
		if b, err = appendTableFeatures(b, &m.Tables[i]); err != nil {
			return b, err
		}
	}
	return b, nil
}

func decodeTableFeaturesRequest(p []byte) (Multipart, error) {
	ts, err := decodeTableFeaturesList(p)
	if err != nil {
		return nil, err
	}
	return &TableFeaturesRequest{Tables: ts}, nil
}

func (m *TableFeaturesReply) msgType() MsgType             { return TypeMultipartReply }
func (m *TableFeaturesReply) MultipartType() MultipartType { return MultipartTableFeatures }
func (m *TableFeaturesReply) flagsPtr() *uint16            { return &m.Flags }
func (m *TableFeaturesReply) numEntries() int              { return len(m.Tables) }
func (m *TableFeaturesReply) appendEntry(b []byte, i int) ([]byte, error) {
	return appendTableFeatures(b, &m.Tables[i])
}
func (m *TableFeaturesReply) appendBody(b []byte) ([]byte, error) {
	return appendEntries(appendMultipartHeader(b, MultipartTableFeatures, m.Flags), m)
}

func decodeTableFeaturesReply(p []byte) (Multipart, error) {
	ts, err := decodeTableFeaturesList(p)
	if err != nil {
		return nil, err
	}
	return &TableFeaturesReply{Tables: ts}, nil
}

// maskableFields are the fields OpenFlow 1.3 lets a match mask.
var maskableFields = map[OXMField]bool{
	OXMMetadata: true, OXMEthDst: true, OXMEthSrc: true, OXMVlanVID: true, OXMIPv4Src: true, OXMIPv4Dst: true,
	OXMARPSPA: true, OXMARPTPA: true, OXMARPSHA: true, OXMARPTHA: true, OXMIPv6Src: true, OXMIPv6Dst: true,
	OXMIPv6FLabel: true, OXMPBBISID: true, OXMTunnelID: true, OXMIPv6Exthdr: true,
}

// FullTableFeatures describes table id of a pipeline of nTables tables that
// takes every instruction, action and match field of OpenFlow 1.3 (masked
// where the spec allows), and may go to any later table. It carries the
// eight properties ovs-ofctl insists on; an agent with nothing more precise
// to say can answer OFPMP_TABLE_FEATURES with one per table.
func FullTableFeatures(id, nTables uint8, name string, maxEntries uint32) TableFeatures {
	instructions := []InstructionType{InstructionTypeGotoTable, InstructionTypeWriteMetadata, InstructionTypeWriteActions,
		InstructionTypeApplyActions, InstructionTypeClearActions, InstructionTypeMeter}
	if id+1 >= nTables {
		instructions = instructions[1:] // last table: no goto
	}
	var next []uint8
	for t := int(id) + 1; t < int(nTables); t++ {
		next = append(next, uint8(t))
	}
	actions := []ActionType{ActionTypeOutput, ActionTypeCopyTTLOut, ActionTypeCopyTTLIn, ActionTypeSetMPLSTTL,
		ActionTypeDecMPLSTTL, ActionTypePushVLAN, ActionTypePopVLAN, ActionTypePushMPLS, ActionTypePopMPLS,
		ActionTypeSetQueue, ActionTypeGroup, ActionTypeSetNWTTL, ActionTypeDecNWTTL, ActionTypeSetField,
		ActionTypePushPBB, ActionTypePopPBB}
	var match, settable []OXMField
	for f := range numOXMFields {
		match = append(match, f)
		switch f {
		case OXMInPort, OXMInPhyPort, OXMMetadata, OXMIPv6Exthdr:
		default:
			settable = append(settable, f)
		}
	}
	return TableFeatures{
		TableID: id, Name: name, MetadataMatch: ^uint64(0), MetadataWrite: ^uint64(0), MaxEntries: maxEntries,
		Properties: []TableFeatureProp{
			PropInstructions(TFPInstructions, instructions...),
			PropNextTables(TFPNextTables, next...),
			PropActions(TFPWriteActions, actions...),
			PropActions(TFPApplyActions, actions...),
			PropOXM(TFPMatch, match, maskableFields),
			PropOXM(TFPWildcards, match, nil),
			PropOXM(TFPWriteSetField, settable, nil),
			PropOXM(TFPApplySetField, settable, nil),
		},
	}
}
