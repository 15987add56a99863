package omcisim

import (
	"testing"

	me "github.com/opencord/omci-lib-go/v2/generated"
)

func TestSmokeUpload(t *testing.T) {
	c := newOLT(t, Config{UNIs: 4}, Hooks{})
	if r := c.mibReset(); r.Result != me.Success {
		t.Fatalf("reset: %v", r.Result)
	}
	mes := c.upload()
	t.Logf("upload: %d messages", len(mes))
	r := c.get(me.OnuGClassID, 0, 0xe000)
	t.Logf("get: %v", r)
}
