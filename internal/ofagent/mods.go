package ofagent

import (
	"context"
	"encoding/binary"
	"hash/fnv"
	"slices"
	"sync"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/status"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/openflow/ofp13"
)

// sequencer runs one connection's table changes against the core, as
// fast as OpenFlow allows. Without a barrier a switch may reorder messages
// (OpenFlow 1.3.5 §6.2), but controllers rely on some orders anyway, so the
// sequencer keeps these:
//
//   - flow-mods that name one flow (add, modify-strict, delete-strict with
//     the same table, priority and match) apply in the order sent;
//   - group-mods, meter-mods, port-mods and the wildcard flow-mods (modify,
//     delete) are fences: they start when everything before them is done,
//     and everything after them waits for them;
//   - barrier, packet-out and every read (multipart) wait for everything
//     before them, so a read sees the writes sent before it.
//
// Other flow-mods go to the core in batches, one NBI call each
// (UpdateLogicalDeviceFlowTables, which applies a batch in order): a
// dispatcher goroutine takes what has queued up while the previous batches
// were in the core, so a busy controller gets large batches and an idle one
// gets each mod sent at once. At most batchesInFlight batches are in the
// core at once, and at most MaxInFlight flow-mods are accepted and not yet
// done; beyond that the reader stops reading, and TCP pushes back on the
// controller. A failed mod is answered with an error carrying its xid.
//
// Only the reader goroutine calls launch, fence, wait and close.
type sequencer struct {
	c        *conn
	sem      chan struct{}  // one slot per flow-mod accepted and not done
	queue    chan flowOp    // accepted flow-mods, for the dispatcher
	batches  chan struct{}  // one slot per batch in the core
	ops      sync.WaitGroup // flow-mods accepted and not done
	finished chan struct{}  // closed when the dispatcher returns

	mu   sync.Mutex               // guards last
	last map[uint64]chan struct{} // flow key → done of the last batch in flight with it
}

// flowOp is one flow-mod waiting for a batch.
type flowOp struct {
	key uint64
	raw []byte
	fm  *openflowv1.FlowMod
}

const (
	// batchesInFlight bounds the batches of one connection in the core.
	batchesInFlight = 4
	// maxBatch bounds the flow-mods of one batch (one NBI call).
	maxBatch = 1024
	// maxBatchBytes bounds a batch's flow-mods in OpenFlow bytes, well
	// under gRPC's 4 MiB message limit.
	maxBatchBytes = 1 << 20
)

func newSequencer(c *conn, maxInFlight int) *sequencer {
	return &sequencer{
		c:        c,
		sem:      make(chan struct{}, maxInFlight),
		queue:    make(chan flowOp, maxInFlight),
		batches:  make(chan struct{}, batchesInFlight),
		finished: make(chan struct{}),
		last:     map[uint64]chan struct{}{},
	}
}

// serve starts the dispatcher; close stops it.
func (s *sequencer) serve() { go s.dispatch() }

// wait returns when every mod accepted so far is done.
func (s *sequencer) wait() { s.ops.Wait() }

// close lets the mods accepted so far finish, then stops the dispatcher.
func (s *sequencer) close() {
	s.ops.Wait()
	close(s.queue)
	<-s.finished
}

// launch queues a flow-mod for the next batch; it blocks only while
// MaxInFlight mods are accepted and not done. On failure the error reply
// for raw goes out before the mod counts as done, so a later barrier reply
// follows it.
func (s *sequencer) launch(key uint64, raw []byte, fm *openflowv1.FlowMod) {
	select {
	case s.sem <- struct{}{}:
	case <-s.c.ctx.Done():
		return
	}
	s.ops.Add(1)
	s.queue <- flowOp{key: key, raw: raw, fm: fm} // never blocks: sem bounds it
}

// dispatch forms batches from the queue until close. It waits for a free
// batch slot before it takes more than the first mod, so what arrives
// while the core is busy joins the next batch.
func (s *sequencer) dispatch() {
	defer close(s.finished)
	var carry *flowOp // taken from the queue, for the next batch
	for {
		var op flowOp
		if carry != nil {
			op, carry = *carry, nil
		} else {
			var ok bool
			if op, ok = <-s.queue; !ok {
				return
			}
		}
		s.batches <- struct{}{}
		b, size := []flowOp{op}, len(op.raw)
	fill:
		for len(b) < maxBatch {
			select {
			case next, ok := <-s.queue:
				if !ok {
					break fill
				}
				if size+len(next.raw) > maxBatchBytes {
					carry = &next
					break fill
				}
				b, size = append(b, next), size+len(next.raw)
			default:
				break fill
			}
		}
		s.startBatch(b)
	}
}

// startBatch runs a batch in its own goroutine once every earlier batch that
// holds one of its flows is done.
func (s *sequencer) startBatch(b []flowOp) {
	done := make(chan struct{})
	var prev []chan struct{}
	s.mu.Lock()
	for _, op := range b {
		if p := s.last[op.key]; p != nil && p != done && !slices.Contains(prev, p) {
			prev = append(prev, p)
		}
		s.last[op.key] = done
	}
	s.mu.Unlock()
	go func() {
		for _, p := range prev {
			<-p
		}
		s.runBatch(b)
		<-s.batches
		s.mu.Lock()
		for _, op := range b {
			if s.last[op.key] == done {
				delete(s.last, op.key)
			}
		}
		s.mu.Unlock()
		close(done)
		for range b {
			<-s.sem
			s.ops.Done()
		}
	}()
}

// runBatch makes one NBI call for a batch and answers each failure with an
// OpenFlow error, in the order of the batch. The call is bounded by the
// datapath's life, not the connection's: a change already sent to the core
// is seen through even if the controller goes.
func (s *sequencer) runBatch(b []flowOp) {
	a := s.c.dp.a
	req := &voltv1.FlowTableUpdates{Id: s.c.dp.id, FlowMods: make([]*openflowv1.FlowMod, len(b))}
	for i, op := range b {
		req.FlowMods[i] = op.fm
		// Here, not in the reader: a device's refusal comes after the
		// core stored the mod, so after this call began (refusals.go).
		if op.fm.GetCommand() != openflowv1.FlowModCommand_FLOW_MOD_COMMAND_DELETE_STRICT {
			s.c.dp.refusals.remember(op.key, s.c, op.raw)
		}
	}
	ctx, cancel := a.call(s.c.dp.ctx)
	res, err := a.nbi.UpdateLogicalDeviceFlowTables(ctx, req)
	cancel()
	if err != nil {
		e := ofError(opFlow, err)
		for _, op := range b {
			s.c.refuse(op.raw, e)
		}
		return
	}
	for _, f := range res.GetFailures() {
		if i := int(f.GetIndex()); i < len(b) {
			st := f.GetStatus()
			err := status.ErrorProto(&spb.Status{Code: st.GetCode(), Message: st.GetMessage(), Details: st.GetDetails()})
			s.c.refuse(b[i].raw, ofError(opFlow, err))
		}
	}
}

// fence runs call after every earlier mod and before any later one.
func (s *sequencer) fence(raw []byte, kind opKind, call func(context.Context) error) {
	s.ops.Wait()
	a := s.c.dp.a
	ctx, cancel := a.call(s.c.dp.ctx)
	err := call(ctx)
	cancel()
	if err != nil {
		s.c.refuse(raw, ofError(kind, err))
	}
}

// flowKey identifies the flow a flow-mod names: table, priority and the
// match with its fields in a canonical order and masked values normalised.
// Two mods with the same key must apply in order; a collision only orders
// two mods that need not be.
func flowKey(m *ofp13.FlowMod) uint64 {
	h := fnv.New64a()
	var hdr [3]byte
	hdr[0] = m.TableID
	binary.BigEndian.PutUint16(hdr[1:], m.Priority)
	h.Write(hdr[:])
	fields := slices.Clone(m.Match.Fields)
	slices.SortFunc(fields, func(a, b ofp13.OXM) int { return int(a.Field) - int(b.Field) })
	for _, f := range fields {
		h.Write([]byte{byte(f.Field), byte(len(f.Value))})
		for i, v := range f.Value {
			if f.Mask != nil && i < len(f.Mask) {
				v &= f.Mask[i]
			}
			h.Write([]byte{v})
		}
		h.Write(f.Mask)
	}
	return h.Sum64()
}

func (c *conn) flowMod(raw []byte, m *ofp13.FlowMod) *ofp13.Error {
	if m.BufferID != ofp13.NoBuffer {
		return ofp13.Errorf(ofp13.ErrTypeBadRequest, ofp13.BadRequestBufferUnknown, "buffer %d: the switch keeps no buffers", m.BufferID)
	}
	fm := ofp13.FlowModToProto(m)
	switch m.Command {
	case ofp13.FlowAdd, ofp13.FlowModifyStrict, ofp13.FlowDeleteStrict:
		c.mods.launch(flowKey(m), raw, fm)
	default:
		req := &voltv1.FlowTableUpdate{Id: c.dp.id, FlowMod: fm}
		c.mods.fence(raw, opFlow, func(ctx context.Context) error {
			_, err := c.dp.a.nbi.UpdateLogicalDeviceFlowTable(ctx, req)
			return err
		})
	}
	return nil
}

func (c *conn) groupMod(raw []byte, m *ofp13.GroupMod) *ofp13.Error {
	req := &voltv1.FlowGroupTableUpdate{Id: c.dp.id, GroupMod: ofp13.GroupModToProto(m)}
	c.mods.fence(raw, opGroup, func(ctx context.Context) error {
		_, err := c.dp.a.nbi.UpdateLogicalDeviceFlowGroupTable(ctx, req)
		return err
	})
	return nil
}

func (c *conn) meterMod(raw []byte, m *ofp13.MeterMod) *ofp13.Error {
	req := &voltv1.MeterModUpdate{Id: c.dp.id, MeterMod: ofp13.MeterModToProto(m)}
	c.mods.fence(raw, opMeter, func(ctx context.Context) error {
		_, err := c.dp.a.nbi.UpdateLogicalDeviceMeterTable(ctx, req)
		return err
	})
	return nil
}

// portMod takes a port administratively down or up (OFPPC_PORT_DOWN);
// the core has no other port setting to change.
func (c *conn) portMod(m *ofp13.PortMod) *ofp13.Error {
	c.mods.wait()
	lp, ok := c.dp.port(m.PortNo)
	if !ok {
		return ofp13.Errorf(ofp13.ErrTypePortModFailed, ofp13.PortModFailedBadPort, "no port %d", m.PortNo)
	}
	if hw := lp.GetOfpPort().GetHwAddr(); len(hw) == 6 && [6]byte(hw) != m.HWAddr {
		return ofp13.Errorf(ofp13.ErrTypePortModFailed, ofp13.PortModFailedBadHWAddr, "port %d has hw_addr %x", m.PortNo, hw)
	}
	if m.Mask&^ofp13.PortConfigPortDown != 0 {
		return ofp13.Errorf(ofp13.ErrTypePortModFailed, ofp13.PortModFailedBadConfig,
			"config mask %#x: only OFPPC_PORT_DOWN can be changed", m.Mask)
	}
	if m.Mask == 0 {
		return nil
	}
	id := &voltv1.LogicalPortID{LogicalDeviceId: c.dp.id, PortId: lp.GetId()}
	ctx, cancel := c.dp.a.call(c.dp.ctx)
	defer cancel()
	var err error
	if m.Config&ofp13.PortConfigPortDown != 0 {
		_, err = c.dp.a.nbi.DisableLogicalDevicePort(ctx, id)
	} else {
		_, err = c.dp.a.nbi.EnableLogicalDevicePort(ctx, id)
	}
	if err != nil {
		return ofError(opPort, err)
	}
	return nil
}

// tableMod accepts what OpenFlow 1.3 leaves of table-mod: no config bits.
func (c *conn) tableMod(m *ofp13.TableMod) *ofp13.Error {
	if m.TableID != ofp13.TableAll && m.TableID >= c.nTables() {
		return ofp13.Errorf(ofp13.ErrTypeTableModFailed, ofp13.TableModFailedBadTable, "no table %d", m.TableID)
	}
	if m.Config != 0 {
		return ofp13.Errorf(ofp13.ErrTypeTableModFailed, ofp13.TableModFailedBadConfig, "config %#x", m.Config)
	}
	return nil
}

// packetOut checks what the core would refuse without saying so (it takes
// packet-outs on a stream with no reply) and queues the frame.
func (c *conn) packetOut(m *ofp13.PacketOut) *ofp13.Error {
	if m.BufferID != ofp13.NoBuffer {
		return ofp13.Errorf(ofp13.ErrTypeBadRequest, ofp13.BadRequestBufferUnknown, "buffer %d: the switch keeps no buffers", m.BufferID)
	}
	if _, ok := c.dp.port(m.InPort); !ok && m.InPort != ofp13.PortController && m.InPort != ofp13.PortAny {
		return ofp13.Errorf(ofp13.ErrTypeBadRequest, ofp13.BadRequestBadPort, "in_port %d does not exist", m.InPort)
	}
	for _, a := range m.Actions {
		out, ok := a.(*ofp13.ActionOutput)
		if !ok {
			return ofp13.Errorf(ofp13.ErrTypeBadAction, ofp13.BadActionBadType, "packet-out takes output actions only, not %v", a.Type())
		}
		if _, ok := c.dp.port(out.Port); !ok {
			return ofp13.Errorf(ofp13.ErrTypeBadAction, ofp13.BadActionBadOutPort, "output to %d: packet-out goes to existing ports only", out.Port)
		}
	}
	if len(m.Actions) == 0 {
		return nil // no action: the frame is dropped
	}
	c.mods.wait()
	po := &voltv1.PacketOut{LogicalDeviceId: c.dp.id, PacketOut: ofp13.PacketOutToProto(m)}
	select {
	case c.dp.a.pktOut <- po:
	case <-c.ctx.Done():
	}
	return nil
}

// outputs reports whether instructions output to port.
func outputs(ins []ofp13.Instruction, port uint32) bool {
	return anyAction(ins, func(a ofp13.Action) bool {
		o, ok := a.(*ofp13.ActionOutput)
		return ok && o.Port == port
	})
}

// usesGroup reports whether instructions send to group g.
func usesGroup(ins []ofp13.Instruction, g uint32) bool {
	return anyAction(ins, func(a ofp13.Action) bool {
		o, ok := a.(*ofp13.ActionGroup)
		return ok && o.GroupID == g
	})
}

// anyAction reports whether an apply- or write-actions instruction holds
// an action for which match is true.
func anyAction(ins []ofp13.Instruction, match func(ofp13.Action) bool) bool {
	for _, in := range ins {
		var as []ofp13.Action
		switch in := in.(type) {
		case *ofp13.InstructionApplyActions:
			as = in.Actions
		case *ofp13.InstructionWriteActions:
			as = in.Actions
		}
		for _, a := range as {
			if match(a) {
				return true
			}
		}
	}
	return false
}
