package lease

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/policy"
)

var testNetwork = NetworkBinding{
	SourceIPs:    []string{"203.0.113.0/24", "2001:db8::/32", "198.51.100.7"},
	SourceVPCs:   []string{"vpc-0123456789abcdef0"},
	VPCEndpoints: []string{"vpce-1a2b3c4d"},
}

// The evaluator's own rules for the conditions the network statement uses, so that its verdicts mean something.
func TestGuardProof_EvaluatorKnowsNetworkConditions(t *testing.T) {
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{
		"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","192.0.2.1"]},"BoolIfExists":{"aws:ViaAWSService":"false"}}},
		{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:SourceVpc":"vpc-11111111"}}}]}`
	for _, tc := range []struct {
		ctx  map[string]string
		want bool
	}{
		{map[string]string{"aws:SourceIp": "10.1.2.3"}, false},
		{map[string]string{"aws:SourceIp": "192.0.2.1"}, false},
		{map[string]string{"aws:SourceIp": "192.0.2.2"}, true},
		{map[string]string{"aws:SourceIp": "192.0.2.2", "aws:ViaAWSService": "true"}, false},
		{map[string]string{"aws:SourceIp": "192.0.2.2", "aws:ViaAWSService": "false"}, true},
		{map[string]string{}, true}, // NotIpAddress on an absent key holds
		{map[string]string{"aws:SourceIp": "10.1.2.3", "aws:SourceVpc": "vpc-11111111"}, true},
		{map[string]string{"aws:SourceIp": "10.1.2.3", "aws:SourceVpc": "vpc-22222222"}, false},
	} {
		got, err := explicitlyDenied(doc, policyRequest{action: "s3:GetObject", resource: "arn:aws:s3:::b/k", at: time.Now(), context: tc.ctx})
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("context %v: denied = %v, want %v", tc.ctx, got, tc.want)
		}
	}
	if _, err := explicitlyDenied(strings.Replace(doc, "NotIpAddress", "NotIpAddressLike", 1), policyRequest{action: "s3:GetObject", resource: "*", context: map[string]string{"aws:SourceIp": "10.0.0.1"}}); err == nil {
		t.Error("an operator the evaluator does not know was judged")
	}
}

// assertNetworkBound evaluates a guard bound to testNetwork before its expiry: what comes from an allowed network,
// or through an AWS service, works; anything else is denied.
func assertNetworkBound(t *testing.T, doc string, expiry time.Time) {
	t.Helper()
	for _, tc := range []struct {
		name string
		ctx  map[string]string
		want bool
	}{
		{"an allowed CIDR", map[string]string{"aws:SourceIp": "203.0.113.77", "aws:ViaAWSService": "false"}, false},
		{"an allowed IPv6 CIDR", map[string]string{"aws:SourceIp": "2001:db8::1"}, false},
		{"an allowed address", map[string]string{"aws:SourceIp": "198.51.100.7"}, false},
		{"elsewhere on the internet", map[string]string{"aws:SourceIp": "198.51.100.8"}, true},
		{"the allowed VPC", map[string]string{"aws:SourceIp": "10.0.0.5", "aws:SourceVpc": "vpc-0123456789abcdef0", "aws:SourceVpce": "vpce-99999999"}, false},
		{"another VPC", map[string]string{"aws:SourceIp": "10.0.0.5", "aws:SourceVpc": "vpc-99999999", "aws:SourceVpce": "vpce-99999999"}, true},
		{"the allowed endpoint", map[string]string{"aws:SourceVpc": "vpc-99999999", "aws:SourceVpce": "vpce-1a2b3c4d"}, false},
		{"an AWS service for the caller", map[string]string{"aws:SourceIp": "cloudformation.amazonaws.com", "aws:ViaAWSService": "true"}, false},
		{"no source at all", map[string]string{}, true},
	} {
		for _, req := range guardRequests {
			req.at, req.context = expiry.Add(-time.Minute), tc.ctx
			if tc.name == "an AWS service for the caller" {
				delete(req.context, "aws:SourceIp") // AWS sets the service's name, not an IP; absent here
			}
			got, err := explicitlyDenied(doc, req)
			if err != nil {
				t.Fatalf("evaluating the guard: %v\n%s", err, doc)
			}
			if got != tc.want {
				t.Errorf("%s from %s: denied = %v, want %v", req.action, tc.name, got, tc.want)
			}
		}
	}
}

func TestGuardProof_NetworkStatementDeniesOnlyOtherNetworks(t *testing.T) {
	expiry := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	doc := GuardDocumentFor(expiry, testUserARN, testNetwork)
	assertNetworkBound(t, doc, expiry)
	// From an allowed network, the guard still cuts at expiry.
	for _, req := range guardRequests {
		req.at, req.context = expiry.Add(time.Second), map[string]string{"aws:SourceIp": "203.0.113.1"}
		if denied, err := explicitlyDenied(doc, req); err != nil || !denied {
			t.Errorf("%s from an allowed network after expiry: denied = %v, %v", req.action, denied, err)
		}
	}
	// Unbound, nothing depends on the network.
	for _, req := range guardRequests {
		req.at, req.context = expiry.Add(-time.Second), map[string]string{"aws:SourceIp": "198.51.100.8"}
		if denied, err := explicitlyDenied(GuardDocument(expiry, testUserARN), req); err != nil || denied {
			t.Errorf("%s without a binding: denied = %v, %v", req.action, denied, err)
		}
	}
}

func TestGuard_NetworkIsBudgetedAndReadBack(t *testing.T) {
	expiry := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	arn := UserARN("aws", "123456789012", DefaultUserPath, "u")
	doc := GuardDocumentFor(expiry, arn, testNetwork)
	if got, want := policy.Size(doc), GuardSize("aws", DefaultUserPath, "u", testNetwork); got != want {
		t.Errorf("guard with networks is %d characters, GuardSize says %d", got, want)
	}
	if err := policy.Validate(doc); err != nil {
		t.Fatalf("the guard with networks is not a valid policy: %v\n%s", err, doc)
	}
	g, err := ReadGuard(doc)
	if err != nil {
		t.Fatal(err)
	}
	if !g.Network.Equal(testNetwork) || !g.ExpiresAt.Equal(expiry) || g.UserARN != arn {
		t.Errorf("read back %+v", g)
	}
	reordered := NetworkBinding{SourceIPs: []string{"198.51.100.7", "2001:db8::/32", "203.0.113.0/24", "198.51.100.7"},
		SourceVPCs: testNetwork.SourceVPCs, VPCEndpoints: testNetwork.VPCEndpoints}
	if GuardDocumentFor(expiry, arn, reordered) != doc {
		t.Error("the guard depends on the order of the allowed networks")
	}
	for name, bad := range map[string]string{
		"allow":          strings.Replace(doc, `"Sid":"AwsdynamicLeaseNetwork","Effect":"Deny"`, `"Sid":"AwsdynamicLeaseNetwork","Effect":"Allow"`, 1),
		"no via-service": strings.Replace(doc, `,"BoolIfExists":{"aws:ViaAWSService":"false"}`, ``, 1),
		"other key":      strings.Replace(doc, `"aws:SourceVpce"`, `"aws:SourceAccount"`, 1),
	} {
		if _, err := ReadGuard(bad); err == nil {
			t.Errorf("%s: ReadGuard accepted\n%s", name, bad)
		}
	}
}

func TestValidate_AllowedNetworks(t *testing.T) {
	base := Role{Name: "r", CredentialType: IAMUser, PolicyDocument: inventoryDoc}
	opts := ValidateOptions{ReservedTags: LeaseTagCount, ProviderMaxTTL: 24 * time.Hour}
	problems := func(r Role) string {
		var out []string
		for _, p := range r.Validate(opts) {
			out = append(out, p.Attribute+": "+p.Summary+": "+p.Detail)
		}
		return strings.Join(out, "\n")
	}
	ok := base
	ok.Network = testNetwork
	if got := problems(ok); got != "" {
		t.Errorf("valid networks refused:\n%s", got)
	}
	bad := base
	bad.Network = NetworkBinding{SourceIPs: []string{"203.0.113.0/33"}, SourceVPCs: []string{"vpc-xyz"}, VPCEndpoints: []string{"vpc-12345678"}}
	got := problems(bad)
	for _, want := range []string{`allowed_source_ips: Invalid Allowed Network: allowed_source_ips: "203.0.113.0/33"`, `allowed_source_vpcs: Invalid Allowed Network`, `allowed_vpc_endpoints: Invalid Allowed Network`} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack %q:\n%s", want, got)
		}
	}
	many := base
	many.PolicyDocument = ""
	many.PolicyARNs = []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}
	for i := range 200 {
		many.Network.SourceIPs = append(many.Network.SourceIPs, "10.0."+itoa(i)+".0/24")
	}
	if got := problems(many); !strings.Contains(got, "Allowed Networks Too Large") {
		t.Errorf("200 CIDRs fit the guard?\n%s", got)
	}
	session := Role{Name: "r", CredentialType: SessionToken, Network: testNetwork}
	if got := problems(session); !strings.Contains(got, "allowed_source_ips: Attribute Does Not Apply") {
		t.Errorf("session_token with networks:\n%s", got)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// Issue, renew and update keep the binding in the guard AWS holds (read back, and judged by the evaluator); a
// change of networks is made in place, on the same user and key. moto stores the guard but does not evaluate its
// conditions (see internal/acctest/moto/README.md): the evaluator judges the document moto returns.
func TestNetwork_GuardFromAWSAfterIssueRenewAndUpdate(t *testing.T) {
	e := newMotoEnv(t)
	ctx := e.ctx()
	is := e.issuer()
	role := Role{Name: "deploy", CredentialType: IAMUser, PolicyDocument: inventoryDoc, Network: testNetwork, MaxTTL: 24 * time.Hour}
	l, _, err := is.Issue(ctx, role, Request{TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	held := func() string { return e.inlinePolicy(l.UserName, GuardPolicyName) }
	assertNetworkBound(t, held(), l.ExpiresAt)

	e.clock.Advance(30 * time.Minute)
	if err := is.Renew(ctx, l, time.Hour); err != nil {
		t.Fatal(err)
	}
	assertNetworkBound(t, held(), l.ExpiresAt)
	if p, err := is.Presence(ctx, l); err != nil || p.GuardProblem != "" {
		t.Errorf("after renew Presence = %+v, %v", p, err)
	}

	to := role
	to.Network = NetworkBinding{VPCEndpoints: []string{"vpce-0fedcba9876543210"}}
	key := l.AccessKeyID
	if err := is.Update(ctx, l, role, to); err != nil {
		t.Fatal(err)
	}
	g, err := ReadGuard(held())
	if err != nil || !g.Network.Equal(to.Network) || !g.ExpiresAt.Equal(l.ExpiresAt) || l.AccessKeyID != key {
		t.Errorf("after the update the guard is %+v (%v), lease key %s (was %s)", g, err, l.AccessKeyID, key)
	}
	if p, err := is.Presence(ctx, l); err != nil || p.GuardProblem != "" {
		t.Errorf("after update Presence = %+v, %v", p, err)
	}

	// Unbinding removes the statement.
	if err := is.Update(ctx, l, to, role.withoutNetwork()); err != nil {
		t.Fatal(err)
	}
	if got := held(); got != GuardDocument(l.ExpiresAt, l.UserARN) {
		t.Errorf("after unbinding the guard is\n%s", got)
	}
	// Someone rewrites the guard without the networks: refresh sees it and puts it back.
	l2, _, err := is.Issue(ctx, role, Request{TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.iam.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(l2.UserName), PolicyName: aws.String(GuardPolicyName),
		PolicyDocument: aws.String(GuardDocument(l2.ExpiresAt, l2.UserARN))}); err != nil {
		t.Fatal(err)
	}
	p, err := is.Presence(ctx, l2)
	if err != nil || !strings.Contains(p.GuardProblem, "does not allow the lease's networks") {
		t.Fatalf("Presence = %+v, %v", p, err)
	}
	if _, err := is.RepairGuard(ctx, l2, p); err != nil {
		t.Fatal(err)
	}
	assertNetworkBound(t, e.inlinePolicy(l2.UserName, GuardPolicyName), l2.ExpiresAt)

	// A guard cut earlier and stripped of the networks: the earlier date stays, the networks come back.
	earlier := l2.ExpiresAt.Add(-10 * time.Minute)
	if _, err := e.iam.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(l2.UserName), PolicyName: aws.String(GuardPolicyName),
		PolicyDocument: aws.String(GuardDocument(earlier, l2.UserARN))}); err != nil {
		t.Fatal(err)
	}
	if p, err = is.Presence(ctx, l2); err != nil {
		t.Fatal(err)
	}
	if _, err := is.RepairGuard(ctx, l2, p); err != nil {
		t.Fatal(err)
	}
	if got := e.inlinePolicy(l2.UserName, GuardPolicyName); !l2.ExpiresAt.Equal(earlier) || got != GuardDocumentFor(earlier, l2.UserARN, testNetwork) {
		t.Errorf("lease expiry %s (want %s), guard\n%s", l2.ExpiresAt, earlier, got)
	}
}

func (r Role) withoutNetwork() Role { r.Network = NetworkBinding{}; return r }

// STS kinds carry the binding in their session policy: the Deny joins the role's document; without any session
// policy an Allow of everything comes with it, so that the Deny narrows nothing else.
func TestNetwork_SessionPolicyOfSTSKinds(t *testing.T) {
	e := newMotoEnv(t)
	ctx := e.ctx()
	is := e.issuer()
	roleARN := "arn:aws:iam::123456789012:role/target"
	for name, tc := range map[string]struct {
		role      Role
		wantAllow bool
	}{
		"assumed_role, no policy": {Role{Name: "a", CredentialType: AssumedRole, RoleARNs: []string{roleARN}, Network: testNetwork}, true},
		"assumed_role, arns only": {Role{Name: "a", CredentialType: AssumedRole, RoleARNs: []string{roleARN}, PolicyARNs: []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}, Network: testNetwork}, false},
		"federation_token, doc":   {Role{Name: "f", CredentialType: FederationToken, PolicyDocument: inventoryDoc, Network: testNetwork}, false},
	} {
		t.Run(name, func(t *testing.T) {
			e.record()
			l, _, err := is.Issue(ctx, tc.role, Request{})
			if err != nil {
				t.Fatal(err)
			}
			reqs := e.recording()
			var doc string
			for _, r := range reqs {
				if r.Action == "AssumeRole" || r.Action == "GetFederationToken" {
					doc = r.Form.Get("Policy")
				}
			}
			if doc == "" {
				t.Fatalf("no session policy sent: %v", actionCounts(reqs))
			}
			at := time.Now().Add(time.Minute)
			inside := policyRequest{action: "s3:ListBucket", resource: "arn:aws:s3:::b", at: at, context: map[string]string{"aws:SourceIp": "203.0.113.9"}}
			outside := policyRequest{action: "s3:ListBucket", resource: "arn:aws:s3:::b", at: at, context: map[string]string{"aws:SourceIp": "192.0.2.9"}}
			if denied, err := explicitlyDenied(doc, inside); err != nil || denied {
				t.Errorf("from an allowed network: denied = %v, %v\n%s", denied, err, doc)
			}
			if denied, err := explicitlyDenied(doc, outside); err != nil || !denied {
				t.Errorf("from elsewhere: denied = %v, %v\n%s", denied, err, doc)
			}
			if got := strings.Contains(doc, `{"Effect":"Allow","Action":"*","Resource":"*"}`); got != tc.wantAllow {
				t.Errorf("Allow of everything in the session policy = %v, want %v:\n%s", got, tc.wantAllow, doc)
			}
			if !l.Network.Equal(testNetwork) {
				t.Errorf("lease records networks %v", l.Network)
			}
		})
	}
}
