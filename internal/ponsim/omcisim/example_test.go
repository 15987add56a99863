package omcisim_test

import (
	"encoding/hex"
	"fmt"

	"github.com/openvolt/openvolt/internal/ponsim/omcisim"
)

// How ponsim's openolt face uses an ONU: OmciMsgOut's packet is ASCII hex; each frame Handle
// returns goes back raw in an OmciIndication, in order.
func Example() {
	onu, err := omcisim.New(omcisim.Config{SerialNumber: "PSMO00000001", UNIs: 4}, omcisim.Hooks{
		UNIAdmin: func(uni int, locked bool) { fmt.Println("UNI", uni, "locked:", locked) },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// MIB reset (TCI 1) as an OLT adapter sends it.
	pkt := []byte("00014f0a000200000000000000000000000000000000000000000000000000000000000000000000" + "00000028")
	frame := make([]byte, hex.DecodedLen(len(pkt)))
	if _, err := hex.Decode(frame, pkt); err != nil {
		fmt.Println("bad hex:", err) // count and log once; nothing to answer
		return
	}
	out, err := onu.Handle(frame)
	fmt.Printf("%d frame(s), err %v, answer type %#x, result %d\n", len(out), err, out[0][2], out[0][8])

	// The UNI's link goes down: one alarm notification (TCI 0) to send up.
	for _, f := range onu.SetUNILoss(0, true) {
		fmt.Printf("notification: tci %x type %#x class %d instance %#x\n", f[:2], f[2], int(f[4])<<8|int(f[5]), int(f[6])<<8|int(f[7]))
	}
	// Output:
	// 1 frame(s), err <nil>, answer type 0x2f, result 0
	// notification: tci 0000 type 0x10 class 11 instance 0x101
}
