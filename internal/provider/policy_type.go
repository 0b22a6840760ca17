package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/policy"
)

// policyDocumentType is a string holding an IAM policy; two documents that IAM reads the same (reformatted,
// reordered, a single Action as a string or a list) are equal, so reformatting a policy is no diff.
type policyDocumentType struct{ basetypes.StringType }

var (
	_ basetypes.StringTypable                    = policyDocumentType{}
	_ basetypes.StringValuableWithSemanticEquals = policyDocumentValue{}
)

func (t policyDocumentType) Equal(o attr.Type) bool {
	_, ok := o.(policyDocumentType)
	return ok
}

func (t policyDocumentType) String() string { return "policyDocumentType" }

func (t policyDocumentType) ValueFromString(_ context.Context, in basetypes.StringValue) (basetypes.StringValuable, diag.Diagnostics) {
	return policyDocumentValue{StringValue: in}, nil
}

func (t policyDocumentType) ValueFromTerraform(ctx context.Context, in tftypes.Value) (attr.Value, error) {
	v, err := t.StringType.ValueFromTerraform(ctx, in)
	if err != nil {
		return nil, err
	}
	s, ok := v.(basetypes.StringValue)
	if !ok {
		return nil, fmt.Errorf("unexpected value type %T", v)
	}
	return policyDocumentValue{StringValue: s}, nil
}

func (t policyDocumentType) ValueType(context.Context) attr.Value { return policyDocumentValue{} }

// policyDocumentValue is a value of policyDocumentType.
type policyDocumentValue struct{ basetypes.StringValue }

func (v policyDocumentValue) Type(context.Context) attr.Type { return policyDocumentType{} }

func (v policyDocumentValue) Equal(o attr.Value) bool {
	other, ok := o.(policyDocumentValue)
	return ok && v.StringValue.Equal(other.StringValue)
}

// StringSemanticEquals keeps the prior value when the new one means the same policy.
func (v policyDocumentValue) StringSemanticEquals(_ context.Context, newV basetypes.StringValuable) (bool, diag.Diagnostics) {
	n, ok := newV.(policyDocumentValue)
	if !ok {
		return false, nil
	}
	eq, err := policy.Equivalent(v.ValueString(), n.ValueString())
	return err == nil && eq, nil
}
