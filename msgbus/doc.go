// Package msgbus carries gRPC services over Kafka: the request/response
// facade between the OpenVOLT core and its adapters (DESIGN.md section 3).
//
// A Conn is a grpc.ClientConnInterface and a Server a grpc.ServiceRegistrar,
// so generated stubs and registrations work unchanged, and the same
// services can be served over plain gRPC. Only unary calls are carried;
// NewStream fails with Unimplemented. Dispatch uses the generated
// grpc.ServiceDesc. Unary client and server interceptors work as in gRPC
// (client interceptors see a nil *grpc.ClientConn); grpc.Method(ctx) and
// CallInfoFromContext work in handlers. Metadata, headers and trailers are
// not carried.
//
// # Records
//
// Every record value is a msgbus.v1.Envelope (api/msgbus/v1): transaction
// id, kind (request, response, event), full method name (for events, the
// message's full proto name), the sender's topic, the reply-to topic, the
// key, deadline and timestamp in unix milliseconds, the marshalled message,
// and for responses a gRPC status (code, message, details). Errors keep
// their code end to end: a handler's NotFound is the caller's NotFound.
//
// A message over 64 KiB marshalled travels compressed with zstd (the
// envelope's body_encoding says so) when that makes it smaller: a whole
// flow table of a large OLT then fits a broker's record limit (Kafka's
// default is 1 MiB), which it exceeds uncompressed. A body that inflates
// beyond MaxBodyBytes is refused. A request or event still too large after
// compression fails with ResourceExhausted; so does a call whose response
// is (the server sends that status instead of the response).
//
// # Topics
//
// A Server consumes one request topic (an adapter's, "ponsim_olt", or the
// core's, "volt.core") in a consumer group (default: the topic's name);
// replicas of a server share the group and so the topic's partitions, and
// when one stops, the others take its partitions over. Every Conn has its
// own reply topic, "<Name>.reply.<random>", created with one partition by
// Dial and deleted by Close. A Conn marks its reply topic alive with a
// heartbeat record every Config.StaleReplyTopics/4, and deletes the reply
// topics of others whose end offsets have not moved for StaleReplyTopics
// (default 10 minutes): those of processes gone without closing.
//
// # Keys and order
//
// The Kafka record key of a call is WithKey's argument or, without it, what
// Config.Key (a KeyFunc the application supplies: msgbus knows no domain)
// derives from the request; OpenVOLT keys by device id (the adapter SDK's
// DeviceKeyFunc), so every call about one device lands on one partition.
// A Server runs the calls with one key one at a time, in
// the order they arrived, and calls with different keys in parallel, at
// most ServerConfig.MaxConcurrency at once. Calls with no key keep no
// order. The calls of a method whose handler is quick (under
// ServerConfig.InlineBelow, 20 µs, on average) run on the goroutine that
// reads the records, one more beside
// the MaxConcurrency workers, so that a burst of them costs no goroutine
// switch; if they take longer than a millisecond, another goroutine takes
// the reading over at once (inline.go).
//
// # Deadlines and failures
//
// The caller's context deadline (Config.DefaultTimeout if it has none)
// bounds every call and travels in the envelope; a server answers a call
// whose deadline passed before it started with DeadlineExceeded and does
// not run it. Deadlines compare wall clocks, so hosts need synchronised
// clocks. A call ends with:
//
//   - the handler's response or status;
//   - Unavailable if the broker did not take the request by the deadline
//     (the broker is down or unreachable) or refused it;
//   - DeadlineExceeded if it took the request but no response came in time;
//   - Canceled if the context was canceled or the Conn closed.
//
// A response that arrives after its call ended is dropped and counted
// (ConnStats.Late).
//
// # Broker restarts
//
// When the broker comes back, Conn, Server and Subscription carry on
// without a restart. A broker that lost its data recreates topics under
// new ids; the client sees that in its metadata and re-resolves the topic
// at once (it purges and uses it again, consuming from the start of the
// new topic). Calls still waiting are sent again with the same
// transaction id, which makes it safe: a server runs a request at most
// once, and answers a duplicate with the response it kept (the last
// 4,096), the first may have been lost with the broker. Responses the
// broker failed for a recreated reply topic are sent again. Publisher
// keeps events (bounded; the ones beyond its buffer are dropped and
// counted) and sends them once the broker takes them. Conn.Ping tells
// whether the broker answers, for health checks.
//
// Delivery is at least once: the producers retry without idempotence (it
// costs a third of the throughput), and a server commits an offset only
// once every call before it has run, so after a crash or a rebalance the
// next owner may see a request again. A Server drops requests whose
// transaction id it has seen recently (the last million of each caller's
// calls); a Conn counts a second response as late.
//
// # Bad input
//
// A record that is not an envelope, names a method no service registered,
// or carries a body that does not decode is logged once with its topic,
// partition and offset, answered (InvalidArgument or Unimplemented) if it
// names a reply-to topic, and counted; the consumer goes on.
//
// # Events
//
// Conn.Publish sends a fire-and-forget event (kind event, method = the
// message's full name) and Conn.Subscribe delivers the events of a topic to
// a handler, decoded into the Go type registered for that name.
// Conn.PublishBatch sends many events with one wait for the broker, in
// order per key: a publisher that drains a queue into it keeps up with
// tens of thousands of events a second where one Publish at a time, a
// round trip each, cannot.
//
// # Tuning
//
// Producers use linger 0 (kgo's 10 ms default costs ~21 ms a round trip),
// no idempotent writes and one produce request in flight per broker; see
// clientOpts.
package msgbus
