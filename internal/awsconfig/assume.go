package awsconfig

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// AssumeRole returns clients that act as role a, assumed with c's own credentials through c's STS client: a user in
// another account is reached through a role there, as terraform-provider-aws's assume_role does. Endpoints,
// region, retries and transport stay c's. No call is made until the clients are used.
func (c *Clients) AssumeRole(a AssumeRole) *Clients {
	p := stscreds.NewAssumeRoleProvider(c.STS, a.RoleARN, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = sessionName(a.SessionName)
		if a.ExternalID != "" {
			o.ExternalID = aws.String(a.ExternalID)
		}
		if a.Duration > 0 {
			o.Duration = a.Duration
		}
	})
	out := &Clients{IAMEndpoint: c.IAMEndpoint, STSEndpoint: c.STSEndpoint, Config: c.Config.Copy()}
	out.Config.Credentials = aws.NewCredentialsCache(p)
	out.IAM = iam.NewFromConfig(out.Config, out.iamOptions)
	out.STS = sts.NewFromConfig(out.Config, out.stsOptions)
	return out
}
