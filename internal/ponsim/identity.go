package ponsim

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// Identities derive from the OLT's name only, so a simulator restarted with
// the same name presents the same OLT and ONUs, and two simulators with
// different names (almost surely) present different ones.
//
//	OLT serial  "PSIM" + 8 hex digits: the first 32 bits of the name's hash
//	ONU serial  "PSMO" + 8 hex digits: 19 bits of the hash, then pon (6 bits)
//	            and onu id - 1 (7 bits), so serials are unique inside one OLT
//	MAC         0a:h0:h1:h2:pon:onu, locally administered unicast; the OLT
//	            has pon = onu = 0, which no ONU has (ONU ids start at 1)
const (
	oltVendorID = "PSIM"
	onuVendorID = "PSMO"
)

// identity is the hash of an OLT name that every serial and MAC comes from.
type identity [sha256.Size]byte

func newIdentity(name string) identity {
	return sha256.Sum256([]byte("openvolt/ponsim/" + name))
}

func (id identity) oltSerial() string {
	return fmt.Sprintf("%s%08X", oltVendorID, binary.BigEndian.Uint32(id[:4]))
}

func (id identity) onuSerial(pon, onu uint32) string {
	h := binary.BigEndian.Uint32(id[4:8]) >> 13 // 19 bits
	v := h<<13 | (pon&0x3f)<<7 | ((onu - 1) & 0x7f)
	return fmt.Sprintf("%s%08X", onuVendorID, v)
}

func (id identity) mac(pon, onu uint32) string {
	return fmt.Sprintf("0a:%02x:%02x:%02x:%02x:%02x", id[8], id[9], id[10], byte(pon), byte(onu))
}

func (id identity) oltMAC() string { return id.mac(0, 0) }
