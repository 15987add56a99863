package flows

import (
	"context"
)

// A device's adapter refuses a batch when the device cannot do some of it
// (Refused: a technology profile that needs more queues than the ONU has).
// It does not say which part, and a batch mixes the pushes of several mods
// (the sender coalesces what arrives while it sends) or, after a
// reconcile, is the device's whole tables. So a refused batch is sent
// again piece by piece, and only the pieces the device refuses are taken
// back:
//
//   - pushes, each alone and in order; a refused one is told through its
//     done function, and its mod is taken back (the controller hears of it
//     with the flow-mod's xid);
//   - whole tables, one logical flow at a time (Unit); a refused logical
//     flow is removed, its change event carrying the refusal.
//
// Otherwise one bad flow would take back every mod that shared its batch,
// or, stored before a core restart cut its undo short, keep every flow of
// its device off the device for good.

// Unit is what one logical flow asks of a device.
type Unit struct {
	Delta *Delta
	// Refused takes the logical flow back: the device refused it.
	Refused func(error)
}

// refused handles a batch the adapter refused with err. It returns what is
// still to send, with the error that stopped it, or nil when it is done.
func (p *AdapterPushers) refused(deviceID string, b *batch, err error) (*batch, error) {
	switch {
	case b.full:
		return p.splitTables(deviceID, b, err)
	case len(b.parts) > 1:
		p.log.Info("flows refused by the adapter: sending them push by push", "device", deviceID, "pushes", len(b.parts), "err", err)
		return p.splitParts(deviceID, b.parts)
	default:
		p.log.Info("flows refused by the adapter: the flow-mod is taken back", "device", deviceID, "err", err)
		b.tell(err)
		return nil, nil
	}
}

// splitParts sends each push alone, in order. Those the adapter takes are
// done, those it refuses are told so; when a delivery fails otherwise, the
// pushes from there on are returned, to be tried again.
func (p *AdapterPushers) splitParts(deviceID string, parts []part) (*batch, error) {
	for i, pt := range parts {
		one := newBatch()
		one.add(pt.d, nil)
		err := p.deliver(deviceID, one)
		if err != nil && !Refused(err) {
			rest := newBatch()
			for _, q := range parts[i:] {
				rest.add(q.d, q.done)
			}
			return rest, err
		}
		if err != nil {
			p.log.Info("a push refused by the adapter: its flow-mod is taken back", "device", deviceID, "err", err)
		}
		if pt.done != nil {
			pt.done(err)
		}
	}
	return nil, nil
}

// splitTables sends the device's tables one logical flow at a time, with
// the groups and meters it uses; an adapter that takes only whole tables
// gets, each time, the flows it took so far and the next one. A logical
// flow the adapter refuses is taken back. When the tables cannot be split
// or a delivery fails otherwise, b is returned, to be tried again.
func (p *AdapterPushers) splitTables(deviceID string, b *batch, refusal error) (*batch, error) {
	ctx, cancel := context.WithTimeout(p.ctx, p.cfg.Timeout)
	t, err := p.cfg.Tables(ctx, deviceID)
	var units []Unit
	if err == nil && t.Units != nil {
		units, err = t.Units(ctx)
	}
	cancel()
	switch {
	case err != nil:
		return b, err
	case t.Units == nil:
		return b, refusal
	}
	p.log.Warn("the adapter refused the device's tables: sending them one logical flow at a time",
		"device", deviceID, "logical_flows", len(units), "err", refusal)
	bulk := p.bulk(deviceID)
	took := newBatch() // for an adapter that takes whole tables
	for _, u := range units {
		try := newBatch()
		if bulk {
			try.mergeOlder(took)
		}
		try.add(u.Delta, nil)
		err := p.deliverAs(deviceID, try, true)
		switch {
		case err == nil:
			if bulk {
				took = try
			}
		case Refused(err):
			u.Refused(err)
		default:
			return b, err
		}
	}
	b.tell(nil) // the pushes merged into b are in the tables
	return nil, nil
}

// bulk reports whether the device's adapter takes only whole tables.
func (p *AdapterPushers) bulk(deviceID string) bool {
	dev, ok := p.cfg.Device(deviceID)
	if !ok {
		return false
	}
	ctx, cancel := context.WithTimeout(p.ctx, p.cfg.Timeout)
	defer cancel()
	_, bulk, err := p.cfg.Client(ctx, dev.GetType())
	return err == nil && bulk
}
