package ofagent

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
)

// The NBI's packet streams: packet-ins in, packet-outs out, each one
// stream for the whole agent, reopened with backoff.

// followPacketIns keeps a packet-in stream open and hands each packet-in to
// its datapath.
func (a *agent) followPacketIns() {
	ctx := a.ctx
	bo := backoff{max: a.cfg.MaxBackoff}
	for ctx.Err() == nil {
		err := a.packetInSession(ctx, bo.reset)
		if ctx.Err() != nil {
			return
		}
		a.log.Debug("packet-in stream ended; reconnecting", "err", err)
		if !bo.wait(ctx) {
			return
		}
	}
}

func (a *agent) packetInSession(ctx context.Context, up func()) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := a.nbi.ReceivePacketsIn(ctx, &voltv1.ReceivePacketsInRequest{})
	if err != nil {
		return err
	}
	if _, err := stream.Header(); err != nil {
		return err
	}
	for {
		pi, err := stream.Recv()
		if err != nil {
			return err
		}
		up()
		if dp := a.datapath(pi.GetLogicalDeviceId()); dp != nil {
			dp.packetIn(pi.GetPacketIn())
		}
	}
}

// sendPacketOuts keeps a packet-out stream open and sends what the
// connections queue; a packet-out queued while the stream is down waits
// for it, one whose send fails is lost (and logged).
func (a *agent) sendPacketOuts() {
	ctx := a.ctx
	bo := backoff{max: a.cfg.MaxBackoff}
	for ctx.Err() == nil {
		err := a.packetOutSession(ctx, bo.reset)
		if ctx.Err() != nil {
			return
		}
		a.log.Warn("packet-out stream failed; reconnecting", "err", err)
		if !bo.wait(ctx) {
			return
		}
	}
}

func (a *agent) packetOutSession(ctx context.Context, up func()) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var stream grpc.ClientStreamingClient[voltv1.PacketOut, emptypb.Empty]
	for {
		select {
		case po := <-a.pktOut:
			if stream == nil {
				var err error
				if stream, err = a.nbi.StreamPacketsOut(ctx); err != nil {
					return err
				}
			}
			if err := stream.Send(po); err != nil {
				// The real error comes from CloseAndRecv.
				_, err = stream.CloseAndRecv()
				return fmt.Errorf("send packet-out: %w", errors.Join(err, errStreamBroken))
			}
			up()
		case <-ctx.Done():
			if stream != nil {
				_ = stream.CloseSend()
			}
			return ctx.Err()
		}
	}
}

var errStreamBroken = errors.New("stream broken")
