package broker

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Records beyond RetainBytes per partition are dropped, oldest first, and
// a consumer from the start gets the newest ones; RetainBytes < 0 keeps
// everything.
func TestRetainBytes(t *testing.T) {
	for _, c := range []struct {
		retain  int64
		dropped bool
	}{{2 << 20, true}, {-1, false}} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		b, err := Start(ctx, Config{Listen: "127.0.0.1:0", Partitions: 1, RetainBytes: c.retain})
		if err != nil {
			t.Fatal(err)
		}
		cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addrs()...), kgo.AllowAutoTopicCreation(), kgo.ProducerBatchCompression(kgo.NoCompression()))
		if err != nil {
			t.Fatal(err)
		}
		// 6 MiB in 64 KiB records: 24 segments of 256 KiB.
		val := bytes.Repeat([]byte("x"), 64<<10)
		for i := range 96 {
			if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "t", Value: val}).FirstErr(); err != nil {
				t.Fatalf("record %d: %v", i, err)
			}
		}
		adm := kadm.NewClient(cl)
		var start int64
		for {
			so, err := adm.ListStartOffsets(ctx, "t")
			if err == nil {
				err = so.Error()
			}
			if err != nil {
				t.Fatal(err)
			}
			o, _ := so.Lookup("t", 0)
			start = o.Offset
			if !c.dropped || start > 0 || ctx.Err() != nil {
				break
			}
			time.Sleep(50 * time.Millisecond) // polling the broker's retention
		}
		if c.dropped && (start < 32 || start > 95) {
			t.Errorf("RetainBytes %d: log starts at %d of 96 records", c.retain, start)
		}
		if !c.dropped && start != 0 {
			t.Errorf("RetainBytes %d: log starts at %d, want 0", c.retain, start)
		}
		cl.Close()
		b.Close()
		cancel()
	}
}
