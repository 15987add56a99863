package cli

import (
	"errors"
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
			"cannot reach 10.0.0.1:50057: name resolver error: produced zero addresses"},
		{"deadline", status.Error(codes.DeadlineExceeded, "context deadline exceeded"),
			"timed out waiting for 10.0.0.1:50057 (--timeout 3s)"},
		{"deadline while connecting", status.Error(codes.DeadlineExceeded, "context deadline exceeded while waiting for connections to become ready"),
			"timed out waiting for 10.0.0.1:50057 (--timeout 3s)"},
		{"deadline with the server's reason", status.Error(codes.DeadlineExceeded, "adapter ponsim_olt did not answer"),
			"timed out waiting for 10.0.0.1:50057 (--timeout 3s): adapter ponsim_olt did not answer"},
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
