package ofagent

import (
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/openflow/ofp13"
)

// What the agent reports about groups and meters: what the core's flow
// decomposer can give the devices.
const (
	maxGroups       = 4096
	maxMeters       = 65536
	maxMeterBands   = 8
	maxTableEntries = 65536
)

// groupActions are the actions a group bucket may hold, as a bitmap of
// action types.
const groupActions = 1<<ofp13.ActionTypeOutput | 1<<ofp13.ActionTypePushVLAN | 1<<ofp13.ActionTypePopVLAN |
	1<<ofp13.ActionTypeSetField | 1<<ofp13.ActionTypeSetQueue

// multipart answers a multipart request from the NBI's data. Reads wait
// for the mods sent before them, so they see their effect.
func (c *conn) multipart(raw []byte, m ofp13.Multipart) *ofp13.Error {
	if f := multipartFlags(raw); f&ofp13.MultipartRequestMore != 0 {
		return ofp13.Errorf(ofp13.ErrTypeBadRequest, ofp13.BadRequestMultipartBufferOverflow,
			"multipart requests in several messages are not supported")
	}
	c.mods.wait()
	reply, e := c.multipartReply(m)
	if e != nil {
		return e
	}
	reply.Hdr().Xid = m.Hdr().Xid
	b, err := ofp13.AppendSplit(nil, reply, 0)
	if err != nil {
		c.log.Error("cannot encode a multipart reply", "type", m.MultipartType(), "err", err)
		return ofp13.Errorf(ofp13.ErrTypeBadRequest, ofp13.BadRequestEPerm, "reply cannot be encoded: %v", err)
	}
	c.sendRaw(b)
	return nil
}

// multipartFlags reads the flags of a multipart message.
func multipartFlags(raw []byte) uint16 {
	if len(raw) < ofp13.HeaderLen+4 {
		return 0
	}
	return uint16(raw[ofp13.HeaderLen+2])<<8 | uint16(raw[ofp13.HeaderLen+3])
}

func (c *conn) multipartReply(m ofp13.Multipart) (ofp13.Message, *ofp13.Error) {
	switch m := m.(type) {
	case *ofp13.DescRequest:
		return ofp13.DescFromProto(c.dp.logicalDevice().GetDesc()), nil
	case *ofp13.PortDescRequest:
		return c.portDesc()
	case *ofp13.PortStatsRequest:
		return c.portStats(m.PortNo)
	case *ofp13.FlowStatsRequest:
		stats, e := c.flowStats(m.TableID, m.OutPort, m.OutGroup, m.Cookie, m.CookieMask, m.Match)
		if e != nil {
			return nil, e
		}
		return &ofp13.FlowStatsReply{Stats: stats}, nil
	case *ofp13.AggregateStatsRequest:
		stats, e := c.flowStats(m.TableID, m.OutPort, m.OutGroup, m.Cookie, m.CookieMask, m.Match)
		if e != nil {
			return nil, e
		}
		r := &ofp13.AggregateStatsReply{FlowCount: uint32(len(stats))}
		for _, s := range stats {
			r.PacketCount += s.PacketCount
			r.ByteCount += s.ByteCount
		}
		return r, nil
	case *ofp13.TableStatsRequest:
		return c.tableStats()
	case *ofp13.TableFeaturesRequest:
		if len(m.Tables) > 0 {
			return nil, ofp13.Errorf(ofp13.ErrTypeTableFeaturesFail, ofp13.TableFeaturesFailedEPerm, "the tables cannot be reconfigured")
		}
		n := c.nTables()
		r := &ofp13.TableFeaturesReply{}
		for i := range n {
			r.Tables = append(r.Tables, ofp13.FullTableFeatures(i, n, fmt.Sprintf("table%d", i), maxTableEntries))
		}
		return r, nil
	case *ofp13.GroupDescRequest:
		return c.groupDesc()
	case *ofp13.GroupStatsRequest:
		return c.groupStats(m.GroupID)
	case *ofp13.GroupFeaturesRequest:
		return &ofp13.GroupFeaturesReply{
			Types:     1<<ofp13.GroupTypeAll | 1<<ofp13.GroupTypeIndirect,
			MaxGroups: [4]uint32{maxGroups, 0, maxGroups, 0},
			Actions:   [4]uint32{groupActions, 0, groupActions, 0},
		}, nil
	case *ofp13.MeterConfigRequest:
		return c.meterConfig(m.MeterID)
	case *ofp13.MeterStatsRequest:
		return c.meterStats(m.MeterID)
	case *ofp13.MeterFeaturesRequest:
		return &ofp13.MeterFeaturesReply{
			MaxMeter:     maxMeters,
			BandTypes:    1<<ofp13.MeterBandDrop | 1<<ofp13.MeterBandDSCPRemark,
			Capabilities: uint32(ofp13.MeterFlagKBPS | ofp13.MeterFlagPKTPS | ofp13.MeterFlagBurst | ofp13.MeterFlagStats),
			MaxBands:     maxMeterBands,
		}, nil
	}
	return nil, ofp13.Errorf(ofp13.ErrTypeBadRequest, ofp13.BadRequestBadMultipart, "multipart %v not supported", m.MultipartType())
}

// ports reads the logical ports from the NBI.
func (c *conn) ports() ([]*voltv1.LogicalPort, *ofp13.Error) {
	ps, err := c.listPorts()
	if err != nil {
		return nil, ofError(opRead, err)
	}
	return ps, nil
}

func (c *conn) listPorts() ([]*voltv1.LogicalPort, error) {
	ctx, cancel := c.dp.a.call(c.ctx)
	defer cancel()
	ps, err := c.dp.a.nbi.ListLogicalDevicePorts(ctx, &voltv1.ID{Id: c.dp.id})
	return ps.GetItems(), err
}

// coreUnreachable reports whether an NBI call failed because the core could
// not be reached or did not answer in time, rather than refused.
func coreUnreachable(err error) bool {
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded:
		return true
	}
	return false
}

func (c *conn) portDesc() (ofp13.Message, *ofp13.Error) {
	ps, err := c.listPorts()
	if err != nil && coreUnreachable(err) {
		// The ports the agent last saw: what a client needs to resolve
		// port names (ovs-ofctl asks before every flow-mod that names one),
		// so that the request it came for is the one that reports the
		// core's absence.
		c.log.Debug("core unreachable; port description from the cache", "err", err)
		ps, err = c.dp.cachedPorts(), nil
	}
	if err != nil {
		return nil, ofError(opRead, err)
	}
	r := &ofp13.PortDescReply{}
	for _, lp := range ps {
		p, err := ofp13.PortFromProto(lp.GetOfpPort())
		if err != nil {
			c.log.Warn("port cannot be described in OpenFlow; left out", "port", lp.GetId(), "err", err)
			continue
		}
		r.Ports = append(r.Ports, p)
	}
	return r, nil
}

func (c *conn) portStats(portNo uint32) (ofp13.Message, *ofp13.Error) {
	ps, e := c.ports()
	if e != nil {
		return nil, e
	}
	r := &ofp13.PortStatsReply{}
	for _, lp := range ps {
		no := lp.GetOfpPort().GetPortNo()
		if portNo != ofp13.PortAny && portNo != no {
			continue
		}
		s := ofp13.PortStatsFromProto(lp.GetStats())
		s.PortNo = no
		r.Stats = append(r.Stats, s)
	}
	if portNo != ofp13.PortAny && len(r.Stats) == 0 {
		return nil, ofp13.Errorf(ofp13.ErrTypeBadRequest, ofp13.BadRequestBadPort, "no port %d", portNo)
	}
	return r, nil
}

// flowStats reads the flows and keeps those a flow stats request selects
// (OpenFlow 1.3.5 §7.3.5.2): table, cookie under its mask, output port and
// group, and a match the flow's is at least as specific as.
func (c *conn) flowStats(table uint8, outPort, outGroup uint32, cookie, cookieMask uint64, match ofp13.Match) ([]ofp13.FlowStats, *ofp13.Error) {
	ctx, cancel := c.dp.a.call(c.ctx)
	defer cancel()
	flows, err := c.dp.a.nbi.ListLogicalDeviceFlows(ctx, &voltv1.ID{Id: c.dp.id})
	if err != nil {
		return nil, ofError(opRead, err)
	}
	var out []ofp13.FlowStats
	for _, f := range flows.GetItems() {
		s, err := ofp13.FlowStatsFromProto(f)
		if err != nil {
			c.log.Warn("flow cannot be described in OpenFlow; left out", "flow", f.GetId(), "err", err)
			continue
		}
		switch {
		case table != ofp13.TableAll && s.TableID != table:
		case s.Cookie&cookieMask != cookie&cookieMask:
		case outPort != ofp13.PortAny && !outputs(s.Instructions, outPort):
		case outGroup != ofp13.GroupAny && !usesGroup(s.Instructions, outGroup):
		case !covers(match, s.Match):
		default:
			out = append(out, s)
		}
	}
	return out, nil
}

// covers reports whether every packet that flow matches is one that req
// matches: for each field of req, flow has the field with a mask at least
// as wide and the same value under req's mask.
func covers(req, flow ofp13.Match) bool {
	for _, r := range req.Fields {
		f, ok := flow.Get(r.Field)
		if !ok || len(f.Value) != len(r.Value) {
			return false
		}
		for i := range r.Value {
			rm, fm := byte(0xff), byte(0xff)
			if r.Mask != nil {
				rm = r.Mask[i]
			}
			if f.Mask != nil {
				fm = f.Mask[i]
			}
			if fm&rm != rm || f.Value[i]&rm != r.Value[i]&rm {
				return false
			}
		}
	}
	return true
}

func (c *conn) tableStats() (ofp13.Message, *ofp13.Error) {
	ctx, cancel := c.dp.a.call(c.ctx)
	defer cancel()
	flows, err := c.dp.a.nbi.ListLogicalDeviceFlows(ctx, &voltv1.ID{Id: c.dp.id})
	if err != nil {
		return nil, ofError(opRead, err)
	}
	n := c.nTables()
	r := &ofp13.TableStatsReply{Stats: make([]ofp13.TableStats, n)}
	for i := range r.Stats {
		r.Stats[i].TableID = uint8(i)
	}
	for _, f := range flows.GetItems() {
		if t := f.GetTableId(); t < uint32(n) {
			r.Stats[t].ActiveCount++
			// Frames that missed every flow are not counted anywhere, so
			// the lookups known are the matches.
			r.Stats[t].MatchedCount += f.GetPacketCount()
			r.Stats[t].LookupCount += f.GetPacketCount()
		}
	}
	return r, nil
}

func (c *conn) groups() ([]*openflowv1.Group, *ofp13.Error) {
	ctx, cancel := c.dp.a.call(c.ctx)
	defer cancel()
	gs, err := c.dp.a.nbi.ListLogicalDeviceFlowGroups(ctx, &voltv1.ID{Id: c.dp.id})
	if err != nil {
		return nil, ofError(opRead, err)
	}
	return gs.GetItems(), nil
}

func (c *conn) groupDesc() (ofp13.Message, *ofp13.Error) {
	gs, e := c.groups()
	if e != nil {
		return nil, e
	}
	r := &ofp13.GroupDescReply{}
	for _, g := range gs {
		d, err := ofp13.GroupDescFromProto(g.GetDesc())
		if err != nil {
			c.log.Warn("group cannot be described in OpenFlow; left out", "group", g.GetDesc().GetGroupId(), "err", err)
			continue
		}
		r.Groups = append(r.Groups, d)
	}
	return r, nil
}

func (c *conn) groupStats(id uint32) (ofp13.Message, *ofp13.Error) {
	gs, e := c.groups()
	if e != nil {
		return nil, e
	}
	r := &ofp13.GroupStatsReply{}
	for _, g := range gs {
		gid := g.GetDesc().GetGroupId()
		if id != ofp13.GroupAll && id != gid {
			continue
		}
		s := ofp13.GroupStatsFromProto(g.GetStats())
		s.GroupID = gid
		// One counter per bucket, as the spec lays the entry out.
		for len(s.BucketStats) < len(g.GetDesc().GetBuckets()) {
			s.BucketStats = append(s.BucketStats, ofp13.BucketCounter{})
		}
		r.Stats = append(r.Stats, s)
	}
	if id != ofp13.GroupAll && len(r.Stats) == 0 {
		return nil, ofp13.Errorf(ofp13.ErrTypeGroupModFailed, ofp13.GroupModFailedUnknownGroup, "no group %d", id)
	}
	return r, nil
}

func (c *conn) meters() ([]*openflowv1.Meter, *ofp13.Error) {
	ctx, cancel := c.dp.a.call(c.ctx)
	defer cancel()
	ms, err := c.dp.a.nbi.ListLogicalDeviceMeters(ctx, &voltv1.ID{Id: c.dp.id})
	if err != nil {
		return nil, ofError(opRead, err)
	}
	return ms.GetItems(), nil
}

func (c *conn) meterConfig(id uint32) (ofp13.Message, *ofp13.Error) {
	ms, e := c.meters()
	if e != nil {
		return nil, e
	}
	r := &ofp13.MeterConfigReply{}
	for _, m := range ms {
		if id != ofp13.MeterAll && id != m.GetConfig().GetMeterId() {
			continue
		}
		mc, err := ofp13.MeterConfigFromProto(m.GetConfig())
		if err != nil {
			c.log.Warn("meter cannot be described in OpenFlow; left out", "meter", m.GetConfig().GetMeterId(), "err", err)
			continue
		}
		r.Configs = append(r.Configs, mc)
	}
	return r, nil
}

func (c *conn) meterStats(id uint32) (ofp13.Message, *ofp13.Error) {
	ms, e := c.meters()
	if e != nil {
		return nil, e
	}
	r := &ofp13.MeterStatsReply{}
	for _, m := range ms {
		mid := m.GetConfig().GetMeterId()
		if id != ofp13.MeterAll && id != mid {
			continue
		}
		s := ofp13.MeterStatsFromProto(m.GetStats())
		s.MeterID = mid
		for len(s.BandStats) < len(m.GetConfig().GetBands()) {
			s.BandStats = append(s.BandStats, ofp13.MeterBandStats{})
		}
		r.Stats = append(r.Stats, s)
	}
	return r, nil
}
