package cli

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
)

// OpenFlow port config and state bits (ofp_port_config, ofp_port_state) by
// the names -o json shows them with, in bit order.
var (
	portConfigNames = []struct {
		bit  uint32
		name string
	}{{1 << 0, "PORT_DOWN"}, {1 << 2, "NO_RECV"}, {1 << 5, "NO_FWD"}, {1 << 6, "NO_PACKET_IN"}}
	portStateNames = []struct {
		bit  uint32
		name string
	}{{1 << 0, "LINK_DOWN"}, {1 << 1, "BLOCKED"}, {1 << 2, "LIVE"}}
)

// humanJSON rewrites protojson output for people and scripts alike: an
// OpenFlow port (an object with portNo and hwAddr) shows its hwAddr as
// aa:bb:cc:dd:ee:ff instead of base64 and its config and state bitmaps as
// lists of flag names. Key order is kept.
func humanJSON(b []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	v, err := decodeOrdered(dec)
	if err != nil {
		return nil, err
	}
	fixPorts(v)
	var buf bytes.Buffer
	err = encodeOrdered(&buf, v)
	return buf.Bytes(), err
}

// object is a JSON object that keeps its keys in order.
type object struct {
	keys []string
	vals map[string]any
}

// encodeOrdered writes v as compact JSON, objects in their key order and
// strings without HTML escaping (flows contain < and >).
func encodeOrdered(buf *bytes.Buffer, v any) error {
	switch t := v.(type) {
	case *object:
		buf.WriteByte('{')
		for i, k := range t.keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := encodeOrdered(buf, k); err != nil {
				return err
			}
			buf.WriteByte(':')
			if err := encodeOrdered(buf, t.vals[k]); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
		return nil
	case []any:
		buf.WriteByte('[')
		for i, e := range t {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := encodeOrdered(buf, e); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
		return nil
	}
	var leaf bytes.Buffer
	enc := json.NewEncoder(&leaf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	buf.Write(bytes.TrimSuffix(leaf.Bytes(), []byte("\n")))
	return nil
}

func decodeOrdered(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := &object{vals: map[string]any{}}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				v, err := decodeOrdered(dec)
				if err != nil {
					return nil, err
				}
				o.keys = append(o.keys, k)
				o.vals[k] = v
			}
			_, err := dec.Token() // }
			return o, err
		case '[':
			arr := []any{}
			for dec.More() {
				v, err := decodeOrdered(dec)
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
			_, err := dec.Token() // ]
			return arr, err
		}
		return nil, fmt.Errorf("unexpected %v", t)
	default:
		return t, nil
	}
}

func fixPorts(v any) {
	switch t := v.(type) {
	case *object:
		if _, ok := t.vals["portNo"]; ok {
			if s, ok := t.vals["hwAddr"].(string); ok {
				if raw, err := base64.StdEncoding.DecodeString(s); err == nil {
					t.vals["hwAddr"] = macText(raw)
				}
			}
			if n, ok := t.vals["config"].(json.Number); ok {
				t.vals["config"] = flagNames(n, portConfigNames)
			}
			if n, ok := t.vals["state"].(json.Number); ok {
				t.vals["state"] = flagNames(n, portStateNames)
			}
		}
		for _, k := range t.keys {
			fixPorts(t.vals[k])
		}
	case []any:
		for _, e := range t {
			fixPorts(e)
		}
	}
}

// macText shows a hardware address as colon-separated lowercase hex; an
// empty one as "".
func macText(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return net.HardwareAddr(b).String()
}

// flagNames lists the names of the bits set in n; a bit without a name
// shows as its hex value.
func flagNames(n json.Number, names []struct {
	bit  uint32
	name string
}) []string {
	v, err := n.Int64()
	if err != nil {
		return []string{n.String()}
	}
	out := []string{}
	rest := uint32(v)
	for _, f := range names {
		if rest&f.bit != 0 {
			out = append(out, f.name)
			rest &^= f.bit
		}
	}
	if rest != 0 {
		out = append(out, fmt.Sprintf("0x%x", rest))
	}
	return out
}
