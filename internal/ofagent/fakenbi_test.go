package ofagent

import (
	"fmt"
	"testing"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/nbi/nbitest"
	"github.com/openvolt/openvolt/internal/testkit"
)

// newFakeNBI is an empty fake core (nbitest.Fake): the tests add logical
// devices and hooks.
func newFakeNBI() *nbitest.Fake { return nbitest.New() }

// waitPacketInStreams waits until n packet-in streams are open on f. The
// agent is ready once it has read the logical devices; its packet-in
// stream opens beside that and may not be in place yet.
func waitPacketInStreams(t testing.TB, f *nbitest.Fake, n int) {
	t.Helper()
	probe := &voltv1.Event{Payload: &voltv1.Event_PacketIn{PacketIn: &voltv1.PacketIn{}}}
	testkit.Eventually(t, fmt.Sprintf("%d packet-in streams", n), func() error {
		if got := f.Streams(probe); got != n {
			return fmt.Errorf("%d packet-in streams open", got)
		}
		return nil
	})
}
