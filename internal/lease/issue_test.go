package lease

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest/moto"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/policy"
)

func TestIssue_CreatesUserWithEverythingAndKeyLast(t *testing.T) {
	e := newMotoEnv(t)
	role := e.fullRole("deploy")
	boundary, err := e.iam.CreatePolicy(e.ctx(), &iam.CreatePolicyInput{
		PolicyName:     aws.String("deploy-boundary"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	role.PermissionsBoundaryARN = aws.ToString(boundary.Policy.Arn)
	now := e.clock.Now()

	e.record()
	l, creds, err := e.issuer().Issue(e.ctx(), role, Request{DisplayName: "ci"})
	reqs := e.recording()
	if err != nil {
		t.Fatal(err)
	}
	ctx := e.ctx()
	user := aws.String(l.UserName)

	// The lease.
	if l.Kind != IAMUser || l.Role != "deploy" || l.ID == "" || l.UserPath != DefaultUserPath {
		t.Errorf("lease = %+v", l)
	}
	if !l.IssuedAt.Equal(now) || !l.ExpiresAt.Equal(now.Add(time.Hour)) || !l.MaxExpiresAt.Equal(now.Add(4*time.Hour)) || l.TTL != time.Hour {
		t.Errorf("lease times: issued %s expires %s max %s ttl %s; want %s, +1h, +4h, 1h", l.IssuedAt, l.ExpiresAt, l.MaxExpiresAt, l.TTL, now)
	}
	if !slices.Equal(l.PolicyARNs, role.PolicyARNs) || !slices.Equal(l.Groups, role.IAMGroups) ||
		!slices.Equal(l.InlinePolicies, []string{GuardPolicyName, DocumentPolicyName}) {
		t.Errorf("lease records %v %v %v, want what the role asked for", l.PolicyARNs, l.Groups, l.InlinePolicies)
	}
	if creds.AccessKeyID != l.AccessKeyID || creds.SecretAccessKey == "" || !creds.Expiration.Equal(l.ExpiresAt) {
		t.Errorf("credentials %v do not match lease key %s", creds, l.AccessKeyID)
	}

	// The user, as AWS holds it.
	got, err := e.iam.GetUser(ctx, &iam.GetUserInput{UserName: user})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.User.Path) != DefaultUserPath || aws.ToString(got.User.Arn) != l.UserARN {
		t.Errorf("user path %s arn %s; lease says %s %s", aws.ToString(got.User.Path), aws.ToString(got.User.Arn), DefaultUserPath, l.UserARN)
	}
	tags := map[string]string{}
	tagOut, err := e.iam.ListUserTags(ctx, &iam.ListUserTagsInput{UserName: user})
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range tagOut.Tags {
		tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	wantTags := map[string]string{
		"managed-by": "awsdynamic", // provider default
		"env":        "role",       // the role's value wins over the provider default
		"team":       "platform",
		TagLeaseID:   l.ID,
		TagRole:      "deploy",
		TagExpiresAt: l.ExpiresAt.Format(time.RFC3339),
	}
	if !maps.Equal(tags, wantTags) {
		t.Errorf("user tags = %v, want %v", tags, wantTags)
	}

	attached, err := e.iam.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: user})
	if err != nil {
		t.Fatal(err)
	}
	var arns []string
	for _, p := range attached.AttachedPolicies {
		arns = append(arns, aws.ToString(p.PolicyArn))
	}
	if !sameSet(arns, role.PolicyARNs) {
		t.Errorf("attached policies = %v, want %v", arns, role.PolicyARNs)
	}

	inline, err := e.iam.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: user})
	if err != nil {
		t.Fatal(err)
	}
	if !sameSet(inline.PolicyNames, []string{GuardPolicyName, DocumentPolicyName}) {
		t.Errorf("inline policies = %v", inline.PolicyNames)
	}
	guardAt, err := GuardExpiry(e.inlinePolicy(l.UserName, GuardPolicyName))
	if err != nil {
		t.Fatal(err)
	}
	if !guardAt.Equal(l.ExpiresAt) {
		t.Errorf("guard date %s, lease expires %s", guardAt, l.ExpiresAt)
	}
	if eq, err := policy.Equivalent(e.inlinePolicy(l.UserName, DocumentPolicyName), role.PolicyDocument); err != nil || !eq {
		t.Errorf("document policy differs from the role's (%v):\n%s", err, e.inlinePolicy(l.UserName, DocumentPolicyName))
	}

	groups, err := e.iam.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: user})
	if err != nil {
		t.Fatal(err)
	}
	if len(groups.Groups) != 1 || aws.ToString(groups.Groups[0].GroupName) != role.IAMGroups[0] {
		t.Errorf("groups = %v, want %v", groups.Groups, role.IAMGroups)
	}
	keys, err := e.iam.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: user})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys.AccessKeyMetadata) != 1 || aws.ToString(keys.AccessKeyMetadata[0].AccessKeyId) != l.AccessKeyID {
		t.Errorf("access keys = %v, want exactly %s", keys.AccessKeyMetadata, l.AccessKeyID)
	}

	// The calls, in order.
	if indexOf(reqs, "CreateUser") != 0 {
		t.Errorf("first call = %s, want CreateUser", reqs[0].Action)
	}
	key := indexOf(reqs, "CreateAccessKey")
	for _, a := range []string{"PutUserPolicy", "AttachUserPolicy", "AddUserToGroup"} {
		if last := lastIndexOf(reqs, a); last < 0 || last > key {
			t.Errorf("%s at %d, CreateAccessKey at %d: the key must come after every attach, put and add", a, last, key)
		}
	}
	// moto drops PermissionsBoundary on CreateUser (see internal/acctest/moto/README.md), so the request is what can be checked.
	if got := requestsFor(reqs, "CreateUser")[0].Form.Get("PermissionsBoundary"); got != role.PermissionsBoundaryARN {
		t.Errorf("CreateUser sent PermissionsBoundary %q, want %q", got, role.PermissionsBoundaryARN)
	}
	if got := requestsFor(reqs, "CreateUser")[0].Form.Get("Path"); got != DefaultUserPath {
		t.Errorf("CreateUser sent Path %q", got)
	}
}

// sameSet compares lists ignoring order.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// adminIssuer creates an IAM user with AdministratorAccess, turns moto's authorization on (newMotoEnv turns it off
// again when the test ends), and returns an IAM client signing as that user and an Issuer on it: with moto's
// authorization on, the default test credentials belong to no IAM user and every call they sign is refused.
func (e *motoEnv) adminIssuer() (*iam.Client, *Issuer) {
	e.t.Helper()
	ctx := e.ctx()
	if _, err := e.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("admin")}); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.iam.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("admin"),
		PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")}); err != nil {
		e.t.Fatal(err)
	}
	key, err := e.iam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("admin")})
	if err != nil {
		e.t.Fatal(err)
	}
	admin := credentials.NewStaticCredentialsProvider(aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey), "")
	if err := e.server.EnableAuth(); err != nil {
		e.t.Fatal(err)
	}
	adminIAM := iam.NewFromConfig(e.cfg, func(o *iam.Options) {
		o.BaseEndpoint = aws.String(e.server.URL)
		o.Credentials = admin
	})
	return adminIAM, e.issuer(func(o *Options) { o.IAM = adminIAM })
}

func TestIssue_KeyAuthenticates(t *testing.T) {
	e := newMotoEnv(t)
	role := e.fullRole("deploy")
	// From here on moto checks every signature and permission, so that a key that does not exist fails (without
	// authorization moto answers any key with a default identity). The issuer signs as the admin user.
	_, i := e.adminIssuer()

	e.record()
	l, creds, err := i.Issue(e.ctx(), role, Request{WaitForPropagation: true})
	reqs := e.recording()
	if err != nil {
		t.Fatal(err)
	}
	if n := actionCounts(reqs)["GetCallerIdentity"]; n != 3 {
		t.Errorf("GetCallerIdentity calls = %d, want 3 (three successes in a row)", n)
	}

	whoami := func(p aws.CredentialsProvider) (string, error) {
		out, err := e.newSTS(p).GetCallerIdentity(e.ctx(), &sts.GetCallerIdentityInput{})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.Arn), nil
	}
	arn, err := whoami(credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, ""))
	if err != nil {
		t.Fatalf("the new key does not authenticate: %v", err)
	}
	if arn != l.UserARN {
		t.Errorf("the new key authenticates as %s, want the lease's user %s", arn, l.UserARN)
	}
	if _, err := whoami(credentials.NewStaticCredentialsProvider(creds.AccessKeyID, "wrong-secret", "")); err == nil {
		t.Error("the new key id with a wrong secret authenticates: moto's authorization is not on, this test proves nothing")
	}

	if err := i.Revoke(e.ctx(), l); err != nil {
		t.Fatal(err)
	}
	if arn, err := whoami(credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, "")); err == nil {
		t.Errorf("the revoked key still authenticates, as %s", arn)
	}
}

// failingIAM is the real client with chosen calls replaced: the faults moto cannot be asked for.
// failing returns a failingIAM on moto, failing nothing until the test sets its functions, and an Issuer using it.
func (e *motoEnv) failing() (*failingIAM, *Issuer) {
	f := &failingIAM{Client: e.iam}
	return f, e.issuer(func(o *Options) { o.IAM = f })
}

type failingIAM struct {
	*iam.Client
	createUser       func(context.Context, *iam.CreateUserInput) (*iam.CreateUserOutput, error)
	attachUserPolicy func(context.Context, *iam.AttachUserPolicyInput) (*iam.AttachUserPolicyOutput, error)
	createAccessKey  func(context.Context, *iam.CreateAccessKeyInput) (*iam.CreateAccessKeyOutput, error)
	putUserPolicy    func(context.Context, *iam.PutUserPolicyInput) (*iam.PutUserPolicyOutput, error)
	deleteUser       func(context.Context, *iam.DeleteUserInput) (*iam.DeleteUserOutput, error)
}

// failOr calls fail when the test set it, and IAM otherwise.
func failOr[I, O any](ctx context.Context, in I, o []func(*iam.Options), fail func(context.Context, I) (O, error),
	iamCall func(context.Context, I, ...func(*iam.Options)) (O, error)) (O, error) {
	if fail != nil {
		return fail(ctx, in)
	}
	return iamCall(ctx, in, o...)
}

func (f *failingIAM) CreateUser(ctx context.Context, in *iam.CreateUserInput, o ...func(*iam.Options)) (*iam.CreateUserOutput, error) {
	return failOr(ctx, in, o, f.createUser, f.Client.CreateUser)
}

func (f *failingIAM) AttachUserPolicy(ctx context.Context, in *iam.AttachUserPolicyInput, o ...func(*iam.Options)) (*iam.AttachUserPolicyOutput, error) {
	return failOr(ctx, in, o, f.attachUserPolicy, f.Client.AttachUserPolicy)
}

func (f *failingIAM) CreateAccessKey(ctx context.Context, in *iam.CreateAccessKeyInput, o ...func(*iam.Options)) (*iam.CreateAccessKeyOutput, error) {
	return failOr(ctx, in, o, f.createAccessKey, f.Client.CreateAccessKey)
}

func (f *failingIAM) PutUserPolicy(ctx context.Context, in *iam.PutUserPolicyInput, o ...func(*iam.Options)) (*iam.PutUserPolicyOutput, error) {
	return failOr(ctx, in, o, f.putUserPolicy, f.Client.PutUserPolicy)
}

func (f *failingIAM) DeleteUser(ctx context.Context, in *iam.DeleteUserInput, o ...func(*iam.Options)) (*iam.DeleteUserOutput, error) {
	return failOr(ctx, in, o, f.deleteUser, f.Client.DeleteUser)
}

// assertRolledBack checks that a failed Issue left nothing and said so.
func (e *motoEnv) assertRolledBack(err error, reqs []moto.Request, step ...string) {
	e.t.Helper()
	if err == nil {
		e.t.Fatal("Issue succeeded, want a failure")
	}
	e.t.Log(err)
	var ie *IssueError
	if !errors.As(err, &ie) {
		e.t.Fatalf("err is %T, want *IssueError: %v", err, err)
	}
	if ie.RollbackErr != nil {
		e.t.Errorf("rollback incomplete: %v", ie.RollbackErr)
	}
	mustContain(e.t, err.Error(), append([]string{`issuing credential for role "deploy": `, "; rollback complete: nothing from this attempt remains"}, step...)...)
	if users := e.usersUnder(DefaultUserPath); len(users) != 0 {
		e.t.Errorf("users left under %s: %v", DefaultUserPath, users)
	}
	if n := actionCounts(reqs)["CreateAccessKey"]; n != 0 && indexOf(reqs, "DeleteAccessKey") < 0 {
		e.t.Error("an access key was created and not deleted")
	}
	if last := lastIndexOf(reqs, "DeleteUser"); last < 0 || last < lastIndexOf(reqs, "ListAccessKeys") {
		e.t.Errorf("the rollback did not end with DeleteUser: %v", moto.Actions(reqs))
	}
}

// groupMembers lists a group's users.
func (e *motoEnv) groupMembers(group string) []string {
	e.t.Helper()
	out, err := e.iam.GetGroup(e.ctx(), &iam.GetGroupInput{GroupName: aws.String(group)})
	if err != nil {
		e.t.Fatal(err)
	}
	return fieldOf(out.Users, func(u types.User) *string { return u.UserName })
}

func TestIssue_RollsBackWhenAttachFails(t *testing.T) {
	e := newMotoEnv(t)
	role := e.fullRole("deploy")
	missing := "arn:aws:iam::123456789012:policy/does-not-exist"
	role.PolicyARNs = append(role.PolicyARNs, missing)

	e.record()
	_, _, err := e.issuer().Issue(e.ctx(), role, Request{})
	reqs := e.recording()
	e.assertRolledBack(err, reqs, "attaching policy "+missing+" to IAM user ", "NoSuchEntity")
	var ie *IssueError
	if !errors.As(err, &ie) {
		t.Fatal("not an *IssueError")
	}
	if !IsNoSuchEntity(err) {
		t.Error("the step's AWS error does not unwrap from the IssueError")
	}
	if ie.Step != "attaching policy "+missing+` to IAM user "`+ie.UserName+`"` {
		t.Errorf("Step = %q", ie.Step)
	}
	if n := actionCounts(reqs)["CreateAccessKey"]; n != 0 {
		t.Errorf("CreateAccessKey called %d times after a failed attach", n)
	}
	if members := e.groupMembers(role.IAMGroups[0]); len(members) != 0 {
		t.Errorf("group %s still lists %v", role.IAMGroups[0], members)
	}
}

func TestIssue_RollsBackWhenGroupMissing(t *testing.T) {
	e := newMotoEnv(t)
	role := e.fullRole("deploy")
	role.IAMGroups = append(role.IAMGroups, "no-such-group")

	e.record()
	_, _, err := e.issuer().Issue(e.ctx(), role, Request{})
	reqs := e.recording()
	e.assertRolledBack(err, reqs, `to group "no-such-group"`, "NoSuchEntity")
	if members := e.groupMembers(role.IAMGroups[0]); len(members) != 0 {
		t.Errorf("group %s still lists %v", role.IAMGroups[0], members)
	}
}

func TestIssue_RollsBackWhenDocumentRejected(t *testing.T) {
	e := newMotoEnv(t)
	role := e.fullRole("deploy")
	// Valid JSON, not a valid policy: the statement has no Resource. moto checks the grammar as IAM does.
	role.PolicyDocument = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject"}]}`

	e.record()
	_, _, err := e.issuer().Issue(e.ctx(), role, Request{})
	reqs := e.recording()
	e.assertRolledBack(err, reqs, "putting the role's policy document on IAM user", "MalformedPolicyDocument")
}

func TestIssue_RollsBackWhenAccessKeyFails(t *testing.T) {
	e := newMotoEnv(t)
	role := e.fullRole("deploy")
	f, i := e.failing()
	f.createAccessKey = func(ctx context.Context, in *iam.CreateAccessKeyInput) (*iam.CreateAccessKeyOutput, error) {
		return nil, sdkError("IAM", "CreateAccessKey", 409, "LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2")
	}
	e.record()
	_, _, err := i.Issue(e.ctx(), role, Request{})
	reqs := e.recording()
	e.assertRolledBack(err, reqs, "creating an access key for IAM user", "LimitExceeded")
	c := actionCounts(reqs)
	if c["DeleteUserPolicy"] != 2 || c["DetachUserPolicy"] != 3 || c["RemoveUserFromGroup"] != 1 {
		t.Errorf("rollback calls %v: want the 2 inline policies, 3 attachments and 1 group removed", c)
	}
}

func TestIssue_RollbackSurvivesCanceledContext(t *testing.T) {
	e := newMotoEnv(t)
	role := e.fullRole("deploy")
	ctx, cancel := context.WithCancel(e.ctx())
	f, i := e.failing()
	f.attachUserPolicy = func(actx context.Context, in *iam.AttachUserPolicyInput) (*iam.AttachUserPolicyOutput, error) {
		cancel() // the user pressed Ctrl-C while the policies were being attached
		<-actx.Done()
		return nil, actx.Err()
	}
	e.record()
	_, _, err := i.Issue(ctx, role, Request{})
	reqs := e.recording()
	e.assertRolledBack(err, reqs, "context canceled")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err does not say the context was canceled: %v", err)
	}
}

func TestIssue_RollbackIncompleteSaysSo(t *testing.T) {
	e := newMotoEnv(t)
	role := e.fullRole("deploy")
	role.PolicyARNs = append(role.PolicyARNs, "arn:aws:iam::123456789012:policy/does-not-exist")
	f, i := e.failing()
	f.deleteUser = func(context.Context, *iam.DeleteUserInput) (*iam.DeleteUserOutput, error) {
		return nil, sdkError("IAM", "DeleteUser", 400, "Throttling", "Rate exceeded")
	}
	_, _, err := i.Issue(e.ctx(), role, Request{})
	if err == nil {
		t.Fatal("Issue succeeded")
	}
	t.Log(err)
	var ie *IssueError
	if !errors.As(err, &ie) || ie.RollbackErr == nil {
		t.Fatalf("want an *IssueError with a rollback error, got %#v", err)
	}
	mustContain(t, err.Error(), "; rollback incomplete: ", `deleting IAM user "`+ie.UserName+`"`, "Throttling",
		`IAM user "`+ie.UserName+`" carries lease tags and the sweep removes it`)
	// What the sweep relies on: the half-made user carries the lease tags.
	tags, terr := e.iam.ListUserTags(e.ctx(), &iam.ListUserTagsInput{UserName: aws.String(ie.UserName)})
	if terr != nil {
		t.Fatal(terr)
	}
	found := map[string]bool{}
	for _, tg := range tags.Tags {
		found[aws.ToString(tg.Key)] = true
	}
	if !found[TagLeaseID] || !found[TagExpiresAt] || !found[TagRole] {
		t.Errorf("left-over user's tags %v lack the lease tags", tags.Tags)
	}
}

func TestIssue_RollsBackUserWhoseCreateAnswerWasLost(t *testing.T) {
	e := newMotoEnv(t)
	role := e.fullRole("deploy")
	f, i := e.failing()
	f.createUser = func(ctx context.Context, in *iam.CreateUserInput) (*iam.CreateUserOutput, error) {
		if _, err := e.iam.CreateUser(ctx, in); err != nil {
			return nil, err
		}
		return nil, errors.New("read tcp: connection reset by peer")
	}
	e.record()
	_, _, err := i.Issue(e.ctx(), role, Request{})
	reqs := e.recording()
	e.assertRolledBack(err, reqs, "creating IAM user", "connection reset by peer")
	if indexOf(reqs, "GetUser") < 0 {
		t.Error("rollback deleted a user without checking it carries this lease's ID")
	}
}

func TestIssue_LeavesSomeoneElsesUserAlone(t *testing.T) {
	e := newMotoEnv(t)
	role := e.fullRole("deploy")
	namer, err := NewNamer("fixed-name")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.iam.CreateUser(e.ctx(), &iam.CreateUserInput{UserName: aws.String("fixed-name"), Path: aws.String(DefaultUserPath)}); err != nil {
		t.Fatal(err)
	}
	_, _, err = e.issuer(func(o *Options) { o.Namer = namer }).Issue(e.ctx(), role, Request{})
	if err == nil {
		t.Fatal("Issue succeeded over an existing user")
	}
	t.Log(err)
	mustContain(t, err.Error(), `creating IAM user "fixed-name"`, "EntityAlreadyExists", "rollback complete")
	if users := e.usersUnder(DefaultUserPath); !slices.Equal(users, []string{"fixed-name"}) {
		t.Errorf("users = %v: the rollback touched a user it did not create", users)
	}
}

func TestIssue_RefusesBeforeAnyCall(t *testing.T) {
	bad, err := NewNamer("has space")
	if err != nil {
		t.Fatal(err)
	}
	i := NewIssuer(Options{Namer: bad}) // no clients: a call would panic
	for _, tc := range []struct {
		name string
		role Role
		want string
	}{
		{"sts kind without role_arns", Role{Name: "r", CredentialType: AssumedRole}, `refused before any AWS call: An assumed_role role needs role_arns`},
		{"unknown kind", Role{Name: "r", CredentialType: "root"}, `unknown credential type "root": expected one of iam_user, assumed_role`},
		{"bad name", Role{Name: "r", CredentialType: IAMUser}, `the username template rendered "has space", which IAM rejects`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := i.Issue(context.Background(), tc.role, Request{})
			if err == nil {
				t.Fatal("Issue succeeded")
			}
			mustContain(t, err.Error(), `issuing credential for role "r": `, tc.want)
		})
	}
	_, _, err = NewIssuer(Options{}).Issue(context.Background(), Role{Name: "r", CredentialType: IAMUser, PolicyDocument: "{"}, Request{})
	if err == nil {
		t.Fatal("Issue accepted a document that is not JSON")
	}
	mustContain(t, err.Error(), "policy_document: ")
}
