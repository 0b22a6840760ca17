// Package awsconfig builds the root identity's AWS configuration from provider settings, using only the SDK's own
// loaders: LoadDefaultConfig for keys, environment, shared files and profiles; stscreds for assume_role and web
// identity; the retry package for retries. Nothing here knows about Terraform.
package awsconfig

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/clock"
)

// Settings are the provider's AWS arguments, in plain Go. Zero values mean "not set": the SDK's default chain
// (environment variables, shared files, profiles) fills them in.
type Settings struct {
	AccessKey, SecretKey, Token string
	Profile                     string
	SharedConfigFiles           []string
	SharedCredentialsFiles      []string
	Region                      string

	IAMEndpoint, STSEndpoint string

	AssumeRole            *AssumeRole
	AssumeRoleWebIdentity *AssumeRoleWithWebIdentity

	MaxRetries int    // 0: the default
	RetryMode  string // "adaptive" (default) or "standard"

	// HTTPClient overrides the transport (tests route it through a proxy). Nil: the SDK's, with short dials.
	HTTPClient aws.HTTPClient

	// Clock is the local clock that AWS's time is measured against (tests inject a fake one). Nil: the wall clock.
	Clock clock.Clock
}

// AssumeRole is the provider's assume_role block.
type AssumeRole struct {
	RoleARN, SessionName, ExternalID string
	Duration                         time.Duration
}

// AssumeRoleWithWebIdentity is the provider's assume_role_with_web_identity block.
type AssumeRoleWithWebIdentity struct {
	RoleARN, SessionName            string
	WebIdentityToken, TokenFilePath string
	Duration                        time.Duration
}

// Defaults that keep a misconfigured endpoint from hanging a plan.
const (
	DefaultRegion     = "us-east-1"
	DefaultMaxRetries = 5
	// ThrottleMaxAttempts is how often a throttled call is tried, whatever max_retries says: IAM throttles
	// account-wide, and an apply that gives up fails, a revoke or rollback that gives up leaves a user behind.
	// Throttling is not independent from one attempt to the next: while many pipelines saturate the account's
	// rate, one call can meet it many times in a row. `make load` (20 applies of 50 credentials at once, 25% of
	// all calls throttled) saw a CreateUser throttled 11 times in a row, which failed an apply when this was 11.
	// With up to 5 s of jittered backoff between attempts, 50 attempts keep retrying for about two minutes; other
	// errors still stop after max_retries.
	ThrottleMaxAttempts = 50
	// ValidateMaxAttempts is how often Validate tries anything but throttling: a wrong endpoint or wrong keys
	// should fail a plan in seconds. Throttling gets ThrottleMaxAttempts there too: at configure time it only
	// means many pipelines share the account, and failing the whole apply for it helps nobody.
	ValidateMaxAttempts = 3
	validateTimeout     = 2 * time.Minute
	dialTimeout         = 5 * time.Second
	maxBackoff          = 5 * time.Second
	DefaultSession      = "terraform-provider-awsdynamic"
	RetryModeAdaptive   = "adaptive"
	RetryModeStandard   = "standard"
	DefaultRetryMode    = RetryModeAdaptive
)

// retryableCodes are IAM's answers that mean "try again shortly": the SDK does not retry them by itself.
var retryableCodes = []string{"ConcurrentModification", "EntityTemporarilyUnmodifiable", "ServiceFailure"}

// Clients are what the rest of the provider uses: the root identity's config and its IAM and STS clients.
type Clients struct {
	Config      aws.Config
	IAM         *iam.Client
	STS         *sts.Client
	IAMEndpoint string // as configured; empty means the SDK's resolution (AWS_ENDPOINT_URL_IAM or AWS's)
	STSEndpoint string

	// Clock is AWS's time as these clients see it: every IAM and STS response's Date header corrects the local
	// clock. Expiries and the sweep's "now" come from it, because AWS enforces the expiry guard by its own clock.
	Clock *clock.Server

	retryMode string
}

// NewSTS returns an STS client that signs with other credentials (a freshly issued key, for the propagation
// check) but otherwise talks to the same endpoint through the same transport.
func (c *Clients) NewSTS(creds aws.CredentialsProvider) *sts.Client {
	cfg := c.Config.Copy()
	cfg.Credentials = creds
	return sts.NewFromConfig(cfg, c.stsOptions)
}

func (c *Clients) iamOptions(o *iam.Options) {
	if c.IAMEndpoint != "" {
		o.BaseEndpoint = aws.String(c.IAMEndpoint)
	}
}

func (c *Clients) stsOptions(o *sts.Options) {
	if c.STSEndpoint != "" {
		o.BaseEndpoint = aws.String(c.STSEndpoint)
	}
}

// New builds the root identity's clients. It makes no network call: credentials resolve lazily, on first use.
func New(ctx context.Context, s Settings) (*Clients, error) {
	region := s.Region
	maxAttempts := s.MaxRetries + 1
	if s.MaxRetries <= 0 {
		maxAttempts = DefaultMaxRetries + 1
	}
	mode := s.RetryMode
	if mode == "" {
		mode = DefaultRetryMode
	}
	opts := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer { return newRetryer(mode, maxAttempts) }),
	}
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	if s.HTTPClient != nil {
		opts = append(opts, config.WithHTTPClient(s.HTTPClient))
	} else {
		opts = append(opts, config.WithHTTPClient(awshttp.NewBuildableClient().WithDialerOptions(func(d *net.Dialer) {
			d.Timeout = dialTimeout
		}).WithTransportOptions(func(t *http.Transport) {
			t.TLSHandshakeTimeout = dialTimeout
			// Revoke and issue fan out one call per object; with the default 10 idle connections per host every
			// fan-out past ten opens (and handshakes) new connections. Keep enough for -parallelism times that.
			t.MaxIdleConnsPerHost = 256
		})))
	}
	if s.AccessKey != "" || s.SecretKey != "" {
		if s.AccessKey == "" || s.SecretKey == "" {
			return nil, errors.New("access_key and secret_key must be set together")
		}
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, s.Token)))
	}
	if s.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(s.Profile))
	}
	if len(s.SharedConfigFiles) > 0 {
		opts = append(opts, config.WithSharedConfigFiles(s.SharedConfigFiles))
	}
	if len(s.SharedCredentialsFiles) > 0 {
		opts = append(opts, config.WithSharedCredentialsFiles(s.SharedCredentialsFiles))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("loading AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	c := &Clients{IAMEndpoint: s.IAMEndpoint, STSEndpoint: s.STSEndpoint, Clock: clock.NewServer(s.Clock), retryMode: mode}
	// Before any client is built from cfg, so that assume_role's STS calls are measured too.
	cfg.APIOptions = append(cfg.APIOptions, measureServerTime(c.Clock))
	c.Config = cfg

	// assume_role and web identity wrap whatever the chain above resolved; both go through STS at the
	// configured endpoint, so CI can mint credentials without any long-lived root key.
	switch {
	case s.AssumeRoleWebIdentity != nil:
		w := s.AssumeRoleWebIdentity
		var tok stscreds.IdentityTokenRetriever = stscreds.IdentityTokenFile(w.TokenFilePath)
		if w.WebIdentityToken != "" {
			tok = staticToken(w.WebIdentityToken)
		}
		base := sts.NewFromConfig(anonymous(cfg), c.stsOptions)
		p := stscreds.NewWebIdentityRoleProvider(base, w.RoleARN, tok, func(o *stscreds.WebIdentityRoleOptions) {
			o.RoleSessionName = sessionName(w.SessionName)
			if w.Duration > 0 {
				o.Duration = w.Duration
			}
		})
		c.Config.Credentials = aws.NewCredentialsCache(p)
	case s.AssumeRole != nil:
		a := s.AssumeRole
		base := sts.NewFromConfig(cfg, c.stsOptions)
		p := stscreds.NewAssumeRoleProvider(base, a.RoleARN, func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = sessionName(a.SessionName)
			if a.ExternalID != "" {
				o.ExternalID = aws.String(a.ExternalID)
			}
			if a.Duration > 0 {
				o.Duration = a.Duration
			}
		})
		c.Config.Credentials = aws.NewCredentialsCache(p)
	}
	c.IAM = iam.NewFromConfig(c.Config, c.iamOptions)
	c.STS = sts.NewFromConfig(c.Config, c.stsOptions)
	return c, nil
}

// anonymous is cfg without credentials: AssumeRoleWithWebIdentity is an unsigned call, and a CI runner often has
// no other credentials at all.
func anonymous(cfg aws.Config) aws.Config {
	c := cfg.Copy()
	c.Credentials = aws.AnonymousCredentials{}
	return c
}

func sessionName(s string) string {
	if s == "" {
		return DefaultSession
	}
	return s
}

type staticToken string

func (t staticToken) GetIdentityToken() ([]byte, error) { return []byte(t), nil }

// sharedAdaptive is the adaptive retry mode's client-side rate limiter, one per process. IAM throttles per account,
// not per client: the IAM and STS clients, the propagation check's clients, assume_role's and every provider
// configuration of this process must learn from each other's throttling, or each of them probes the account's
// rate on its own and together they keep it saturated. The SDK keeps that state in the AdaptiveMode value, so
// there is one, and each client's retryer wraps it.
var (
	sharedMu       sync.Mutex
	sharedAdaptive *retry.AdaptiveMode
)

func adaptiveMode() *retry.AdaptiveMode {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if sharedAdaptive == nil {
		sharedAdaptive = retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
			o.StandardOptions = append(o.StandardOptions, standardOptions)
		})
	}
	return sharedAdaptive
}

// standardOptions are the retries under both modes: jittered exponential backoff up to maxBackoff (the SDK's),
// and no client-side retry budget: one long apply issues and revokes many leases through one client, and a
// budget drained by a burst of throttling would fail every later call at once ("retry quota exceeded"). Attempts
// stay bounded by the MaxAttempts each client's retryer sets.
func standardOptions(o *retry.StandardOptions) {
	o.MaxAttempts = ThrottleMaxAttempts
	o.MaxBackoff = maxBackoff
	o.RateLimiter = ratelimit.None
}

func newRetryer(mode string, maxAttempts int) aws.RetryerV2 {
	var r aws.RetryerV2
	if mode == RetryModeStandard {
		r = retry.NewStandard(standardOptions)
	} else {
		r = adaptiveMode()
	}
	// The SDK's wrappers keep GetAttemptToken (they embed RetryerV2) but are declared as returning Retryer.
	wrapped := retry.AddWithMaxAttempts(retry.AddWithErrorCodes(r, retryableCodes...), max(maxAttempts, ThrottleMaxAttempts))
	return patientOnThrottling{RetryerV2: wrapped.(aws.RetryerV2), attempts: maxAttempts}
}

// patientOnThrottling gives throttled calls every attempt of the retryer, and other errors only attempts. It
// embeds RetryerV2, not Retryer: the adaptive mode rate-limits in GetAttemptToken, which a Retryer would hide.
type patientOnThrottling struct {
	aws.RetryerV2
	attempts int
}

var throttles = retry.IsErrorThrottles(retry.DefaultThrottles)

// RetryDelay ends the retries of an error that is not throttling once attempts were made (the SDK stops when
// RetryDelay fails, and reports the error it returns).
func (r patientOnThrottling) RetryDelay(attempt int, err error) (time.Duration, error) {
	if attempt >= r.attempts && throttles.IsErrorThrottle(err) != aws.TrueTernary {
		return 0, &retry.MaxAttemptsError{Attempt: attempt, Err: err}
	}
	return r.RetryerV2.RetryDelay(attempt, err)
}

// Identity is who the root identity is, as STS says.
type Identity struct {
	AccountID, ARN, UserID string
}

// Validate asks sts:GetCallerIdentity who the root identity is. It is bounded: a wrong endpoint or wrong keys
// fail within seconds with the endpoint and the AWS error code, and never with a secret. Throttling is retried as
// patiently as any other call (ThrottleMaxAttempts), within validateTimeout.
func (c *Clients) Validate(ctx context.Context) (*Identity, error) {
	ctx, cancel := context.WithTimeout(ctx, validateTimeout)
	defer cancel()
	out, err := c.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}, func(o *sts.Options) {
		o.Retryer = newRetryer(c.retryMode, ValidateMaxAttempts)
	})
	if err != nil {
		return nil, &ValidationError{Endpoint: c.describeSTSEndpoint(), Err: err}
	}
	return &Identity{AccountID: aws.ToString(out.Account), ARN: aws.ToString(out.Arn), UserID: aws.ToString(out.UserId)}, nil
}

func (c *Clients) describeSTSEndpoint() string {
	if c.STSEndpoint != "" {
		return c.STSEndpoint
	}
	return fmt.Sprintf("STS in %s (the SDK's endpoint resolution; AWS_ENDPOINT_URL_STS overrides it)", c.Config.Region)
}

// ValidationError says why the root identity could not be confirmed.
type ValidationError struct {
	Endpoint string
	Err      error
}

func (e *ValidationError) Error() string {
	code := ErrorCode(e.Err)
	return fmt.Sprintf("sts:GetCallerIdentity at %s failed (%s): %v", e.Endpoint, code, e.Err)
}

func (e *ValidationError) Unwrap() error { return e.Err }

// ErrorCode names an AWS error the way users search for it: the API error code, AccessDenied for a bare
// HTTP 403, or the network failure.
func ErrorCode(err error) string {
	var oe *net.OpError
	var ne net.Error
	switch {
	case errors.As(err, &oe):
		return "endpoint unreachable"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timed out"
	}
	var re *awshttp.ResponseError
	var ae smithy.APIError
	switch {
	case errors.As(err, &ae) && ae.ErrorCode() != "" && ae.ErrorCode() != "UnknownError":
		return ae.ErrorCode()
	case errors.As(err, &re) && re.HTTPStatusCode() == http.StatusForbidden:
		return "AccessDenied"
	case errors.As(err, &re) && re.HTTPStatusCode() != 0:
		return fmt.Sprintf("HTTP %d", re.HTTPStatusCode())
	}
	return "error"
}
