package portno

import (
	"strings"
	"testing"
)

// ofppMax is OFPP_MAX in OpenFlow 1.0 and Open vSwitch's tools: they accept
// OpenFlow 1.3 port numbers below it (and the reserved ones at the top).
const ofppMax = 0xff00

func TestLayout(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    uint32
		want uint32
		nni  bool
		uni  bool
	}{
		{"first NNI", NNI(0), 1, true, false},
		{"last NNI", NNI(14), 15, true, false},
		{"NNI past the last", NNI(15), 0, false, false},
		{"first UNI", UNI(0, 1, 0), 0x10, false, true},
		{"UNI 0 of ONU 1 on PON 1", UNI(1, 1, 0), 4112, false, true},
		{"last UNI", UNI(15, 239, 15), 0xfeff, false, true},
		{"PON past the last", UNI(16, 1, 0), 0, false, false},
		{"ONU 0", UNI(0, 0, 1), 0, false, false},
		{"ONU past the last", UNI(0, 240, 0), 0, false, false},
		{"UNI past the last", UNI(0, 1, 16), 0, false, false},
		{"OLT PON port", OLTPON(3), 0x00200003, false, false},
		{"ONU PON port", ONUPON, 0x00300000, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.p != tc.want {
				t.Errorf("number %#x, want %#x", tc.p, tc.want)
			}
			if IsNNI(tc.p) != tc.nni || IsUNI(tc.p) != tc.uni {
				t.Errorf("IsNNI %v IsUNI %v, want %v %v", IsNNI(tc.p), IsUNI(tc.p), tc.nni, tc.uni)
			}
		})
	}
}

// TestBelowOFPPMax walks every number a logical port can have: each is one
// kind only, below 0xff00, and names its parts back.
func TestBelowOFPPMax(t *testing.T) {
	seen := make(map[uint32]bool)
	for n := range uint32(maxNNI + 1) {
		p := NNI(n)
		if p == 0 || p >= ofppMax || IsUNI(p) || seen[p] {
			t.Fatalf("NNI(%d) = %#x", n, p)
		}
		seen[p] = true
	}
	for pon := range uint32(maxPON + 1) {
		for onu := uint32(1); onu <= maxONU; onu++ {
			for uni := range uint32(maxUNI + 1) {
				p := UNI(pon, onu, uni)
				if p == 0 || p >= ofppMax || IsNNI(p) || !IsUNI(p) || seen[p] {
					t.Fatalf("UNI(%d, %d, %d) = %#x", pon, onu, uni, p)
				}
				seen[p] = true
				if gp, gn, gu := SplitUNI(p); gp != pon || gn != onu || gu != uni {
					t.Fatalf("SplitUNI(%#x) = %d/%d/%d", p, gp, gn, gu)
				}
			}
		}
	}
	for p := range uint32(ofppMax) {
		if !seen[p] && (IsNNI(p) || IsUNI(p)) {
			t.Fatalf("%#x is taken for a port no constructor gives", p)
		}
	}
	for _, p := range []uint32{ofppMax, 0xffff, 0x10010, 0x00100000, OLTPON(0), ONUPON, 0xfffffffd} {
		if IsNNI(p) || IsUNI(p) {
			t.Errorf("%#x taken for a logical port", p)
		}
	}
}

func TestPONOf(t *testing.T) {
	for _, pon := range []uint32{0, 15, 16, 255} {
		if got := PONOf(OLTPON(pon)); got != pon {
			t.Errorf("PONOf(OLTPON(%d)) = %d", pon, got)
		}
	}
	if err := Check(PONOf(OLTPON(16)), 1, 0); err == nil {
		t.Error("Check accepts PON 16")
	}
}

func TestCheck(t *testing.T) {
	if err := Check(15, 239, 15); err != nil {
		t.Fatal(err)
	}
	err := Check(16, 1, 0)
	if err == nil {
		t.Fatal("Check(16, 1, 0) = nil")
	}
	if want := "uni 16/1/0 out of range (pon 0..15, onu 1..239, uni 0..15)"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	for _, parts := range [][3]uint32{{0, 0, 0}, {0, 240, 0}, {0, 1, 16}} {
		if err := Check(parts[0], parts[1], parts[2]); err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("Check%v = %v", parts, err)
		}
	}
}

func TestName(t *testing.T) {
	if got := Name(NNI(0)); got != "nni-1" {
		t.Errorf("Name(NNI(0)) = %q", got)
	}
	if got := Name(UNI(1, 1, 0)); got != "uni-4112" {
		t.Errorf("Name(UNI(1, 1, 0)) = %q", got)
	}
}
