// Package telemetry keeps the core's side of KPIs and alarms: the PM
// configuration of each device (stored, checked, sent to the device's
// adapter, which publishes the KPIs on volt.kpis) and the alarms adapters
// raise and clear (stored, so a restart neither forgets nor raises them
// again, and published on volt.alarms and the change-event stream).
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/openvolt/openvolt/adapter"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/coreerr"
	"github.com/openvolt/openvolt/internal/core/store"
)

// Bounds of a PM interval.
const (
	MinPmInterval = time.Second
	MaxPmInterval = 24 * time.Hour
)

// Devices is what telemetry reads of the devices.
type Devices interface {
	Device(id string) (*voltv1.Device, error)
}

// PushPm sends a PM configuration to the adapter of device d.
type PushPm func(ctx context.Context, d *voltv1.Device, cfg *voltv1.PmConfig) error

// PmConfigs keeps the devices' PM configurations.
type PmConfigs struct {
	repo    store.Repo[*voltv1.PmConfig]
	devices Devices
	push    PushPm
	log     *slog.Logger
}

// NewPmConfigs returns the PM configurations kept in repo.
func NewPmConfigs(repo store.Repo[*voltv1.PmConfig], devices Devices, push PushPm, log *slog.Logger) *PmConfigs {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &PmConfigs{repo: repo, devices: devices, push: push, log: log}
}

func invalid(format string, args ...any) error {
	return coreerr.New(coreerr.ErrInvalidArgument, fmt.Sprintf(format, args...))
}

// CheckPm checks a PM configuration and returns it normalized: groups
// sorted, without repeats, every group when empty.
func CheckPm(cfg *voltv1.PmConfig) (*voltv1.PmConfig, error) {
	if cfg.GetDeviceId() == "" {
		return nil, invalid("device_id is required")
	}
	if cfg.GetInterval() == nil {
		return nil, invalid("interval is required: between %v and %v", MinPmInterval, MaxPmInterval)
	}
	if err := cfg.GetInterval().CheckValid(); err != nil {
		return nil, invalid("interval: %v", err)
	}
	iv := cfg.GetInterval().AsDuration()
	switch {
	case iv <= 0:
		return nil, invalid("interval %v: must be positive, at least %v", iv, MinPmInterval)
	case iv < MinPmInterval:
		return nil, invalid("interval %v: below the minimum of %v", iv, MinPmInterval)
	case iv > MaxPmInterval:
		return nil, invalid("interval %v: above the maximum of %v", iv, MaxPmInterval)
	}
	out := &voltv1.PmConfig{DeviceId: cfg.GetDeviceId(), Enabled: cfg.GetEnabled(), Interval: durationpb.New(iv)}
	for _, g := range cfg.GetGroups() {
		if !slices.Contains(adapter.PmGroups, g) {
			return nil, invalid("unknown PM group %q: valid groups are %s", g, strings.Join(adapter.PmGroups, ", "))
		}
		if !slices.Contains(out.Groups, g) {
			out.Groups = append(out.Groups, g)
		}
	}
	if len(out.Groups) == 0 {
		out.Groups = slices.Clone(adapter.PmGroups)
	}
	slices.Sort(out.Groups)
	return out, nil
}

// Get returns a device's PM configuration: the stored one, or the default.
func (p *PmConfigs) Get(ctx context.Context, id string) (*voltv1.PmConfig, error) {
	if _, err := p.devices.Device(id); err != nil {
		return nil, err
	}
	return p.stored(ctx, id)
}

func (p *PmConfigs) stored(ctx context.Context, id string) (*voltv1.PmConfig, error) {
	cfg, err := p.repo.Get(ctx, id)
	if errors.Is(err, coreerr.ErrNotFound) {
		return adapter.DefaultPmConfig(id), nil
	}
	return cfg, err
}

// Update checks and stores a device's PM configuration, then sends it to
// the device's adapter. When the adapter cannot take it now, the
// configuration stays stored and goes to the adapter when the device is
// reconciled (Resend); the error says so.
func (p *PmConfigs) Update(ctx context.Context, cfg *voltv1.PmConfig) (*voltv1.PmConfig, error) {
	cfg, err := CheckPm(cfg)
	if err != nil {
		return nil, err
	}
	d, err := p.devices.Device(cfg.GetDeviceId())
	if err != nil {
		return nil, err
	}
	if err := p.repo.Put(ctx, cfg.GetDeviceId(), cfg); err != nil {
		return nil, coreerr.New(coreerr.ErrUnavailable, fmt.Sprintf("PM configuration of %s not stored: %v", cfg.GetDeviceId(), err))
	}
	if err := p.push(ctx, d, cfg); err != nil {
		p.log.Info("PM configuration stored; the adapter takes it when the device is reconciled", "device", d.GetId(), "err", err)
	}
	return proto.Clone(cfg).(*voltv1.PmConfig), nil
}

// Resend sends a device's stored PM configuration to its adapter again
// (after the device was reconciled: the adapter may have restarted). A
// device with none stored has the adapter's default.
func (p *PmConfigs) Resend(ctx context.Context, id string) {
	cfg, err := p.repo.Get(ctx, id)
	if err != nil {
		return // none stored (the default), or the store is away: the next reconcile
	}
	d, err := p.devices.Device(id)
	if err != nil {
		return
	}
	if err := p.push(ctx, d, cfg); err != nil {
		p.log.Info("PM configuration not sent to the adapter", "device", id, "err", err)
	}
}

// Forget removes a deleted device's PM configuration.
func (p *PmConfigs) Forget(ctx context.Context, id string) error {
	return p.repo.Delete(ctx, id)
}

// Sweep removes the stored PM configurations of devices that no longer
// exist (see Alarms.Sweep).
func (p *PmConfigs) Sweep(ctx context.Context, exists func(deviceID string) bool) error {
	all, err := p.repo.List(ctx)
	if err != nil {
		return fmt.Errorf("list PM configurations: %w", err)
	}
	for _, cfg := range all {
		if exists(cfg.GetDeviceId()) {
			continue
		}
		if err := p.Forget(ctx, cfg.GetDeviceId()); err != nil {
			return err
		}
	}
	return nil
}
