package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/lease"
)

// Parallel on purpose: each framework type states its own struct, constructor and compiler-checked interfaces.

// credentialEphemeral is a lease that lives only as long as one Terraform run: never in state or plan. Open
// issues, Renew extends, Close revokes; everything Close needs is in private data, since it never sees config.
type credentialEphemeral struct{ data *providerData }

func newCredentialEphemeral() ephemeral.EphemeralResource { return &credentialEphemeral{} }

var (
	_ ephemeral.EphemeralResourceWithConfigure      = (*credentialEphemeral)(nil)
	_ ephemeral.EphemeralResourceWithValidateConfig = (*credentialEphemeral)(nil)
	_ ephemeral.EphemeralResourceWithRenew          = (*credentialEphemeral)(nil)
	_ ephemeral.EphemeralResourceWithClose          = (*credentialEphemeral)(nil)
)

type credentialEphemeralModel struct {
	credentialArgs
	credentialOutputs
}

func (e *credentialEphemeral) Metadata(_ context.Context, req ephemeral.MetadataRequest, resp *ephemeral.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_credential"
}

func (e *credentialEphemeral) Schema(_ context.Context, _ ephemeral.SchemaRequest, resp *ephemeral.SchemaResponse) {
	attrs := map[string]schema.Attribute{}
	for _, a := range credentialArgTable {
		switch a.kind {
		case argRole:
			attrs[a.name] = schema.SingleNestedAttribute{Required: true, MarkdownDescription: a.desc, Attributes: ephemeralRoleAttributes()}
		case argBool:
			attrs[a.name] = schema.BoolAttribute{Optional: true, MarkdownDescription: a.desc}
		case argDuration:
			attrs[a.name] = schema.StringAttribute{Optional: true, Sensitive: a.sensitive, MarkdownDescription: a.desc, Validators: []validator.String{duration()}}
		default:
			attrs[a.name] = schema.StringAttribute{Optional: true, Sensitive: a.sensitive, MarkdownDescription: a.desc}
		}
	}
	for name, desc := range outputDescriptions {
		attrs[name] = schema.StringAttribute{Computed: true, Sensitive: sensitiveOutputs[name], MarkdownDescription: desc}
	}
	attrs["env"] = schema.MapAttribute{Computed: true, Sensitive: true, ElementType: types.StringType, MarkdownDescription: outputDescriptions["env"]}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Issues a credential for the length of one Terraform run: it is never written to state " +
			"or plan, is renewed while the run lasts, and is revoked when the run ends. Use it to configure another " +
			"provider (`provider \"aws\" { access_key = ephemeral.awsdynamic_credential.run.access_key_id ... }`).",
		Attributes: attrs,
	}
}

func ephemeralRoleAttributes() map[string]schema.Attribute {
	out := map[string]schema.Attribute{}
	for _, a := range roleAttrs {
		req, opt := a.required, !a.required
		switch a.kind {
		case kindSet:
			out[a.name] = schema.SetAttribute{Required: req, Optional: opt, ElementType: types.StringType, MarkdownDescription: a.desc}
		case kindList:
			out[a.name] = schema.ListAttribute{Required: req, Optional: opt, ElementType: types.StringType, MarkdownDescription: a.desc}
		case kindMap:
			out[a.name] = schema.MapAttribute{Required: req, Optional: opt, ElementType: types.StringType, MarkdownDescription: a.desc}
		case kindDocument:
			out[a.name] = schema.StringAttribute{Required: req, Optional: opt, CustomType: policyDocumentType{}, MarkdownDescription: a.desc}
		default:
			out[a.name] = schema.StringAttribute{Required: req, Optional: opt, MarkdownDescription: a.desc, Validators: stringValidators(a)}
		}
	}
	return out
}

func (e *credentialEphemeral) Configure(_ context.Context, req ephemeral.ConfigureRequest, resp *ephemeral.ConfigureResponse) {
	e.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

func (e *credentialEphemeral) ValidateConfig(ctx context.Context, req ephemeral.ValidateConfigRequest, resp *ephemeral.ValidateConfigResponse) {
	var a credentialArgs
	resp.Diagnostics.Append(getArgs(ctx, req.Config, &a)...)
	if resp.Diagnostics.HasError() {
		return
	}
	validateCredentialArgs(ctx, a, e.data, &resp.Diagnostics)
}

func (e *credentialEphemeral) Open(ctx context.Context, req ephemeral.OpenRequest, resp *ephemeral.OpenResponse) {
	ctx = maskSecrets(ctx)
	var m credentialEphemeralModel
	resp.Diagnostics.Append(getArgs(ctx, req.Config, &m.credentialArgs)...)
	if resp.Diagnostics.HasError() {
		return
	}
	l, creds, _, window := e.data.issue(ctx, m.credentialArgs, &resp.Diagnostics)
	if l == nil {
		return
	}
	out, d := outputsFrom(l, creds)
	resp.Diagnostics.Append(d...)
	m.credentialOutputs = out
	resp.Diagnostics.Append(resp.Result.Set(ctx, m)...)
	resp.Diagnostics.Append(setPrivateLease(ctx, resp.Private, l)...)
	// Private data holds JSON; a time.Duration encodes as its nanoseconds.
	b, _ := json.Marshal(window)
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateWindowKey, b)...)
	resp.RenewAt = l.Decide(e.data.clock.Now(), window).RenewAt
}

// Parallel on purpose: Renew and Close each take the lease's gate themselves, so that the locking stays in sight.
func (e *credentialEphemeral) Renew(ctx context.Context, req ephemeral.RenewRequest, resp *ephemeral.RenewResponse) {
	ctx = maskSecrets(ctx)
	l := privateLease(ctx, req.Private, &resp.Diagnostics)
	if l == nil {
		return
	}
	gate, unlock := openLeases.lock(l.ID)
	defer unlock()
	if gate.closed {
		return // Terraform renewed while it closed: renewing now would put the guard back on a user being deleted
	}
	var window time.Duration
	if b, d := req.Private.GetKey(ctx, privateWindowKey); !d.HasError() {
		_ = json.Unmarshal(b, &window)
	}
	if err := e.data.issuer.Renew(ctx, l, l.TTL); err != nil {
		if errors.Is(err, lease.ErrNotRenewable) {
			return // at its maximum: it stays valid until then, and Terraform stops asking
		}
		if lease.IsNoSuchEntity(err) {
			return // revoked: a Renew that reached the gate only after Close forgot it
		}
		resp.Diagnostics.AddError("Lease Not Renewed", fmt.Sprintf("Lease %s could not be renewed; it still expires at %s.\n\n%s", l.ID, formatTime(l.ExpiresAt), err))
		return
	}
	resp.Diagnostics.Append(setPrivateLease(ctx, resp.Private, l)...)
	resp.RenewAt = l.Decide(e.data.clock.Now(), window).RenewAt
}

// Parallel on purpose: Renew and Close each take the lease's gate themselves, so that the locking stays in sight.
func (e *credentialEphemeral) Close(ctx context.Context, req ephemeral.CloseRequest, resp *ephemeral.CloseResponse) {
	ctx = maskSecrets(ctx)
	l := privateLease(ctx, req.Private, &resp.Diagnostics)
	if l == nil {
		return
	}
	gate, unlock := openLeases.lock(l.ID)
	defer unlock()
	gate.closed = true
	// A Renew already waiting holds this gate and sees it closed; none comes after Close returns. So the map can
	// forget the lease, and a long run that opens many credentials does not keep one gate for each.
	defer openLeases.forget(l.ID)
	if err := e.data.issuer.Revoke(ctx, l); err != nil && !errors.Is(err, lease.ErrNotLeaseUser) {
		resp.Diagnostics.AddError("Credential Not Revoked", fmt.Sprintf("Lease %s could not be fully revoked at the end of the run. Its expiry guard still stops the key at %s, and `terraform-provider-awsdynamic sweep` removes the user after that.\n\n%s", l.ID, formatTime(l.ExpiresAt), err))
	}
}

// openLeases serializes Renew and Close of one ephemeral lease. Terraform can send a Renew while it closes the
// resource (its renewal loop lets go of its lock before calling Close); that Renew must wait for Close and then do
// nothing, or it re-creates the expiry guard on a user Close is deleting and DeleteUser fails.
var openLeases = &leaseGates{gates: map[string]*leaseGate{}}

type leaseGates struct {
	mu    sync.Mutex
	gates map[string]*leaseGate
}

type leaseGate struct {
	mu     sync.Mutex
	closed bool
}

// forget drops the gate of lease id from the map; whoever holds it keeps it.
func (g *leaseGates) forget(id string) {
	g.mu.Lock()
	delete(g.gates, id)
	g.mu.Unlock()
}

// lock takes the gate of lease id; unlock releases it.
func (g *leaseGates) lock(id string) (gate *leaseGate, unlock func()) {
	g.mu.Lock()
	gate = g.gates[id]
	if gate == nil {
		gate = &leaseGate{}
		g.gates[id] = gate
	}
	g.mu.Unlock()
	gate.mu.Lock()
	return gate, gate.mu.Unlock
}
