package bench

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/ponsim"
	"github.com/openvolt/openvolt/internal/stack"
	"github.com/openvolt/openvolt/logging"
)

// ActivationConfig configures Activation.
type ActivationConfig struct {
	OLTs       int
	PONPorts   int
	ONUsPerPON int
	// Server is the NBI of a running stack and PonSims the addresses of its
	// simulated OLTs; when Server is empty Activation starts its own stack
	// (in a temporary data directory) in this process.
	Server  string
	PonSims []string
	// Timeout bounds the wait for every ONU (default 5 minutes).
	Timeout time.Duration
	// OLTType is how the OLTs are driven: stack.OLTType (ponsim_olt, the
	// default) or stack.OpenOLTType (openolt, over ponsim's openolt face).
	// An openolt ONU counts once the OLT reports it up (ActivateOnu
	// answered by an ONU indication) and its child device exists: no ONU
	// adapter configures it yet, so there are no UNI ports to wait for.
	OLTType string
	Logs    *logging.Registry
}

// ActivationResult is what `volt bench activation` prints.
type ActivationResult struct {
	OLTs int `json:"olts"`
	ONUs int `json:"onus"`
	// UpSeconds is the time until every ONU is up on its OLT (openolt:
	// ActivateOnu answered by an ONU indication, child device created);
	// Seconds until every ONU is ACTIVE with its UNI logical port (openolt:
	// MIB synchronised and configured over OMCI by the omci_onu adapter).
	UpSeconds float64 `json:"up_seconds"`
	Seconds   float64 `json:"seconds"`
	ONUsPerS  float64 `json:"onus_per_s"`
	// CoreRSSMiB is the resident size of this process when every ONU is
	// active: with its own stack that is the core together with etcd, the
	// broker, ponsim and the adapters, so the core alone is smaller.
	CoreRSSMiB float64 `json:"core_rss_mib"`
	// PeakRSSMiB is the most this process was resident at any time
	// (VmHWM), the start of the stack included.
	PeakRSSMiB float64 `json:"peak_rss_mib"`
	// OMCIRequests are the OMCI requests the ONUs' adapter sent (each
	// answered by a response), from every ONU's counters (volt device
	// omci), and OMCIPerS those per second of Seconds: openolt only.
	OMCIRequests uint64  `json:"omci_requests,omitempty"`
	OMCIPerS     float64 `json:"omci_requests_per_s,omitempty"`
}

// Activation enables the OLTs and measures the time until every ONU is
// ACTIVE and every UNI logical port exists.
func Activation(ctx context.Context, cfg ActivationConfig) (ActivationResult, error) {
	if cfg.OLTs < 1 || cfg.PONPorts < 1 || cfg.ONUsPerPON < 1 {
		return ActivationResult{}, fmt.Errorf("bench activation: --olts, --pon-ports and --onus-per-pon must be positive")
	}
	// ponsim's limits (the port layout's among them) bound the OLTs of
	// --server too.
	if cfg.PONPorts > ponsim.MaxPONPorts {
		return ActivationResult{}, fmt.Errorf("bench activation: --pon-ports %d out of range 1..%d", cfg.PONPorts, ponsim.MaxPONPorts)
	}
	if cfg.ONUsPerPON > ponsim.MaxONUsPerPON {
		return ActivationResult{}, fmt.Errorf("bench activation: --onus-per-pon %d out of range 1..%d", cfg.ONUsPerPON, ponsim.MaxONUsPerPON)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Minute
	}
	if cfg.Server != "" {
		if len(cfg.PonSims) != cfg.OLTs {
			return ActivationResult{}, fmt.Errorf("bench activation: --server needs --ponsim with %d addresses, got %d", cfg.OLTs, len(cfg.PonSims))
		}
		return activate(ctx, cfg, cfg.Server, cfg.PonSims)
	}
	dir, err := os.MkdirTemp("", "volt-bench-")
	if err != nil {
		return ActivationResult{}, err
	}
	defer os.RemoveAll(dir)
	scfg := stack.Config{DataDir: dir, NBI: "127.0.0.1:0", EtcdListen: "http://127.0.0.1:0", BrokerListen: "127.0.0.1:0", Logs: cfg.Logs,
		OLTType: cfg.OLTType}
	for i := range cfg.OLTs {
		scfg.PonSims = append(scfg.PonSims, stack.PonSim{Name: fmt.Sprintf("bench-olt-%d", i), GRPC: "127.0.0.1:0", PONPorts: cfg.PONPorts, ONUsPerPON: cfg.ONUsPerPON})
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		res    ActivationResult
		runErr error
	)
	err = stack.Run(ctx, scfg, func(a stack.Addrs) {
		res, runErr = activate(ctx, cfg, a.NBI, a.PonSims)
		cancel()
	})
	if runErr != nil {
		return res, runErr
	}
	if err != nil {
		return res, err
	}
	return res, nil
}

func activate(ctx context.Context, cfg ActivationConfig, server string, sims []string) (ActivationResult, error) {
	cc, err := grpc.NewClient(server, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return ActivationResult{}, err
	}
	defer cc.Close()
	nbi := voltv1.NewVoltServiceClient(cc)
	onus := cfg.OLTs * cfg.PONPorts * cfg.ONUsPerPON
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()

	start := time.Now()
	for _, addr := range sims {
		if _, err := stack.ProvisionType(ctx, nbi, oltType(cfg.OLTType), addr); err != nil {
			return ActivationResult{}, err
		}
	}
	var up float64
	if _, err := stack.WaitFor(ctx, nbi, 50*time.Millisecond, func(s stack.Status) bool {
		if up == 0 && s.UpONUs >= onus {
			up = time.Since(start).Seconds()
		}
		return s.ActiveONUs >= onus && s.UNIPorts >= onus
	}); err != nil {
		return ActivationResult{}, fmt.Errorf("bench activation: %w", err)
	}
	secs := time.Since(start).Seconds()
	if up == 0 {
		up = secs
	}
	res := ActivationResult{
		OLTs:       cfg.OLTs,
		ONUs:       onus,
		UpSeconds:  round(up, 3),
		Seconds:    round(secs, 3),
		ONUsPerS:   round(float64(onus)/secs, 1),
		CoreRSSMiB: round(procStatusMiB("VmRSS:"), 1),
		PeakRSSMiB: round(procStatusMiB("VmHWM:"), 1),
	}
	if cfg.OLTType == stack.OpenOLTType {
		n, err := omciRequests(ctx, nbi)
		if err != nil {
			return res, fmt.Errorf("bench activation: OMCI counters: %w", err)
		}
		res.OMCIRequests, res.OMCIPerS = n, round(float64(n)/secs, 0)
	}
	return res, nil
}

// omciRequests sums the OMCI requests every OMCI-managed ONU sent.
func omciRequests(ctx context.Context, nbi voltv1.VoltServiceClient) (uint64, error) {
	ds, err := nbi.ListDevices(ctx, &voltv1.ListDevicesRequest{})
	if err != nil {
		return 0, err
	}
	var n uint64
	for _, d := range ds.GetItems() {
		if d.GetRoot() || d.GetType() != "omci_onu" {
			continue
		}
		st, err := nbi.GetDeviceOmci(ctx, &voltv1.ID{Id: d.GetId()})
		if err != nil {
			return 0, err
		}
		n += st.GetSent()
	}
	return n, nil
}

func round(v float64, digits int) float64 {
	p := 1.0
	for range digits {
		p *= 10
	}
	return float64(int64(v*p+0.5)) / p
}

// procStatusMiB reads a size of this process from /proc/self/status
// (field "VmRSS:", "VmHWM:").
func procStatusMiB(field string) float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// oltType is t, or the default stack.OLTType.
func oltType(t string) string {
	if t == "" {
		return stack.OLTType
	}
	return t
}
