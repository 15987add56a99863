// Package portno is the one port numbering layout that the core, the
// adapters and the OpenFlow agent share. A logical port takes the number of
// the device port behind it, so adapters must number the ports they report
// this way:
//
//	NNI of an OLT:  0x00100000 | nni             (nni   0..4095)
//	UNI of an ONU:  pon<<12 | onu<<4 | uni       (pon 0..255, onu 0..255, uni 0..15)
//	PON of an OLT:  0x00200000 | pon             (not a logical port)
//	PON of an ONU:  0x00300000                   (not a logical port)
//
// So the logical port number alone names the PON, the ONU and the UNI a
// subscriber sits on, and stays below OpenFlow's reserved range (0xffffff00).
package portno

import "fmt"

const (
	nniBase    = 0x00100000
	oltPONBase = 0x00200000
	// ONUPON is the number of an ONU's PON (upstream) port.
	ONUPON = 0x00300000

	maxNNI = 0xfff
	maxPON = 0xff
	maxONU = 0xff
	maxUNI = 0xf
)

// NNI is the number of the OLT's nni-th network port.
func NNI(nni uint32) uint32 { return nniBase | (nni & maxNNI) }

// OLTPON is the number of the OLT's pon-th PON port.
func OLTPON(pon uint32) uint32 { return oltPONBase | (pon & maxPON) }

// UNI is the number of UNI uni of ONU onu on PON pon. onu 0 is not used, so
// that no UNI number is zero.
func UNI(pon, onu, uni uint32) uint32 {
	return (pon&maxPON)<<12 | (onu&maxONU)<<4 | (uni & maxUNI)
}

// IsNNI reports whether p is an NNI number.
func IsNNI(p uint32) bool { return p&^maxNNI == nniBase }

// IsUNI reports whether p is a UNI number.
func IsUNI(p uint32) bool { return p != 0 && p < nniBase && (p>>4)&maxONU != 0 }

// SplitUNI returns the PON, ONU and UNI of a UNI number.
func SplitUNI(p uint32) (pon, onu, uni uint32) {
	return p >> 12 & maxPON, p >> 4 & maxONU, p & maxUNI
}

// PONOf returns the PON index of an OLT PON port number.
func PONOf(p uint32) uint32 { return p & maxPON }

// Check returns an error when the parts do not fit the layout.
func Check(pon, onu, uni uint32) error {
	if pon > maxPON || onu == 0 || onu > maxONU || uni > maxUNI {
		return fmt.Errorf("uni %d/%d/%d out of range (pon 0..%d, onu 1..%d, uni 0..%d)", pon, onu, uni, maxPON, maxONU, maxUNI)
	}
	return nil
}

// Name is the logical port name: "nni-1048576" or "uni-4112".
func Name(p uint32) string {
	if IsNNI(p) {
		return fmt.Sprintf("nni-%d", p)
	}
	return fmt.Sprintf("uni-%d", p)
}
