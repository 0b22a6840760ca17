package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// callerIdentityDataSource shows who the root identity is: the account credentials are minted in.
type callerIdentityDataSource struct{ data *providerData }

func newCallerIdentityDataSource() datasource.DataSource { return &callerIdentityDataSource{} }

type callerIdentityModel struct {
	AccountID types.String `tfsdk:"account_id"`
	ARN       types.String `tfsdk:"arn"`
	UserID    types.String `tfsdk:"user_id"`
}

func (d *callerIdentityDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_caller_identity"
}

func (d *callerIdentityDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The provider's root identity, as `sts:GetCallerIdentity` reports it: the account and principal that mint credentials.",
		Attributes: map[string]schema.Attribute{
			"account_id": schema.StringAttribute{Computed: true, MarkdownDescription: "AWS account ID."},
			"arn":        schema.StringAttribute{Computed: true, MarkdownDescription: "ARN of the root identity."},
			"user_id":    schema.StringAttribute{Computed: true, MarkdownDescription: "Unique ID of the root identity."},
		},
	}
}

func (d *callerIdentityDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

func (d *callerIdentityDataSource) Read(ctx context.Context, _ datasource.ReadRequest, resp *datasource.ReadResponse) {
	if d.data == nil {
		resp.Diagnostics.AddError("Provider Not Configured", "The awsdynamic provider was not configured before this data source was read.")
		return
	}
	id := d.data.identity
	if id == nil {
		var err error
		if id, err = d.data.clients.Validate(maskSecrets(ctx)); err != nil {
			resp.Diagnostics.AddError("Caller Identity Not Read", fmt.Sprintf("sts:GetCallerIdentity failed for the root identity.\n\n%s", err))
			return
		}
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, callerIdentityModel{
		AccountID: types.StringValue(id.AccountID),
		ARN:       types.StringValue(id.ARN),
		UserID:    types.StringValue(id.UserID),
	})...)
}
