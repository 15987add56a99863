package msgbus

import (
	"context"
	"time"

	"google.golang.org/grpc/metadata"
)

// CallInfo describes the call a server handler is running: what the
// envelope and the Kafka record said. Interceptors use it for logs and
// metrics; grpc.Method(ctx) works too.
type CallInfo struct {
	ID        string    // transaction id
	Method    string    // full method name, "/package.Service/Method"
	From      string    // the caller's topic
	Key       string    // the record key
	Topic     string    // the request topic
	Partition int32     // where the request record is
	Offset    int64     //
	Deadline  time.Time // zero if the caller set none
}

type callInfoKey struct{}

// CallInfoFromContext returns the CallInfo of the call a handler runs.
func CallInfoFromContext(ctx context.Context) (CallInfo, bool) {
	ci, ok := ctx.Value(callInfoKey{}).(*CallInfo)
	if !ok {
		return CallInfo{}, false
	}
	return *ci, true
}

// transportStream lets grpc.Method(ctx) work in handlers and interceptors.
// Headers and trailers are not carried over Kafka: setting them does
// nothing.
type transportStream struct{ method string }

func (s transportStream) Method() string               { return s.method }
func (s transportStream) SetHeader(metadata.MD) error  { return nil }
func (s transportStream) SendHeader(metadata.MD) error { return nil }
func (s transportStream) SetTrailer(metadata.MD) error { return nil }
