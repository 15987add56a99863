package openolt

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/opencord/voltha-protos/v5/go/openolt"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/protoadapt"
)

// RenderFlowRecord renders a stored flow record as one readable line.
func RenderFlowRecord(raw []byte) (string, error) {
	var r flowRecord
	if err := json.Unmarshal(raw, &r); err != nil {
		return "", err
	}
	f := &openolt.Flow{}
	if err := protojson.Unmarshal(r.Flow, protoadapt.MessageV2Of(f)); err != nil {
		return "", err
	}
	return describeFlow(f), nil
}

// RenderInstance renders a stored tech-profile instance with the
// schedulers and queues it makes.
func RenderInstance(raw []byte) (string, error) {
	var in tpInstance
	if err := json.Unmarshal(raw, &in); err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "instance %s: alloc_id=%d", in.ref().owner(), in.AllocID)
	for _, g := range in.GemPorts {
		fmt.Fprintf(&b, " gem=%d(pbits=%s,q=%d)", g.ID, g.PbitMap, g.Priority)
	}
	b.WriteString("\n")
	opts := protojson.MarshalOptions{UseProtoNames: true}
	s, err := opts.Marshal(protoadapt.MessageV2Of(schedulersOf(&in)))
	if err != nil {
		return "", err
	}
	fmt.Fprintf(&b, "schedulers %s\n", compact(s))
	q, err := opts.Marshal(protoadapt.MessageV2Of(queuesOf(&in)))
	if err != nil {
		return "", err
	}
	fmt.Fprintf(&b, "queues %s\n", compact(q))
	return b.String(), nil
}

// compact makes protojson's output stable (it may add spaces at random).
func compact(b []byte) string {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return string(b)
	}
	out, _ := json.Marshal(v)
	return string(out)
}

// FlowRecordID is the openolt flow id a stored flow record carries.
func FlowRecordID(raw []byte) (uint64, error) {
	var r flowRecord
	if err := json.Unmarshal(raw, &r); err != nil {
		return 0, err
	}
	f := &openolt.Flow{}
	if err := protojson.Unmarshal(r.Flow, protoadapt.MessageV2Of(f)); err != nil {
		return 0, err
	}
	return f.GetFlowId(), nil
}
