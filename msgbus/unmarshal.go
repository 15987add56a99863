package msgbus

import (
	"errors"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	msgbusv1 "github.com/openvolt/openvolt/api/msgbus/v1"
)

// Field numbers of msgbus.v1.Envelope (api/msgbus/v1/msgbus.proto).
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

// unmarshalEnvelope is proto.Unmarshal of an Envelope into env (which is
// zero), with the same result on every input (unknown fields aside: they
// are skipped, not kept), at a fraction of the cost on the hot path:
//
//   - the five strings share one allocation instead of one each;
//   - the body aliases b instead of being copied (its only use is to be
//     unmarshalled in turn, which copies what it keeps; record values are
//     never written to);
//   - no reflection.
//
// The status, present only in error responses, goes through proto.
func unmarshalEnvelope(b []byte, env *msgbusv1.Envelope) error {
	var strs [fieldKey + 1][]byte // by field number; the last one wins, as in proto
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
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return protowire.ParseError(n)
			}
			if !utf8.Valid(v) {
				return errors.New("string field contains invalid UTF-8")
			}
			strs[num], b = v, b[n:]
		case typ == protowire.VarintType && isVarintField(num):
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return protowire.ParseError(n)
			}
			setVarint(env, num, v)
			b = b[n:]
		case typ == protowire.BytesType && num == fieldBody:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return protowire.ParseError(n)
			}
			env.Body, b = v[:len(v):len(v)], b[n:]
		case typ == protowire.BytesType && num == fieldStatus:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return protowire.ParseError(n)
			}
			if env.Status == nil {
				env.Status = new(msgbusv1.Status)
			}
			// Merge: a message field that occurs twice is merged, as proto does.
			if err := (proto.UnmarshalOptions{Merge: true}).Unmarshal(v, env.Status); err != nil {
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
	setStrings(env, &strs)
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

func setVarint(env *msgbusv1.Envelope, num protowire.Number, v uint64) {
	switch num {
	case fieldKind:
		env.Kind = msgbusv1.Kind(int32(v))
	case fieldDeadline:
		env.DeadlineUnixMs = int64(v)
	case fieldTimestamp:
		env.TimestampUnixMs = int64(v)
	case fieldBodyEncoding:
		env.BodyEncoding = msgbusv1.BodyEncoding(int32(v))
	}
}

// setStrings copies the string fields into one allocation and points the
// envelope's strings into it.
func setStrings(env *msgbusv1.Envelope, strs *[fieldKey + 1][]byte) {
	total := 0
	for _, s := range strs {
		total += len(s)
	}
	if total == 0 {
		return
	}
	var sb strings.Builder
	sb.Grow(total)
	for _, s := range strs {
		sb.Write(s)
	}
	all := sb.String()
	next := func(num int) string {
		s := all[:len(strs[num])]
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
