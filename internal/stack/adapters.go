package stack

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/openvolt/openvolt/adapter"
	"github.com/openvolt/openvolt/internal/adapters/omcionu"
	"github.com/openvolt/openvolt/internal/adapters/openolt"
	"github.com/openvolt/openvolt/internal/adapters/ponsimolt"
	"github.com/openvolt/openvolt/internal/adapters/ponsimonu"
	"github.com/openvolt/openvolt/internal/kvstore"
	"github.com/openvolt/openvolt/internal/kvstore/embedetcd"
	"github.com/openvolt/openvolt/internal/ponsim"
	face "github.com/openvolt/openvolt/internal/ponsim/openolt"
	"github.com/openvolt/openvolt/logging"
)

// OpenOLTType is the device type of an OLT driven over the openolt API
// (here: the bundled ponsim's openolt face).
const OpenOLTType = "openolt"

// Adapter is an adapter the stack runs in its process. kv is the core's
// store, for adapters that keep state of their own in it (openolt: resource
// ids, flows, tech-profile instances; tech profiles are read from it).
type Adapter struct {
	Name string
	Run  func(ctx context.Context, cfg adapter.Config, kv kvstore.Store) error
}

// Adapters is what the stack runs for OLTs of type oltType ("" is
// OLTType): the OLT's adapter and the adapter of the ONUs behind it.
func Adapters(oltType string) ([]Adapter, error) {
	switch oltType {
	case "", OLTType:
		return []Adapter{
			{"ponsim-olt adapter", func(ctx context.Context, c adapter.Config, _ kvstore.Store) error { return ponsimolt.Run(ctx, c) }},
			{"ponsim-onu adapter", func(ctx context.Context, c adapter.Config, _ kvstore.Store) error { return ponsimonu.Run(ctx, c) }},
		}, nil
	case OpenOLTType:
		return []Adapter{
			{"openolt adapter", func(ctx context.Context, c adapter.Config, kv kvstore.Store) error {
				return openolt.Run(ctx, c, openolt.Options{KV: kv})
			}},
			{"omci-onu adapter", func(ctx context.Context, c adapter.Config, kv kvstore.Store) error {
				return omcionu.Run(ctx, c, omcionu.Options{KV: kv})
			}},
		}, nil
	}
	return nil, fmt.Errorf("unknown OLT type %q (want %s or %s)", oltType, OLTType, OpenOLTType)
}

// startEtcd starts the embedded etcd and a client of it, shared by the
// core and the adapters that keep state in the core's store.
func startEtcd(ctx context.Context, cfg Config) (kvstore.Store, func(), error) {
	etcd, err := embedetcd.Start(ctx, embedetcd.Config{
		DataDir:   filepath.Join(cfg.DataDir, "etcd"),
		ClientURL: cfg.EtcdListen,
		Logger:    cfg.Logs.Logger("kvstore/embedetcd"),
	})
	if err != nil {
		return nil, nil, err
	}
	kv, err := kvstore.NewEtcd(ctx, kvstore.Config{Endpoints: etcd.Endpoints(), MaxTxnOps: etcd.MaxTxnOps(), Logger: cfg.Logs.Logger("kvstore")})
	if err != nil {
		etcd.Close()
		return nil, nil, err
	}
	return kv, func() { kv.Close(); etcd.Close() }, nil
}

// attachFaces gives a simulated OLT the faces its OLT type needs: the
// openolt API for openolt (on the same gRPC port as the PonSim API).
func attachFaces(sim *ponsim.Sim, oltType string, logs *logging.Registry) error {
	if oltType != OpenOLTType {
		return nil
	}
	_, err := face.Attach(sim, face.Config{Logger: logs.Logger("ponsim/openolt")})
	return err
}
