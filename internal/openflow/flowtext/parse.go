package flowtext

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/openvolt/openvolt/adapter/portno"
	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
)

// ParseFlow reads one flow in the text FormatFlow writes, or in the
// ovs-ofctl add-flow syntax it resembles:
//
//	table=0,priority=1000,in_port=65536,dl_type=0x888e,actions=output:CONTROLLER
//
// Fields are separated by commas or blanks; "actions=" comes last and takes
// the rest of the line. Match fields take their OXM names (eth_type,
// vlan_vid, …) or the ovs-ofctl aliases (dl_type, dl_vlan, nw_proto, …), and
// the shorthands ip, ipv6, arp, icmp, tcp, udp (and icmp6, tcp6, udp6) add
// eth_type and ip_proto. Actions and instructions may come in any order;
// they are stored in OpenFlow 1.3 execution order, the plain actions in one
// apply-actions instruction. ovs-ofctl dump-flows statistics (duration,
// n_packets, n_bytes, idle_age, hard_age) are accepted and ignored.
//
// What ParseFlow returns, FormatFlow writes as text that ParseFlow reads
// back to the same flow.
func ParseFlow(s string) (*openflowv1.Flow, error) {
	head, acts, ok := cutActions(s)
	if !ok {
		return nil, errors.New(`no "actions=" (a flow ends with actions=…, or actions=drop)`)
	}
	f := &openflowv1.Flow{}
	var fields []*openflowv1.MatchField
	seen := map[openflowv1.MatchFieldType]bool{}
	add := func(mf *openflowv1.MatchField) error {
		if seen[mf.GetType()] {
			return fmt.Errorf("%s given twice", FieldName(mf.GetType()))
		}
		seen[mf.GetType()] = true
		fields = append(fields, mf)
		return nil
	}
	for _, tok := range splitFields(head) {
		key, val, hasVal := strings.Cut(tok, "=")
		key = strings.ToLower(key)
		if err := parseFlowToken(f, key, val, hasVal, add); err != nil {
			return nil, fmt.Errorf("%s: %w", tok, err)
		}
	}
	if len(fields) > 0 {
		f.Match = &openflowv1.Match{Fields: fields}
	}
	ins, err := ParseInstructions(acts)
	if err != nil {
		return nil, fmt.Errorf("actions=%s: %w", acts, err)
	}
	f.Instructions = ins
	return f, nil
}

// cutActions splits s before its "actions=" field.
func cutActions(s string) (head, actions string, ok bool) {
	for i := 0; ; {
		j := strings.Index(s[i:], "actions=")
		if j < 0 {
			return "", "", false
		}
		j += i
		if j == 0 || strings.ContainsRune(", \t", rune(s[j-1])) {
			return s[:j], strings.TrimSpace(s[j+len("actions="):]), true
		}
		i = j + 1
	}
}

// splitFields splits at commas and blanks, dropping empty pieces.
func splitFields(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
}

// protocols are ovs-ofctl's shorthand match keywords.
var protocols = map[string]struct {
	ethType uint64
	proto   uint64 // 0: no ip_proto
}{
	"ip": {0x0800, 0}, "ipv6": {0x86dd, 0}, "arp": {0x0806, 0},
	"icmp": {0x0800, 1}, "tcp": {0x0800, 6}, "udp": {0x0800, 17},
	"icmp6": {0x86dd, 58}, "tcp6": {0x86dd, 6}, "udp6": {0x86dd, 17},
}

// ignored are ovs-ofctl dump-flows statistics.
var ignored = map[string]bool{"duration": true, "n_packets": true, "n_bytes": true, "idle_age": true, "hard_age": true}

func parseFlowToken(f *openflowv1.Flow, key, val string, hasVal bool, add func(*openflowv1.MatchField) error) error {
	if !hasVal {
		for _, ff := range flowFlags {
			if key == ff.name {
				f.Flags |= ff.bit
				return nil
			}
		}
		if p, ok := protocols[key]; ok {
			if err := add(&openflowv1.MatchField{Type: openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ETH_TYPE, Value: p.ethType}); err != nil {
				return err
			}
			if p.proto != 0 {
				return add(&openflowv1.MatchField{Type: openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IP_PROTO, Value: p.proto})
			}
			return nil
		}
		return errors.New("unknown keyword")
	}
	var err error
	switch {
	case key == "table":
		f.TableId, err = parseUint32(val, 0xff)
	case key == "priority":
		f.Priority, err = parseUint32(val, 0xffff)
	case key == "cookie":
		f.Cookie, err = parseUint(val, 64)
	case key == "idle_timeout":
		f.IdleTimeout, err = parseUint32(val, 0xffff)
	case key == "hard_timeout":
		f.HardTimeout, err = parseUint32(val, 0xffff)
	case key == "flags":
		var fl uint32
		fl, err = parseUint32(val, 0xffff)
		f.Flags |= fl
	case ignored[key]:
	default:
		t, ok := fieldByName(key)
		if !ok {
			return errors.New("unknown field")
		}
		var mf *openflowv1.MatchField
		if key == "dl_vlan" {
			mf, err = parseDLVlan(val)
		} else {
			mf, err = parseField(t, val)
		}
		if err != nil {
			return err
		}
		return add(mf)
	}
	return err
}

// aliases are ovs-ofctl's names for OXM fields.
var aliases = map[string]openflowv1.MatchFieldType{
	"dl_type":     openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ETH_TYPE,
	"dl_src":      openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ETH_SRC,
	"dl_dst":      openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ETH_DST,
	"dl_vlan":     openflowv1.MatchFieldType_MATCH_FIELD_TYPE_VLAN_VID,
	"dl_vlan_pcp": openflowv1.MatchFieldType_MATCH_FIELD_TYPE_VLAN_PCP,
	"nw_proto":    openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IP_PROTO,
	"nw_src":      openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IPV4_SRC,
	"nw_dst":      openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IPV4_DST,
	"tun_id":      openflowv1.MatchFieldType_MATCH_FIELD_TYPE_TUNNEL_ID,
}

// fieldByName finds a field by OXM name or ovs-ofctl alias.
func fieldByName(name string) (openflowv1.MatchFieldType, bool) {
	if t, ok := aliases[name]; ok {
		return t, true
	}
	v := openflowv1.MatchFieldType(0).Descriptor().Values().ByName(
		protoreflect.Name("MATCH_FIELD_TYPE_" + protoName(strings.ToUpper(name))))
	if v == nil || v.Number() == 0 {
		return 0, false
	}
	return openflowv1.MatchFieldType(v.Number()), true
}

// protoName keeps only the characters an enum value name can hold, so that
// odd input cannot trip the descriptor lookup.
func protoName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '_' || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			return r
		}
		return -1
	}, s)
}

// widths are the bit widths of the integer fields; 64 when not listed.
var widths = map[openflowv1.MatchFieldType]int{
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IN_PORT:     32,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IN_PHY_PORT: 32,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ETH_TYPE:    16,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_VLAN_VID:    13,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_VLAN_PCP:    3,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IP_DSCP:     6,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IP_ECN:      2,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IP_PROTO:    8,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_TCP_SRC:     16,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_TCP_DST:     16,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_UDP_SRC:     16,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_UDP_DST:     16,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_SCTP_SRC:    16,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_SCTP_DST:    16,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ICMPV4_TYPE: 8,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ICMPV4_CODE: 8,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ARP_OP:      16,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IPV6_FLABEL: 20,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ICMPV6_TYPE: 8,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ICMPV6_CODE: 8,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_MPLS_LABEL:  20,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_MPLS_TC:     3,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_MPLS_BOS:    1,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_PBB_ISID:    24,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IPV6_EXTHDR: 9,
}

func width(t openflowv1.MatchFieldType) int {
	if w, ok := widths[t]; ok {
		return w
	}
	return 64
}

// ParseMatchField reads the value of field t in the notation
// FormatMatchField writes (the part after "name=").
func ParseMatchField(t openflowv1.MatchFieldType, val string) (*openflowv1.MatchField, error) {
	return parseField(t, val)
}

func parseField(t openflowv1.MatchFieldType, val string) (*openflowv1.MatchField, error) {
	kind, known := kinds[t]
	if !known {
		return nil, fmt.Errorf("unknown field type %d", t)
	}
	mf := &openflowv1.MatchField{Type: t}
	v, m, hasMask := strings.Cut(val, "/")
	switch kind {
	case kindPort:
		if !hasMask {
			p, err := parsePort(v)
			mf.Value = uint64(p)
			return mf, err
		}
	case kindVID:
		switch strings.ToLower(val) {
		case "untagged", "none":
			return mf, nil
		case "tagged", "present":
			mf.Value, mf.HasMask, mf.Mask = OFPVIDPresent, true, OFPVIDPresent
			return mf, nil
		}
		if !hasMask && !isHex(v) {
			vid, err := parseUint(v, 12)
			mf.Value = vid | OFPVIDPresent
			return mf, err
		}
	case kindMAC:
		a, err := net.ParseMAC(v)
		if err != nil || len(a) != 6 {
			return nil, fmt.Errorf("bad MAC address %q", v)
		}
		mf.BytesValue = a
		if hasMask {
			mk, err := net.ParseMAC(m)
			if err != nil || len(mk) != 6 {
				return nil, fmt.Errorf("bad MAC mask %q", m)
			}
			mf.HasMask, mf.BytesMask = true, mk
		}
		return mf, nil
	case kindIPv4:
		a, mk, err := parseAddr(v, m, hasMask, 4)
		if err != nil {
			return nil, err
		}
		mf.Value = uint64(a[0])<<24 | uint64(a[1])<<16 | uint64(a[2])<<8 | uint64(a[3])
		if hasMask {
			mf.HasMask = true
			mf.Mask = uint64(mk[0])<<24 | uint64(mk[1])<<16 | uint64(mk[2])<<8 | uint64(mk[3])
		}
		return mf, nil
	case kindIPv6:
		a, mk, err := parseAddr(v, m, hasMask, 16)
		if err != nil {
			return nil, err
		}
		mf.BytesValue = a
		if hasMask {
			mf.HasMask, mf.BytesMask = true, mk
		}
		return mf, nil
	}
	w := width(t)
	var err error
	if mf.Value, err = parseUint(v, w); err != nil {
		return nil, err
	}
	if hasMask {
		mf.HasMask = true
		if mf.Mask, err = parseUint(m, w); err != nil {
			return nil, err
		}
	}
	return mf, nil
}

// parseDLVlan reads ovs-ofctl's dl_vlan: a VID, or 0xffff for untagged.
func parseDLVlan(val string) (*openflowv1.MatchField, error) {
	mf := &openflowv1.MatchField{Type: openflowv1.MatchFieldType_MATCH_FIELD_TYPE_VLAN_VID}
	v, err := parseUint(val, 16)
	switch {
	case err != nil:
		return nil, err
	case v == 0xffff:
		return mf, nil
	case v > 0xfff:
		return nil, fmt.Errorf("VID %d out of range", v)
	}
	mf.Value = v | OFPVIDPresent
	return mf, nil
}

// parseAddr reads an address of n bytes and its mask: a prefix length or
// an address.
func parseAddr(v, m string, hasMask bool, n int) (addr, mask []byte, err error) {
	a, err := parseIP(v, n)
	if err != nil {
		return nil, nil, err
	}
	if !hasMask {
		return a, nil, nil
	}
	if isDecimal(m) {
		ones, err := strconv.Atoi(m)
		if err != nil || ones > 8*n {
			return nil, nil, fmt.Errorf("bad prefix length %q", m)
		}
		return a, net.CIDRMask(ones, 8*n), nil
	}
	mk, err := parseIP(m, n)
	return a, mk, err
}

func parseIP(s string, n int) ([]byte, error) {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return nil, fmt.Errorf("bad address %q", s)
	}
	if n == 4 {
		if !a.Is4() {
			return nil, fmt.Errorf("%q is not an IPv4 address", s)
		}
		b := a.As4()
		return b[:], nil
	}
	b := a.As16()
	return b[:], nil
}

// portNames maps reserved port names, in any case, to numbers.
var portNames = func() map[string]uint32 {
	m := map[string]uint32{}
	for n, name := range reservedPorts {
		m[strings.ToLower(name)] = n
	}
	return m
}()

// parsePort reads a port number, a reserved port name, or a logical port
// name of the adapter/portno layout ("nni-1", "uni-16"), the names that
// ovs-ofctl shows and accepts.
func parsePort(s string) (uint32, error) {
	if p, ok := portNames[strings.ToLower(s)]; ok {
		return p, nil
	}
	if p, ok := ParsePortName(s); ok {
		return p, nil
	}
	if !isDecimal(s) && !isHex(s) {
		return 0, fmt.Errorf("unknown port %q: want a number, a port name (nni-1, uni-16) or a reserved port (CONTROLLER, LOCAL, IN_PORT, ANY …)", s)
	}
	return parseUint32(s, 0xffffffff)
}

// ParsePortName reads a logical port name of the adapter/portno layout:
// "nni-N" for an NNI number N, "uni-N" for a UNI number N, in any case.
func ParsePortName(s string) (uint32, bool) {
	kind, num, ok := strings.Cut(strings.ToLower(s), "-")
	if !ok || !isDecimal(num) {
		return 0, false
	}
	n, err := strconv.ParseUint(num, 10, 32)
	if err != nil {
		return 0, false
	}
	p := uint32(n)
	switch {
	case kind == "nni" && portno.IsNNI(p), kind == "uni" && portno.IsUNI(p):
		return p, true
	}
	return 0, false
}

func isHex(s string) bool { return len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') }

func isDecimal(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// parseUint reads a decimal or 0x-prefixed hex number of at most bits
// bits. A leading zero does not mean octal.
func parseUint(s string, bits int) (uint64, error) {
	base := 10
	digits := s
	if isHex(s) {
		base, digits = 16, s[2:]
	}
	if digits == "" || digits[0] == '+' || digits[0] == '-' || strings.Contains(digits, "_") {
		return 0, fmt.Errorf("bad number %q", s)
	}
	v, err := strconv.ParseUint(digits, base, bits)
	if err != nil {
		return 0, fmt.Errorf("bad number %q (at most %d bits)", s, bits)
	}
	return v, nil
}

func parseUint32(s string, max uint64) (uint32, error) {
	v, err := parseUint(s, 64)
	if err != nil {
		return 0, err
	}
	if v > max {
		return 0, fmt.Errorf("%s out of range (at most %d)", s, max)
	}
	return uint32(v), nil
}

// splitActions splits an action list at the commas outside parentheses.
func splitActions(s string) ([]string, error) {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
			if depth < 0 {
				return nil, errors.New("unbalanced parentheses")
			}
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	if depth != 0 {
		return nil, errors.New("unbalanced parentheses")
	}
	if last := strings.TrimSpace(s[start:]); last != "" || len(out) > 0 {
		out = append(out, last)
	}
	return out, nil
}

// ParseInstructions reads the text after "actions=": plain actions, which
// become one apply-actions instruction, and the instructions meter:N,
// clear_actions, write_actions(…), write_metadata:V[/M] and goto_table:N,
// in any order; "drop" or nothing for none. The result is in OpenFlow 1.3
// execution order.
func ParseInstructions(s string) ([]*openflowv1.Instruction, error) {
	toks, err := splitActions(s)
	if err != nil {
		return nil, err
	}
	if len(toks) == 1 && strings.EqualFold(toks[0], "drop") {
		return nil, nil
	}
	var (
		meter, clear, write, md, gotoT *openflowv1.Instruction
		apply                          []*openflowv1.Action
	)
	once := func(slot **openflowv1.Instruction, in *openflowv1.Instruction, tok string) error {
		if *slot != nil {
			return fmt.Errorf("%s: given twice", tok)
		}
		*slot = in
		return nil
	}
	for _, tok := range toks {
		name, arg, _ := cutArg(tok)
		var err error
		switch strings.ToLower(name) {
		case "meter":
			var id uint32
			if id, err = parseUint32(arg, 0xffffffff); err == nil {
				err = once(&meter, &openflowv1.Instruction{Instruction: &openflowv1.Instruction_Meter{
					Meter: &openflowv1.InstructionMeter{MeterId: id}}}, tok)
			}
		case "goto_table":
			var id uint32
			if id, err = parseUint32(arg, 0xff); err == nil {
				err = once(&gotoT, &openflowv1.Instruction{Instruction: &openflowv1.Instruction_GotoTable{
					GotoTable: &openflowv1.InstructionGotoTable{TableId: id}}}, tok)
			}
		case "write_metadata":
			var in *openflowv1.Instruction
			if in, err = parseWriteMetadata(arg); err == nil {
				err = once(&md, in, tok)
			}
		case "clear_actions":
			if arg != "" {
				err = errors.New("clear_actions takes no argument")
			} else {
				err = once(&clear, &openflowv1.Instruction{Instruction: &openflowv1.Instruction_ClearActions{
					ClearActions: &openflowv1.InstructionClearActions{}}}, tok)
			}
		default:
			if inner, ok := writeActionsArg(tok); ok {
				var acts []*openflowv1.Action
				if acts, err = ParseActions(inner); err == nil {
					err = once(&write, &openflowv1.Instruction{Instruction: &openflowv1.Instruction_WriteActions{
						WriteActions: &openflowv1.InstructionActions{Actions: acts}}}, tok)
				}
				break
			}
			var a *openflowv1.Action
			if a, err = ParseAction(tok); err == nil {
				apply = append(apply, a)
			}
		}
		if err != nil {
			return nil, err
		}
	}
	var ins []*openflowv1.Instruction
	if meter != nil {
		ins = append(ins, meter)
	}
	if len(apply) > 0 {
		ins = append(ins, &openflowv1.Instruction{Instruction: &openflowv1.Instruction_ApplyActions{
			ApplyActions: &openflowv1.InstructionActions{Actions: apply}}})
	}
	for _, in := range []*openflowv1.Instruction{clear, write, md, gotoT} {
		if in != nil {
			ins = append(ins, in)
		}
	}
	return ins, nil
}

// writeActionsArg returns the inside of write_actions(…).
func writeActionsArg(tok string) (string, bool) {
	const p = "write_actions("
	if len(tok) < len(p)+1 || !strings.EqualFold(tok[:len(p)], p) || tok[len(tok)-1] != ')' {
		return "", false
	}
	return tok[len(p) : len(tok)-1], true
}

func parseWriteMetadata(arg string) (*openflowv1.Instruction, error) {
	v, m, hasMask := strings.Cut(arg, "/")
	md, err := parseUint(v, 64)
	if err != nil {
		return nil, err
	}
	mask := ^uint64(0)
	if hasMask {
		if mask, err = parseUint(m, 64); err != nil {
			return nil, err
		}
		if mask == 0 {
			return nil, errors.New("write_metadata mask is zero: it would write nothing")
		}
	}
	return &openflowv1.Instruction{Instruction: &openflowv1.Instruction_WriteMetadata{
		WriteMetadata: &openflowv1.InstructionWriteMetadata{Metadata: md, MetadataMask: mask}}}, nil
}

// ParseActions reads a comma-separated action list; empty or "drop" for
// none.
func ParseActions(s string) ([]*openflowv1.Action, error) {
	toks, err := splitActions(s)
	if err != nil {
		return nil, err
	}
	if len(toks) == 1 && strings.EqualFold(toks[0], "drop") {
		return nil, nil
	}
	acts := make([]*openflowv1.Action, 0, len(toks))
	for _, tok := range toks {
		a, err := ParseAction(tok)
		if err != nil {
			return nil, err
		}
		acts = append(acts, a)
	}
	return acts, nil
}

// cutArg splits "name:arg".
func cutArg(tok string) (name, arg string, ok bool) { return strings.Cut(tok, ":") }

// ParseAction reads one action in the notation FormatAction writes, or an
// ovs-ofctl alias (strip_vlan, mod_vlan_vid:N, mod_vlan_pcp:N, dec_ttl, a
// bare port number or reserved port name for output).
func ParseAction(tok string) (*openflowv1.Action, error) {
	name, arg, hasArg := cutArg(tok)
	name = strings.ToLower(name)
	noArg := func(a *openflowv1.Action) (*openflowv1.Action, error) {
		if hasArg {
			return nil, fmt.Errorf("%s takes no argument", name)
		}
		return a, nil
	}
	ethertype := func() (uint32, error) { return parseUint32(arg, 0xffff) }
	switch name {
	case "output":
		p, err := parsePort(arg)
		if err != nil {
			return nil, err
		}
		var maxLen uint32
		if p == PortController {
			maxLen = ControllerMaxLen
		}
		return output(p, maxLen), nil
	case "controller":
		maxLen := uint32(ControllerMaxLen)
		if hasArg {
			var err error
			if maxLen, err = parseUint32(strings.TrimPrefix(arg, "max_len="), 0xffff); err != nil {
				return nil, err
			}
		}
		return output(PortController, maxLen), nil
	case "push_vlan":
		e, err := ethertype()
		return &openflowv1.Action{Action: &openflowv1.Action_PushVlan{PushVlan: &openflowv1.ActionPushVlan{Ethertype: e}}}, err
	case "pop_vlan", "strip_vlan":
		return noArg(&openflowv1.Action{Action: &openflowv1.Action_PopVlan{PopVlan: &openflowv1.ActionPopVlan{}}})
	case "set_field":
		return parseSetField(arg)
	case "mod_vlan_vid":
		vid, err := parseUint(arg, 12)
		return setField(openflowv1.MatchFieldType_MATCH_FIELD_TYPE_VLAN_VID, vid|OFPVIDPresent), err
	case "mod_vlan_pcp":
		pcp, err := parseUint(arg, 3)
		return setField(openflowv1.MatchFieldType_MATCH_FIELD_TYPE_VLAN_PCP, pcp), err
	case "group":
		id, err := parseUint32(arg, 0xffffffff)
		return &openflowv1.Action{Action: &openflowv1.Action_Group{Group: &openflowv1.ActionGroup{GroupId: id}}}, err
	case "set_queue":
		id, err := parseUint32(arg, 0xffffffff)
		return &openflowv1.Action{Action: &openflowv1.Action_SetQueue{SetQueue: &openflowv1.ActionSetQueue{QueueId: id}}}, err
	case "push_mpls":
		e, err := ethertype()
		return &openflowv1.Action{Action: &openflowv1.Action_PushMpls{PushMpls: &openflowv1.ActionPushMpls{Ethertype: e}}}, err
	case "pop_mpls":
		e, err := ethertype()
		return &openflowv1.Action{Action: &openflowv1.Action_PopMpls{PopMpls: &openflowv1.ActionPopMpls{Ethertype: e}}}, err
	case "set_mpls_ttl":
		ttl, err := parseUint32(arg, 0xff)
		return &openflowv1.Action{Action: &openflowv1.Action_SetMplsTtl{SetMplsTtl: &openflowv1.ActionSetMplsTtl{MplsTtl: ttl}}}, err
	case "dec_mpls_ttl":
		return noArg(&openflowv1.Action{Action: &openflowv1.Action_DecMplsTtl{DecMplsTtl: &openflowv1.ActionDecMplsTtl{}}})
	case "set_nw_ttl":
		ttl, err := parseUint32(arg, 0xff)
		return &openflowv1.Action{Action: &openflowv1.Action_SetNwTtl{SetNwTtl: &openflowv1.ActionSetNwTtl{NwTtl: ttl}}}, err
	case "dec_nw_ttl", "dec_ttl":
		return noArg(&openflowv1.Action{Action: &openflowv1.Action_DecNwTtl{DecNwTtl: &openflowv1.ActionDecNwTtl{}}})
	case "copy_ttl_out":
		return noArg(&openflowv1.Action{Action: &openflowv1.Action_CopyTtlOut{CopyTtlOut: &openflowv1.ActionCopyTtlOut{}}})
	case "copy_ttl_in":
		return noArg(&openflowv1.Action{Action: &openflowv1.Action_CopyTtlIn{CopyTtlIn: &openflowv1.ActionCopyTtlIn{}}})
	case "push_pbb":
		e, err := ethertype()
		return &openflowv1.Action{Action: &openflowv1.Action_PushPbb{PushPbb: &openflowv1.ActionPushPbb{Ethertype: e}}}, err
	case "pop_pbb":
		return noArg(&openflowv1.Action{Action: &openflowv1.Action_PopPbb{PopPbb: &openflowv1.ActionPopPbb{}}})
	case "experimenter":
		id, data, err := parseExperimenter(arg)
		return &openflowv1.Action{Action: &openflowv1.Action_Experimenter{Experimenter: &openflowv1.ActionExperimenter{
			Experimenter: id, Data: data}}}, err
	}
	if !hasArg {
		if p, err := parsePort(name); err == nil { // a bare port is an output
			return output(p, 0), nil
		}
	}
	return nil, fmt.Errorf("unknown action %q", tok)
}

func output(port, maxLen uint32) *openflowv1.Action {
	return &openflowv1.Action{Action: &openflowv1.Action_Output{Output: &openflowv1.ActionOutput{Port: port, MaxLen: maxLen}}}
}

func setField(t openflowv1.MatchFieldType, v uint64) *openflowv1.Action {
	return &openflowv1.Action{Action: &openflowv1.Action_SetField{SetField: &openflowv1.ActionSetField{
		Field: &openflowv1.MatchField{Type: t, Value: v}}}}
}

// parseSetField reads VALUE->FIELD.
func parseSetField(arg string) (*openflowv1.Action, error) {
	v, name, ok := strings.Cut(arg, "->")
	if !ok {
		return nil, errors.New("set_field needs VALUE->FIELD")
	}
	t, ok := fieldByName(strings.ToLower(name))
	if !ok {
		return nil, fmt.Errorf("unknown field %q", name)
	}
	if strings.Contains(v, "/") {
		return nil, errors.New("set_field takes no mask")
	}
	mf, err := parseField(t, v)
	if err != nil {
		return nil, err
	}
	if mf.GetHasMask() { // "tagged" is a masked match, not a value
		return nil, fmt.Errorf("%q is not a value of %s", v, name)
	}
	return &openflowv1.Action{Action: &openflowv1.Action_SetField{SetField: &openflowv1.ActionSetField{Field: mf}}}, nil
}

// parseExperimenter reads ID[:0xDATA].
func parseExperimenter(arg string) (uint32, []byte, error) {
	idText, dataText, hasData := strings.Cut(arg, ":")
	id, err := parseUint32(idText, 0xffffffff)
	if err != nil || !hasData {
		return id, nil, err
	}
	if !isHex(dataText) {
		return 0, nil, fmt.Errorf("experimenter data %q is not 0x-prefixed hex", dataText)
	}
	data, err := hex.DecodeString(dataText[2:])
	if err != nil {
		return 0, nil, fmt.Errorf("experimenter data %q: %w", dataText, err)
	}
	return id, data, nil
}
