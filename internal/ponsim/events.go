package ponsim

import (
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	ponsimv1 "github.com/openvolt/openvolt/api/ponsim/v1"
)

// maxQueuedEvents bounds what one stream may have waiting. A stream that
// falls further behind ends with ResourceExhausted; reopening it starts
// again from a fresh picture, which is all a client needs. It is far above
// what a burst can produce (every ONU going down and up is 2 × 2,048).
const maxQueuedEvents = 1 << 16

// eventSub is one ReceiveEvents stream. The state change and the queueing
// of its events happen under Sim.mu, so every stream sees the changes in
// the same order; the stream's goroutine sends without the lock.
type eventSub struct {
	q        []*ponsimv1.Event // guarded by Sim.mu
	overflow bool              // guarded by Sim.mu: q was dropped
	wake     chan struct{}     // capacity 1: q has something
}

func (sub *eventSub) notify() {
	select {
	case sub.wake <- struct{}{}:
	default:
	}
}

// publishLocked queues ev on every stream. Events are never modified once
// published, so the streams share them.
func (s *Sim) publishLocked(ev *ponsimv1.Event) {
	for sub := range s.subs {
		if sub.overflow {
			continue
		}
		if len(sub.q) >= maxQueuedEvents {
			sub.overflow, sub.q = true, nil
			s.log.Warn("event stream too slow; ending it", "queued", maxQueuedEvents)
		} else {
			sub.q = append(sub.q, ev)
		}
		sub.notify()
	}
}

// changeOLTLocked applies change to the OLT's state and sends what became
// visible: OLT_STATE and one ONU_DISCOVERED or ONU_LOST per ONU when the
// OLT went up or down.
func (s *Sim) changeOLTLocked(change func()) {
	wasUp := s.oltUpLocked()
	change()
	up := s.oltUpLocked()
	s.olt.up.Store(up)
	if up == wasUp {
		return
	}
	if len(s.watchers) > 0 {
		views := make([]ONUView, len(s.onus))
		for i, u := range s.onus {
			views[i] = viewLocked(u)
		}
		for _, w := range s.watchers {
			w.OLTChanged(up, views)
		}
	}
	s.publishLocked(&ponsimv1.Event{Type: ponsimv1.EventType_EVENT_TYPE_OLT_STATE, Olt: s.oltInfoLocked()})
	typ := ponsimv1.EventType_EVENT_TYPE_ONU_LOST
	if up {
		typ = ponsimv1.EventType_EVENT_TYPE_ONU_DISCOVERED
	}
	for _, u := range s.onus {
		if !u.off { // a powered-off ONU is not on the PON either way
			s.publishLocked(&ponsimv1.Event{Type: typ, Onu: onuInfoLocked(u)})
		}
	}
}

// changeONULocked applies change to u's state and sends ONU_STATE when its
// reported state changed while the OLT is up.
func (s *Sim) changeONULocked(u *onu, change func()) {
	before := onuStateLocked(u)
	change()
	u.up.Store(u.enabled && !u.rebooting && !u.off)
	if s.oltUpLocked() && !u.off && onuStateLocked(u) != before {
		for _, w := range s.watchers {
			w.ONUChanged(viewLocked(u))
		}
		s.publishLocked(&ponsimv1.Event{Type: ponsimv1.EventType_EVENT_TYPE_ONU_STATE, Onu: onuInfoLocked(u)})
	}
}

// subscribeEvents adds a stream and queues the current picture on it:
// OLT_STATE, then ONU_DISCOVERED for every ONU if the OLT is up.
func (s *Sim) subscribeEvents() (*eventSub, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	sub := &eventSub{wake: make(chan struct{}, 1)}
	sub.q = append(sub.q, &ponsimv1.Event{Type: ponsimv1.EventType_EVENT_TYPE_OLT_STATE, Olt: s.oltInfoLocked()})
	if s.oltUpLocked() {
		for _, u := range s.onus {
			if !u.off {
				sub.q = append(sub.q, &ponsimv1.Event{Type: ponsimv1.EventType_EVENT_TYPE_ONU_DISCOVERED, Onu: onuInfoLocked(u)})
			}
		}
	}
	sub.notify()
	s.subs[sub] = struct{}{}
	return sub, nil
}

func (s *Sim) unsubscribeEvents(sub *eventSub) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.subs, sub)
}

// takeEvents returns what sub has queued and empties its queue.
func (s *Sim) takeEvents(sub *eventSub) (batch []*ponsimv1.Event, overflow bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	batch, sub.q = sub.q, nil
	return batch, sub.overflow
}

// ReceiveEvents streams the OLT's state and ONU discovery and state changes
// (see the package comment for the rules) until the client leaves or the
// simulator stops (Unavailable).
func (s *Sim) ReceiveEvents(_ *emptypb.Empty, stream grpc.ServerStreamingServer[ponsimv1.Event]) error {
	sub, err := s.subscribeEvents()
	if err != nil {
		return toStatus(err)
	}
	defer s.unsubscribeEvents(sub)
	ctx := stream.Context()
	for {
		select {
		case <-sub.wake:
		case <-ctx.Done():
			return status.FromContextError(ctx.Err()).Err()
		case <-s.done:
			return toStatus(ErrClosed)
		}
		batch, overflow := s.takeEvents(sub)
		for _, ev := range batch {
			if err := stream.Send(ev); err != nil {
				return err
			}
		}
		if overflow {
			return status.Errorf(codes.ResourceExhausted, "event stream fell more than %d events behind; open a new one", maxQueuedEvents)
		}
	}
}
