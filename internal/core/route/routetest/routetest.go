// Package routetest reads a topology written as text into a route.Snapshot,
// for the fixtures of route and flowdecomp:
//
//	olt olt1 nni=1 pon=2097153,2097154
//	onu onu1 pon=2097153 uni=4112
//	onu onu2 pon=2097154 uni=8208,8209 onu_pon=3145728
//
// One device per line (or per ";"). An OLT's NNIs become root logical ports
// and its PON ports PON_OLT device ports; an ONU's UNIs become logical
// ports, and its PON port (onu_pon, default portno.ONUPON) names the OLT
// PON port given by pon= (alias parent_port=) as its peer. Without pon= the
// ONU is not linked to the OLT. With peers=olt the link is written on the
// OLT's PON port instead of the ONU's. "olt=ID" and "onu=ID" may stand for
// "olt ID" and "onu ID". A logical port number is also its device port
// number, as adapter/portno lays them out.
package routetest

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/openvolt/openvolt/adapter/portno"
	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/route"
)

// ParseSnapshot reads a topology; see the package comment.
func ParseSnapshot(text string) (route.Snapshot, error) {
	s := route.Snapshot{Ports: map[string][]*voltv1.Port{}}
	var oltID string
	type pending struct {
		onu            string
		onuPON, oltPON uint32
		oltSide        bool
	}
	var links []pending
	for _, line := range strings.FieldsFunc(text, func(r rune) bool { return r == '\n' || r == ';' }) {
		toks := strings.Fields(line)
		if len(toks) == 0 {
			continue
		}
		kind, id, ok := strings.Cut(toks[0], "=")
		if !ok {
			if len(toks) < 2 {
				return s, fmt.Errorf("%q: want \"olt ID …\" or \"onu ID …\"", line)
			}
			id, toks = toks[1], toks[1:]
		}
		opts := map[string]string{}
		for _, t := range toks[1:] {
			k, v, ok := strings.Cut(t, "=")
			if !ok {
				return s, fmt.Errorf("%q: %q is not key=value", line, t)
			}
			if k == "parent_port" {
				k = "pon"
			}
			opts[k] = v
		}
		switch kind {
		case "olt":
			if oltID != "" {
				return s, errors.New("two OLTs")
			}
			oltID = id
			nnis, err := numbers(opts["nni"])
			if err != nil {
				return s, fmt.Errorf("%q: %w", line, err)
			}
			for _, n := range nnis {
				s.LogicalPorts = append(s.LogicalPorts, logicalPort(n, id, true))
				s.Ports[id] = append(s.Ports[id], port(id, n, voltv1.PortType_PORT_TYPE_ETHERNET_NNI))
			}
			pons, err := numbers(opts["pon"])
			if err != nil {
				return s, fmt.Errorf("%q: %w", line, err)
			}
			for _, p := range pons {
				s.Ports[id] = append(s.Ports[id], port(id, p, voltv1.PortType_PORT_TYPE_PON_OLT))
			}
		case "onu":
			unis, err := numbers(opts["uni"])
			if err != nil {
				return s, fmt.Errorf("%q: %w", line, err)
			}
			for _, u := range unis {
				s.LogicalPorts = append(s.LogicalPorts, logicalPort(u, id, false))
				s.Ports[id] = append(s.Ports[id], port(id, u, voltv1.PortType_PORT_TYPE_ETHERNET_UNI))
			}
			onuPON := uint32(portno.ONUPON)
			if v, ok := opts["onu_pon"]; ok {
				n, err := strconv.ParseUint(v, 0, 32)
				if err != nil {
					return s, fmt.Errorf("%q: %w", line, err)
				}
				onuPON = uint32(n)
			}
			s.Ports[id] = append(s.Ports[id], port(id, onuPON, voltv1.PortType_PORT_TYPE_PON_ONU))
			if v, ok := opts["pon"]; ok {
				n, err := strconv.ParseUint(v, 0, 32)
				if err != nil {
					return s, fmt.Errorf("%q: %w", line, err)
				}
				links = append(links, pending{id, onuPON, uint32(n), opts["peers"] == "olt"})
			}
		default:
			return s, fmt.Errorf("%q: want olt or onu, not %q", line, kind)
		}
	}
	for _, l := range links {
		if l.oltSide {
			for _, p := range s.Ports[oltID] {
				if p.GetPortNo() == l.oltPON {
					p.Peers = append(p.Peers, &voltv1.PortPeer{DeviceId: l.onu, PortNo: l.onuPON})
				}
			}
			continue
		}
		for _, p := range s.Ports[l.onu] {
			if p.GetType() == voltv1.PortType_PORT_TYPE_PON_ONU {
				p.Peers = append(p.Peers, &voltv1.PortPeer{DeviceId: oltID, PortNo: l.oltPON})
			}
		}
	}
	return s, nil
}

func numbers(list string) ([]uint32, error) {
	if list == "" {
		return nil, nil
	}
	var out []uint32
	for _, f := range strings.Split(list, ",") {
		n, err := strconv.ParseUint(f, 0, 32)
		if err != nil {
			return nil, err
		}
		out = append(out, uint32(n))
	}
	return out, nil
}

func logicalPort(n uint32, dev string, root bool) *voltv1.LogicalPort {
	return &voltv1.LogicalPort{
		Id:           portno.Name(n),
		OfpPort:      &openflowv1.Port{PortNo: n, Name: portno.Name(n)},
		DeviceId:     dev,
		DevicePortNo: n,
		RootPort:     root,
	}
}

func port(dev string, n uint32, t voltv1.PortType) *voltv1.Port {
	return &voltv1.Port{DeviceId: dev, PortNo: n, Type: t}
}
