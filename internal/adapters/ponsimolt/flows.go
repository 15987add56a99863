package ponsimolt

import (
	"context"
	"sync"
	"sync/atomic"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/openvolt/openvolt/adapter"
	"github.com/openvolt/openvolt/adapter/portno"
	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	ponsimv1 "github.com/openvolt/openvolt/api/ponsim/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/adapters/flowpush"
)

// Flows, packet-in and packet-out of the OLT.
//
// The OLT's flow, group and meter tables are kept per device (they outlive
// a reconnection, which replaces the olt) and pushed to ponsim as changes,
// or whole when they must be (flowpush). A new adoption starts ponsim's OLT and ONUs from empty
// tables; when ponsim comes back from an outage it gets the table again. The
// core's UpdateFlowsIncrementally and UpdateFlowsBulk answer once ponsim
// has the flows.
//
// Packet-in: the session follows ponsim's ReceiveFrames beside its
// events and gives each frame to the core with the logical port it came
// in by: the NNI, or the UNI of the subscriber (ponsim names it for frames
// trapped at the OLT from the PON: their GEM port; for frames trapped at
// an ONU: its UNI).

var (
	_ adapter.IncrementalFlowUpdater = (*handler)(nil)
	_ adapter.BulkFlowUpdater        = (*handler)(nil)
	_ adapter.PacketSender           = (*handler)(nil)
)

// maxPendingPacketIns bounds the packet-ins of one OLT on their way to the
// core; past it frames are dropped (and counted), as a real OLT's trap
// queue would.
const maxPendingPacketIns = 4096

// table returns the OLT's table, made on first use.
func (h *handler) table(id string) *flowpush.Table {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.tables[id]
	if t == nil {
		t = flowpush.NewIncremental("",
			func(ctx context.Context, ft *ponsimv1.FlowTable) error { return h.pushTable(ctx, id, ft) },
			func(ctx context.Context, fc *ponsimv1.FlowChanges) error { return h.pushChanges(ctx, id, fc) })
		h.tables[id] = t
	}
	return t
}

// existingTable returns the OLT's table or nil.
func (h *handler) existingTable(id string) *flowpush.Table {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.tables[id]
}

// pushTable sends ft to the ponsim of the OLT as it is now.
func (h *handler) pushTable(ctx context.Context, id string, ft *ponsimv1.FlowTable) error {
	h.mu.Lock()
	o := h.olts[id]
	h.mu.Unlock()
	if o == nil {
		return status.Errorf(codes.FailedPrecondition, "OLT %s is not adopted by this adapter", id)
	}
	return o.updateTable(ctx, ft)
}

// pushChanges sends changes to the OLT's table to its ponsim.
func (h *handler) pushChanges(ctx context.Context, id string, fc *ponsimv1.FlowChanges) error {
	h.mu.Lock()
	o := h.olts[id]
	h.mu.Unlock()
	if o == nil {
		return status.Errorf(codes.FailedPrecondition, "OLT %s is not adopted by this adapter", id)
	}
	return o.updateFlows(ctx, fc)
}

// current returns the OLT of d, rebuilt (in the device's queue) when this
// adapter has none for it yet.
func (h *handler) current(ctx context.Context, d *voltv1.Device) (*olt, error) {
	if err := checkAddress(d); err != nil {
		return nil, err
	}
	h.mu.Lock()
	o := h.olts[d.GetId()]
	h.mu.Unlock()
	if o != nil && o.addr == d.GetHostAndPort() {
		return o, nil
	}
	err := h.a.Do(ctx, d.GetId(), func(context.Context) error {
		o = h.attach(d)
		return nil
	})
	return o, err
}

// UpdateFlowsIncrementally applies the core's changes to the OLT's table
// and answers once ponsim has it.
func (h *handler) UpdateFlowsIncrementally(ctx context.Context, req *adapterv1.IncrementalFlowsRequest) error {
	if _, err := h.current(ctx, req.GetDevice()); err != nil {
		return err
	}
	return h.table(req.GetDevice().GetId()).Update(ctx, req)
}

// UpdateFlowsBulk replaces the OLT's table and answers once ponsim has
// it.
func (h *handler) UpdateFlowsBulk(ctx context.Context, req *adapterv1.BulkFlowsRequest) error {
	if _, err := h.current(ctx, req.GetDevice()); err != nil {
		return err
	}
	return h.table(req.GetDevice().GetId()).Replace(ctx, req.GetFlows(), req.GetGroups(), req.GetMeters())
}

// SendPacketOut sends the frame out of an OLT port (the NNI).
func (h *handler) SendPacketOut(ctx context.Context, req *adapterv1.PacketOutRequest) error {
	o, err := h.current(ctx, req.GetDevice())
	if err != nil {
		return err
	}
	if o.dialErr != nil {
		return o.dialErr
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	_, err = o.sim.SendFrame(ctx, &ponsimv1.Frame{Device: &ponsimv1.DeviceRef{}, PortNo: req.GetEgressPortNo(), Payload: req.GetPacket().GetData()})
	if err != nil {
		return o.simError("packet-out", err)
	}
	return nil
}

// updateTable pushes a whole table to ponsim's OLT.
func (o *olt) updateTable(ctx context.Context, ft *ponsimv1.FlowTable) error {
	if o.dialErr != nil {
		return o.dialErr
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if _, err := o.sim.UpdateFlowTable(ctx, ft); err != nil {
		return o.simError("update flow table", err)
	}
	return nil
}

// updateFlows sends changes to ponsim's OLT table.
func (o *olt) updateFlows(ctx context.Context, fc *ponsimv1.FlowChanges) error {
	if o.dialErr != nil {
		return o.dialErr
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if _, err := o.sim.UpdateFlows(ctx, fc); err != nil {
		return o.simError("update flows", err)
	}
	return nil
}

// tablesOnConnect is what a session does with the flow tables once it
// reaches ponsim, before it reports anything. An adoption starts ponsim
// from empty tables, the OLT's and every ONU's: the core has no flows for
// devices it adopts, and ponsim keeps its tables as long as it runs. After
// an outage ponsim gets the OLT's table again (it may have restarted
// without it; the ONU adapter does the same for the ONUs). A table the
// core never filled since this adapter started is left alone: the core
// sends it whole when it reconciles.
func (h *handler) tablesOnConnect(ctx context.Context, o *olt, info *ponsimv1.DeviceInfo, adopting bool) error {
	if adopting {
		t := h.table(o.id)
		if !t.Touched() {
			if err := t.Replace(ctx, nil, nil, nil); err != nil {
				return err
			}
			return o.emptyONUTables(ctx, info.GetOnus())
		}
	}
	if t := h.existingTable(o.id); t != nil && t.Touched() {
		return t.Resend(ctx)
	}
	return nil
}

// emptyONUTables empties the flow tables of the ONUs in ponsim, a few at
// a time.
func (o *olt) emptyONUTables(ctx context.Context, onus []*ponsimv1.OnuInfo) error {
	const inFlight = 8
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, inFlight)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex // guards first
		first error
	)
	for _, onu := range onus {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			err := o.updateTable(ctx, &ponsimv1.FlowTable{Device: &ponsimv1.DeviceRef{SerialNumber: onu.GetSerialNumber()}})
			if err != nil {
				mu.Lock()
				if first == nil {
					first = err
					cancel()
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

// followFrames relays ponsim's packet-ins to the core until the stream
// ends. Each logical port has a queue, so frames of one port stay in
// order and ports do not wait for each other.
func (h *handler) followFrames(ctx context.Context, o *olt, stream grpc.ServerStreamingClient[ponsimv1.Frame]) {
	var pending atomic.Int64
	for {
		fr, err := stream.Recv()
		if err != nil {
			if ctx.Err() == nil {
				o.log.Debug("packet-in stream ended", "err", err)
			}
			return
		}
		port, ok := logicalPort(fr)
		if !ok {
			o.log.Debug("packet-in from a port that is no logical port: dropped",
				"device", fr.GetDevice().GetSerialNumber(), "port", fr.GetPortNo())
			continue
		}
		if pending.Add(1) > maxPendingPacketIns {
			pending.Add(-1)
			if n := o.packetInsDropped.Add(1); n&(n-1) == 0 {
				o.log.Warn("packet-ins dropped: the core does not take them as fast as they come", "dropped", n)
			}
			continue
		}
		req := &adapterv1.PacketInRequest{DeviceId: o.id, PortNo: port, Packet: fr.GetPayload()}
		h.a.Submit(packetInKey(o, port), func(ctx context.Context) error {
			defer pending.Add(-1)
			_, err := h.core.SendPacketIn(ctx, req)
			return err
		})
	}
}

func packetInKey(o *olt, port uint32) string {
	return o.id + "/packet-in/" + portno.Name(port)
}

// logicalPort is the logical port a ponsim packet-in came in by: the NNI,
// or a UNI (ponsim names the UNI of a frame trapped at the OLT from the
// PON, and an ONU's trap comes from its UNI). A frame trapped on a PON
// port that carried no GEM port has none.
func logicalPort(fr *ponsimv1.Frame) (uint32, bool) {
	p := fr.GetPortNo()
	return p, portno.IsNNI(p) || portno.IsUNI(p)
}

// openFrames opens the packet-in stream of a session.
func (o *olt) openFrames(ctx context.Context) (grpc.ServerStreamingClient[ponsimv1.Frame], error) {
	st, err := o.sim.ReceiveFrames(ctx, &emptypb.Empty{})
	if err != nil {
		return nil, o.simError("receive frames", err)
	}
	return st, nil
}
