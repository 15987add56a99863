package logging

import (
	"context"
	"errors"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
)

// Register serves reg's LogService on s. Every daemon calls it on its gRPC
// server.
func Register(s grpc.ServiceRegistrar, reg *Registry) {
	voltv1.RegisterLogServiceServer(s, NewServer(reg))
}

// NewServer returns the LogService for reg.
func NewServer(reg *Registry) voltv1.LogServiceServer {
	return &server{reg: reg}
}

type server struct {
	voltv1.UnimplementedLogServiceServer
	reg *Registry
}

func (s *server) SetLogLevel(_ context.Context, req *voltv1.SetLogLevelRequest) (*voltv1.SetLogLevelResponse, error) {
	levels, err := s.reg.SetLevel(req.GetPackage(), req.GetLevel())
	if err != nil {
		return nil, toStatus(err)
	}
	return &voltv1.SetLogLevelResponse{Levels: toProto(levels)}, nil
}

func (s *server) GetLogLevels(_ context.Context, req *voltv1.GetLogLevelsRequest) (*voltv1.GetLogLevelsResponse, error) {
	levels, err := s.reg.Levels(req.GetPackage())
	if err != nil {
		return nil, toStatus(err)
	}
	return &voltv1.GetLogLevelsResponse{Levels: toProto(levels)}, nil
}

func (s *server) ListPackages(context.Context, *voltv1.ListPackagesRequest) (*voltv1.ListPackagesResponse, error) {
	return &voltv1.ListPackagesResponse{Packages: s.reg.Packages()}, nil
}

func toProto(levels []PackageLevel) []*voltv1.PackageLevel {
	out := make([]*voltv1.PackageLevel, len(levels))
	for i, l := range levels {
		out[i] = &voltv1.PackageLevel{Package: l.Package, Level: l.Level}
	}
	return out
}

// toStatus is the one place logging errors become gRPC codes. The message is
// the error's own, so clients see the valid levels or the unknown name.
func toStatus(err error) error {
	switch {
	case errors.Is(err, ErrInvalidLevel):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, ErrUnknownPackage):
		return status.Error(codes.NotFound, err.Error())
	}
	return status.Error(codes.Internal, err.Error())
}
