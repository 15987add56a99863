package msgbus

import (
	"errors"
	"fmt"
	"strings"

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
// needs. It is the one entry point for untrusted bytes (see the fuzz test).
func decodeEnvelope(b []byte) (*msgbusv1.Envelope, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: empty record value", errBadEnvelope)
	}
	env := new(msgbusv1.Envelope)
	if err := unmarshalEnvelope(b, env); err != nil {
		return nil, fmt.Errorf("%w: %v", errBadEnvelope, err)
	}
	if err := validateEnvelope(env); err != nil {
		return nil, err
	}
	return env, nil
}

func validateEnvelope(env *msgbusv1.Envelope) error {
	if env.GetId() == "" || len(env.GetId()) > maxIDLen {
		return fmt.Errorf("%w: transaction id missing or longer than %d bytes", errBadEnvelope, maxIDLen)
	}
	switch env.GetKind() {
	case msgbusv1.Kind_KIND_REQUEST, msgbusv1.Kind_KIND_RESPONSE:
		if !validMethod(env.GetMethod()) {
			return fmt.Errorf("%w: method %q is not of the form /service/method", errBadEnvelope, env.GetMethod())
		}
	case msgbusv1.Kind_KIND_EVENT:
		if env.GetMethod() == "" {
			return fmt.Errorf("%w: event without a message type", errBadEnvelope)
		}
	default:
		return fmt.Errorf("%w: unknown kind %d", errBadEnvelope, env.GetKind())
	}
	if env.GetDeadlineUnixMs() < 0 || env.GetTimestampUnixMs() < 0 {
		return fmt.Errorf("%w: negative time", errBadEnvelope)
	}
	return nil
}

// validMethod reports whether m looks like a full gRPC method name,
// "/package.Service/Method".
func validMethod(m string) bool {
	if len(m) < 4 || m[0] != '/' {
		return false
	}
	i := strings.IndexByte(m[1:], '/')
	return i > 0 && i+2 < len(m) && !strings.Contains(m[i+2:], "/")
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
