package bench

import (
	"context"
	"testing"
	"time"
)

// TestOFAgent runs `volt bench ofagent` briefly on its own stack, so that
// it keeps working, and checks what it refuses.
func TestOFAgent(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a whole stack")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := OFAgent(ctx, OFAgentConfig{Bench: FlowMods{FlowMods: 500, Batch: 100, Window: 2}})
	if err != nil {
		t.Fatal(err)
	}
	if res.FlowMods != 500 || res.Errors != 0 || res.FlowModsPerS <= 0 || res.InPort == 0 || res.OutPort != 1 {
		t.Errorf("result %+v", res)
	}
	if _, err := OFAgent(ctx, OFAgentConfig{Bench: FlowMods{FlowMods: -1}}); err == nil {
		t.Error("a negative flow-mod count was taken")
	}
	if _, err := OFAgent(ctx, OFAgentConfig{Addr: "127.0.0.1:1", Timeout: 5 * time.Second}); err == nil {
		t.Error("an agent that does not listen gave no error")
	}
}
