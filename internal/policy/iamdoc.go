package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// DecodeIAM undoes IAM's URL encoding of policy documents (RFC 3986, so "+" stays "+" only when it was
// encoded). A document that already reads as JSON is returned as it is: some IAM-compatible services do not encode.
func DecodeIAM(doc string) (string, error) {
	if strings.HasPrefix(strings.TrimSpace(doc), "{") {
		return doc, nil
	}
	return url.QueryUnescape(doc)
}

// Combine merges policy documents into one with every statement of each, in order, as Vault's
// combinePolicyDocuments does. Empty documents are skipped. Statements are kept byte for byte, white space aside.
func Combine(docs ...string) (string, error) {
	statements := []json.RawMessage{}
	for _, d := range docs {
		if d == "" {
			continue
		}
		var doc struct {
			Statement json.RawMessage `json:"Statement"`
		}
		if err := json.Unmarshal([]byte(d), &doc); err != nil {
			return "", fmt.Errorf("a policy document is not valid JSON: %w", err)
		}
		raw := bytes.TrimSpace(doc.Statement)
		switch {
		case len(raw) == 0 || string(raw) == "null":
		case raw[0] == '[':
			var list []json.RawMessage
			if err := json.Unmarshal(raw, &list); err != nil {
				return "", fmt.Errorf("a policy document's Statement is not a list of statements: %w", err)
			}
			statements = append(statements, list...)
		default:
			statements = append(statements, raw)
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // "<" and "&" in a condition stay as written, and do not grow the document
	err := enc.Encode(struct {
		Version   string            `json:"Version"`
		Statement []json.RawMessage `json:"Statement"`
	}{"2012-10-17", statements})
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(buf.String()), nil
}
