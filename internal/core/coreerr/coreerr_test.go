package coreerr

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

type ofErr struct{ error }

func (ofErr) OpenFlowError() (uint16, uint16) { return 5, 3 }
func (e ofErr) Unwrap() error                 { return e.error }

func TestToStatus(t *testing.T) {
	tests := []struct {
		err  error
		code codes.Code
	}{
		{New(ErrNotFound, `device "x" not found`), codes.NotFound},
		{fmt.Errorf("wrapped: %w", New(ErrInvalidArgument, "bad")), codes.InvalidArgument},
		{New(ErrAlreadyExists, "dup"), codes.AlreadyExists},
		{New(ErrFailedPrecondition, "state"), codes.FailedPrecondition},
		{New(ErrUnavailable, "bus"), codes.Unavailable},
		{fmt.Errorf("adapter: %w", context.DeadlineExceeded), codes.DeadlineExceeded},
		{fmt.Errorf("adapter x: %w", status.Error(codes.NotFound, "no such onu")), codes.NotFound},
		{errors.New("boom"), codes.Internal},
	}
	for _, tt := range tests {
		st := status.Convert(ToStatus(tt.err))
		if st.Code() != tt.code || st.Message() != tt.err.Error() {
			t.Errorf("%v: %s %q, want %s and the same text", tt.err, st.Code(), st.Message(), tt.code)
		}
	}
	if ToStatus(nil) != nil {
		t.Error("nil error became a status")
	}
}

func TestOpenFlowErrorInfo(t *testing.T) {
	err := fmt.Errorf("logical device x: %w", ofErr{New(ErrAlreadyExists, "flow overlaps")})
	st := status.Convert(ToStatus(err))
	if st.Code() != codes.AlreadyExists {
		t.Fatalf("code %s", st.Code())
	}
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetDomain() == OpenFlowDomain &&
			info.GetMetadata()["type"] == "5" && info.GetMetadata()["code"] == "3" {
			return
		}
	}
	t.Errorf("no OpenFlow error info in %v", st.Details())
}
