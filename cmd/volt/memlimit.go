package main

import (
	"fmt"
	"os"
	"runtime/debug"

	"github.com/spf13/pflag"
)

// A whole stack in one process (volt up, volt bench) sizes the Go
// runtime's soft memory limit to the ONUs it simulates: the collector then
// works harder only as the heap nears the limit, instead of letting the
// heap grow to twice what is live (GOGC's default), which for 1,024 ONUs
// over openolt and OMCI left 350–370 MiB resident for about 150 MiB live.
const (
	stackMemoryBase   = 192 << 20 // the parts themselves: etcd, broker, core, agent
	stackMemoryPerONU = 64 << 10  // an ONU's share at the peak of its activation
)

// addMemoryLimitFlag adds --memory-limit-mib to a command that runs a
// whole stack.
func addMemoryLimitFlag(fs *pflag.FlagSet, mib *int) {
	fs.IntVar(mib, "memory-limit-mib", 0, "the Go runtime's soft memory limit for this process, in MiB (0: 192 MiB + 64 KiB per simulated ONU; negative: none; GOMEMLIMIT in the environment wins)")
}

// setStackMemoryLimit applies --memory-limit-mib for a stack of onus ONUs,
// unless GOMEMLIMIT is set.
func setStackMemoryLimit(mib, onus int) error {
	if os.Getenv("GOMEMLIMIT") != "" || mib < 0 {
		return nil
	}
	limit := int64(mib) << 20
	if mib == 0 {
		if onus < 0 {
			return fmt.Errorf("%d ONUs: must not be negative", onus)
		}
		limit = stackMemoryBase + int64(onus)*stackMemoryPerONU
	}
	debug.SetMemoryLimit(limit)
	return nil
}
