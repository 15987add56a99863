// Package openolt is the openolt face of ponsim: the openolt gRPC API (the
// one real OLTs' agents and BBSim serve, github.com/opencord/voltha-protos
// v5 openolt.proto) over the same simulated OLT, ONUs and dataplane as the
// PonSim API. Every ONU carries an OMCI side (internal/ponsim/omcisim):
// OmciMsgOut hands it the frame, its answers come back as OMCI indications,
// and its configuration (PPTP admin state, extended VLAN tagging rules, GEM
// ports) programs that ONU's flow table. openolt flows program the OLT's
// table (flows.go), so frames really flow.
//
// Conventions of the dataplane it shares with internal/core/flowdecomp: on
// the PON a frame carries tunnel_id = the simulator's UNI port number of
// its ONU, whatever openolt GEM port the adapter chose; the face keeps the
// GEM ports and alloc ids to validate them and to report them.
//
// Lock order: onuState.tmu, then Server.mu, then the Sim's locks (Sim
// methods are called with mu held). No lock is held while an ONU handles
// OMCI (its hooks take tmu and mu) or a stream sends.
package openolt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/opencord/voltha-protos/v5/go/openolt"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/openvolt/openvolt/internal/ponsim"
)

// Facts GetDeviceInfo reports.
const (
	Technology      = "XGS-PON"
	HardwareVersion = "ponsim"
	FirstAllocID    = 1024
	FirstGemPortID  = 1024
	// AllocIDsPerONU and GemPortsPerONU size the pools of a PON: its
	// ONUs times these.
	AllocIDsPerONU = 8
	GemPortsPerONU = 32
	MaxFlowID      = 1<<16 - 1
	nniSpeed       = 10000 // Mb/s
)

// Interface ids in PortStatistics, as the openolt agent numbers them and
// the field's adapter decodes them.
const (
	NNIIntfBase = 0x100000   // + nni id
	PONIntfBase = 0x20000000 // + pon id
)

// Defaults a zero Config field takes.
const (
	DefaultDiscoveryInterval = 60 * time.Second
	DefaultStatsInterval     = 5 * time.Second
	indicationQueueLen       = 1 << 18
)

// Config tunes the face.
type Config struct {
	// DiscoveryInterval is how often ONUs not activated are announced
	// again on the indication stream (0: DefaultDiscoveryInterval).
	DiscoveryInterval time.Duration
	// StatsInterval is how often port and flow statistics are sent (0:
	// DefaultStatsInterval; negative: never).
	StatsInterval time.Duration
	// OMCIDropRate drops this share (0..1) of the ONUs' OMCI responses,
	// evenly spread, for retry tests of an ONU adapter.
	OMCIDropRate float64
	// UNIsPerONU is how many PPTP UNIs each ONU's MIB has (0: 1). The
	// dataplane forwards on the first (the simulator's one UNI).
	UNIsPerONU int
	// QueuesPerTCont is how many upstream priority queues each T-CONT of
	// an ONU's MIB has (0: omcisim's default, 8): fewer make tech
	// profiles with more GEM ports too big for the ONU.
	QueuesPerTCont int
	// Logger receives the face's lines (nil: the simulator's discard).
	Logger *slog.Logger
}

// Validate reports the first invalid field, naming the flag of
// `volt ponsim` that sets it.
func (c Config) Validate() error {
	if c.OMCIDropRate < 0 || c.OMCIDropRate > 1 {
		return fmt.Errorf("openolt: --omci-drop-rate %g out of range 0..1", c.OMCIDropRate)
	}
	if c.DiscoveryInterval < 0 {
		return fmt.Errorf("openolt: --onu-discovery-interval %s must not be negative", c.DiscoveryInterval)
	}
	if c.UNIsPerONU < 0 || c.UNIsPerONU > 8 {
		return fmt.Errorf("openolt: --unis-per-onu %d out of range 1..8", c.UNIsPerONU)
	}
	if c.QueuesPerTCont < 0 || c.QueuesPerTCont > 16 {
		return fmt.Errorf("openolt: queues per T-CONT %d out of range 1..16", c.QueuesPerTCont)
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.DiscoveryInterval == 0 {
		c.DiscoveryInterval = DefaultDiscoveryInterval
	}
	if c.StatsInterval == 0 {
		c.StatsInterval = DefaultStatsInterval
	}
	if c.UNIsPerONU == 0 {
		c.UNIsPerONU = 1
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Error kinds; toStatus maps them to gRPC codes.
var (
	errNotFound     = errors.New("not found")
	errInvalid      = errors.New("invalid argument")
	errPrecondition = errors.New("failed precondition")
	errInUse        = errors.New("already exists")
	errUnavailable  = errors.New("unavailable")
)

func fail(kind error, format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), kind)
}

func toStatus(err error) error {
	if err == nil {
		return nil
	}
	code := codes.Internal
	switch {
	case errors.Is(err, errNotFound), errors.Is(err, ponsim.ErrNotFound):
		code = codes.NotFound
	case errors.Is(err, errInvalid), errors.Is(err, ponsim.ErrInvalidArgument):
		code = codes.InvalidArgument
	case errors.Is(err, errPrecondition), errors.Is(err, ponsim.ErrDeviceDown):
		code = codes.FailedPrecondition
	case errors.Is(err, errInUse):
		code = codes.AlreadyExists
	case errors.Is(err, errUnavailable), errors.Is(err, ponsim.ErrClosed):
		code = codes.Unavailable
	}
	return status.Error(code, err.Error())
}

func empty(err error) (*openolt.Empty, error) {
	if err != nil {
		return nil, toStatus(err)
	}
	return &openolt.Empty{}, nil
}

// Server is the openolt face of one Sim.
type Server struct {
	openolt.UnimplementedOpenoltServer

	sim *ponsim.Sim
	cfg Config
	log *slog.Logger

	onus     []*onuState          // immutable after New: by PON, then simulator id
	bySerial map[string]*onuState // immutable after New
	byUNI    map[uint32]*onuState // immutable after New: by the simulator's UNI number

	done      chan struct{} // closed by Close
	closeOnce sync.Once
	wg        sync.WaitGroup // the packet-in pump

	// mu guards the state below and onuState's mutable fields.
	mu        sync.Mutex
	byID      map[onuKey]*onuState // activated ONUs by (PON, the adapter's ONU id)
	flows     map[uint64]*flowState
	allocs    map[resKey]*onuState
	gems      map[resKey]*onuState // GEM ports held over openolt (queues, flows)
	omciGems  map[resKey]*onuState // GEM ports of the ONUs' GEM port network CTPs
	signature uint32
	connected bool                     // an indication stream was opened since boot
	stream    atomic.Pointer[indQueue] // the indication stream now, nil: none; changed under mu

	omciDropped, omciMalformed, omciSent atomic.Uint64
	dropAcc                              atomic.Uint64 // for OMCIDropRate
	malformedLogged                      atomic.Bool
}

type onuKey struct{ pon, id uint32 }

type resKey struct{ pon, id uint32 }

// New builds the openolt face of sim. Add it to sim (sim.AddFace) to serve
// it on sim's gRPC port.
func New(sim *ponsim.Sim, cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s := &Server{
		sim:       sim,
		cfg:       cfg,
		log:       cfg.Logger,
		bySerial:  make(map[string]*onuState),
		byUNI:     make(map[uint32]*onuState),
		done:      make(chan struct{}),
		byID:      make(map[onuKey]*onuState),
		flows:     make(map[uint64]*flowState),
		allocs:    make(map[resKey]*onuState),
		gems:      make(map[resKey]*onuState),
		omciGems:  make(map[resKey]*onuState),
		signature: newSignature(0),
	}
	for _, v := range sim.ONUs() {
		u, err := s.newONU(v)
		if err != nil {
			return nil, err
		}
		s.onus = append(s.onus, u)
		s.bySerial[v.Serial] = u
		s.byUNI[v.UNI] = u
	}
	sim.Watch(s)
	frames, stop := sim.SubscribeFrames(4096)
	s.wg.Go(func() {
		defer stop()
		s.pumpPacketIns(frames)
	})
	return s, nil
}

// Attach builds the openolt face of sim and adds it to sim, so that
// sim.Serve serves it.
func Attach(sim *ponsim.Sim, cfg Config) (*Server, error) {
	s, err := New(sim, cfg)
	if err != nil {
		return nil, err
	}
	sim.AddFace(s)
	return s, nil
}

// Register serves s as the openolt service on r.
func (s *Server) Register(r *grpc.Server) {
	openolt.RegisterOpenoltServer(r, s)
}

// Close ends the indication stream and the packet-in pump. Idempotent.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.done)
		s.wg.Wait()
	})
}

// newSignature is a heartbeat signature that differs from old.
func newSignature(old uint32) uint32 {
	sig := uint32(time.Now().UnixNano())
	if sig == old || sig == 0 {
		sig = old + 1
	}
	return sig
}

// GetDeviceInfo describes the OLT and its resource pools.
func (s *Server) GetDeviceInfo(context.Context, *openolt.Empty) (*openolt.DeviceInfo, error) {
	pons := uint32(s.sim.PONPorts())
	perPON := uint32(s.sim.ONUsPerPON())
	ids := make([]uint32, pons)
	for i := range ids {
		ids[i] = uint32(i)
	}
	dedicated := openolt.DeviceInfo_DeviceResourceRanges_Pool_DEDICATED_PER_INTF
	pool := func(t openolt.DeviceInfo_DeviceResourceRanges_Pool_PoolType, start, end uint32) *openolt.DeviceInfo_DeviceResourceRanges_Pool {
		return &openolt.DeviceInfo_DeviceResourceRanges_Pool{Type: t, Sharing: dedicated, Start: start, End: end}
	}
	info := &openolt.DeviceInfo{
		Vendor:             ponsim.Vendor,
		Model:              ponsim.Model,
		HardwareVersion:    HardwareVersion,
		FirmwareVersion:    ponsim.FirmwareVersion,
		DeviceSerialNumber: s.sim.OLTSerial(),
		DeviceId:           s.sim.OLTSerial(),
		PonPorts:           pons,
		Ranges: []*openolt.DeviceInfo_DeviceResourceRanges{{
			IntfIds:    ids,
			Technology: Technology,
			Pools: []*openolt.DeviceInfo_DeviceResourceRanges_Pool{
				pool(openolt.DeviceInfo_DeviceResourceRanges_Pool_ONU_ID, 1, perPON),
				pool(openolt.DeviceInfo_DeviceResourceRanges_Pool_ALLOC_ID, FirstAllocID, FirstAllocID+perPON*AllocIDsPerONU-1),
				pool(openolt.DeviceInfo_DeviceResourceRanges_Pool_GEMPORT_ID, FirstGemPortID, FirstGemPortID+perPON*GemPortsPerONU-1),
				pool(openolt.DeviceInfo_DeviceResourceRanges_Pool_FLOW_ID, 1, MaxFlowID),
			},
		}},
	}
	s.mu.Lock()
	info.PreviouslyConnected = s.connected
	s.mu.Unlock()
	return info, nil
}

// HeartbeatCheck returns the signature of this boot of the OLT.
func (s *Server) HeartbeatCheck(context.Context, *openolt.Empty) (*openolt.Heartbeat, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &openolt.Heartbeat{HeartbeatSignature: s.signature}, nil
}

// DisableOlt takes the OLT down: its interfaces go down (OLTChanged says
// so) and it forwards nothing.
func (s *Server) DisableOlt(context.Context, *openolt.Empty) (*openolt.Empty, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return empty(s.sim.Disable(""))
}

// ReenableOlt brings the OLT back up, with its activated ONUs
// (OLTChanged says so).
func (s *Server) ReenableOlt(context.Context, *openolt.Empty) (*openolt.Empty, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return empty(s.sim.Enable(""))
}

// Reboot reboots the OLT: it goes away for the simulator's reboot delay
// and comes back with a new heartbeat signature, no flows, schedulers or
// queues, and every ONU not activated (discovered again on the next
// indication stream, as after a power cycle). The indication stream ends.
func (s *Server) Reboot(context.Context, *openolt.Empty) (*openolt.Empty, error) {
	s.mu.Lock()
	if err := s.sim.Reboot(""); err != nil {
		s.mu.Unlock()
		return empty(err)
	}
	s.log.Info("openolt: olt rebooting")
	s.removeAllFlowsLocked()
	clear(s.allocs)
	clear(s.gems)
	clear(s.byID)
	for _, u := range s.onus {
		s.resetONULocked(u)
	}
	s.signature = newSignature(s.signature)
	s.connected = false
	if q := s.stream.Swap(nil); q != nil {
		q.end(fail(errUnavailable, "olt rebooting"))
	}
	s.mu.Unlock()
	for _, u := range s.onus {
		s.powerCycle(u)
	}
	return empty(nil)
}

// GetOnuInfo reports an ONU by PON and the adapter's ONU id.
func (s *Server) GetOnuInfo(_ context.Context, in *openolt.Onu) (*openolt.OnuInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkPONLocked(in.GetIntfId()); err != nil {
		return nil, toStatus(err)
	}
	u := s.byID[onuKey{in.GetIntfId(), in.GetOnuId()}]
	if u == nil {
		return nil, toStatus(fail(errNotFound, "no onu %d on pon %d", in.GetOnuId(), in.GetIntfId()))
	}
	st, los := openolt.OnuInfo_ACTIVE, openolt.AlarmState_OFF
	v, err := s.sim.ONU(u.serial)
	switch {
	case err == nil && v.Off:
		st, los = openolt.OnuInfo_INACTIVE, openolt.AlarmState_ON
	case err == nil && !v.Enabled:
		st = openolt.OnuInfo_DISABLED
	}
	return &openolt.OnuInfo{OnuId: u.id.Load(), State: st, Losi: los, Lofi: openolt.AlarmState_OFF, Loami: openolt.AlarmState_OFF}, nil
}

// GetPonInterfaceInfo reports a PON's state.
func (s *Server) GetPonInterfaceInfo(_ context.Context, in *openolt.Interface) (*openolt.PonIntfInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkPONLocked(in.GetIntfId()); err != nil {
		return nil, toStatus(err)
	}
	st := openolt.PonIntfInfo_INACTIVE
	if enabled, rebooting := s.sim.OLTState(); enabled && !rebooting {
		st = openolt.PonIntfInfo_ACTIVE_WORKING
	}
	los := openolt.AlarmState_OFF
	if st == openolt.PonIntfInfo_ACTIVE_WORKING && s.ponDark(in.GetIntfId()) {
		los = openolt.AlarmState_ON
	}
	return &openolt.PonIntfInfo{IntfId: in.GetIntfId(), State: st, Los: los}, nil
}

func (s *Server) checkPONLocked(pon uint32) error {
	if pon >= uint32(s.sim.PONPorts()) {
		return fail(errNotFound, "no pon interface %d (the olt has %d)", pon, s.sim.PONPorts())
	}
	return nil
}
