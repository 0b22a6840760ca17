package policy

import "strings"

// awsManaged is what the AWS-managed policies people most often attach grant, by Analyze's measure, so that a
// role naming them can be warned about at plan time without reading them from AWS. A TestManagedRisks engine test
// in internal/lease reads each one from moto (which ships AWS's own policy texts) and checks its row. Every other
// policy ARN is read and analyzed when a credential is issued.
var awsManaged = map[string]Risks{
	"AdministratorAccess": {IAMWrite: allIAMWrites(), AssumeRole: true},
	"IAMFullAccess":       {IAMWrite: allIAMWrites()},
	// Everything but iam:*, organizations:* and account:*, so sts:AssumeRole on any role; its few IAM actions are
	// reads and service-linked roles.
	"PowerUserAccess": {AssumeRole: true},
	"job-function/SystemAdministrator": {IAMWrite: []string{"iam:PassRole", "iam:UpdateServerCertificate",
		"iam:UpdateSigningCertificate", "iam:UploadSSHPublicKey", "iam:UploadServerCertificate",
		"iam:UploadSigningCertificate"}},
	"job-function/NetworkAdministrator":  {IAMWrite: []string{"iam:PassRole"}},
	"job-function/DatabaseAdministrator": {IAMWrite: []string{"iam:PassRole"}},
	"job-function/DataScientist":         {IAMWrite: []string{"iam:PassRole"}},
	"AWSLambda_FullAccess":               {IAMWrite: []string{"iam:PassRole"}},
	"AmazonDynamoDBFullAccess":           {IAMWrite: []string{"iam:PassRole"}},
	"AmazonECS_FullAccess":               {IAMWrite: []string{"iam:PassRole"}},

	// Harmless here: reads, or writes to services that cannot mint principals.
	"ReadOnlyAccess":                  {},
	"job-function/ViewOnlyAccess":     {},
	"SecurityAudit":                   {},
	"IAMReadOnlyAccess":               {},
	"IAMUserChangePassword":           {}, // only the caller's own password, which the expiry guard covers
	"AmazonS3FullAccess":              {},
	"AmazonS3ReadOnlyAccess":          {},
	"AmazonEC2FullAccess":             {}, // its only IAM write is iam:CreateServiceLinkedRole
	"AmazonEC2ReadOnlyAccess":         {},
	"AmazonSQSFullAccess":             {},
	"AmazonSNSFullAccess":             {},
	"CloudWatchReadOnlyAccess":        {},
	"AmazonSSMReadOnlyAccess":         {},
	"AWSCloudFormationReadOnlyAccess": {},
}

// AWSManagedRisks says what a well-known AWS-managed policy grants; known is false for any other ARN (customer
// managed, or an AWS-managed policy not in the table), which must be read from AWS to be analyzed.
func AWSManagedRisks(arn string) (r Risks, known bool) {
	name, ok := AWSManagedName(arn)
	if !ok {
		return Risks{}, false
	}
	r, known = awsManaged[name]
	return r, known
}

// AWSManagedName is the path and name of an AWS-managed policy ARN (arn:<partition>:iam::aws:policy/<path/name>).
func AWSManagedName(arn string) (string, bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || parts[4] != "aws" || !strings.HasPrefix(parts[5], "policy/") {
		return "", false
	}
	return strings.TrimPrefix(parts[5], "policy/"), true
}

// AWSManagedNames lists the table's policies, for tests.
func AWSManagedNames() []string {
	out := make([]string, 0, len(awsManaged))
	for n := range awsManaged {
		out = append(out, n)
	}
	return out
}

func allIAMWrites() []string {
	out := make([]string, len(iamWriteActions))
	for i, a := range iamWriteActions {
		out[i] = "iam:" + a
	}
	return out
}
