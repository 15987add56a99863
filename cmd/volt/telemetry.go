package main

import (
	"context"
	"errors"

	"github.com/openvolt/openvolt/internal/daemon"
	"github.com/openvolt/openvolt/logging"
)

// serveTelemetry builds the process's telemetry (registry and readiness)
// and serves it over HTTP on addr ("" serves nothing) until the returned
// stop is called. The parts named in starting are not ready until they
// report otherwise, so /readyz never says ready before the part runs.
func serveTelemetry(ctx context.Context, addr string, reg *logging.Registry, starting ...string) (*daemon.Telemetry, func(), error) {
	tel := daemon.NewTelemetry()
	for _, part := range starting {
		tel.Readiness.Set(part, errors.New("starting"))
	}
	_, stop, err := tel.ServeHTTP(ctx, addr, reg.Logger("daemon"))
	if err != nil {
		return nil, nil, err
	}
	return tel, stop, nil
}
