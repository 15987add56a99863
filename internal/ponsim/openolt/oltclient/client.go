// Package oltclient is a small openolt client for tests and benchmarks: it
// opens the indication stream, hands out the indications in order, and
// runs OMCI request/response exchanges (omci-lib-go frames, ASCII hex out,
// raw bytes back) matched by transaction id, many ONUs at a time. It
// drives ponsim's openolt face and any other openolt agent (BBSim).
package oltclient

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/google/gopacket"
	"github.com/opencord/omci-lib-go/v2"
	"github.com/opencord/voltha-protos/v5/go/openolt"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// indQueueLen bounds the indications (OMCI aside) waiting to be read.
const indQueueLen = 1 << 16

// Client is one openolt client.
type Client struct {
	OLT  openolt.OpenoltClient
	conn *grpc.ClientConn
	tci  atomic.Uint32

	mu      sync.Mutex // guards the fields below
	waiters map[waitKey]chan []byte
	notes   map[ONU][][]byte
	inds    chan *openolt.Indication // of the stream now
	errc    chan error               // the stream's end, of the stream now
	stop    context.CancelFunc       // ends the stream now
	wg      sync.WaitGroup           // the stream reader
	omciIn  atomic.Uint64
}

// ONU names an ONU the openolt way.
type ONU struct{ PON, ID uint32 }

type waitKey struct {
	onu ONU
	tci uint16
}

// Dial connects to the openolt agent at addr (plaintext).
func Dial(addr string) (*Client, error) {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, err
	}
	return &Client{OLT: openolt.NewOpenoltClient(conn), conn: conn,
		waiters: make(map[waitKey]chan []byte), notes: make(map[ONU][][]byte)}, nil
}

// Close ends the stream and the connection.
func (c *Client) Close() error {
	c.endStream()
	return c.conn.Close()
}

func (c *Client) endStream() {
	c.mu.Lock()
	stop := c.stop
	c.stop = nil
	c.mu.Unlock()
	if stop != nil {
		stop()
	}
	c.wg.Wait()
}

// Connect opens the indication stream (EnableIndication), ending the one
// before if any: a reconnect.
func (c *Client) Connect(ctx context.Context) error {
	c.endStream()
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	st, err := c.OLT.EnableIndication(sctx, &openolt.Empty{})
	if err != nil {
		cancel()
		return err
	}
	inds := make(chan *openolt.Indication, indQueueLen)
	errc := make(chan error, 1)
	c.mu.Lock()
	c.inds, c.errc, c.stop = inds, errc, cancel
	c.mu.Unlock()
	c.wg.Go(func() {
		defer cancel()
		for {
			ind, err := st.Recv()
			if err != nil {
				errc <- err
				close(inds)
				return
			}
			if o := ind.GetOmciInd(); o != nil {
				c.omciIn.Add(1)
				c.deliverOMCI(ONU{o.GetIntfId(), o.GetOnuId()}, o.GetPkt())
				continue
			}
			select {
			case inds <- ind:
			default: // nobody reads: drop
			}
		}
	})
	return nil
}

// Next returns the next indication that is not an OMCI one. When the
// stream has ended it returns the error it ended with.
func (c *Client) Next(ctx context.Context) (*openolt.Indication, error) {
	c.mu.Lock()
	inds, errc := c.inds, c.errc
	c.mu.Unlock()
	if inds == nil {
		return nil, errors.New("oltclient: not connected")
	}
	select {
	case ind, ok := <-inds:
		if !ok {
			err := <-errc
			errc <- err // for the next caller
			return nil, err
		}
		return ind, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// WaitFor returns the next indication that match accepts, skipping
// others.
func (c *Client) WaitFor(ctx context.Context, match func(*openolt.Indication) bool) (*openolt.Indication, error) {
	for {
		ind, err := c.Next(ctx)
		if err != nil {
			return nil, err
		}
		if match(ind) {
			return ind, nil
		}
	}
}

func (c *Client) deliverOMCI(onu ONU, pkt []byte) {
	if len(pkt) < 2 {
		return
	}
	tci := binary.BigEndian.Uint16(pkt)
	c.mu.Lock()
	defer c.mu.Unlock()
	if tci == 0 {
		c.notes[onu] = append(c.notes[onu], pkt)
		return
	}
	if ch := c.waiters[waitKey{onu, tci}]; ch != nil {
		delete(c.waiters, waitKey{onu, tci})
		ch <- pkt
	}
}

// Notifications returns and forgets the autonomous OMCI messages (TCI 0)
// the ONU sent.
func (c *Client) Notifications(onu ONU) [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.notes[onu]
	delete(c.notes, onu)
	return n
}

// OMCIReceived is how many OMCI indications the client got.
func (c *Client) OMCIReceived() uint64 { return c.omciIn.Load() }

// nextTCI is a transaction id: never 0 (autonomous) and without the
// high-priority bit.
func (c *Client) nextTCI() uint16 {
	for {
		if t := uint16(c.tci.Add(1) & 0x7fff); t != 0 {
			return t
		}
	}
}

// Raw sends an OMCI frame to the ONU and waits for the frame that answers
// it (the same TCI), whose TCI it does not check otherwise. frame's first
// two bytes are replaced by a fresh TCI.
func (c *Client) Raw(ctx context.Context, onu ONU, frame []byte) ([]byte, error) {
	if len(frame) < 2 {
		return nil, fmt.Errorf("oltclient: omci frame of %d bytes", len(frame))
	}
	tci := c.nextTCI()
	binary.BigEndian.PutUint16(frame, tci)
	ch := make(chan []byte, 1)
	key := waitKey{onu, tci}
	c.mu.Lock()
	c.waiters[key] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.waiters, key)
		c.mu.Unlock()
	}()
	pkt := make([]byte, hex.EncodedLen(len(frame)))
	hex.Encode(pkt, frame)
	if _, err := c.OLT.OmciMsgOut(ctx, &openolt.OmciMsg{IntfId: onu.PON, OnuId: onu.ID, Pkt: pkt}); err != nil {
		return nil, err
	}
	select {
	case resp := <-ch:
		return resp, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("oltclient: omci to onu %d/%d (tci %d): %w", onu.PON, onu.ID, tci, ctx.Err())
	}
}

// Request sends one OMCI request of type typ (baseline) and returns the
// decoded response.
func (c *Client) Request(ctx context.Context, onu ONU, typ omci.MessageType, req gopacket.SerializableLayer) (gopacket.Packet, error) {
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true},
		&omci.OMCI{TransactionID: 1, MessageType: typ}, req); err != nil {
		return nil, fmt.Errorf("oltclient: encode %v: %w", typ, err)
	}
	resp, err := c.Raw(ctx, onu, buf.Bytes())
	if err != nil {
		return nil, err
	}
	p := gopacket.NewPacket(resp, omci.LayerTypeOMCI, gopacket.NoCopy)
	if el := p.ErrorLayer(); el != nil {
		return nil, fmt.Errorf("oltclient: decode answer to %v: %w", typ, el.Error())
	}
	return p, nil
}

// ActivateDiscovered reads the indication stream and activates the first n
// ONUs it announces, giving them ONU ids 1, 2, … per PON in the order of
// discovery. It returns them in that order.
func (c *Client) ActivateDiscovered(ctx context.Context, n int) ([]ONU, error) {
	next := map[uint32]uint32{}
	var onus []ONU
	for len(onus) < n {
		ind, err := c.Next(ctx)
		if err != nil {
			return onus, err
		}
		d := ind.GetOnuDiscInd()
		if d == nil {
			continue
		}
		next[d.GetIntfId()]++
		o := ONU{PON: d.GetIntfId(), ID: next[d.GetIntfId()]}
		if _, err := c.OLT.ActivateOnu(ctx, &openolt.Onu{IntfId: o.PON, OnuId: o.ID, SerialNumber: d.GetSerialNumber()}); err != nil {
			return onus, fmt.Errorf("oltclient: activate onu %d/%d: %w", o.PON, o.ID, err)
		}
		onus = append(onus, o)
	}
	return onus, nil
}
