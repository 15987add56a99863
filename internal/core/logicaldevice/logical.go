package logicaldevice

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/openvolt/openvolt/adapter/portno"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/coreerr"
)

// errRemoved: the logical device was removed while a caller waited for it.
var errRemoved = errors.New("logical device removed")

// logical is one logical device and its ports.
//
// A change to the logical ports of one device holds life shared and that
// device's lock in devs, across its store write and event, so the changes
// of one port reach the store, memory and the event stream in one order.
// Changes for different devices (1,000 ONUs activating on one OLT) run in
// parallel: their etcd writes overlap instead of queueing behind one
// mutex. Removing the whole logical device holds life exclusively, so no
// port write lands after its DeletePrefix.
//
// Lock order: life, then one device lock, then mu. Never two device locks.
type logical struct {
	id   string // immutable
	root string // root device id; immutable

	life sync.RWMutex
	devs lockSet

	mu      sync.Mutex                     // guards the fields below; never held across the store
	ld      *voltv1.LogicalDevice          // snapshot, never modified
	ports   map[string]*voltv1.LogicalPort // port id → snapshot, never modified
	byDev   map[string]map[string]struct{} // device id → ids of its ports
	owner   map[uint32]string              // port number → device id, including writes in flight
	removed bool
}

func newLogical(ld *voltv1.LogicalDevice) *logical {
	return &logical{
		id:    ld.GetId(),
		root:  ld.GetRootDeviceId(),
		ld:    ld,
		ports: make(map[string]*voltv1.LogicalPort),
		byDev: make(map[string]map[string]struct{}),
		owner: make(map[uint32]string),
	}
}

// acquire takes the right to change devID's logical ports; release it with
// defer. It fails with errRemoved once the logical device is gone.
func (l *logical) acquire(ctx context.Context, devID string) (release func(), err error) {
	l.life.RLock()
	if l.isRemoved() {
		l.life.RUnlock()
		return nil, errRemoved
	}
	unlock, err := l.devs.lock(ctx, devID)
	if err != nil {
		l.life.RUnlock()
		return nil, err
	}
	return func() {
		unlock()
		l.life.RUnlock()
	}, nil
}

func (l *logical) isRemoved() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.removed
}

func (l *logical) device() *voltv1.LogicalDevice {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ld
}

func (l *logical) port(id string) *voltv1.LogicalPort {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ports[id]
}

// portList returns the ports sorted by number.
func (l *logical) portList() []*voltv1.LogicalPort {
	l.mu.Lock()
	out := slices.Collect(maps.Values(l.ports))
	l.mu.Unlock()
	sortPorts(out)
	return out
}

// portsOf returns devID's ports sorted by number.
func (l *logical) portsOf(devID string) []*voltv1.LogicalPort {
	l.mu.Lock()
	out := make([]*voltv1.LogicalPort, 0, len(l.byDev[devID]))
	for id := range l.byDev[devID] {
		out = append(out, l.ports[id])
	}
	l.mu.Unlock()
	sortPorts(out)
	return out
}

func sortPorts(ps []*voltv1.LogicalPort) {
	slices.SortFunc(ps, func(a, b *voltv1.LogicalPort) int {
		return cmp.Compare(a.GetOfpPort().GetPortNo(), b.GetOfpPort().GetPortNo())
	})
}

// reserve claims port number no for devID before its write, so two devices
// writing the same number at once cannot both win. It returns devID's
// current port with that number (nil when new), or an InvalidArgument
// error when another device holds the number.
func (l *logical) reserve(no uint32, devID string) (*voltv1.LogicalPort, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if other, ok := l.owner[no]; ok && other != devID {
		return nil, coreerr.New(coreerr.ErrInvalidArgument, fmt.Sprintf(
			"logical device %s: port number %d of device %q is already held by device %q",
			l.id, no, devID, other))
	}
	l.owner[no] = devID
	return l.ports[portno.Name(no)], nil
}

// unreserve gives back a number whose first write failed.
func (l *logical) unreserve(no uint32, devID string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, exists := l.ports[portno.Name(no)]; !exists && l.owner[no] == devID {
		delete(l.owner, no)
	}
}

// setPort makes lp the current snapshot of its port.
func (l *logical) setPort(lp *voltv1.LogicalPort) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.setPortLocked(lp)
}

func (l *logical) setPortLocked(lp *voltv1.LogicalPort) {
	l.ports[lp.GetId()] = lp
	l.owner[lp.GetOfpPort().GetPortNo()] = lp.GetDeviceId()
	ids := l.byDev[lp.GetDeviceId()]
	if ids == nil {
		ids = make(map[string]struct{})
		l.byDev[lp.GetDeviceId()] = ids
	}
	ids[lp.GetId()] = struct{}{}
}

func (l *logical) dropPort(lp *voltv1.LogicalPort) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.ports, lp.GetId())
	delete(l.owner, lp.GetOfpPort().GetPortNo())
	if ids := l.byDev[lp.GetDeviceId()]; ids != nil {
		delete(ids, lp.GetId())
		if len(ids) == 0 {
			delete(l.byDev, lp.GetDeviceId())
		}
	}
}

// lockSet is a set of per-key locks whose waits honour a context. A key's
// entry lives only while someone holds or waits for it, so the set does not
// grow with every ONU that ever came and went.
type lockSet struct {
	mu sync.Mutex // guards m and every keyLock.refs
	m  map[string]*keyLock
}

type keyLock struct {
	token chan struct{} // holds one value while locked
	refs  int           // holders and waiters
}

func (s *lockSet) lock(ctx context.Context, key string) (unlock func(), err error) {
	s.mu.Lock()
	if s.m == nil {
		s.m = make(map[string]*keyLock)
	}
	k := s.m[key]
	if k == nil {
		k = &keyLock{token: make(chan struct{}, 1)}
		s.m[key] = k
	}
	k.refs++
	s.mu.Unlock()

	select {
	case k.token <- struct{}{}:
		return func() {
			<-k.token
			s.release(key, k)
		}, nil
	case <-ctx.Done():
		s.release(key, k)
		return nil, ctx.Err()
	}
}

func (s *lockSet) release(key string, k *keyLock) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k.refs--; k.refs == 0 {
		delete(s.m, key)
	}
}
