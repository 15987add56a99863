package ponsimonu

import (
	"context"
	"fmt"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/prototext"

	"github.com/openvolt/openvolt/adapter"
	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	ponsimv1 "github.com/openvolt/openvolt/api/ponsim/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/adapters/flowpush"
)

// Flows and packet-out of an ONU.
//
// Each ONU's flow, group and meter tables are kept here and pushed, as
// changes or whole when they must be, to the ponsim of its parent OLT
// (flowpush), naming the ONU by its serial
// number. The parent's address is asked of the core once per OLT. The OLT
// adapter empties every ONU table when it adopts the OLT, and a deleted
// ONU's table is emptied here; when the connection to a ponsim comes back
// after it was lost (ponsim restarted), every ONU table on it is pushed
// again. The core's flow updates answer once ponsim has the flows.

var (
	_ adapter.IncrementalFlowUpdater = (*handler)(nil)
	_ adapter.BulkFlowUpdater        = (*handler)(nil)
	_ adapter.PacketSender           = (*handler)(nil)
)

// onuFlows is one ONU's table and where it goes.
type onuFlows struct {
	table *flowpush.Table

	mu     sync.Mutex // guards addr
	addr   string     // the ponsim of the parent OLT; "" until known
	serial string
}

func (f *onuFlows) target() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.addr
}

// parentAddr is the ponsim address of one OLT, asked of the core once.
type parentAddr struct {
	mu   sync.Mutex // held while asking; guards addr
	addr string
}

// onu returns the flows of ONU d, made on first use, with the address of
// its ponsim.
func (h *handler) onu(ctx context.Context, d *voltv1.Device) (*onuFlows, error) {
	if d.GetSerialNumber() == "" {
		return nil, status.Errorf(codes.FailedPrecondition, "ONU %s has no serial number: ponsim cannot name it", d.GetId())
	}
	h.mu.Lock()
	f := h.flows[d.GetId()]
	if f == nil {
		f = &onuFlows{serial: d.GetSerialNumber()}
		id := d.GetId()
		f.table = flowpush.NewIncremental(f.serial,
			func(ctx context.Context, ft *ponsimv1.FlowTable) error { return h.pushTable(ctx, id, f, ft) },
			func(ctx context.Context, fc *ponsimv1.FlowChanges) error { return h.pushChanges(ctx, id, f, fc) })
		h.flows[id] = f
	}
	h.mu.Unlock()
	if f.target() != "" {
		return f, nil
	}
	addr, err := h.parent(ctx, d)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.addr = addr
	f.mu.Unlock()
	return f, nil
}

// parent returns the ponsim address of ONU d's OLT, asking the core the
// first time.
func (h *handler) parent(ctx context.Context, d *voltv1.Device) (string, error) {
	id := parentID(d)
	h.mu.Lock()
	p := h.parents[id]
	if p == nil {
		p = &parentAddr{}
		h.parents[id] = p
	}
	h.mu.Unlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.addr != "" {
		return p.addr, nil
	}
	dev, err := h.core.GetDevice(ctx, &adapterv1.DeviceRequest{DeviceId: id})
	if err != nil {
		return "", fmt.Errorf("ONU %s: get parent OLT %s: %w", d.GetId(), id, err)
	}
	if dev.GetHostAndPort() == "" {
		return "", status.Errorf(codes.FailedPrecondition, "ONU %s: parent OLT %s has no host_and_port to reach ponsim", d.GetId(), id)
	}
	p.addr = dev.GetHostAndPort()
	return p.addr, nil
}

// learnParent records the address of an OLT the adapter read anyway.
func (h *handler) learnParent(id, addr string) {
	h.mu.Lock()
	p := h.parents[id]
	h.mu.Unlock()
	if p != nil {
		p.mu.Lock()
		p.addr = addr
		p.mu.Unlock()
	}
}

func parentID(d *voltv1.Device) string {
	if id := d.GetProxyAddress().GetDeviceId(); id != "" {
		return id
	}
	return d.GetParentId()
}

// pushTable replaces the ONU's table in the ponsim of its OLT.
func (h *handler) pushTable(ctx context.Context, id string, f *onuFlows, ft *ponsimv1.FlowTable) error {
	return h.push(ctx, id, f, "update flow table", len(ft.GetFlows()), func(ctx context.Context, c ponsimv1.PonSimClient) error {
		_, err := c.UpdateFlowTable(ctx, ft)
		return err
	})
}

// pushChanges sends changes to the ONU's table to the ponsim of its OLT.
func (h *handler) pushChanges(ctx context.Context, id string, f *onuFlows, fc *ponsimv1.FlowChanges) error {
	return h.push(ctx, id, f, "update flows", prototext.MarshalOptions{}.Format(fc), func(ctx context.Context, c ponsimv1.PonSimClient) error {
		_, err := c.UpdateFlows(ctx, fc)
		return err
	})
}

// push makes one call (what) to the ponsim of the ONU's OLT; detail is
// logged with it.
func (h *handler) push(ctx context.Context, id string, f *onuFlows, what string, detail any,
	call func(context.Context, ponsimv1.PonSimClient) error) error {
	addr := f.target()
	if addr == "" {
		return status.Errorf(codes.FailedPrecondition, "ONU %s: the ponsim of its OLT is not known yet", id)
	}
	cc, err := h.conn(addr)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	err = call(ctx, ponsimv1.NewPonSimClient(cc))
	h.log.Debug("ONU flows to ponsim", "device", id, "serial", f.serial, "ponsim", addr, "call", what, "detail", detail, "err", err)
	if err != nil {
		st := status.Convert(err)
		return status.Errorf(st.Code(), "ponsim at %s: %s of ONU %s: %s", addr, what, f.serial, st.Message())
	}
	return nil
}

// UpdateFlowsIncrementally applies the core's changes to the ONU's table
// and answers once ponsim has it.
func (h *handler) UpdateFlowsIncrementally(ctx context.Context, req *adapterv1.IncrementalFlowsRequest) error {
	f, err := h.onu(ctx, req.GetDevice())
	if err != nil {
		return err
	}
	return f.table.Update(ctx, req)
}

// UpdateFlowsBulk replaces the ONU's table and answers once ponsim has
// it.
func (h *handler) UpdateFlowsBulk(ctx context.Context, req *adapterv1.BulkFlowsRequest) error {
	f, err := h.onu(ctx, req.GetDevice())
	if err != nil {
		return err
	}
	return f.table.Replace(ctx, req.GetFlows(), req.GetGroups(), req.GetMeters())
}

// SendPacketOut sends the frame out of a port of the ONU (its UNI).
func (h *handler) SendPacketOut(ctx context.Context, req *adapterv1.PacketOutRequest) error {
	f, err := h.onu(ctx, req.GetDevice())
	if err != nil {
		return err
	}
	cc, err := h.conn(f.target())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	_, err = ponsimv1.NewPonSimClient(cc).SendFrame(ctx, &ponsimv1.Frame{
		Device: &ponsimv1.DeviceRef{SerialNumber: f.serial}, PortNo: req.GetEgressPortNo(), Payload: req.GetPacket().GetData(),
	})
	if err != nil {
		st := status.Convert(err)
		return status.Errorf(st.Code(), "ponsim at %s: packet-out on ONU %s: %s", f.target(), f.serial, st.Message())
	}
	return nil
}

// forgetFlows drops a deleted ONU's table and empties it in ponsim, best
// effort: the core has no flows for the ONU any more, and when it comes
// back it is adopted anew.
func (h *handler) forgetFlows(ctx context.Context, id string) {
	h.mu.Lock()
	f := h.flows[id]
	delete(h.flows, id)
	h.mu.Unlock()
	if f == nil || f.target() == "" || !f.table.Touched() {
		return
	}
	if err := flowpush.New(f.serial, func(ctx context.Context, ft *ponsimv1.FlowTable) error {
		return h.pushTable(ctx, id, f, ft)
	}).Replace(ctx, nil, nil, nil); err != nil {
		h.log.Info("deleted ONU's flows left in ponsim", "device", id, "err", err)
	}
}

// watch follows the connection to one ponsim, keeping it connected, and
// pushes the ONU tables on it again each time it comes back after it was
// lost: ponsim may have restarted without them.
func (h *handler) watch(ctx context.Context, addr string, cc *grpc.ClientConn) {
	lost := false
	for {
		st := cc.GetState()
		switch st {
		case connectivity.Idle:
			cc.Connect()
		case connectivity.Ready:
			if lost {
				h.resendAll(addr)
			}
			lost = false
		case connectivity.TransientFailure, connectivity.Shutdown:
			lost = true
		}
		if !cc.WaitForStateChange(ctx, st) {
			return
		}
		if st == connectivity.Ready {
			lost = true // whatever comes next, the connection went
		}
	}
}

// resendAll queues a push of every ONU table that goes to addr, each in
// its ONU's queue.
func (h *handler) resendAll(addr string) {
	h.mu.Lock()
	var again []*onuFlows
	var ids []string
	for id, f := range h.flows {
		if f.target() == addr && f.table.Touched() {
			again = append(again, f)
			ids = append(ids, id)
		}
	}
	h.mu.Unlock()
	if len(again) > 0 {
		h.log.Info("ponsim is back: pushing the ONU tables again", "ponsim", addr, "onus", len(again))
	}
	for i, f := range again {
		h.a.Submit(ids[i]+"/flows", func(ctx context.Context) error { return f.table.Resend(ctx) })
	}
}
