package device

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/coreerr"
)

// agent holds one device. Its queue serialises the device's operations;
// its snapshots are immutable: a change stores a new pointer, so readers
// (List with 10,000 devices) never copy or wait on an adapter.
type agent struct {
	q queue
	// gone is set by the delete that removed the device; read and written
	// only while holding q, so a call that waited behind the delete sees it.
	gone bool

	mu    sync.RWMutex // guards dev, ports and leaving (the pointers, not the messages)
	dev   *voltv1.Device
	ports map[uint32]*voltv1.Port
	// leaving holds the ports a PortRemoved is taking away: portList
	// leaves them out, so a logical-port rebuild that runs meanwhile (the
	// root's activation adopting this child) does not bring back the logical
	// port the removal just deleted.
	leaving map[uint32]bool
}

func newAgent(d *voltv1.Device) *agent {
	return &agent{q: newQueue(), dev: d, ports: make(map[uint32]*voltv1.Port)}
}

func (a *agent) device() *voltv1.Device {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.dev
}

func (a *agent) setDevice(d *voltv1.Device) {
	a.mu.Lock()
	a.dev = d
	a.mu.Unlock()
}

func (a *agent) port(no uint32) *voltv1.Port {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.ports[no]
}

func (a *agent) setPort(p *voltv1.Port) {
	a.mu.Lock()
	a.ports[p.GetPortNo()] = p
	a.mu.Unlock()
}

func (a *agent) dropPort(no uint32) {
	a.mu.Lock()
	delete(a.ports, no)
	delete(a.leaving, no)
	a.mu.Unlock()
}

// leave marks port no as being removed until the returned stay is called
// (the removal failed) or the port is dropped.
func (a *agent) leave(no uint32) (stay func()) {
	a.mu.Lock()
	if a.leaving == nil {
		a.leaving = make(map[uint32]bool)
	}
	a.leaving[no] = true
	a.mu.Unlock()
	return func() {
		a.mu.Lock()
		delete(a.leaving, no)
		a.mu.Unlock()
	}
}

func (a *agent) portList() []*voltv1.Port {
	a.mu.RLock()
	out := make([]*voltv1.Port, 0, len(a.ports))
	for no, p := range a.ports {
		if a.leaving[no] {
			continue
		}
		out = append(out, p)
	}
	a.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].GetPortNo() < out[j].GetPortNo() })
	return out
}

type adapterClient = adapterv1.AdapterServiceClient

// callAdapter runs call against the adapter serving d, bounded by the
// adapter timeout, and names the adapter and operation in any error.
func (m *Manager) callAdapter(ctx context.Context, d *voltv1.Device, what string, call func(context.Context, adapterClient) error) error {
	client, endpoint, err := m.adapters.For(ctx, d.GetType())
	if err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
	start := time.Now()
	err = call(cctx, client)
	m.log.Debug("adapter call", "adapter", endpoint, "op", what, "device", d.GetId(), "took", time.Since(start), "err", err)
	if err != nil {
		return fmt.Errorf("adapter %s: %s device %s: %w", endpoint, what, d.GetId(), err)
	}
	return nil
}

// isNoAdapter reports that no adapter serves the type: nothing to tell.
func isNoAdapter(err error) bool {
	return errors.Is(err, coreerr.ErrFailedPrecondition)
}

// shortName drops an enum's type prefix: ADMIN_STATE_ENABLED → ENABLED.
func shortName(s string) string {
	for _, p := range []string{"ADMIN_STATE_", "OPER_STATUS_", "CONNECT_STATUS_"} {
		if strings.HasPrefix(s, p) {
			s = strings.TrimPrefix(s, p)
			if s == "UNSPECIFIED" {
				return "UNKNOWN"
			}
			return s
		}
	}
	return s
}
