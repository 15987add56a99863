package openolt_test

import (
	"errors"
	"testing"

	"github.com/openvolt/openvolt/internal/ponsim"
	face "github.com/openvolt/openvolt/internal/ponsim/openolt"
)

func TestSetUNILinkBadInput(t *testing.T) {
	b := newBed(t, 1, 2, face.Config{UNIsPerONU: 2})
	serial := b.sim.ONUs()[0].Serial
	for _, c := range []struct {
		name   string
		serial string
		uni    int
		want   error
	}{
		{"unknown onu", "PSMO99999999", 0, ponsim.ErrNotFound},
		{"negative uni", serial, -1, ponsim.ErrInvalidArgument},
		{"uni beyond the ONU's", serial, 2, ponsim.ErrInvalidArgument},
	} {
		if err := b.face.SetUNILink(c.serial, c.uni, false); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if err := b.sim.SetPower(serial, false); err != nil {
		t.Fatal(err)
	}
	if err := b.face.SetUNILink(serial, 0, false); !errors.Is(err, ponsim.ErrDeviceDown) {
		t.Errorf("powered-off ONU: %v, want %v", err, ponsim.ErrDeviceDown)
	}
	if err := b.face.SetUNILink(serial, 1, true); !errors.Is(err, ponsim.ErrDeviceDown) {
		t.Errorf("powered-off ONU: %v", err)
	}
}
