package provider

import (
	"net/url"

	"context"
	"fmt"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/lease"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

// durationValidator checks a Go duration string at plan time, optionally within [min, max].
type durationValidator struct {
	min, max time.Duration
}

// duration accepts any positive Go duration ("15m", "1h30m").
func duration() validator.String { return durationValidator{min: time.Second} }

// durationBetween accepts a Go duration within [min, max]; AWS's ranges for STS calls are the common use.
func durationBetween(min, max time.Duration) validator.String {
	return durationValidator{min: min, max: max}
}

func (v durationValidator) Description(context.Context) string {
	if v.max > 0 {
		return fmt.Sprintf("a Go duration string between %s and %s", fmtDuration(v.min), fmtDuration(v.max))
	}
	return `a positive Go duration string such as "15m" or "1h"`
}

func (v durationValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v durationValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	raw := req.ConfigValue.ValueString()
	d, err := time.ParseDuration(raw)
	if err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid Duration",
			fmt.Sprintf("%s must be a Go duration string such as \"15m\", \"1h\" or \"36h\" (units: s, m, h); %q is not one: %s.", req.Path, raw, err))
		return
	}
	if d < v.min || (v.max > 0 && d > v.max) {
		resp.Diagnostics.AddAttributeError(req.Path, "Duration Out Of Range",
			fmt.Sprintf("%s is %s; it must be %s.", req.Path, fmtDuration(d), v.Description(context.Background())))
	}
}

// fmtDuration prints durations the way users write them: "1h" rather than "1h0m0s".
func fmtDuration(d time.Duration) string {
	s := d.String()
	for _, suffix := range []string{"m0s", "h0m"} {
		if len(s) > len(suffix) && s[len(s)-len(suffix):] == suffix {
			s = s[:len(s)-len(suffix)+1]
		}
	}
	return s
}

// funcStringValidator adapts a plain `func(string) error` check (the engine's IAM-limit validators) to an
// attribute validator whose diagnostic names the attribute and says what to change.
type funcStringValidator struct {
	desc    string
	summary string
	check   func(string) error
}

func stringCheck(summary, desc string, check func(string) error) validator.String {
	return funcStringValidator{desc: desc, summary: summary, check: check}
}

func (v funcStringValidator) Description(context.Context) string         { return v.desc }
func (v funcStringValidator) MarkdownDescription(context.Context) string { return v.desc }

func (v funcStringValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if err := v.check(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, v.summary, fmt.Sprintf("%s must be %s: %s.", req.Path, v.desc, err))
	}
}

// endpointURL accepts an absolute http(s) URL.
func endpointURL() validator.String {
	return stringCheck("Invalid Endpoint URL", "an absolute http:// or https:// URL", func(s string) error {
		u, err := url.Parse(s)
		if err != nil {
			return err
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%q has no http(s) scheme and host", s)
		}
		return nil
	})
}

// usernameTemplate parses the template and renders it with sample data, so a name IAM would reject fails at
// plan time instead of mid-apply.
func usernameTemplate() validator.String {
	return stringCheck("Invalid Username Template", "a Go text/template that renders a valid IAM user name", func(s string) error {
		n, err := lease.NewNamer(s)
		if err != nil {
			return err
		}
		return n.Check()
	})
}
