// Package omcisim is the OMCI side of one simulated ONU: a MIB of ITU-T G.988 managed entities
// (built with omci-lib-go's class definitions) and the handling of the OLT's OMCI requests against
// it. It is pure: no I/O, no goroutines. ponsim feeds it the frames an openolt client sends with
// OmciMsgOut and returns the frames it answers as OmciIndications.
//
// The MIB is kept packed (one byte slice per instance, laid out from the class definition) so a
// thousand ONUs fit in a few tens of MiB; attribute values become the Go types omci-lib-go wants only
// while a frame is being encoded, which is also where its type panics are kept away.
package omcisim

import (
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
)

// Config describes one simulated ONU.
type Config struct {
	// SerialNumber is the ONU's 12-character serial: a 4-letter vendor id, then 8 hex digits
	// (e.g. "PSMO00000001").
	SerialNumber string
	// UNIs is the number of PPTP Ethernet UNIs (1..8; 0 means 1).
	UNIs int
	// TConts is the number of T-CONTs (1..64; 0 means 8).
	TConts int
	// QueuesPerTCont is the number of upstream priority queues per T-CONT (1..16; 0 means 8).
	QueuesPerTCont int
	// QueuesPerUNI is the number of downstream priority queues per UNI (1..16; 0 means 8).
	QueuesPerUNI int
	// EquipmentID is ONU2-G's equipment id (20 octets at most; default "PONSIM-ONU").
	EquipmentID string
	// Version is ONU-G's version and software image 0's version (14 octets at most; default
	// "ponsim-1.0").
	Version string
	// MAC is the IP host's MAC address (default derived from the serial number).
	MAC [6]byte
}

// Hooks let ponsim apply the effects of OMCI configuration. They are called synchronously from
// Handle, Reboot and SetUNILoss, with no ONU lock held; either may be nil.
type Hooks struct {
	// UNIAdmin reports that UNI uni (0-based) became administratively locked or unlocked (PPTP
	// Ethernet UNI, UNI-G or ONU-G administrative state).
	UNIAdmin func(uni int, locked bool)
	// Changed reports that the service configuration (T-CONTs, GEM ports, mappers, bridges,
	// extended VLAN rules) changed; Service returns the new one.
	Changed func()
	// GemPortFree, if set, is asked before a GEM port network CTP is created (with the port id of
	// the create request); false refuses the create with a parameter error, as an OLT refuses a GEM
	// port id another ONU of the PON uses.
	GemPortFree func(portID uint16) bool
	// Rebooted reports that the OLT asked the ONU to reboot (OMCI reboot); the MIB is back to its
	// factory state and a real ONU would now drop off the PON and come back.
	Rebooted func()
}

// ErrMalformed marks a frame that could not be decoded as an OMCI request. Handle wraps it; the
// caller counts and logs such frames.
var ErrMalformed = errors.New("malformed OMCI frame")

// ErrConfig marks an invalid Config.
var ErrConfig = errors.New("invalid omcisim config")

// Counters are the ONU's OMCI counters since it was created.
type Counters struct {
	Requests  uint64 // frames handled that decoded as requests (answered with any result)
	Errors    uint64 // responses with a result other than success
	Malformed uint64 // frames that were malformed (dropped or answered with an error)
	Notifies  uint64 // autonomous notifications produced (alarms)
}

// ONU is one simulated ONU's OMCI side. It is safe for concurrent use.
type ONU struct {
	cfg    Config
	hooks  Hooks
	cat    *catalog
	serial [8]byte

	mu       sync.Mutex // guards the fields below
	mib      mib
	upload   []uploadChunk // snapshot taken by the last MIB upload
	alarmSet []alarmEntry  // snapshot taken by the last get all alarms
	getNext  tableSnap     // table value being read by get next
	uniLoss  []bool        // per UNI: link lost (SetUNILoss)
	losShown []bool        // per UNI: the LOS alarm the OLT was last told about
	alarmSeq uint8
	counters Counters
}

// New builds an ONU with its factory MIB.
func New(cfg Config, h Hooks) (*ONU, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	o := &ONU{cfg: cfg, hooks: h, cat: sharedCatalog()}
	copy(o.serial[:4], cfg.SerialNumber[:4])
	if _, err := hex.Decode(o.serial[4:], []byte(cfg.SerialNumber[4:])); err != nil {
		return nil, fmt.Errorf("%w: serial number %q: the last 8 characters must be hex digits", ErrConfig, cfg.SerialNumber)
	}
	if cfg.MAC == ([6]byte{}) {
		o.cfg.MAC = [6]byte{0x0a, 0x4f, o.serial[4], o.serial[5], o.serial[6], o.serial[7]}
	}
	m, err := o.factoryMIB()
	if err != nil {
		return nil, err
	}
	o.mib = m
	o.uniLoss = make([]bool, cfg.UNIs)
	o.losShown = make([]bool, cfg.UNIs)
	return o, nil
}

func (c *Config) fill() error {
	if len(c.SerialNumber) != 12 {
		return fmt.Errorf("%w: serial number %q must have 12 characters", ErrConfig, c.SerialNumber)
	}
	for _, r := range c.SerialNumber[:4] {
		if r < 'A' || r > 'Z' {
			return fmt.Errorf("%w: serial number %q must start with 4 upper-case letters", ErrConfig, c.SerialNumber)
		}
	}
	def := func(v *int, d, lo, hi int, name string) error {
		if *v == 0 {
			*v = d
		}
		if *v < lo || *v > hi {
			return fmt.Errorf("%w: %s %d out of range %d..%d", ErrConfig, name, *v, lo, hi)
		}
		return nil
	}
	if err := errors.Join(
		def(&c.UNIs, 1, 1, 8, "UNIs"),
		def(&c.TConts, 8, 1, 64, "TConts"),
		def(&c.QueuesPerTCont, 8, 1, 16, "QueuesPerTCont"),
		def(&c.QueuesPerUNI, 8, 1, 16, "QueuesPerUNI"),
	); err != nil {
		return err
	}
	if c.EquipmentID == "" {
		c.EquipmentID = "PONSIM-ONU"
	}
	if c.Version == "" {
		c.Version = "ponsim-1.0"
	}
	if len(c.EquipmentID) > 20 || len(c.Version) > 14 {
		return fmt.Errorf("%w: equipment id (20) or version (14) too long", ErrConfig)
	}
	return nil
}

// Counters returns the ONU's counters.
func (o *ONU) Counters() Counters {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.counters
}

// Reboot puts the MIB back to its factory state, as after a power cycle (MIB data sync 0, every
// OLT-created instance gone, UNIs unlocked), and reports the resulting changes through the hooks.
func (o *ONU) Reboot() {
	o.mu.Lock()
	fx := o.resetLocked()
	o.mu.Unlock()
	o.run(fx)
}

// SetUNILoss raises (los true) or clears the LAN loss of signal of UNI uni (0-based) as the
// physical link goes down or up, and returns the alarm notification frames to send (none if the
// alarm the OLT knows about does not change). A UNI that is administratively locked reports LOS
// whatever its link.
func (o *ONU) SetUNILoss(uni int, los bool) [][]byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	if uni < 0 || uni >= len(o.uniLoss) {
		return nil
	}
	o.uniLoss[uni] = los
	return o.alarmsLocked()
}

// effects are hook calls collected under the lock and made after it is released.
type effects struct {
	admin    []adminChange
	changed  bool
	rebooted bool
}

type adminChange struct {
	uni    int
	locked bool
}

func (o *ONU) run(fx effects) {
	if o.hooks.UNIAdmin != nil {
		for _, a := range fx.admin {
			o.hooks.UNIAdmin(a.uni, a.locked)
		}
	}
	if fx.changed && o.hooks.Changed != nil {
		o.hooks.Changed()
	}
	if fx.rebooted && o.hooks.Rebooted != nil {
		o.hooks.Rebooted()
	}
}
