// Package coreerr holds the error kinds the core's domain packages return.
// Domain code wraps them with %w and context ("device \"x\": not found");
// only the edge (nbi, sbi) turns them into gRPC status codes, in ToStatus.
package coreerr

import (
	"context"
	"errors"
	"strconv"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The kinds. Each maps to one gRPC code.
var (
	ErrNotFound           = errors.New("not found")
	ErrInvalidArgument    = errors.New("invalid argument")
	ErrAlreadyExists      = errors.New("already exists")
	ErrFailedPrecondition = errors.New("failed precondition")
	ErrUnavailable        = errors.New("unavailable")
)

// kindError carries a message of its own and a kind for errors.Is, so the
// text a person reads is not cluttered with the kind's name.
type kindError struct {
	kind error
	msg  string
}

func (e *kindError) Error() string        { return e.msg }
func (e *kindError) Is(target error) bool { return target == e.kind }

// New returns an error of kind with msg as its whole text.
func New(kind error, msg string) error { return &kindError{kind: kind, msg: msg} }

// ToStatus maps an error to a gRPC status error: a status already in the
// chain (from an adapter call) keeps its code, context errors become
// DeadlineExceeded or Canceled, the kinds above their codes, anything else
// Internal.
func ToStatus(err error) error {
	if err == nil {
		return nil
	}
	code := codes.Internal
	switch {
	case errors.Is(err, ErrNotFound):
		code = codes.NotFound
	case errors.Is(err, ErrInvalidArgument):
		code = codes.InvalidArgument
	case errors.Is(err, ErrAlreadyExists):
		code = codes.AlreadyExists
	case errors.Is(err, ErrFailedPrecondition):
		code = codes.FailedPrecondition
	case errors.Is(err, ErrUnavailable):
		code = codes.Unavailable
	case errors.Is(err, context.DeadlineExceeded):
		code = codes.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	default:
		var se interface{ GRPCStatus() *status.Status }
		if errors.As(err, &se) {
			code = se.GRPCStatus().Code()
		}
	}
	st := status.New(code, err.Error())
	var ofe interface{ OpenFlowError() (typ, code uint16) }
	if errors.As(err, &ofe) {
		// The OpenFlow error a switch would send, for the OpenFlow agent.
		t, c := ofe.OpenFlowError()
		if withInfo, err := st.WithDetails(&errdetails.ErrorInfo{
			Reason:   "OPENFLOW_ERROR",
			Domain:   OpenFlowDomain,
			Metadata: map[string]string{"type": strconv.Itoa(int(t)), "code": strconv.Itoa(int(c))},
		}); err == nil {
			st = withInfo
		}
	}
	return st.Err()
}

// OpenFlowDomain is the google.rpc.ErrorInfo domain of the OpenFlow error
// type and code a refused mod carries.
const OpenFlowDomain = "openflow"
