package openolt_test

import (
	"context"
	"encoding/hex"
	"testing"

	"github.com/opencord/voltha-protos/v5/go/openolt"

	"github.com/openvolt/openvolt/internal/ponsim"
	face "github.com/openvolt/openvolt/internal/ponsim/openolt"
)

// FuzzOmciMsgOut feeds OmciMsgOut arbitrary bytes, as they are (the hex
// decoding) and hex-encoded (the ONU's OMCI decoder): it may refuse them,
// never panic.
func FuzzOmciMsgOut(f *testing.F) {
	sim, err := ponsim.New(ponsim.Config{Name: "fuzz", PONPorts: 1, ONUsPerPON: 1})
	if err != nil {
		f.Fatal(err)
	}
	defer sim.Close()
	s, err := face.New(sim, face.Config{})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	v := sim.ONUs()[0]
	sn := face.SerialNumber(v.Serial)
	if _, err := s.ActivateOnu(ctx, &openolt.Onu{IntfId: 0, OnuId: 1, SerialNumber: sn}); err != nil {
		f.Fatal(err)
	}
	f.Add([]byte("00014f0a00020000000000000000000000000000000000000000000000000000000000000000000000000028"))
	f.Add([]byte("0001490a00020000"))
	f.Add([]byte("zz"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, pkt []byte) {
		_, _ = s.OmciMsgOut(ctx, &openolt.OmciMsg{IntfId: 0, OnuId: 1, Pkt: pkt})
		_, _ = s.OmciMsgOut(ctx, &openolt.OmciMsg{IntfId: 0, OnuId: 1, Pkt: []byte(hex.EncodeToString(pkt))})
	})
}
