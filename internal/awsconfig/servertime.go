package awsconfig

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/clock"
)

// ClockOffsetWarning is how far the local clock may be from AWS's before the provider and the sweep say so. They
// follow AWS's time at any offset; past this one the runner's clock is worth fixing, because AWS rejects requests
// signed more than 5 minutes off (the SDK only gets through by re-signing with a corrected time after a rejection).
const ClockOffsetWarning = 5 * time.Minute

// DescribeOffset says where the local clock stands against AWS's, given AWS's minus local: "1h0m0s behind" or
// "2h0m0s ahead of", to be followed by "AWS's". A measurement is good to a second or so, so offsets of a minute or
// more are rounded to the minute.
func DescribeOffset(awsMinusLocal time.Duration) string {
	d, where := awsMinusLocal, "behind"
	if d < 0 {
		d, where = -d, "ahead of"
	}
	if d >= time.Minute {
		d = d.Round(time.Minute)
	} else {
		d = d.Round(time.Second)
	}
	return d.String() + " " + where
}

// serverTime measures AWS's clock against the local one on every attempt of every call. It sits innermost in the
// deserialize step, right around the HTTP round trip, and reads the Date header as the SDK's own clock-skew
// correction does: error responses count (they carry AWS's time too), cached ones (Age header) do not.
type serverTime struct{ clock *clock.Server }

func (serverTime) ID() string { return "awsdynamic.ServerTime" }

func (m serverTime) HandleDeserialize(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (
	out middleware.DeserializeOutput, md middleware.Metadata, err error,
) {
	local := m.clock.Local()
	sent := local.Now()
	out, md, err = next.HandleDeserialize(ctx, in)
	received := local.Now()
	resp, ok := out.RawResponse.(*smithyhttp.Response)
	if !ok || resp == nil || resp.Header.Get("Age") != "" || resp.Header.Get("Date") == "" {
		return out, md, err
	}
	if date, perr := smithyhttp.ParseTime(resp.Header.Get("Date")); perr == nil {
		m.clock.Observe(sent, received, date)
	}
	return out, md, err
}

func measureServerTime(c *clock.Server) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Deserialize.Add(serverTime{clock: c}, middleware.After)
	}
}

// SyncClock makes sure AWS's time has been measured. Validate does so already; with skip_credentials_validation it
// costs one sts:GetCallerIdentity, whose answer carries AWS's Date even when it is an error (no permission is
// needed for it either way). known is false when no answer came back (an unreachable STS): the clock then stays
// local until the first IAM response corrects it.
func (c *Clients) SyncClock(ctx context.Context) (offset time.Duration, known bool) {
	if offset, known = c.Clock.Offset(); known {
		return offset, known
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, _ = c.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}, func(o *sts.Options) { o.RetryMaxAttempts = 1 })
	return c.Clock.Offset()
}
