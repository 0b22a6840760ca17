package provider_test

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/provider"
)

func tagsValue(tags map[string]string) tftypes.Value {
	vals := map[string]tftypes.Value{}
	for k, v := range tags {
		vals[k] = tftypes.NewValue(tftypes.String, v)
	}
	return tftypes.NewValue(tftypes.Map{ElementType: tftypes.String}, vals)
}

// default_tags keys under the provider's reserved "awsdynamic:" prefix, in any case, or two keys that differ only in
// case, fail when the configuration is validated: before the provider is configured, so before any AWS call.
func TestProvider_defaultTagsCheckedAtValidate(t *testing.T) {
	ctx := context.Background()
	srv, schemas := protoServer(t, provider.Options{})
	typ := schemas.Provider.ValueType()
	tests := []struct {
		tags map[string]string
		want string // "" means valid
	}{
		{map[string]string{"team": "ops"}, ""},
		{map[string]string{"AWSDynamic:Lease-ID": "x"}, `reserves the "awsdynamic:" prefix, in any case`},
		{map[string]string{"awsdynamic:audit": "x"}, `begins with "awsdynamic:"`},
		{map[string]string{"Team": "a", "team": "b"}, `"Team" and "team" differ only in case`},
	}
	for _, tt := range tests {
		cfg := protoValue(t, typ, map[string]any{"default_tags": tagsValue(tt.tags)})
		resp, err := srv.ValidateProviderConfig(ctx, &tfprotov6.ValidateProviderConfigRequest{Config: cfg})
		if err != nil {
			t.Fatal(err)
		}
		if tt.want == "" {
			if len(resp.Diagnostics) != 0 {
				t.Errorf("%v: want no diagnostic, got %s", tt.tags, fmtDiags(resp.Diagnostics))
			}
			continue
		}
		if len(resp.Diagnostics) != 1 || resp.Diagnostics[0].Severity != tfprotov6.DiagnosticSeverityError ||
			resp.Diagnostics[0].Summary != "Invalid Default Tags" || !strings.Contains(resp.Diagnostics[0].Detail, tt.want) ||
			resp.Diagnostics[0].Attribute == nil || resp.Diagnostics[0].Attribute.String() != tftypes.NewAttributePath().WithAttributeName("default_tags").String() {
			t.Errorf("%v: want one Invalid Default Tags error on default_tags saying %q, got %s", tt.tags, tt.want, fmtDiags(resp.Diagnostics))
		}
	}
}

// The same rules hold for a role's iam_tags, at plan.
func TestRole_iamTagsReservedPrefixAndCaseDuplicates(t *testing.T) {
	for tags, want := range map[string]string{
		"AWSDYNAMIC:role": `begins with "AWSDYNAMIC:"`,
		"Env,env":         `"Env" and "env" differ only in case`,
	} {
		m := map[string]string{}
		for _, k := range strings.Split(tags, ",") {
			m[k] = "v"
		}
		ds := validateRoleConfig(t, map[string]tftypes.Value{
			"name":            tftypes.NewValue(tftypes.String, "deploy"),
			"credential_type": tftypes.NewValue(tftypes.String, "iam_user"),
			"policy_arns":     tftypes.NewValue(tftypes.Set{ElementType: tftypes.String}, []tftypes.Value{tftypes.NewValue(tftypes.String, readOnly)}),
			"iam_tags":        tagsValue(m),
		})
		if len(ds) != 1 || ds[0].Summary != "Invalid IAM Tags" || !strings.Contains(ds[0].Detail, want) {
			t.Errorf("iam_tags %v: want one Invalid IAM Tags error saying %q, got %s", m, want, fmtDiags(ds))
		}
	}
}
