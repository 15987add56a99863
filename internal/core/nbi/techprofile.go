package nbi

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/techprofile"
)

// TechProfiles is the technology-profile store as the NBI sees it
// (techprofile.Store).
type TechProfiles interface {
	List(ctx context.Context, technology string) ([]*techprofile.Entry, error)
	Get(ctx context.Context, technology string, id uint32) (*techprofile.Entry, error)
	Set(ctx context.Context, technology string, id uint32, data []byte) (*techprofile.Entry, error)
	Delete(ctx context.Context, technology string, id uint32) error
}

// tpStatus maps the store's errors to gRPC codes; the message names the
// field of an invalid profile.
func tpStatus(err error) error {
	switch {
	case errors.Is(err, techprofile.ErrInvalid):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, techprofile.ErrNotFound):
		return status.Error(codes.NotFound, err.Error())
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return status.FromContextError(err).Err()
	}
	return status.Error(codes.Unavailable, err.Error())
}

func (s *Server) techProfiles() (TechProfiles, error) {
	if s.cfg.TechProfiles == nil {
		return nil, status.Error(codes.Unimplemented, "this core keeps no tech profiles")
	}
	return s.cfg.TechProfiles, nil
}

func tpMessage(e *techprofile.Entry) *voltv1.TechProfile {
	m := &voltv1.TechProfile{Technology: e.Technology, Id: e.ID, Json: string(e.JSON), BuiltIn: e.BuiltIn}
	if e.Profile != nil {
		m.Name = e.Profile.Name
	}
	return m
}

func (s *Server) ListTechProfiles(ctx context.Context, req *voltv1.ListTechProfilesRequest) (*voltv1.TechProfiles, error) {
	tps, err := s.techProfiles()
	if err != nil {
		return nil, err
	}
	es, err := tps.List(ctx, req.GetTechnology())
	if err != nil {
		return nil, tpStatus(err)
	}
	out := &voltv1.TechProfiles{Items: make([]*voltv1.TechProfile, 0, len(es))}
	for _, e := range es {
		out.Items = append(out.Items, tpMessage(e))
	}
	return out, nil
}

func (s *Server) GetTechProfile(ctx context.Context, req *voltv1.TechProfileID) (*voltv1.TechProfile, error) {
	tps, err := s.techProfiles()
	if err != nil {
		return nil, err
	}
	e, err := tps.Get(ctx, req.GetTechnology(), req.GetId())
	if err != nil {
		return nil, tpStatus(err)
	}
	return tpMessage(e), nil
}

func (s *Server) SetTechProfile(ctx context.Context, req *voltv1.TechProfile) (*voltv1.TechProfile, error) {
	tps, err := s.techProfiles()
	if err != nil {
		return nil, err
	}
	e, err := tps.Set(ctx, req.GetTechnology(), req.GetId(), []byte(req.GetJson()))
	if err != nil {
		return nil, tpStatus(err)
	}
	s.cfg.Logger.Info("tech profile set", "technology", e.Technology, "id", e.ID, "name", e.Profile.Name)
	return tpMessage(e), nil
}

func (s *Server) DeleteTechProfile(ctx context.Context, req *voltv1.TechProfileID) (*emptypb.Empty, error) {
	tps, err := s.techProfiles()
	if err != nil {
		return nil, err
	}
	if err := tps.Delete(ctx, req.GetTechnology(), req.GetId()); err != nil {
		return nil, tpStatus(err)
	}
	s.cfg.Logger.Info("tech profile deleted", "technology", req.GetTechnology(), "id", req.GetId())
	return empty, nil
}
