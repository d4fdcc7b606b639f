package clio

import (
	"net/url"
	"strings"
	"testing"
)

// Signed URLs hide in places a plain key=value scan of the query misses: nested in
// another parameter's value or in the path (percent-encoded once or twice), behind
// percent-encoded keys, in a fragment, or in a query Go's parser refuses. Each
// input's secret must be gone from sanitizeString and redactText alike.
func TestRedactHiddenSignatures(t *testing.T) {
	const s = "SECRETSIG0123456789"
	for name, raw := range map[string]string{
		"nested in a query value":       "https://app.example/r?next=https%3A%2F%2Fs3.example%2Fk%3FX-Amz-Date%3D1%26X-Amz-Signature%3D" + s,
		"nested as first param":         "https://app.example/r?next=https%3A%2F%2Fs3.example%2Fk%3FX-Amz-Signature%3D" + s,
		"double-encoded":                "https://app.example/r?next=https%253A%252F%252Fs3%252Fk%253FX-Amz-Signature%253D" + s,
		"in the path":                   "https://proxy.example/fetch/https%3A%2F%2Fs3.example%2Fk%3FX-Amz-Signature%3D" + s,
		"encoded key":                   "https://s3.example/k?X%2DAmz%2DSignature=" + s + "&X-Amz-Date=1",
		"encoded key, semicolon query":  "https://s3.example/k?X%2DAmz%2DSignature=" + s + ";a=1",
		"lowercase encoded key":         "https://s3.example/k?x%2damz%2dsignature=" + s,
		"fragment":                      "https://app.example/cb#access_token=" + s + "&state=x",
		"nonce nested in a path":        "https://app.example/a/custom_action_nonce%3D" + s,
		"webhook token nested in value": "https://app.example/r?u=https%3A%2F%2Fh%2Fhooks%3Fmodel%3Dmatter%26clio_hook%3D" + s,
	} {
		if got := sanitizeString(raw); strings.Contains(got, s) {
			t.Errorf("%s: sanitizeString kept the secret: %s", name, got)
		}
		if got := redactText("GET " + raw + ": EOF"); strings.Contains(got, s) {
			t.Errorf("%s: redactText kept the secret: %s", name, got)
		}
	}
}

// What stays readable after sanitizing: host, path, harmless parameters and their order.
func TestSanitizeURLKeepsTheRest(t *testing.T) {
	for in, want := range map[string]string{
		"https://s3.example/b/k?X-Amz-Date=1&X-Amz-Signature=abc&partNumber=2": "https://s3.example/b/k?X-Amz-Date=1&X-Amz-Signature=REDACTED&partNumber=2",
		"https://app.example/api/v4/matters.json?fields=id%2Cetag&limit=200":   "https://app.example/api/v4/matters.json?fields=id%2Cetag&limit=200",
		"https://app.example/hooks?clio_hook=abc&clio_hook=def":                "https://app.example/hooks?clio_hook=REDACTED&clio_hook=REDACTED",
	} {
		u, err := url.Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := sanitizeURL(u); got != want {
			t.Errorf("sanitizeURL(%s)\n = %s\nwant %s", in, got, want)
		}
	}
}

// A storage error body is cut at 2 KiB before it is redacted: an S3 SignatureDoesNotMatch
// element cut before its closing tag must go too, and so must a JSON string cut
// before its closing quote.
func TestRedactTruncatedS3Error(t *testing.T) {
	const sig = "abcdef0123456789SIGNATURE"
	for _, in := range []string{
		"<Error><Code>SignatureDoesNotMatch</Code><SignatureProvided>" + sig,
		"<Error><Code>SignatureDoesNotMatch</Code><CanonicalRequestBytes>50 55 54 " + sig,
		// An error excerpt (checkResponse keeps 200 characters) cut inside a JSON secret.
		`{"data":{"type":"SignatureDoesNotMatch","shared_secret":"` + sig,
	} {
		if got := redactText(in); strings.Contains(got, sig) || !strings.Contains(got, "SignatureDoesNotMatch") {
			t.Errorf("redactText(%q) = %q", in, got)
		}
	}
}
