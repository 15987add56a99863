// Package portno is the one port numbering layout that the core, the
// adapters and the OpenFlow agent share. A logical port takes the number of
// the device port behind it, so adapters must number the ports they report
// this way:
//
//	NNI of an OLT:  1 + nni                      (nni 0..14: ports 1..15)
//	UNI of an ONU:  pon<<12 | onu<<4 | uni       (pon 0..15, onu 1..239, uni 0..15)
//	PON of an OLT:  0x00200000 | pon             (not a logical port)
//	PON of an ONU:  0x00300000                   (not a logical port)
//
// So the logical port number alone names the PON, the ONU and the UNI a
// subscriber sits on. Every logical port number is below 0xff00 (the
// largest UNI is 0xfeff), where Open vSwitch's tools accept OpenFlow 1.3
// port numbers; the NNIs fit below the first UNI because onu 0 is not used.
package portno

import "fmt"

const (
	oltPONBase = 0x00200000
	// ONUPON is the number of an ONU's PON (upstream) port.
	ONUPON = 0x00300000

	firstNNI = 1
	maxNNI   = 14
	maxPON   = 15
	maxONU   = 239
	maxUNI   = 15

	// ponField is the PON index inside an OLT PON port number: wider than
	// maxPON, so that PONOf does not wrap a PON no UNI can name onto one
	// that it can.
	ponField = 0xff
)

// NNI is the number of the OLT's nni-th network port, nni 0..14. It is 0,
// which is no port, for a larger nni.
func NNI(nni uint32) uint32 {
	if nni > maxNNI {
		return 0
	}
	return firstNNI + nni
}

// OLTPON is the number of the OLT's pon-th PON port.
func OLTPON(pon uint32) uint32 { return oltPONBase | (pon & ponField) }

// UNI is the number of UNI uni of ONU onu on PON pon. onu 0 is not used, so
// that no UNI number is zero or an NNI's. It is 0, which is no port, when
// the parts are out of range (Check says why).
func UNI(pon, onu, uni uint32) uint32 {
	if Check(pon, onu, uni) != nil {
		return 0
	}
	return pon<<12 | onu<<4 | uni
}

// IsNNI reports whether p is an NNI number.
func IsNNI(p uint32) bool { return p >= firstNNI && p <= firstNNI+maxNNI }

// IsUNI reports whether p is a UNI number.
func IsUNI(p uint32) bool {
	pon, onu, uni := p>>12, p>>4&0xff, p&0xf
	return Check(pon, onu, uni) == nil
}

// SplitUNI returns the PON, ONU and UNI of a UNI number.
func SplitUNI(p uint32) (pon, onu, uni uint32) {
	return p >> 12 & maxPON, p >> 4 & 0xff, p & maxUNI
}

// PONOf returns the PON index of an OLT PON port number. An index above
// 15 is returned as it is: Check refuses it.
func PONOf(p uint32) uint32 { return p & ponField }

// Check returns an error when the parts do not fit the layout.
func Check(pon, onu, uni uint32) error {
	if pon > maxPON || onu == 0 || onu > maxONU || uni > maxUNI {
		return fmt.Errorf("uni %d/%d/%d out of range (pon 0..%d, onu 1..%d, uni 0..%d)", pon, onu, uni, maxPON, maxONU, maxUNI)
	}
	return nil
}

// Name is the logical port name: "nni-1" (the first NNI) or "uni-4112"
// (UNI 0 of ONU 1 on PON 1).
func Name(p uint32) string {
	if IsNNI(p) {
		return fmt.Sprintf("nni-%d", p)
	}
	return fmt.Sprintf("uni-%d", p)
}
