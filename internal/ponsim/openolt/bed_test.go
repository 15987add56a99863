package openolt_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/opencord/voltha-protos/v5/go/openolt"
	"go.uber.org/goleak"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/openvolt/openvolt/internal/ponsim"
	face "github.com/openvolt/openvolt/internal/ponsim/openolt"
	"github.com/openvolt/openvolt/internal/ponsim/openolt/oltclient"
	"github.com/openvolt/openvolt/internal/testkit"
	"github.com/openvolt/openvolt/logging"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// bed is a ponsim with its openolt face served on a random port, and a
// client.
type bed struct {
	sim  *ponsim.Sim
	face *face.Server
	c    *oltclient.Client
	addr string
}

func newBed(t testing.TB, pons, onus int, cfg face.Config) *bed {
	t.Helper()
	sim, err := ponsim.New(ponsim.Config{Name: "openolt-test", PONPorts: pons, ONUsPerPON: onus, RebootDelay: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	f, err := face.Attach(sim, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addrc, errc := make(chan string, 1), make(chan error, 1)
	go func() { errc <- sim.Serve(ctx, "127.0.0.1:0", logging.Discard(), func(a string) { addrc <- a }) }()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-errc:
		cancel()
		t.Fatal(err)
	}
	c, err := oltclient.Dial(addr)
	if err != nil {
		cancel()
		<-errc
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return &bed{sim: sim, face: f, c: c, addr: addr}
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func wantCode(t testing.TB, what string, err error, code codes.Code) {
	t.Helper()
	if status.Code(err) != code {
		t.Errorf("%s: %v, want %v", what, err, code)
	}
}

// kind names an indication for assertions.
func kind(ind *openolt.Indication) string {
	switch d := ind.GetData().(type) {
	case *openolt.Indication_OltInd:
		return "olt " + d.OltInd.GetOperState()
	case *openolt.Indication_IntfInd:
		return fmt.Sprintf("intf %d %s", d.IntfInd.GetIntfId(), d.IntfInd.GetOperState())
	case *openolt.Indication_IntfOperInd:
		return fmt.Sprintf("%s %d %s", d.IntfOperInd.GetType(), d.IntfOperInd.GetIntfId(), d.IntfOperInd.GetOperState())
	case *openolt.Indication_OnuDiscInd:
		return fmt.Sprintf("discovered %d", d.OnuDiscInd.GetIntfId())
	case *openolt.Indication_OnuInd:
		return fmt.Sprintf("onu %d/%d %s", d.OnuInd.GetIntfId(), d.OnuInd.GetOnuId(), d.OnuInd.GetOperState())
	case *openolt.Indication_PktInd:
		return "packet " + d.PktInd.GetIntfType()
	case *openolt.Indication_PortStats:
		return "stats"
	}
	return fmt.Sprintf("%T", ind.GetData())
}

// expectStart reads what a first indication stream starts with and returns
// the discovered ONUs' serial numbers by PON.
func expectStart(t testing.TB, ctx context.Context, c *oltclient.Client, pons, onus int) map[uint32][]*openolt.SerialNumber {
	t.Helper()
	connect(t, ctx, c)
	want := []string{"nni 0 up"}
	for p := range pons {
		want = append(want, fmt.Sprintf("intf %d up", p), fmt.Sprintf("pon %d up", p))
	}
	for _, w := range want {
		ind, err := c.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if kind(ind) != w {
			t.Fatalf("indication %q, want %q", kind(ind), w)
		}
	}
	disc := map[uint32][]*openolt.SerialNumber{}
	for range pons * onus {
		ind, err := c.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		d := ind.GetOnuDiscInd()
		if d == nil {
			t.Fatalf("indication %q, want an onu discovery", kind(ind))
		}
		disc[d.GetIntfId()] = append(disc[d.GetIntfId()], d.GetSerialNumber())
	}
	return disc
}

// connect opens the indication stream, again while the OLT is not up
// (rebooting), and reads its first indication: OLT up.
func connect(t testing.TB, ctx context.Context, c *oltclient.Client) {
	t.Helper()
	testkit.Eventually(t, "indication stream", func() error {
		if err := c.Connect(ctx); err != nil {
			return err
		}
		ind, err := c.Next(ctx)
		if err != nil {
			return err
		}
		if kind(ind) != "olt up" {
			t.Fatalf("first indication %q, want olt up", kind(ind))
		}
		return nil
	})
}

// wire keeps what a simulator port sends.
type wire struct {
	mu     sync.Mutex // guards frames
	frames [][]byte
}

func (w *wire) fn(b []byte) {
	w.mu.Lock()
	w.frames = append(w.frames, b)
	w.mu.Unlock()
}

func (w *wire) take() [][]byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	f := w.frames
	w.frames = nil
	return f
}

func wantFrames(t testing.TB, what string, got [][]byte, want ...[]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d frames, want %d: % x", what, len(got), len(want), got)
		return
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("%s: frame %d\n got % x\nwant % x", what, i, got[i], want[i])
		}
	}
}

var (
	hostMAC = []byte{0x02, 0, 0, 0, 0, 1}
	netMAC  = []byte{0x02, 0, 0, 0, 0, 2}
)

// frame is an Ethernet frame host → network with tags (tpid, vid) outer
// first.
func frame(src, dst []byte, typ uint16, payload []byte, tags ...[2]uint16) []byte {
	for len(payload) < 46 {
		payload = append(payload, 0)
	}
	b := append(append([]byte{}, dst...), src...)
	for _, tg := range tags {
		b = binary.BigEndian.AppendUint16(b, tg[0])
		b = binary.BigEndian.AppendUint16(b, tg[1])
	}
	b = binary.BigEndian.AppendUint16(b, typ)
	return append(b, payload...)
}

// udp4 is an IPv4 header and a UDP header from sport to dport.
func udp4(sport, dport uint16) []byte {
	ip := []byte{0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2}
	u := binary.BigEndian.AppendUint16(nil, sport)
	u = binary.BigEndian.AppendUint16(u, dport)
	u = append(u, 0, 8, 0, 0)
	return append(ip, u...)
}
