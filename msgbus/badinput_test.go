package msgbus_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	msgbusv1 "github.com/openvolt/openvolt/api/msgbus/v1"
	"github.com/openvolt/openvolt/msgbus"
)

// Records that are not envelopes, name an unknown method, or carry a body
// that does not decode are logged once with where they are, answered when
// they have a reply-to, and the consumer goes on.
func TestMalformedRecords(t *testing.T) {
	b := startBroker(t)
	topic := newTopic("bad")
	var logs lockedBuffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	srv := serve(t, b.Addrs(), msgbus.ServerConfig{Topic: topic, Logger: logger}, func(s *msgbus.Server) {
		adapterv1.RegisterCoreServiceServer(s, &testCore{})
	})
	conn := dial(t, b.Addrs(), msgbus.Config{Topic: topic, Logger: logger})

	// A raw client plays a caller that writes bad requests.
	replyTo := newTopic("raw.reply")
	raw, err := kgo.NewClient(kgo.SeedBrokers(b.Addrs()...), kgo.AllowAutoTopicCreation(), kgo.ProducerLinger(0),
		kgo.ConsumeTopics(replyTo), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	request := func(id, method string, body []byte) []byte {
		v, _ := proto.Marshal(&msgbusv1.Envelope{Id: id, Kind: msgbusv1.Kind_KIND_REQUEST, Method: method,
			ReplyTo: replyTo, From: replyTo, Body: body, DeadlineUnixMs: time.Now().Add(time.Minute).UnixMilli()})
		return v
	}
	response, _ := proto.Marshal(&msgbusv1.Envelope{Id: "r1", Kind: msgbusv1.Kind_KIND_RESPONSE, Method: "/a.B/C"})
	values := [][]byte{
		[]byte("this is not an envelope"),
		nil, // empty
		request("unknown", "/adapter.v1.CoreService/NoSuchMethod", nil),
		request("badbody", "/adapter.v1.CoreService/GetDevice", []byte{0x0a, 0x05, 'a'}), // truncated field
		response,                             // a response on a request topic
		{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f}, // a huge length
	}
	const bad = 6
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, v := range values {
		if err := raw.ProduceSync(ctx, &kgo.Record{Topic: topic, Key: []byte("k"), Value: v}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}

	// The two requests with a reply-to are answered. The raw caller names
	// its sender, as callers did before lean requests: the answers name
	// their method, which such a caller checks.
	want := map[string]codes.Code{"unknown": codes.Unimplemented, "badbody": codes.InvalidArgument}
	wantMethod := map[string]string{"unknown": "/adapter.v1.CoreService/NoSuchMethod", "badbody": "/adapter.v1.CoreService/GetDevice"}
	got := map[string]codes.Code{}
	for len(got) < len(want) {
		fs := raw.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("answers: got %v, want %v", got, want)
		}
		fs.EachRecord(func(r *kgo.Record) {
			var env msgbusv1.Envelope
			if err := proto.Unmarshal(r.Value, &env); err != nil {
				t.Errorf("answer does not decode: %v", err)
				return
			}
			got[env.GetId()] = codes.Code(env.GetStatus().GetCode())
			if env.GetMethod() != wantMethod[env.GetId()] {
				t.Errorf("answer to %s names method %q, want %q", env.GetId(), env.GetMethod(), wantMethod[env.GetId()])
			}
		})
	}
	for id, c := range want {
		if got[id] != c {
			t.Errorf("answer to %s: %v, want %v", id, got[id], c)
		}
	}

	// The server goes on serving.
	if _, err := adapterv1.NewCoreServiceClient(conn).GetDevice(ctx, &adapterv1.DeviceRequest{DeviceId: "k"}); err != nil {
		t.Fatal(err)
	}
	if st := srv.Stats(); st.BadRecords != bad {
		t.Errorf("server stats %+v, want BadRecords %d", st, bad)
	}

	// A bad record on a reply topic is dropped too, and the Conn goes on.
	if err := raw.ProduceSync(ctx, &kgo.Record{Topic: conn.ReplyTopic(), Value: []byte("junk")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		if st := conn.Stats(); st.BadRecords != 1 {
			return fmt.Errorf("conn stats %+v", st)
		}
		return nil
	})
	if _, err := adapterv1.NewCoreServiceClient(conn).GetDevice(ctx, &adapterv1.DeviceRequest{DeviceId: "k"}); err != nil {
		t.Fatal(err)
	}

	// Each bad record was logged once, with its topic, partition and offset.
	var lines []string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "bad request record") {
			lines = append(lines, l)
		}
	}
	if len(lines) != bad {
		t.Errorf("%d log lines about bad records, want %d:\n%s", len(lines), bad, strings.Join(lines, "\n"))
	}
	for off := range bad { // one record per offset, all on one partition (one key)
		n := 0
		for _, l := range lines {
			if strings.Contains(l, fmt.Sprintf(" offset=%d ", off)) && strings.Contains(l, "topic="+topic) && strings.Contains(l, "partition=") {
				n++
			}
		}
		if n != 1 {
			t.Errorf("offset %d logged %d times, want once:\n%s", off, n, strings.Join(lines, "\n"))
		}
	}
	if !strings.Contains(logs.String(), "not a response") || !strings.Contains(logs.String(), "topic="+conn.ReplyTopic()) {
		t.Errorf("no log line about the bad reply record:\n%s", logs.String())
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
