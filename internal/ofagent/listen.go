package ofagent

import (
	"net"
	"strconv"

	"github.com/openvolt/openvolt/internal/daemon"
	"github.com/openvolt/openvolt/internal/openflow/ofp13"
)

// slot is one passive listener. Slot i serves the i-th logical device in
// id order at the time a client connects (see the package doc).
type slot struct {
	idx    int
	ln     net.Listener
	addr   string
	served string // the logical device it served when last logged
}

// openSlot binds slot idx on addr and accepts on it until Run ends.
func (a *agent) openSlot(idx int, addr string) (*slot, error) {
	ln, err := daemon.Listen(addr)
	if err != nil {
		return nil, err
	}
	s := &slot{idx: idx, ln: ln, addr: ln.Addr().String()}
	a.mu.Lock()
	for len(a.slots) <= idx {
		a.slots = append(a.slots, nil)
	}
	a.slots[idx] = s
	a.mu.Unlock()
	a.log.Info("passive OpenFlow listener open", "addr", s.addr, "slot", idx)
	a.goAttach(func() {
		<-a.ctx.Done()
		ln.Close()
	})
	a.goAttach(func() { a.accept(s) })
	return s, nil
}

func (a *agent) accept(s *slot) {
	select {
	case <-a.synced:
	case <-a.ctx.Done():
		return
	}
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			if a.ctx.Err() == nil && !isClosed(err) {
				a.log.Error("passive listener failed", "addr", s.addr, "err", err)
			}
			return
		}
		a.mu.Lock()
		var dp *datapath
		if dps := a.sortedLocked(); s.idx < len(dps) {
			dp = dps[s.idx]
		}
		a.mu.Unlock()
		if dp == nil {
			a.log.Warn("client connected to a passive listener that has no logical device (yet); closing",
				"addr", s.addr, "client", nc.RemoteAddr().String())
			nc.Close()
			continue
		}
		dp.log.Debug("client connected to the passive listener", "addr", s.addr, "client", nc.RemoteAddr().String())
		a.goAttach(func() {
			err := dp.serve(nc)
			dp.log.Debug("passive connection ended", "client", nc.RemoteAddr().String(), "err", err)
		})
	}
}

// slotsChangedLocked opens the listeners that the logical devices now
// need (base port + i for the i-th) and logs which device each serves.
// With port 0 in Config.Listen only slot 0 exists. a.mu is held.
func (a *agent) slotsChangedLocked() {
	if a.cfg.Listen == "" || len(a.slots) == 0 {
		return
	}
	dps := a.sortedLocked()
	host, portStr, _ := net.SplitHostPort(a.cfg.Listen)
	base, _ := strconv.Atoi(portStr)
	if base == 0 {
		base = -1 // no derived ports
	}
	for i, dp := range dps {
		if i >= len(a.slots) || a.slots[i] == nil {
			if a.opening[i] {
				continue
			}
			if base < 0 || base+i > 65535 {
				a.log.Warn("no passive listener for this logical device: give --listen a fixed port to get one per device",
					"logical_device", dp.id, "index", i)
				continue
			}
			// openSlot takes a.mu: open it after this function returns.
			idx, addr := i, net.JoinHostPort(host, strconv.Itoa(base+i))
			a.opening[idx] = true
			a.goAttach(func() {
				_, err := a.openSlot(idx, addr)
				if err != nil {
					a.log.Error("cannot open a passive listener for a logical device", "logical_device", dp.id, "err", err)
				}
				a.mu.Lock()
				defer a.mu.Unlock()
				delete(a.opening, idx)
				if err == nil {
					a.slotsChangedLocked()
				}
			})
			continue
		}
		if s := a.slots[i]; s.served != dp.id {
			s.served = dp.id
			a.log.Info("passive listener serves logical device", "addr", s.addr, "logical_device", dp.id,
				"dpid", ofp13.DPIDString(dp.logicalDevice().GetDatapathId()))
		}
	}
}
