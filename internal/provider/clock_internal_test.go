package provider

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest/moto"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/awsconfig"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/clock"
)

// Configure's clock check against moto (started by this package's TestMain, which exports its URL): past
// awsconfig.ClockOffsetWarning the diagnostic says which way the local clock is off, by how much, and the fix.
func TestClockOffset_WarnsPastTheBound(t *testing.T) {
	url := os.Getenv(moto.URLEnv)
	if url == "" {
		t.Skip("moto is not running")
	}
	for _, tc := range []struct {
		skew time.Duration
		want string // "": no warning
	}{
		{skew: 2 * time.Hour, want: "2h0m0s ahead of AWS's"},
		{skew: -time.Hour, want: "1h0m0s behind AWS's"},
		{skew: 2 * time.Minute},
		{skew: -2 * time.Minute},
	} {
		t.Run(tc.skew.String(), func(t *testing.T) {
			ctx := context.Background()
			c, err := awsconfig.New(ctx, awsconfig.Settings{AccessKey: "AKIAIOSFODNN7EXAMPLE", SecretKey: "secret", Region: "us-east-1",
				IAMEndpoint: url, STSEndpoint: url, Clock: clock.Offset(tc.skew)})
			if err != nil {
				t.Fatal(err)
			}
			var diags diag.Diagnostics
			clockOffset(ctx, c, &diags)
			if tc.want == "" {
				if len(diags) != 0 {
					t.Fatalf("diagnostics for a %s offset, within the bound: %v", tc.skew, diags)
				}
				return
			}
			if len(diags) != 1 || diags[0].Severity() != diag.SeverityWarning || diags[0].Summary() != "Local Clock Differs From AWS" ||
				!strings.Contains(diags[0].Detail(), tc.want) || !strings.Contains(diags[0].Detail(), "NTP") {
				t.Fatalf("diagnostics = %v, want one warning saying %q and NTP", diags, tc.want)
			}
		})
	}
}
