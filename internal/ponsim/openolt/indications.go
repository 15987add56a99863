package openolt

import (
	"math"
	"sync"
	"time"

	"github.com/opencord/voltha-protos/v5/go/openolt"
	"google.golang.org/grpc/status"

	"github.com/openvolt/openvolt/adapter/portno"
	"github.com/openvolt/openvolt/internal/ponsim"
)

// indQueue is the queue of one indication stream: producers push without
// blocking, the stream's goroutine sends.
type indQueue struct {
	mu      sync.Mutex // guards q, err, dropped
	q       []*openolt.Indication
	err     error // set by end: the stream ends with it
	dropped uint64
	wake    chan struct{} // capacity 1
}

func newIndQueue() *indQueue { return &indQueue{wake: make(chan struct{}, 1)} }

func (q *indQueue) notify() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *indQueue) push(inds ...*openolt.Indication) {
	q.mu.Lock()
	if q.err != nil || len(q.q)+len(inds) > indicationQueueLen {
		q.dropped += uint64(len(inds))
		q.mu.Unlock()
		return
	}
	q.q = append(q.q, inds...)
	q.mu.Unlock()
	q.notify()
}

// end makes the stream end with err once it has sent what is queued.
func (q *indQueue) end(err error) {
	q.mu.Lock()
	if q.err == nil {
		q.err = err
	}
	q.mu.Unlock()
	q.notify()
}

func (q *indQueue) take(buf []*openolt.Indication) ([]*openolt.Indication, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	buf = append(buf[:0], q.q...)
	clear(q.q)
	q.q = q.q[:0]
	return buf, q.err
}

// send queues inds on the indication stream, if one is open.
func (s *Server) send(inds ...*openolt.Indication) {
	if q := s.stream.Load(); q != nil {
		q.push(inds...)
	}
}

// sendLocked is send for callers holding mu (the order of the state
// changes they make is the order of their indications).
func (s *Server) sendLocked(inds ...*openolt.Indication) { s.send(inds...) }

// EnableIndication opens the indication stream. The first after the OLT
// boots enables the OLT and sends the OLT, NNI and PON indications, an ONU
// discovery for every ONU not activated and an ONU indication for every
// activated one; a later one (an adapter reconnecting) sends only the OLT
// and NNI indications, as BBSim does: the adapter asks GetOnuInfo. A new
// stream ends the one before. While the stream is open, ONUs not
// activated are announced again every Config.DiscoveryInterval and port
// statistics are sent every Config.StatsInterval.
func (s *Server) EnableIndication(_ *openolt.Empty, stream openolt.Openolt_EnableIndicationServer) error {
	q := newIndQueue()
	if err := s.openStream(q); err != nil {
		return toStatus(err)
	}
	defer s.stream.CompareAndSwap(q, nil)

	disc := time.NewTicker(s.cfg.DiscoveryInterval)
	defer disc.Stop()
	var statsC <-chan time.Time
	if s.cfg.StatsInterval > 0 {
		t := time.NewTicker(s.cfg.StatsInterval)
		defer t.Stop()
		statsC = t.C
	}
	ctx := stream.Context()
	flowsSent := map[uint32][2]uint64{} // per stream: a new one hears every flow again
	var batch []*openolt.Indication
	for {
		select {
		case <-q.wake:
		case <-disc.C:
			s.announce()
			continue
		case <-statsC:
			s.sendStats()
			s.sendFlowStats(flowsSent)
			continue
		case <-ctx.Done():
			return status.FromContextError(ctx.Err()).Err()
		case <-s.done:
			return toStatus(fail(errUnavailable, "ponsim stopping"))
		case <-s.sim.Done():
			return toStatus(fail(errUnavailable, "ponsim stopping"))
		}
		var err error
		batch, err = q.take(batch)
		for _, ind := range batch {
			if err := stream.Send(ind); err != nil {
				return err
			}
		}
		clear(batch)
		if err != nil {
			return toStatus(err)
		}
	}
}

// openStream makes q the indication stream and queues what it starts
// with.
func (s *Server) openStream(q *indQueue) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	enabled, rebooting := s.sim.OLTState()
	if rebooting {
		return fail(errUnavailable, "olt is rebooting")
	}
	first := !s.connected
	if first && !enabled {
		if err := s.sim.Enable(""); err != nil {
			return err
		}
		enabled = true
	}
	if old := s.stream.Swap(q); old != nil {
		old.end(fail(errUnavailable, "a new indication stream replaced this one"))
	}
	s.connected = true
	state := "down"
	if enabled {
		state = "up"
	}
	q.push(oltInd(state), nniInd(state))
	if !first || !enabled {
		return nil
	}
	for p := range uint32(s.sim.PONPorts()) {
		q.push(ponIntfInd(p, "up"), ponOperInd(p, "up"))
	}
	views := s.sim.ONUs()
	for i, u := range s.onus {
		switch {
		case u.id.Load() != 0:
			q.push(s.onuIndLocked(u))
		case !views[i].Activated:
			q.push(onuDiscInd(u))
		}
	}
	return nil
}

// announce sends an ONU discovery for every ONU not activated, while the
// OLT is up.
func (s *Server) announce() {
	if enabled, rebooting := s.sim.OLTState(); !enabled || rebooting {
		return
	}
	views := s.sim.ONUs()
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, u := range s.onus {
		if u.id.Load() == 0 && !views[i].Activated {
			s.sendLocked(onuDiscInd(u))
		}
	}
}

// sendStats sends the counters of the NNI and the PONs.
func (s *Server) sendStats() {
	st, err := s.sim.Stats("")
	if err != nil {
		return
	}
	now := uint32(time.Now().Unix())
	for _, c := range st.GetPorts() {
		var intf uint32
		switch {
		case c.GetPortNo() == portno.NNI(0):
			intf = NNIIntfBase
		case c.GetPortNo()&^0xff == portno.OLTPON(0):
			intf = PONIntfBase + portno.PONOf(c.GetPortNo())
		default:
			continue
		}
		s.send(&openolt.Indication{Data: &openolt.Indication_PortStats{PortStats: &openolt.PortStatistics{
			IntfId: intf, RxPackets: c.GetRxFrames(), RxBytes: c.GetRxBytes(),
			TxPackets: c.GetTxFrames(), TxBytes: c.GetTxBytes(), RxErrorPackets: c.GetMalformed(),
			TxErrorPackets: c.GetDropped(), Timestamp: now,
		}}})
	}
}

// sendFlowStats sends the counters of each openolt flow (summed over the
// OLT flows it became) that counted since sent, and notes them there.
func (s *Server) sendFlowStats(sent map[uint32][2]uint64) {
	ft, err := s.sim.FlowTable("")
	if err != nil {
		return
	}
	sums := make(map[uint32][2]uint64)
	for _, f := range ft.GetFlows() {
		if f.GetId()&flowIDBase == 0 {
			continue // given over the PonSim API, not an openolt flow
		}
		oid := (f.GetId() &^ flowIDBase) >> 4
		if oid > math.MaxUint32 {
			continue // FlowStatistics carries 32-bit flow ids
		}
		id := uint32(oid)
		c := sums[id]
		sums[id] = [2]uint64{c[0] + f.GetPacketCount(), c[1] + f.GetByteCount()}
	}
	now := uint32(time.Now().Unix())
	for id, c := range sums {
		if sent[id] == c {
			continue
		}
		sent[id] = c
		s.send(&openolt.Indication{Data: &openolt.Indication_FlowStats{FlowStats: &openolt.FlowStatistics{
			FlowId: id, RxPackets: c[0], RxBytes: c[1], TxPackets: c[0], TxBytes: c[1], Timestamp: now,
		}}})
	}
	for id := range sent {
		if _, ok := sums[id]; !ok {
			delete(sent, id) // removed: a flow that comes back with the id starts again
		}
	}
}

func oltInd(state string) *openolt.Indication {
	return &openolt.Indication{Data: &openolt.Indication_OltInd{OltInd: &openolt.OltIndication{OperState: state}}}
}

func nniInd(state string) *openolt.Indication {
	return &openolt.Indication{Data: &openolt.Indication_IntfOperInd{IntfOperInd: &openolt.IntfOperIndication{
		Type: "nni", IntfId: 0, OperState: state, Speed: nniSpeed}}}
}

func ponIntfInd(pon uint32, state string) *openolt.Indication {
	return &openolt.Indication{Data: &openolt.Indication_IntfInd{IntfInd: &openolt.IntfIndication{IntfId: pon, OperState: state}}}
}

func ponOperInd(pon uint32, state string) *openolt.Indication {
	return &openolt.Indication{Data: &openolt.Indication_IntfOperInd{IntfOperInd: &openolt.IntfOperIndication{
		Type: "pon", IntfId: pon, OperState: state, Technology: Technology}}}
}

func onuDiscInd(u *onuState) *openolt.Indication {
	return &openolt.Indication{Data: &openolt.Indication_OnuDiscInd{OnuDiscInd: &openolt.OnuDiscIndication{
		IntfId: u.pon, SerialNumber: u.sn}}}
}

// onuIndLocked is the state of activated ONU u.
func (s *Server) onuIndLocked(u *onuState) *openolt.Indication {
	v, err := s.sim.ONU(u.serial)
	return onuInd(u, u.id.Load(), err == nil && v.Enabled, err == nil && !v.Rebooting && !v.Off)
}

// onuInd is the state of ONU u as the adapter's ONU id: admin state
// from enabled, operational state from enabled and running.
func onuInd(u *onuState, id uint32, enabled, running bool) *openolt.Indication {
	oper, admin := "down", "down"
	if enabled {
		admin = "up"
		if running {
			oper = "up"
		}
	}
	return &openolt.Indication{Data: &openolt.Indication_OnuInd{OnuInd: &openolt.OnuIndication{
		IntfId: u.pon, OnuId: id, OperState: oper, AdminState: admin, SerialNumber: u.sn}}}
}

// OLTChanged sends what the OLT going up or down shows on the stream,
// whichever face made it: OLT, NNI and PON indications, and going up the
// state of every activated ONU. It is the Sim's watcher: called with the
// Sim's lock held, it takes none of the face's.
func (s *Server) OLTChanged(up bool, onus []ponsim.ONUView) {
	state := "down"
	if up {
		state = "up"
	}
	inds := []*openolt.Indication{oltInd(state), nniInd(state)}
	for p := range uint32(s.sim.PONPorts()) {
		if up {
			inds = append(inds, ponIntfInd(p, "up"))
		}
		inds = append(inds, ponOperInd(p, state))
	}
	if up {
		for i, u := range s.onus {
			if id := u.id.Load(); id != 0 && i < len(onus) {
				inds = append(inds, onuInd(u, id, onus[i].Enabled, !onus[i].Rebooting && !onus[i].Off))
			}
		}
	}
	s.send(inds...)
}

// ONUChanged sends the new state of an activated ONU, whichever face
// changed it (DeactivateOnu, a PonSim disable or reboot, a power-off…).
// The Sim's watcher, like OLTChanged.
//
// Powered off, an ONU sends a dying gasp and its light goes: the OLT
// reports the dying gasp, the ONU's loss of signal, the ONU down and, when
// it was the last ONU lit on its PON, the PON's loss of signal. Powered on,
// it is lit again: LOS off (the PON's too) and the ONU up.
func (s *Server) ONUChanged(v ponsim.ONUView) {
	u := s.bySerial[v.Serial]
	if u == nil {
		return
	}
	id := u.id.Load()
	if id == 0 {
		u.off.Store(v.Off)
		return
	}
	var inds []*openolt.Indication
	switch wasOff := u.off.Swap(v.Off); {
	case v.Off && !wasOff:
		inds = append(inds, dyingGaspInd(u.pon, id), onuLOSInd(u.pon, id, true))
		if !s.ponLit(u.pon) {
			inds = append(inds, ponLOSInd(u.pon, true))
		}
	case !v.Off && wasOff:
		if s.ponLitOthers(u) == 0 {
			inds = append(inds, ponLOSInd(u.pon, false))
		}
		inds = append(inds, onuLOSInd(u.pon, id, false))
	}
	inds = append(inds, onuInd(u, id, v.Enabled, !v.Rebooting && !v.Off))
	s.send(inds...)
}

// ponLit reports whether an activated ONU of PON pon is powered on.
// Called from the Sim's watcher (the off flags are the watcher's).
func (s *Server) ponLit(pon uint32) bool {
	for _, o := range s.onus {
		if o.pon == pon && o.id.Load() != 0 && !o.off.Load() {
			return true
		}
	}
	return false
}

// ponDark reports whether PON pon has activated ONUs, all powered off.
func (s *Server) ponDark(pon uint32) bool {
	n := 0
	for _, o := range s.onus {
		if o.pon == pon && o.id.Load() != 0 {
			if !o.off.Load() {
				return false
			}
			n++
		}
	}
	return n > 0
}

// ponLitOthers counts the activated ONUs of u's PON, other than u,
// that are powered on.
func (s *Server) ponLitOthers(u *onuState) int {
	n := 0
	for _, o := range s.onus {
		if o != u && o.pon == u.pon && o.id.Load() != 0 && !o.off.Load() {
			n++
		}
	}
	return n
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

func dyingGaspInd(pon, onuID uint32) *openolt.Indication {
	return &openolt.Indication{Data: &openolt.Indication_AlarmInd{AlarmInd: &openolt.AlarmIndication{
		Data: &openolt.AlarmIndication_DyingGaspInd{DyingGaspInd: &openolt.DyingGaspIndication{IntfId: pon, OnuId: onuID, Status: "on"}}}}}
}

func onuLOSInd(pon, onuID uint32, on bool) *openolt.Indication {
	return &openolt.Indication{Data: &openolt.Indication_AlarmInd{AlarmInd: &openolt.AlarmIndication{
		Data: &openolt.AlarmIndication_OnuAlarmInd{OnuAlarmInd: &openolt.OnuAlarmIndication{IntfId: pon, OnuId: onuID, LosStatus: onOff(on)}}}}}
}

// ponLOSInd is the loss of signal of a PON: no ONU's light reaches it.
// Its interface id is the PON's, as in port statistics.
func ponLOSInd(pon uint32, on bool) *openolt.Indication {
	return &openolt.Indication{Data: &openolt.Indication_AlarmInd{AlarmInd: &openolt.AlarmIndication{
		Data: &openolt.AlarmIndication_LosInd{LosInd: &openolt.LosIndication{IntfId: PONIntfBase + pon, Status: onOff(on)}}}}}
}
