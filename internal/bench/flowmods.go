package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/openvolt/openvolt/adapter/portno"
	"github.com/openvolt/openvolt/internal/openflow/ofp13"
)

// FlowMods is what `volt bench ofagent` sends, as a controller, to an
// agent (controllerLoad).
type FlowMods struct {
	// Addr is an agent's passive listener, HOST:PORT. The logical device it
	// serves needs an NNI and a UNI.
	Addr string
	// FlowMods is how many flow-mods to send. Default 20000.
	FlowMods int
	// Batch is how many flow-mods go between two barriers. Default 1000.
	Batch int
	// Window is how many barriers may be unanswered before the sender
	// waits. Default 4.
	Window int
	// Cleanup deletes the flows afterwards (one wildcard delete by cookie,
	// not timed).
	Cleanup bool
}

// OFAgentResult is what controllerLoad measured. Every flow-mod is confirmed by a
// barrier reply before it counts.
type OFAgentResult struct {
	DPID           string  `json:"dpid"`
	InPort         uint32  `json:"inPort"`
	OutPort        uint32  `json:"outPort"`
	FlowMods       int     `json:"flowMods"`
	Errors         int     `json:"errors"`
	FirstError     string  `json:"firstError,omitempty"`
	Seconds        float64 `json:"seconds"`
	FlowModsPerS   float64 `json:"flowModsPerSecond"`
	BarrierP50Ms   float64 `json:"barrierP50Ms"`
	BarrierMaxMs   float64 `json:"barrierMaxMs"`
	CleanupSeconds float64 `json:"cleanupSeconds,omitempty"`
}

// controllerLoad measures how many flow-mods per second one controller connection
// gets into the core through the agent at cfg.Addr: it sends upstream
// subscriber-like flows (in_port a UNI, eth_type IPv4 and a distinct
// ipv4_dst each, push a VLAN, output to the NNI) with a barrier after every
// Batch, keeping Window barriers in flight, and stops the clock at the last
// barrier reply.
func controllerLoad(ctx context.Context, cfg FlowMods) (OFAgentResult, error) {
	if cfg.FlowMods <= 0 {
		cfg.FlowMods = 20000
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 1000
	}
	if cfg.Window <= 0 {
		cfg.Window = 4
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", cfg.Addr)
	if err != nil {
		return OFAgentResult{}, err
	}
	defer nc.Close()
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()
	bc := &benchConn{nc: nc, br: bufio.NewReaderSize(nc, 64<<10), bw: bufio.NewWriterSize(nc, 64<<10)}
	var res OFAgentResult
	if err := bc.setup(&res); err != nil {
		return res, err
	}
	cookie := uint64(rand.Uint32())<<32 | 0xbe9c
	res.FlowMods = cfg.FlowMods

	// The reader counts errors and answers barrier replies; the sender
	// waits for a window slot before each barrier.
	window := make(chan time.Time, cfg.Window)
	type outcome struct {
		errors     int
		firstError string
		lat        []time.Duration
		err        error
	}
	nBarriers := (cfg.FlowMods + cfg.Batch - 1) / cfg.Batch
	done := make(chan outcome, 1)
	go func() {
		var o outcome
		for len(o.lat) < nBarriers {
			m, err := bc.read()
			if err != nil {
				o.err = err
				break
			}
			switch m := m.(type) {
			case *ofp13.ErrorMsg:
				if o.errors == 0 {
					o.firstError = m.String()
				}
				o.errors++
			case *ofp13.BarrierReply:
				o.lat = append(o.lat, time.Since(<-window))
			}
		}
		done <- o
	}()

	start := time.Now()
	var sendErr error
	for i := 0; i < cfg.FlowMods && sendErr == nil; i++ {
		fm := benchFlow(res.InPort, res.OutPort, cookie, uint32(i))
		fm.Xid = uint32(i + 1)
		if sendErr = bc.write(fm); sendErr != nil {
			break
		}
		if (i+1)%cfg.Batch == 0 || i+1 == cfg.FlowMods {
			select {
			case window <- time.Now():
			case <-ctx.Done():
				sendErr = ctx.Err()
			}
			if sendErr == nil {
				sendErr = bc.write(&ofp13.BarrierRequest{Header: ofp13.Header{Xid: 0xb0000000 + uint32(i)}})
			}
			if sendErr == nil {
				sendErr = bc.flush()
			}
		}
	}
	if sendErr != nil {
		nc.Close()
		<-done
		return res, fmt.Errorf("send: %w", sendErr)
	}
	o := <-done
	elapsed := time.Since(start)
	if o.err != nil {
		return res, fmt.Errorf("read: %w", o.err)
	}
	res.Errors, res.FirstError = o.errors, o.firstError
	res.Seconds = elapsed.Seconds()
	res.FlowModsPerS = float64(cfg.FlowMods) / elapsed.Seconds()
	sort.Slice(o.lat, func(i, j int) bool { return o.lat[i] < o.lat[j] })
	res.BarrierP50Ms = float64(o.lat[len(o.lat)/2].Microseconds()) / 1000
	res.BarrierMaxMs = float64(o.lat[len(o.lat)-1].Microseconds()) / 1000

	if cfg.Cleanup {
		t := time.Now()
		del := &ofp13.FlowMod{Header: ofp13.Header{Xid: 0xc1ea0000}, Command: ofp13.FlowDelete, TableID: ofp13.TableAll,
			Cookie: cookie, CookieMask: ^uint64(0), BufferID: ofp13.NoBuffer, OutPort: ofp13.PortAny, OutGroup: ofp13.GroupAny}
		if err := bc.transact(del); err != nil {
			return res, fmt.Errorf("cleanup: %w", err)
		}
		res.CleanupSeconds = time.Since(t).Seconds()
	}
	return res, nil
}

// benchFlow is flow i of a run: one subscriber's upstream traffic to one
// IPv4 destination.
func benchFlow(in, out uint32, cookie uint64, i uint32) *ofp13.FlowMod {
	return &ofp13.FlowMod{
		Command: ofp13.FlowAdd, Priority: 1000, Cookie: cookie,
		BufferID: ofp13.NoBuffer, OutPort: ofp13.PortAny, OutGroup: ofp13.GroupAny,
		Match: ofp13.Match{Fields: []ofp13.OXM{
			ofp13.OXMUint(ofp13.OXMInPort, uint64(in)),
			ofp13.OXMUint(ofp13.OXMEthType, 0x0800),
			ofp13.OXMUint(ofp13.OXMIPv4Dst, uint64(10<<24|i&0xffffff)),
		}},
		Instructions: []ofp13.Instruction{&ofp13.InstructionApplyActions{Actions: []ofp13.Action{
			&ofp13.ActionPushVLAN{EtherType: 0x8100},
			&ofp13.ActionSetField{Field: ofp13.OXMUint(ofp13.OXMVlanVID, 0x1000|101)},
			&ofp13.ActionOutput{Port: out},
		}}},
	}
}

// benchConn is the benchmark's side of an OpenFlow connection: the
// sender writes, the reader reads and answers echoes.
type benchConn struct {
	nc net.Conn
	br *bufio.Reader

	wmu sync.Mutex // guards bw
	bw  *bufio.Writer
}

func (c *benchConn) write(m ofp13.Message) error {
	b, err := m.MarshalBinary()
	if err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, err = c.bw.Write(b)
	return err
}

func (c *benchConn) flush() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.bw.Flush()
}

// read returns the next message, answering echo requests.
func (c *benchConn) read() (ofp13.Message, error) {
	for {
		raw, err := ofp13.ReadMessage(c.br, 0)
		if err != nil {
			return nil, err
		}
		m, err := ofp13.Decode(raw)
		if err != nil {
			return nil, err
		}
		if e, ok := m.(*ofp13.EchoRequest); ok {
			if err := c.write(&ofp13.EchoReply{Header: ofp13.Header{Xid: e.Xid}, Data: e.Data}); err != nil {
				return nil, err
			}
			if err := c.flush(); err != nil {
				return nil, err
			}
			continue
		}
		return m, nil
	}
}

// transact sends m and a barrier and waits for the barrier reply; an
// error reply fails it.
func (c *benchConn) transact(m ofp13.Message) error {
	if err := c.write(m); err != nil {
		return err
	}
	if err := c.write(&ofp13.BarrierRequest{Header: ofp13.Header{Xid: m.Hdr().Xid + 1}}); err != nil {
		return err
	}
	if err := c.flush(); err != nil {
		return err
	}
	for {
		r, err := c.read()
		if err != nil {
			return err
		}
		switch r := r.(type) {
		case *ofp13.ErrorMsg:
			return fmt.Errorf("switch answered %s", r)
		case *ofp13.BarrierReply:
			return nil
		}
	}
}

// setup exchanges hellos, reads the features and picks a UNI and the NNI.
func (c *benchConn) setup(res *OFAgentResult) error {
	_ = c.nc.SetDeadline(time.Now().Add(30 * time.Second))
	defer c.nc.SetDeadline(time.Time{})
	if err := c.write(ofp13.NewHello(1)); err != nil {
		return err
	}
	if err := c.write(&ofp13.FeaturesRequest{Header: ofp13.Header{Xid: 2}}); err != nil {
		return err
	}
	if err := c.write(&ofp13.PortDescRequest{Header: ofp13.Header{Xid: 3}}); err != nil {
		return err
	}
	if err := c.flush(); err != nil {
		return err
	}
	var ports []uint32
	for got := 0; got < 2; {
		m, err := c.read()
		if err != nil {
			return fmt.Errorf("handshake: %w", err)
		}
		switch m := m.(type) {
		case *ofp13.FeaturesReply:
			res.DPID = ofp13.DPIDString(m.DatapathID)
			got++
		case *ofp13.PortDescReply:
			for _, p := range m.Ports {
				ports = append(ports, p.PortNo)
			}
			if m.Flags&ofp13.MultipartReplyMore == 0 {
				got++
			}
		case *ofp13.ErrorMsg:
			return fmt.Errorf("handshake: switch answered %s", m)
		}
	}
	slices.Sort(ports)
	for _, p := range ports {
		switch {
		case portno.IsNNI(p) && res.OutPort == 0:
			res.OutPort = p
		case portno.IsUNI(p) && res.InPort == 0:
			res.InPort = p
		}
	}
	if res.InPort == 0 || res.OutPort == 0 {
		return errors.New("the logical device needs a UNI and an NNI")
	}
	return nil
}
