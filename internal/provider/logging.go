package provider

import (
	"context"
	"regexp"

	"github.com/hashicorp/terraform-plugin-log/tflog"
)

// secretFieldKeys are log fields whose values are always masked, whoever logs them.
var secretFieldKeys = []string{"secret_key", "token", "secret_access_key", "session_token", "web_identity_token", "SecretAccessKey", "SessionToken"}

// maskSecrets makes every tflog call below ctx mask secret fields, and anything shaped like an AWS secret access
// key (40 base64 characters) wherever it appears in a message.
func maskSecrets(ctx context.Context) context.Context {
	ctx = tflog.MaskFieldValuesWithFieldKeys(ctx, secretFieldKeys...)
	ctx = tflog.MaskAllFieldValuesRegexes(ctx, secretPattern)
	ctx = tflog.MaskMessageRegexes(ctx, secretPattern)
	return ctx
}

var secretPattern = regexp.MustCompile(`[A-Za-z0-9/+]{40}`)
