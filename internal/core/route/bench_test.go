package route_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/openvolt/openvolt/adapter/portno"
	"github.com/openvolt/openvolt/internal/core/route"
	"github.com/openvolt/openvolt/internal/core/route/routetest"
)

// bigTopology is an OLT with 16 PONs of 64 ONUs: 1,024 UNIs.
func bigTopology(tb testing.TB) (route.Snapshot, []uint32) {
	var b strings.Builder
	fmt.Fprintf(&b, "olt olt1 nni=%d pon=", portno.NNI(0))
	for p := range uint32(16) {
		if p > 0 {
			b.WriteString(",")
		}
		fmt.Fprint(&b, portno.OLTPON(p))
	}
	b.WriteString("\n")
	var unis []uint32
	for p := range uint32(16) {
		for o := uint32(1); o <= 64; o++ {
			u := portno.UNI(p, o, 0)
			unis = append(unis, u)
			fmt.Fprintf(&b, "onu onu-%d-%d pon=%d uni=%d\n", p, o, portno.OLTPON(p), u)
		}
	}
	s, err := routetest.ParseSnapshot(b.String())
	if err != nil {
		tb.Fatal(err)
	}
	return s, unis
}

func TestLargeTopology(t *testing.T) {
	s, unis := bigTopology(t)
	r, err := route.Build(s)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(r.UNIs()); got != 1024 {
		t.Fatalf("%d UNIs routable, want 1024", got)
	}
	if got, want := r.Len(), 1024*5+3; got != want {
		t.Errorf("%d routes, want %d", got, want)
	}
	nni := portno.NNI(0)
	for _, u := range unis {
		up, err := r.Route(u, nni)
		if err != nil {
			t.Fatal(err)
		}
		pon, _, _ := portno.SplitUNI(u)
		if up[1].Ingress != portno.OLTPON(pon) || up[0].Egress != portno.ONUPON {
			t.Fatalf("route %d→%d = %v", u, nni, up)
		}
	}
}

func BenchmarkBuild(b *testing.B) {
	s, _ := bigTopology(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := route.Build(s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRoute(b *testing.B) {
	s, unis := bigTopology(b)
	r, err := route.Build(s)
	if err != nil {
		b.Fatal(err)
	}
	nni := portno.NNI(0)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := r.Route(unis[i%len(unis)], nni); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
