package flowdecomp_test

import (
	"errors"
	"flag"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	"github.com/openvolt/openvolt/internal/core/coreerr"
	"github.com/openvolt/openvolt/internal/core/flowdecomp"
	"github.com/openvolt/openvolt/internal/core/route"
	"github.com/openvolt/openvolt/internal/core/route/routetest"
	"github.com/openvolt/openvolt/internal/openflow/flowtext"
)

var update = flag.Bool("update", false, "rewrite the expected output in testdata")

// TestFixtures runs testdata/*.txt: logical flows in, device flows out.
//
// A file holds cases separated by "---". A case is comment lines (#) and
// sections, each a header line ending in ":" and lines indented by two
// spaces. The input sections are
//
//	topology:  the OLT and ONUs (see route/routetest)
//	meters:    logical meters, ovs-ofctl add-meter syntax
//	groups:    logical groups, ovs-ofctl add-group syntax
//	logical:   the logical flow table, one flow a line
//
// topology, meters and groups carry over to the next cases of the file
// until given again. The expected output follows: for each device (the
// OLT first) "DEVICE:" with its flows, then "DEVICE groups:" and
// "DEVICE meters:" when it has some; or "error:" with the error text. A
// failure shows the difference; -update writes what the code does into the
// file, to be read and checked.
func TestFixtures(t *testing.T) {
	routetest.Golden(t, "testdata/*.txt", *update, runFile)
}

var inputs = map[string]bool{"topology:": true, "meters:": true, "groups:": true, "logical:": true}

// fixture is the input a case has, with what it carries over.
type fixture struct {
	routes *route.Routes
	meters map[uint32]*openflowv1.MeterConfig
	groups map[uint32]*openflowv1.GroupDesc
	flows  []*openflowv1.Flow
}

func runFile(t *testing.T, text string) string {
	var out strings.Builder
	var fx fixture
	for i, c := range strings.Split(strings.TrimRight(text, "\n"), "\n---\n") {
		if i > 0 {
			out.WriteString("---\n")
		}
		out.WriteString(runCase(t, &fx, c))
	}
	return out.String()
}

func runCase(t *testing.T, fx *fixture, text string) string {
	var out strings.Builder
	fx.flows = nil
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); {
		line := lines[i]
		i++
		if !inputs[line] {
			if line == "" || strings.HasPrefix(line, "#") {
				out.WriteString(line + "\n")
				continue
			}
			// An output section: skip it, it is made again below.
			for i < len(lines) && strings.HasPrefix(lines[i], "  ") {
				i++
			}
			continue
		}
		out.WriteString(line + "\n")
		var block []string
		for i < len(lines) && (strings.HasPrefix(lines[i], "  ") || strings.HasPrefix(lines[i], "#")) {
			out.WriteString(lines[i] + "\n")
			if s := strings.TrimSpace(lines[i]); !strings.HasPrefix(s, "#") {
				block = append(block, s)
			}
			i++
		}
		if err := fx.read(line, block); err != nil {
			t.Fatalf("%s %v", line, err)
		}
	}
	if fx.routes == nil {
		t.Fatal("no topology")
	}
	got := strings.TrimRight(out.String(), "\n") + "\n"
	return got + decompose(t, fx)
}

func (fx *fixture) read(section string, block []string) error {
	switch section {
	case "topology:":
		snap, err := routetest.ParseSnapshot(strings.Join(block, "\n"))
		if err != nil {
			return err
		}
		fx.routes, err = route.Build(snap)
		return err
	case "meters:":
		fx.meters = map[uint32]*openflowv1.MeterConfig{}
		for _, l := range block {
			m, err := flowtext.ParseMeter(l)
			if err != nil {
				return err
			}
			fx.meters[m.GetMeterId()] = m
		}
	case "groups:":
		fx.groups = map[uint32]*openflowv1.GroupDesc{}
		for _, l := range block {
			g, err := flowtext.ParseGroup(l)
			if err != nil {
				return err
			}
			fx.groups[g.GetGroupId()] = g
		}
	case "logical:":
		for _, l := range block {
			f, err := flowtext.ParseFlow(l)
			if err != nil {
				return err
			}
			f.Id = flowdecomp.FlowID(f)
			fx.flows = append(fx.flows, f)
		}
	}
	return nil
}

// decompose runs the case and renders the result; it also checks what
// every decomposition must do.
func decompose(t *testing.T, fx *fixture) string {
	before := cloneAll(fx)
	d := flowdecomp.New(fx.routes)
	rules, err := d.Decompose(fx.flows, fx.groups, fx.meters)
	if !equalAll(before, fx) {
		t.Error("Decompose changed its input")
	}
	if err != nil {
		var fe *flowdecomp.Error
		if !errors.As(err, &fe) || !errors.Is(err, coreerr.ErrInvalidArgument) {
			t.Errorf("error %v is not an *Error and an ErrInvalidArgument", err)
		}
		if rules != nil {
			t.Error("rules returned with an error")
		}
		return "error:\n  " + err.Error() + "\n"
	}
	checkRules(t, d, fx, rules)
	return render(fx.routes.OLT(), rules)
}

// checkRules checks the promises of Decompose: ids are the hash of the
// device flow and unique on their device, decomposing again gives the same
// rules, and the flows decomposed one by one give the same flows.
func checkRules(t *testing.T, d *flowdecomp.Decomposer, fx *fixture, rules flowdecomp.Rules) {
	t.Helper()
	for dev, dr := range rules {
		seen := map[uint64]bool{}
		for _, f := range dr.Flows {
			if id := flowdecomp.DeviceFlowID(dev, f); f.GetId() != id {
				t.Errorf("%s: flow id %#x, want %#x: %s", dev, f.GetId(), id, flowtext.FormatFlow(f))
			}
			if seen[f.GetId()] {
				t.Errorf("%s: flow id %#x twice", dev, f.GetId())
			}
			seen[f.GetId()] = true
			// The text shown is the flow.
			back, err := flowtext.ParseFlow(flowtext.FormatFlow(f))
			if err != nil {
				t.Errorf("%s: %v", dev, err)
			} else if back.Id = f.GetId(); !proto.Equal(back, f) {
				t.Errorf("%s: text %s reads back as %v", dev, flowtext.FormatFlow(f), back)
			}
		}
	}
	again, err := d.Decompose(fx.flows, fx.groups, fx.meters)
	if err != nil {
		t.Fatalf("second Decompose: %v", err)
	}
	if render("", again) != render("", rules) || !sameIDs(again, rules) {
		t.Error("decomposing again gave other rules")
	}
	oneByOne := map[string]map[uint64]bool{}
	for _, f := range fx.flows {
		r, err := d.DecomposeFlow(f, fx.groups, fx.meters)
		if err != nil {
			t.Fatalf("DecomposeFlow(%s): %v", flowtext.FormatFlow(f), err)
		}
		for dev, dr := range r {
			if oneByOne[dev] == nil {
				oneByOne[dev] = map[uint64]bool{}
			}
			for _, df := range dr.Flows {
				oneByOne[dev][df.GetId()] = true
			}
		}
	}
	for dev, dr := range rules {
		if len(oneByOne[dev]) != len(dr.Flows) {
			t.Errorf("%s: %d flows one by one, %d in one go", dev, len(oneByOne[dev]), len(dr.Flows))
		}
		for _, f := range dr.Flows {
			if !oneByOne[dev][f.GetId()] {
				t.Errorf("%s: flow %s missing one by one", dev, flowtext.FormatFlow(f))
			}
		}
	}
}

func sameIDs(a, b flowdecomp.Rules) bool {
	for dev, dr := range a {
		if b[dev] == nil || len(b[dev].Flows) != len(dr.Flows) {
			return false
		}
		for i, f := range dr.Flows {
			if b[dev].Flows[i].GetId() != f.GetId() {
				return false
			}
		}
	}
	return len(a) == len(b)
}

// render shows rules as the fixtures hold them: the OLT first, then the
// other devices by id.
func render(olt string, rules flowdecomp.Rules) string {
	if len(rules) == 0 {
		return "no device rules\n"
	}
	devs := make([]string, 0, len(rules))
	for dev := range rules {
		devs = append(devs, dev)
	}
	slices.SortFunc(devs, func(a, b string) int {
		switch {
		case a == olt:
			return -1
		case b == olt:
			return 1
		}
		return strings.Compare(a, b)
	})
	var out strings.Builder
	for _, dev := range devs {
		dr := rules[dev]
		out.WriteString(dev + ":\n")
		for _, f := range dr.Flows {
			out.WriteString("  " + flowtext.FormatFlow(f) + "\n")
		}
		if len(dr.Groups) > 0 {
			out.WriteString(dev + " groups:\n")
			for _, g := range dr.Groups {
				out.WriteString("  " + flowtext.FormatGroup(g) + "\n")
			}
		}
		if len(dr.Meters) > 0 {
			out.WriteString(dev + " meters:\n")
			for _, m := range dr.Meters {
				out.WriteString("  " + flowtext.FormatMeter(m) + "\n")
			}
		}
	}
	return out.String()
}

func cloneAll(fx *fixture) []proto.Message {
	var out []proto.Message
	for _, f := range fx.flows {
		out = append(out, proto.Clone(f))
	}
	for _, id := range sortedKeys(fx.groups) {
		out = append(out, proto.Clone(fx.groups[id]))
	}
	for _, id := range sortedKeys(fx.meters) {
		out = append(out, proto.Clone(fx.meters[id]))
	}
	return out
}

func equalAll(before []proto.Message, fx *fixture) bool {
	now := cloneAll(fx)
	if len(now) != len(before) {
		return false
	}
	for i := range now {
		if !proto.Equal(now[i], before[i]) {
			return false
		}
	}
	return true
}

func sortedKeys[V any](m map[uint32]V) []uint32 {
	keys := make([]uint32, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
