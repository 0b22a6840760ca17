// Package policy checks IAM policy documents before they reach AWS: their shape as IAM identity policies (the kind
// attached to a user or passed as a session policy), the size IAM counts against its quotas, a compact form to send,
// and semantic equality so that reformatting a document is not a change.
package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	awspolicy "github.com/hashicorp/awspolicyequivalence"
)

// InlineBudget is what IAM allows, in characters without white space, for all the inline policies of one user
// together, and for one inline session policy.
const InlineBudget = 2048

var (
	topLevelElements  = []string{"Version", "Id", "Statement"}
	statementElements = []string{"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource",
		"NotResource", "Condition"}
)

// Validate reports every way doc falls short of an IAM identity policy, one problem per line, each naming the
// statement (1-based, with its Sid when it has one) and what to change. It returns nil for a document IAM should
// accept. It does not check the size: see Size.
func Validate(doc string) error {
	root, err := parse(doc)
	if err != nil {
		return err
	}
	obj, ok := root.(map[string]any)
	if !ok {
		return fmt.Errorf("a policy document must be a JSON object ({ \"Version\": ..., \"Statement\": [...] }), not %s",
			article(root))
	}

	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	for _, k := range unknownKeys(obj, topLevelElements) {
		add("%s", unknownElement("the policy document", k, topLevelElements))
	}

	switch v, ok := obj["Version"]; {
	case !ok:
		add(`missing "Version": add "Version": "2012-10-17"`)
	case v == "2012-10-17" || v == "2008-10-17":
	default:
		add(`"Version" is %s: it must be "2012-10-17" (or the legacy "2008-10-17")`, show(v))
	}

	if v, ok := obj["Id"]; ok {
		if _, isString := v.(string); !isString {
			add(`"Id" must be a string, not %s`, article(v))
		}
	}

	stmts, ok := obj["Statement"]
	if !ok {
		add(`missing "Statement": add "Statement": [{"Effect": "Allow", "Action": "...", "Resource": "..."}]`)
		return joinProblems(problems)
	}
	var list []any
	switch s := stmts.(type) {
	case map[string]any:
		list = []any{s}
	case []any:
		if len(s) == 0 {
			add(`"Statement" is an empty array: a policy needs at least one statement`)
		}
		list = s
	default:
		add(`"Statement" must be an object or an array of objects, not %s`, article(stmts))
	}

	sids := map[string]int{}
	for i, raw := range list {
		n := i + 1
		st, ok := raw.(map[string]any)
		if !ok {
			add("statement %d: must be a JSON object, not %s", n, article(raw))
			continue
		}
		label := fmt.Sprintf("statement %d", n)
		if sid, ok := st["Sid"].(string); ok && sid != "" {
			label = fmt.Sprintf("statement %d (%q)", n, sid)
		}
		for _, p := range checkStatement(st) {
			add("%s: %s", label, p)
		}
		if sid, ok := st["Sid"].(string); ok && sid != "" {
			if first, dup := sids[sid]; dup {
				add(`%s: "Sid" %q is already used by statement %d: Sids must be unique within a policy`, label, sid, first)
			} else {
				sids[sid] = n
			}
		}
	}
	return joinProblems(problems)
}

func checkStatement(st map[string]any) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	for _, k := range unknownKeys(st, statementElements) {
		add("%s", unknownElement("a statement", k, statementElements))
	}

	if v, ok := st["Sid"]; ok {
		sid, isString := v.(string)
		switch {
		case !isString:
			add(`"Sid" must be a string, not %s`, article(v))
		case !isAlphanumeric(sid):
			add(`"Sid" %q may contain only letters and digits (IAM rejects other characters in a Sid)`, sid)
		}
	}

	switch v, ok := st["Effect"]; {
	case !ok:
		add(`missing "Effect": set "Effect" to "Allow" or "Deny"`)
	case v == "Allow" || v == "Deny":
	default:
		add(`"Effect" is %s: it must be exactly "Allow" or "Deny"`, show(v))
	}

	for _, k := range []string{"Principal", "NotPrincipal"} {
		if _, ok := st[k]; ok {
			add(`%q is not allowed: an identity policy applies to the user or session it is attached to, so remove %q`, k, k)
		}
	}

	problems = append(problems, checkPair(st, "Action", "NotAction", checkAction)...)
	problems = append(problems, checkPair(st, "Resource", "NotResource", checkResource)...)

	if v, ok := st["Condition"]; ok {
		problems = append(problems, checkCondition(v)...)
	}
	return problems
}

// checkPair enforces that exactly one of an element and its Not form is present, and checks each value it lists.
func checkPair(st map[string]any, name, notName string, checkValue func(element, value string) string) []string {
	v, has := st[name]
	nv, hasNot := st[notName]
	switch {
	case has && hasNot:
		return []string{fmt.Sprintf("has both %q and %q: keep only one of them", name, notName)}
	case !has && !hasNot:
		return []string{fmt.Sprintf("missing %q: an identity policy statement needs %q or %q", name, name, notName)}
	case hasNot:
		name, v = notName, nv
	}

	var values []string
	switch x := v.(type) {
	case string:
		values = []string{x}
	case []any:
		if len(x) == 0 {
			return []string{fmt.Sprintf("%q is an empty array: list at least one value", name)}
		}
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return []string{fmt.Sprintf("%q item %d must be a string, not %s", name, i+1, article(e))}
			}
			values = append(values, s)
		}
	default:
		return []string{fmt.Sprintf("%q must be a string or an array of strings, not %s", name, article(v))}
	}

	var problems []string
	for _, s := range values {
		if p := checkValue(name, s); p != "" {
			problems = append(problems, p)
		}
	}
	return problems
}

func checkAction(element, a string) string {
	if a == "*" {
		return ""
	}
	service, action, found := strings.Cut(a, ":")
	if !found || service == "" || action == "" {
		return fmt.Sprintf(`%q value %q is not service:action: write it like "s3:GetObject", "s3:*" or "*"`, element, a)
	}
	return ""
}

func checkResource(element, r string) string {
	if r == "*" || strings.HasPrefix(r, "arn:") {
		return ""
	}
	return fmt.Sprintf(`%q value %q is not an ARN: write a full ARN such as "arn:aws:s3:::my-bucket/*", or "*"`, element, r)
}

func checkCondition(v any) []string {
	block, ok := v.(map[string]any)
	if !ok {
		return []string{fmt.Sprintf(`"Condition" must be an object like {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}, not %s`, article(v))}
	}
	var problems []string
	for _, op := range sortedKeys(block) {
		keys, ok := block[op].(map[string]any)
		if !ok {
			problems = append(problems, fmt.Sprintf(`"Condition" operator %q must map condition keys to values, like {"aws:RequestedRegion": "eu-west-1"}, not %s`, op, article(block[op])))
			continue
		}
		for _, key := range sortedKeys(keys) {
			if !conditionValueOK(keys[key]) {
				problems = append(problems, fmt.Sprintf(`"Condition" %s key %q must be a string, number, boolean or an array of them, not %s`, op, key, article(keys[key])))
			}
		}
	}
	return problems
}

func conditionValueOK(v any) bool {
	switch x := v.(type) {
	case string, bool, json.Number:
		return true
	case []any:
		for _, e := range x {
			switch e.(type) {
			case string, bool, json.Number:
			default:
				return false
			}
		}
		return true
	}
	return false
}

// Size is the length IAM counts against its policy-size quotas (see InlineBudget). IAM does not count white space;
// we count the characters (runes, not bytes) of the document after json.Compact, which drops the white space between
// JSON tokens and keeps the characters inside strings, spaces included, because they are part of the policy. A
// document that is not valid JSON is counted whole, so that an invalid document never looks smaller than it is.
func Size(doc string) int {
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(doc)); err != nil {
		return utf8.RuneCountInString(doc)
	}
	return utf8.RuneCount(buf.Bytes())
}

// Normalize returns doc without insignificant white space (json.Compact): the form we send to AWS, so that what is
// stored and what is sent are the same characters Size counted. Keys keep their order, strings are not re-escaped.
func Normalize(doc string) (string, error) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(doc)); err != nil {
		// json.Compact reports no usable offset; the decoder does, and says where the mistake is.
		if _, perr := parse(doc); perr != nil {
			return "", perr
		}
		return "", describeSyntaxError(doc, err)
	}
	return buf.String(), nil
}

// Equivalent reports whether a and b mean the same policy: statement order, the order of values in a list, white
// space, and a single value written with or without an array all do not matter. An error means one of them is not
// a policy document that can be compared.
func Equivalent(a, b string) (bool, error) {
	eq, err := awspolicy.PoliciesAreEquivalent(a, b)
	if err != nil {
		return false, fmt.Errorf("comparing policy documents: %w", err)
	}
	return eq, nil
}

func parse(doc string) (any, error) {
	if strings.TrimSpace(doc) == "" {
		return nil, errors.New(`the policy document is empty: it must be a JSON object with "Version" and "Statement"`)
	}
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, describeSyntaxError(doc, err)
	}
	if _, err := dec.Token(); err == nil || !errors.Is(err, io.EOF) {
		off := int(dec.InputOffset())
		line, col := position(doc, off)
		return nil, fmt.Errorf("the policy document is not valid JSON: unexpected content after the end of the document at line %d, column %d", line, col)
	}
	return v, nil
}

func describeSyntaxError(doc string, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := position(doc, int(se.Offset))
		return fmt.Errorf("the policy document is not valid JSON: %s at line %d, column %d", se.Error(), line, col)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("the policy document is not valid JSON: it ends before the JSON value is complete")
	}
	return fmt.Errorf("the policy document is not valid JSON: %w", err)
}

// position turns a byte offset into a 1-based line and column (in characters), as an editor shows them.
func position(doc string, off int) (line, col int) {
	if off > len(doc) {
		off = len(doc)
	}
	before := doc[:off]
	line = strings.Count(before, "\n") + 1
	col = utf8.RuneCountInString(before[strings.LastIndexByte(before, '\n')+1:])
	if col == 0 {
		col = 1
	}
	return line, col
}

func unknownKeys(obj map[string]any, known []string) []string {
	var out []string
	for _, k := range sortedKeys(obj) {
		isKnown := false
		for _, kn := range known {
			if k == kn {
				isKnown = true
				break
			}
		}
		if !isKnown {
			out = append(out, k)
		}
	}
	return out
}

func unknownElement(where, k string, known []string) string {
	for _, kn := range known {
		if strings.EqualFold(k, kn) {
			return fmt.Sprintf("%q: element names are case-sensitive, write %q", k, kn)
		}
	}
	return fmt.Sprintf("unknown element %q in %s: IAM accepts only %s", k, where, QuoteList(known))
}

func joinProblems(problems []string) error {
	if len(problems) == 0 {
		return nil
	}
	errs := make([]error, len(problems))
	for i, p := range problems {
		errs[i] = errors.New(p)
	}
	return errors.Join(errs...)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// QuoteList quotes each item and joins them with ", ": how error messages name the values they accept.
func QuoteList[T ~string](items []T) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

func isAlphanumeric(s string) bool {
	for _, r := range s {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			return false
		}
	}
	return true
}

// show prints a JSON value the way the user wrote it, for "X is <value>" messages.
func show(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func article(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number, float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
