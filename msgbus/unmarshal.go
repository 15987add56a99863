package msgbus

import (
	"errors"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	msgbusv1 "github.com/openvolt/openvolt/api/msgbus/v1"
)

// Field numbers of msgbus.v1.Envelope (api/msgbus/v1/envelope.proto).
const (
	fieldID           = 1
	fieldKind         = 2
	fieldMethod       = 3
	fieldFrom         = 4
	fieldReplyTo      = 5
	fieldKey          = 6
	fieldDeadline     = 7
	fieldTimestamp    = 8
	fieldBody         = 9
	fieldStatus       = 10
	fieldBodyEncoding = 11
)

// envView is an envelope parsed where it lies: its byte fields alias the
// record value (record values are never written to), so that a consumer
// that needs no strings (a Conn reading its responses) makes none.
type envView struct {
	strs         [fieldKey + 1][]byte // id, method, from, reply_to, key, by field number
	kind         msgbusv1.Kind
	deadlineMs   int64
	timestampMs  int64
	body         []byte
	status       *msgbusv1.Status
	bodyEncoding msgbusv1.BodyEncoding
}

func (v *envView) id() []byte     { return v.strs[fieldID] }
func (v *envView) method() []byte { return v.strs[fieldMethod] }

// unmarshalEnvelope is proto.Unmarshal of an Envelope into env (which is
// zero), with the same result on every input (unknown fields aside: they
// are skipped, not kept), at a fraction of the cost on the hot path: see
// parseEnvelope and fill.
func unmarshalEnvelope(b []byte, env *msgbusv1.Envelope) error {
	var v envView
	if err := parseEnvelope(b, &v); err != nil {
		return err
	}
	v.fill(env)
	return nil
}

// parseEnvelope reads an Envelope into v, failing where proto.Unmarshal
// fails: no allocation but a status's, no reflection. The body aliases b
// (its only use is to be unmarshalled in turn, which copies what it
// keeps). The status, present only in error responses, goes through proto.
func parseEnvelope(b []byte, v *envView) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		if num > protowire.MaxValidNumber {
			return errors.New("invalid field number")
		}
		b = b[n:]
		switch {
		case typ == protowire.BytesType && isStringField(num):
			s, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return protowire.ParseError(n)
			}
			if !utf8.Valid(s) {
				return errors.New("string field contains invalid UTF-8")
			}
			v.strs[num], b = s, b[n:] // the last one wins, as in proto
		case typ == protowire.VarintType && isVarintField(num):
			x, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return protowire.ParseError(n)
			}
			v.setVarint(num, x)
			b = b[n:]
		case typ == protowire.BytesType && num == fieldBody:
			x, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return protowire.ParseError(n)
			}
			v.body, b = x[:len(x):len(x)], b[n:]
		case typ == protowire.BytesType && num == fieldStatus:
			x, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return protowire.ParseError(n)
			}
			if v.status == nil {
				v.status = new(msgbusv1.Status)
			}
			// Merge: a message field that occurs twice is merged, as proto does.
			if err := (proto.UnmarshalOptions{Merge: true}).Unmarshal(x, v.status); err != nil {
				return err
			}
			b = b[n:]
		default: // unknown, or a known number with another wire type: proto keeps it as unknown
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return protowire.ParseError(n)
			}
			b = b[n:]
		}
	}
	return nil
}

func isStringField(num protowire.Number) bool {
	return num == fieldID || (num >= fieldMethod && num <= fieldKey)
}

func isVarintField(num protowire.Number) bool {
	switch num {
	case fieldKind, fieldDeadline, fieldTimestamp, fieldBodyEncoding:
		return true
	}
	return false
}

func (v *envView) setVarint(num protowire.Number, x uint64) {
	switch num {
	case fieldKind:
		v.kind = msgbusv1.Kind(int32(x))
	case fieldDeadline:
		v.deadlineMs = int64(x)
	case fieldTimestamp:
		v.timestampMs = int64(x)
	case fieldBodyEncoding:
		v.bodyEncoding = msgbusv1.BodyEncoding(int32(x))
	}
}

// fill sets env's fields from v. The strings share one allocation instead
// of one each.
func (v *envView) fill(env *msgbusv1.Envelope) {
	env.Kind, env.DeadlineUnixMs, env.TimestampUnixMs = v.kind, v.deadlineMs, v.timestampMs
	env.Body, env.Status, env.BodyEncoding = v.body, v.status, v.bodyEncoding
	total := 0
	for _, s := range v.strs {
		total += len(s)
	}
	if total == 0 {
		return
	}
	var sb strings.Builder
	sb.Grow(total)
	for _, s := range v.strs {
		sb.Write(s)
	}
	all := sb.String()
	next := func(num int) string {
		s := all[:len(v.strs[num])]
		all = all[len(s):]
		return s
	}
	env.Id = next(fieldID)
	next(fieldKind) // no string there: empty
	env.Method = next(fieldMethod)
	env.From = next(fieldFrom)
	env.ReplyTo = next(fieldReplyTo)
	env.Key = next(fieldKey)
}
