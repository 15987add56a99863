package msgbus

import (
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"

	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"

	msgbusv1 "github.com/openvolt/openvolt/api/msgbus/v1"
)

// errBadEnvelope is wrapped by every decodeEnvelope failure.
var errBadEnvelope = errors.New("not a msgbus envelope")

// maxIDLen bounds the transaction id; ours are about 30 bytes.
const maxIDLen = 256

// decodeEnvelope parses a record value and checks the fields every kind
// needs. It is the one entry point for untrusted bytes (see the fuzz test):
// decodeRequest and decodeView are the same with the envelope in the
// caller's memory.
func decodeEnvelope(b []byte) (*msgbusv1.Envelope, error) {
	var v envView
	if err := decodeView(b, &v); err != nil {
		return nil, err
	}
	env := new(msgbusv1.Envelope)
	v.fill(env)
	return env, nil
}

// decodeRequest is decodeEnvelope of a request record r into env, which
// is zero, with what a caller leaves out because the record says it filled
// in (see envelope.proto): the key is the record key, and from is
// reply_to. lean reports that from was left out, as callers since then
// do: the response may leave out the method.
func decodeRequest(r *kgo.Record, env *msgbusv1.Envelope) (lean bool, err error) {
	var v envView
	if err := decodeView(r.Value, &v); err != nil {
		return false, err
	}
	if len(v.strs[fieldKey]) == 0 {
		v.strs[fieldKey] = r.Key // in the envelope's one allocation
	}
	v.fill(env)
	if env.From == "" {
		env.From, lean = env.ReplyTo, true
	}
	return lean, nil
}

// decodeView is decodeEnvelope into v, which is zero: no allocation.
func decodeView(b []byte, v *envView) error {
	if len(b) == 0 {
		return fmt.Errorf("%w: empty record value", errBadEnvelope)
	}
	if err := parseEnvelope(b, v); err != nil {
		return fmt.Errorf("%w: %v", errBadEnvelope, err)
	}
	return validateView(v)
}

func validateView(v *envView) error {
	if len(v.id()) == 0 || len(v.id()) > maxIDLen {
		return fmt.Errorf("%w: transaction id missing or longer than %d bytes", errBadEnvelope, maxIDLen)
	}
	switch v.kind {
	case msgbusv1.Kind_KIND_REQUEST, msgbusv1.Kind_KIND_RESPONSE: // a response may leave the method out
		if (v.kind == msgbusv1.Kind_KIND_REQUEST || len(v.method()) > 0) && !validMethod(v.method()) {
			return fmt.Errorf("%w: method %q is not of the form /service/method", errBadEnvelope, v.method())
		}
	case msgbusv1.Kind_KIND_EVENT:
		if len(v.method()) == 0 {
			return fmt.Errorf("%w: event without a message type", errBadEnvelope)
		}
	default:
		return fmt.Errorf("%w: unknown kind %d", errBadEnvelope, v.kind)
	}
	if v.deadlineMs < 0 || v.timestampMs < 0 {
		return fmt.Errorf("%w: negative time", errBadEnvelope)
	}
	return nil
}

// validMethod reports whether m looks like a full gRPC method name,
// "/package.Service/Method": two slashes, the first leading, a name after
// each.
func validMethod[S string | []byte](m S) bool {
	if len(m) < 4 || m[0] != '/' {
		return false
	}
	second := -1
	for i := 1; i < len(m); i++ {
		if m[i] != '/' {
			continue
		}
		if second >= 0 {
			return false
		}
		second = i
	}
	return second > 1 && second < len(m)-1
}

// statusToProto turns a handler's error into the envelope status; nil for
// success.
func statusToProto(err error) *msgbusv1.Status {
	if err == nil {
		return nil
	}
	// As grpc.Server does: a status error keeps its status, a context
	// error becomes DeadlineExceeded or Canceled, anything else Unknown.
	st, ok := grpcstatus.FromError(err)
	if !ok {
		st = grpcstatus.FromContextError(err)
	}
	p := st.Proto()
	return &msgbusv1.Status{Code: p.GetCode(), Message: p.GetMessage(), Details: p.GetDetails()}
}

// statusFromProto is the inverse of statusToProto: the error a caller sees,
// with the code, message and details the handler returned.
func statusFromProto(s *msgbusv1.Status) error {
	if s.GetCode() == int32(codes.OK) {
		return nil
	}
	return grpcstatus.ErrorProto(&status.Status{Code: s.GetCode(), Message: s.GetMessage(), Details: s.GetDetails()})
}
