package ponsim

import (
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	ponsimv1 "github.com/openvolt/openvolt/api/ponsim/v1"
)

// Without a face that simulates OMCI, ponsim has no UNI link to pull:
// SetUniLink says so (its path through the openolt face is tested in the
// omcionu adapter's tests).
func TestSetUniLinkWithoutOMCI(t *testing.T) {
	s := serve(t, testConfig("unilink", 1, 1))
	ctx := testCtx(t)
	for _, c := range []struct {
		req  *ponsimv1.UniLink
		code codes.Code
	}{
		{&ponsimv1.UniLink{}, codes.InvalidArgument},
		{&ponsimv1.UniLink{SerialNumber: "PSMO00000001"}, codes.FailedPrecondition},
	} {
		_, err := s.client.SetUniLink(ctx, c.req)
		if status.Code(err) != c.code {
			t.Errorf("SetUniLink(%v): %v, want %s", c.req, err, c.code)
		}
	}
}
