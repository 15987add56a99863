package flows

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"

	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
)

// TestChunks: a large batch goes out in requests under the size limit, each
// flow once, in an order that keeps the device consistent.
func TestChunks(t *testing.T) {
	b := newBatch()
	f := func(id uint64) *openflowv1.Flow {
		return &openflowv1.Flow{Id: id, Priority: 1000, Cookie: id, Match: &openflowv1.Match{Fields: []*openflowv1.MatchField{
			{Type: openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IN_PORT, Value: uint64(id)},
		}}}
	}
	for i := range uint64(6000) {
		b.flows[i] = f(i)
		b.unflows[100000+i] = f(100000 + i)
	}
	b.groups[1] = &openflowv1.GroupDesc{GroupId: 1}
	b.ungrps[2] = &openflowv1.GroupDesc{GroupId: 2}
	b.meters[3] = &openflowv1.MeterConfig{MeterId: 3}
	b.unmtrs[4] = &openflowv1.MeterConfig{MeterId: 4}
	const max = 64 << 10
	reqs := chunks(&voltv1.Device{Id: "olt1"}, b, max)
	if len(reqs) < 4 {
		t.Fatalf("%d requests for %d KiB of changes", len(reqs), 12000*proto.Size(f(1))>>10)
	}
	seen := map[uint64]bool{}
	phase := 0 // 0 meter/group adds, 1 flow removes, 2 flow adds, 3 group/meter removes
	for i, r := range reqs {
		if r.GetDevice().GetId() != "olt1" {
			t.Fatalf("request %d for device %q", i, r.GetDevice().GetId())
		}
		if n := proto.Size(r); n > max {
			t.Errorf("request %d is %d bytes, over %d", i, n, max)
		}
		for _, step := range []struct {
			phase int
			n     int
		}{
			{0, len(r.GetMeters().GetToAdd()) + len(r.GetGroups().GetToAdd())},
			{1, len(r.GetFlows().GetToRemove())},
			{2, len(r.GetFlows().GetToAdd())},
			{3, len(r.GetGroups().GetToRemove()) + len(r.GetMeters().GetToRemove())},
		} {
			if step.n == 0 {
				continue
			}
			if step.phase < phase {
				t.Fatalf("request %d goes back to phase %d after %d", i, step.phase, phase)
			}
			phase = step.phase
		}
		for _, fl := range append(r.GetFlows().GetToRemove(), r.GetFlows().GetToAdd()...) {
			if seen[fl.GetId()] {
				t.Fatalf("flow %d sent twice", fl.GetId())
			}
			seen[fl.GetId()] = true
		}
	}
	if len(seen) != 12000 {
		t.Errorf("%d flows sent, want 12000", len(seen))
	}
	first, last := reqs[0], reqs[len(reqs)-1]
	if len(first.GetMeters().GetToAdd()) != 1 || len(first.GetGroups().GetToAdd()) != 1 ||
		len(last.GetMeters().GetToRemove()) != 1 || len(last.GetGroups().GetToRemove()) != 1 {
		t.Errorf("meters and groups: first request %v, last %v", fmt.Sprint(first.GetMeters(), first.GetGroups()), fmt.Sprint(last.GetMeters(), last.GetGroups()))
	}
	if n := len(chunks(&voltv1.Device{Id: "olt1"}, newBatch(), max)); n != 1 {
		t.Errorf("an empty batch makes %d requests, want 1", n)
	}
}

// adapterStub is an adapter whose flow updates answer with the errors in
// answers, in turn (then nil), counting the calls.
type adapterStub struct {
	adapterv1.AdapterServiceClient
	mu      sync.Mutex // guards answers and calls
	answers []error
	calls   int
}

func (a *adapterStub) UpdateFlowsIncrementally(context.Context, *adapterv1.IncrementalFlowsRequest, ...grpc.CallOption) (*emptypb.Empty, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls++
	if len(a.answers) == 0 {
		return &emptypb.Empty{}, nil
	}
	err := a.answers[0]
	a.answers = a.answers[1:]
	return &emptypb.Empty{}, err
}

// A push's done hears nil once the adapter took it, after any number of
// failed deliveries (an adapter away); a refusal it hears at once, and the
// refused batch is not sent again.
func TestPushDoneAndRefusal(t *testing.T) {
	stub := &adapterStub{answers: []error{status.Error(codes.Unavailable, "away"), nil, status.Error(codes.FailedPrecondition, "cannot")}}
	p := NewAdapterPushers(AdapterConfig{
		Device: func(id string) (*voltv1.Device, bool) { return &voltv1.Device{Id: id, Type: "t"}, true },
		Client: func(context.Context, string) (adapterv1.AdapterServiceClient, bool, error) { return stub, false, nil },
	})
	defer p.Close()
	push := func(id uint64) error {
		done := make(chan error, 1)
		p.Push("d1", &Delta{AddFlows: []*openflowv1.Flow{{Id: id}}}, func(err error) { done <- err })
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			return errors.New("done never called")
		}
	}
	if err := push(1); err != nil {
		t.Fatalf("push through an adapter away, then back: %v", err)
	}
	if err := push(2); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("refused push: %v, want FailedPrecondition", err)
	}
	time.Sleep(3 * retryMin) // room for a wrong retry, not an assertion
	stub.mu.Lock()
	defer stub.mu.Unlock()
	if stub.calls != 3 {
		t.Errorf("%d deliveries, want 3: the refused batch is not tried again", stub.calls)
	}
}
