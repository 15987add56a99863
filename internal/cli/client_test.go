package cli

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestErrorLines(t *testing.T) {
	o := ClientOptions{Server: "10.0.0.1:50057", Timeout: 3 * time.Second}
	plain := errors.New("invalid --output")
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"status", status.Error(codes.NotFound, `unknown package "foo"`), `NotFound: unknown package "foo"`},
		{"multi-line message", status.Error(codes.Internal, "a\n  b"), "Internal: a b"},
		{"server-side unavailable", status.Error(codes.Unavailable, "store is down"), "Unavailable: store is down"},
		{"unreachable", &unreachableError{st: status.New(codes.Unavailable,
			`connection error: desc = "transport: Error while dialing: dial tcp 10.0.0.1:50057: connect: no route to host"`)},
			"cannot reach 10.0.0.1:50057: connect: no route to host"},
		{"unreachable, other wording", &unreachableError{st: status.New(codes.Unavailable, "name resolver error: produced zero addresses")},
			`cannot reach 10.0.0.1:50057: host "10.0.0.1" has no address (DNS)`},
		{"not gRPC", &unreachableError{st: status.New(codes.Unavailable,
			`connection error: desc = "error reading server preface: EOF"`)},
			"10.0.0.1:50057 is not an OpenVOLT server: it took the connection but gave no gRPC answer within 2s; is --server the NBI, by default 127.0.0.1:50057?"},
		{"not the NBI", status.Error(codes.Unimplemented, "unknown service volt.v1.VoltService"),
			"10.0.0.1:50057 is not an OpenVOLT server for this command: it does not serve volt.v1.VoltService; is --server the NBI, by default 127.0.0.1:50057?"},
		{"unimplemented method", status.Error(codes.Unimplemented, "method Foo not implemented"), "Unimplemented: method Foo not implemented"},
		{"deadline", status.Error(codes.DeadlineExceeded, "context deadline exceeded"),
			"no answer from 10.0.0.1:50057 within --timeout 3s: the client gave up (the server may still complete the operation)"},
		{"deadline while connecting", status.Error(codes.DeadlineExceeded, "context deadline exceeded while waiting for connections to become ready"),
			"no answer from 10.0.0.1:50057 within --timeout 3s: the client gave up (the server may still complete the operation)"},
		{"the server's own deadline", status.Error(codes.DeadlineExceeded, "adapter ponsim_olt did not answer"),
			"DeadlineExceeded: the server gave up: adapter ponsim_olt did not answer"},
		{"not a status", plain, plain.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := o.Error(tt.err); got == nil || got.Error() != tt.want {
				t.Errorf("Error() = %v, want %q", got, tt.want)
			}
		})
	}
	if o.Error(nil) != nil {
		t.Error("Error(nil) != nil")
	}
	// The marker keeps the code for callers that branch on it.
	if c := status.Code(&unreachableError{st: status.New(codes.Unavailable, "x")}); c != codes.Unavailable {
		t.Errorf("status.Code of unreachable = %v", c)
	}
}

func TestValidateServer(t *testing.T) {
	for _, tt := range []struct{ server, want string }{
		{"not-a-host", `invalid --server "not-a-host": want HOST:PORT, e.g. 127.0.0.1:50057`},
		{":50057", `invalid --server ":50057": want HOST:PORT, e.g. 127.0.0.1:50057`},
		{"host:http", `invalid --server "host:http": the port must be a number 1-65535`},
		{"host:0", `invalid --server "host:0": the port must be a number 1-65535`},
		{"host:50057", ""},
		{"[::1]:50057", ""},
	} {
		err := ClientOptions{Server: tt.server, Timeout: time.Second}.Validate()
		if got := fmt.Sprint(err); (tt.want == "" && err != nil) || (tt.want != "" && got != tt.want) {
			t.Errorf("Validate(%q) = %v, want %q", tt.server, err, tt.want)
		}
	}
}
