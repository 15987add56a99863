// Package ofp13 is the OpenFlow 1.3 (wire version 0x04) codec of the
// OpenFlow agent, written from the OpenFlow 1.3.5 specification.
//
// Every message is a Go struct that embeds [Header]. [Decode] turns one
// complete message into its struct; AppendBinary and MarshalBinary encode
// it again, filling in the header's type and length. [ReadMessage] frames
// messages on a stream.
//
// Decoding never panics and never trusts a length in the input to size an
// allocation: every length is checked against the bytes actually present
// first. Input that is malformed or that this codec does not support is
// reported as an [*Error], which carries the OpenFlow error type and code to
// send back; [Error.Reply] builds that OFPT_ERROR message. The connection
// can stay up.
//
// The agent and core speak the protobuf model in api/openflow/v1. The
// *FromProto and *ToProto functions convert between it and the wire
// structs. Decoded messages are already validated, so the ToProto direction
// cannot fail; the FromProto direction checks what protobuf cannot express
// (field sizes, enum ranges) and fails with the [*Error] a switch would send
// for the same mistake on the wire.
//
// Numbers that OpenFlow fixes on the wire keep their OpenFlow values on
// both sides (ports, OFPVID_PRESENT in vlan_vid, flag bitmaps). The proto
// enums that start at UNSPECIFIED = 0 are the OpenFlow value plus one.
package ofp13
