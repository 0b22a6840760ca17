package lease

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/policy"
)

// NetworkBinding limits where a lease's credentials work: from these source IPs (CIDRs or addresses), these VPCs,
// or through these VPC endpoints. Empty: from anywhere. Requests that AWS services make on the caller's behalf
// (aws:ViaAWSService) are never denied, so that, say, CloudFormation or an S3 copy keeps working.
type NetworkBinding struct {
	SourceIPs    []string `json:"source_ips,omitempty"`
	SourceVPCs   []string `json:"source_vpcs,omitempty"`
	VPCEndpoints []string `json:"vpc_endpoints,omitempty"`
}

// normalized is the binding with each list sorted and without duplicates, as the guard writes it.
func (n NetworkBinding) normalized() NetworkBinding {
	return NetworkBinding{SourceIPs: sortedUnique(n.SourceIPs), SourceVPCs: sortedUnique(n.SourceVPCs), VPCEndpoints: sortedUnique(n.VPCEndpoints)}
}

// String describes the binding for messages.
func (n NetworkBinding) String() string {
	if n.IsZero() {
		return "every network"
	}
	var parts []string
	if len(n.SourceIPs) > 0 {
		parts = append(parts, "source IPs "+strings.Join(sortedUnique(n.SourceIPs), ", "))
	}
	if len(n.SourceVPCs) > 0 {
		parts = append(parts, "VPCs "+strings.Join(sortedUnique(n.SourceVPCs), ", "))
	}
	if len(n.VPCEndpoints) > 0 {
		parts = append(parts, "VPC endpoints "+strings.Join(sortedUnique(n.VPCEndpoints), ", "))
	}
	return strings.Join(parts, "; ")
}

// IsZero reports whether the binding allows every network.
func (n NetworkBinding) IsZero() bool {
	return len(n.SourceIPs) == 0 && len(n.SourceVPCs) == 0 && len(n.VPCEndpoints) == 0
}

// Equal compares two bindings as sets.
func (n NetworkBinding) Equal(o NetworkBinding) bool {
	return slices.Equal(sortedUnique(n.SourceIPs), sortedUnique(o.SourceIPs)) && slices.Equal(sortedUnique(n.SourceVPCs), sortedUnique(o.SourceVPCs)) &&
		slices.Equal(sortedUnique(n.VPCEndpoints), sortedUnique(o.VPCEndpoints))
}

const guardNetSid = "AwsdynamicLeaseNetwork"

// statement is the Deny that enforces the binding, as JSON, or "" when it is zero. Its conditions are ANDed: a
// request is denied when its source IP is none of SourceIPs, and its VPC none of SourceVPCs, and its VPC endpoint
// none of VPCEndpoints, and no AWS service made it for the caller. A key missing from the request (aws:SourceVpc
// over the internet, aws:SourceIp through a VPC endpoint) makes its negated condition true: only what is listed
// passes.
func (n NetworkBinding) statement() string {
	if n.IsZero() {
		return ""
	}
	list := func(vs []string) string {
		b, _ := json.Marshal(sortedUnique(vs)) // sorted: the document is a function of the set
		return string(b)
	}
	var conds []string
	if len(n.SourceIPs) > 0 {
		conds = append(conds, `"NotIpAddress":{"aws:SourceIp":`+list(n.SourceIPs)+`}`)
	}
	var strs []string
	if len(n.SourceVPCs) > 0 {
		strs = append(strs, `"aws:SourceVpc":`+list(n.SourceVPCs))
	}
	if len(n.VPCEndpoints) > 0 {
		strs = append(strs, `"aws:SourceVpce":`+list(n.VPCEndpoints))
	}
	if len(strs) > 0 {
		conds = append(conds, `"StringNotEquals":{`+strings.Join(strs, ",")+`}`)
	}
	conds = append(conds, `"BoolIfExists":{"aws:ViaAWSService":"false"}`)
	return `{"Sid":"` + guardNetSid + `","Effect":"Deny","Action":"*","Resource":"*","Condition":{` + strings.Join(conds, ",") + `}}`
}

// Size is what the binding adds to a guard (its statement and the comma before it), as IAM counts it.
func (n NetworkBinding) Size() int {
	if s := n.statement(); s != "" {
		return len(s) + 1
	}
	return 0
}

var (
	vpcIDPattern  = regexp.MustCompile(`^vpc-([0-9a-f]{8}|[0-9a-f]{17})$`)
	vpceIDPattern = regexp.MustCompile(`^vpce-([0-9a-f]{8}|[0-9a-f]{17})$`)
)

// validate checks each entry's syntax, and names the attribute and the entry.
func (n NetworkBinding) validate() []string {
	var problems []string
	for _, ip := range n.SourceIPs {
		if _, err := netip.ParsePrefix(ip); err != nil {
			if _, aerr := netip.ParseAddr(ip); aerr != nil {
				problems = append(problems, fmt.Sprintf("allowed_source_ips: %q is neither a CIDR block (203.0.113.0/24, 2001:db8::/32) nor an IP address", ip))
			}
		}
	}
	for _, v := range n.SourceVPCs {
		if !vpcIDPattern.MatchString(v) {
			problems = append(problems, fmt.Sprintf("allowed_source_vpcs: %q is not a VPC ID (vpc- and 8 or 17 hexadecimal digits)", v))
		}
	}
	for _, v := range n.VPCEndpoints {
		if !vpceIDPattern.MatchString(v) {
			problems = append(problems, fmt.Sprintf("allowed_vpc_endpoints: %q is not a VPC endpoint ID (vpce- and 8 or 17 hexadecimal digits)", v))
		}
	}
	return problems
}

// readNetworkStatement reads back a guard's network statement, refusing anything else.
func readNetworkStatement(effect string, action, notAction, resource any, cond map[string]map[string]any) (NetworkBinding, error) {
	var n NetworkBinding
	bad := fmt.Errorf(`reading the lease guard policy: its fourth statement is not the "Deny" of requests from outside the allowed networks this provider writes`)
	if effect != "Deny" || !isStar(action) || notAction != nil || !isStar(resource) {
		return n, bad
	}
	strs := func(v any) ([]string, bool) {
		switch v := v.(type) {
		case string:
			return []string{v}, true
		case []any:
			var out []string
			for _, e := range v {
				s, ok := e.(string)
				if !ok {
					return nil, false
				}
				out = append(out, s)
			}
			return out, true
		}
		return nil, false
	}
	for op, keys := range cond {
		for key, v := range keys {
			vals, ok := strs(v)
			if !ok {
				return n, bad
			}
			switch {
			case op == "NotIpAddress" && key == "aws:SourceIp":
				n.SourceIPs = vals
			case op == "StringNotEquals" && key == "aws:SourceVpc":
				n.SourceVPCs = vals
			case op == "StringNotEquals" && key == "aws:SourceVpce":
				n.VPCEndpoints = vals
			case op == "BoolIfExists" && key == "aws:ViaAWSService" && len(vals) == 1 && vals[0] == "false":
			default:
				return n, bad
			}
		}
	}
	if _, ok := cond["BoolIfExists"]; !ok || n.IsZero() {
		return n, bad
	}
	return n, nil
}

// withNetwork adds the binding's Deny to a session policy (assumed_role, federation_token). A session policy only
// narrows what the role or user allows, and the inline and managed session policies are evaluated together; so
// without any session policy, the Deny comes with an Allow of everything, which narrows nothing; with managed
// session policies (policy_arns) but no document, the document is the Deny alone, and the managed ones allow.
func (n NetworkBinding) withNetwork(document string, hasARNs bool) (string, error) {
	st := n.statement()
	if st == "" {
		return document, nil
	}
	if document == "" && !hasARNs {
		document = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	}
	return policy.Combine(document, `{"Version":"2012-10-17","Statement":[`+st+`]}`)
}

// sortedUnique is in sorted, without duplicates; nil when empty.
func sortedUnique(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	out := slices.Clone(in)
	slices.Sort(out)
	return slices.Compact(out)
}
