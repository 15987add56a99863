package omcionu_test

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/openvolt/openvolt/internal/adapters/omcionu"
	"github.com/openvolt/openvolt/internal/adapters/openolt"
)

// BenchmarkActivation measures OLT enable → every ONU ACTIVE with its UNI
// logical port (MIB sync and base configuration over OMCI included), with
// ponsim's openolt face and the whole stack in process (embedded etcd,
// broker, core, openolt and omci_onu adapters):
//
//	go test -run '^$' -bench Activation -benchtime 1x ./internal/adapters/omcionu/
func BenchmarkActivation(b *testing.B) {
	for _, pons := range benchPONs {
		b.Run(fmt.Sprintf("onus=%d", pons*benchONUs(pons)), func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				s := newStackHB(b, omcionu.Options{}, openolt.DefaultHeartbeatInterval)
				p := s.newSim(pons, benchONUs(pons), 1, 0)
				b.StartTimer()
				begin := time.Now()
				olt := s.create(p.addr)
				s.waitONUs(olt, pons*benchONUs(pons), 1, omcionu.ReasonMibDownload)
				el := time.Since(begin)
				b.StopTimer()
				msgs := p.face.OMCICounters().Sent
				b.ReportMetric(el.Seconds(), "s/activation")
				b.ReportMetric(float64(msgs)/el.Seconds(), "omci-msgs/s")
				b.ReportMetric(float64(msgs)/float64(pons*benchONUs(pons)), "omci-msgs/onu")
				b.ReportMetric(peakRSSMiB(), "peak-RSS-MiB")
			}
		})
	}
}

// benchPONs are the OLT sizes measured: 1 ONU (the latency of one
// bring-up), 4 x 64 and 16 x 64 ONUs.
var benchPONs = []int{1, 4, 16}

func benchONUs(pons int) int {
	if pons == 1 {
		return 1
	}
	return 64
}

// peakRSSMiB is the process's peak resident set (VmHWM), 0 if unknown.
func peakRSSMiB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range bytes.Split(b, []byte("\n")) {
		if f := bytes.Fields(l); len(f) >= 2 && string(f[0]) == "VmHWM:" {
			kb, _ := strconv.ParseFloat(string(f[1]), 64)
			return kb / 1024
		}
	}
	return 0
}
