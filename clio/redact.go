package clio

// Redaction: what never reaches a log line or an error message. Pre-signed
// storage URLs (a download's Location, an upload's put_url) are capabilities:
// whoever reads one can fetch or overwrite the file until it expires. OAuth
// tokens and codes, client secrets, custom-action nonces, webhook secrets and
// registration tokens are credentials. URLs keep their scheme, host, path and
// harmless parameters, so logs stay useful; the values go.

import (
	"cmp"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/clio-go/clio-go/clio/webhook"
)

const redacted = "REDACTED"

// sensitiveParams are query, form or JSON keys (lowercase) whose values are
// redacted: OAuth secrets, the custom-action nonce, webhook secrets and the
// registration token, and the signature parts of pre-signed storage URLs
// (S3, GCS, Azure).
var sensitiveParams = map[string]bool{
	"access_token":          true,
	"refresh_token":         true,
	"id_token":              true,
	"client_secret":         true,
	"client_assertion":      true,
	"code":                  true,
	"token":                 true,
	"password":              true,
	"secret":                true,
	"shared_secret":         true,
	"custom_action_nonce":   true,
	webhook.TokenParam:      true,
	"x-amz-signature":       true,
	"x-amz-credential":      true,
	"x-amz-security-token":  true,
	"x-goog-signature":      true,
	"x-goog-credential":     true,
	"x-goog-security-token": true,
	"signature":             true,
	"sig":                   true,
	"googleaccessid":        true,
	"awsaccesskeyid":        true,
}

// sensitiveHeaders are request or response headers whose values are
// replaced by REDACTED in logs. Other headers still go through redactText,
// which keeps a Location's host and path but not its signature.
var sensitiveHeaders = map[string]bool{
	"Authorization":        true,
	"Proxy-Authorization":  true,
	"Cookie":               true,
	"Set-Cookie":           true,
	"X-Hook-Secret":        true,
	"X-Hook-Signature":     true,
	"X-Amz-Security-Token": true,
	"X-Amz-Server-Side-Encryption-Customer-Key": true,
	"X-Goog-Encryption-Key":                     true,
	"X-Api-Key":                                 true,
}

// sanitizeURL renders u with the values of sensitive query parameters and
// any userinfo password replaced, so URLs can be logged and put in errors.
func sanitizeURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	if u.User == nil && u.RawQuery == "" {
		return redactText(u.String())
	}
	c := *u
	if _, has := c.User.Password(); has {
		c.User = url.UserPassword(c.User.Username(), redacted)
	}
	if c.RawQuery != "" && hasSensitiveParam(c.RawQuery) {
		q, err := url.ParseQuery(c.RawQuery)
		if err != nil {
			// A query Go cannot parse is still sent as it is: redact by pattern.
			c.RawQuery = redactText(c.RawQuery)
			return c.String()
		}
		for k, vs := range q {
			if sensitiveParams[strings.ToLower(k)] {
				for i := range vs {
					vs[i] = redacted
				}
			}
		}
		c.RawQuery = q.Encode()
	}
	// A signed URL can also hide where no parameter of this URL names it:
	// percent-encoded in another parameter's value, in the path or in the
	// fragment. redactText finds it there.
	return redactText(c.String())
}

func hasSensitiveParam(rawQuery string) bool {
	for part := range strings.SplitSeq(rawQuery, "&") {
		k, _, _ := strings.Cut(part, "=")
		if uk, err := url.QueryUnescape(k); err == nil {
			k = uk
		}
		if sensitiveParams[strings.ToLower(k)] {
			return true
		}
	}
	return false
}

// sanitizeString redacts a raw URL string; unparsable input is dropped
// entirely rather than risk leaking it.
func sanitizeString(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparsable URL>"
	}
	return sanitizeURL(u)
}

// redactForm returns an url-encoded form body with sensitive values
// replaced (the OAuth token exchange sends code, refresh_token and
// client_secret in the form).
func redactForm(body string) string {
	v, err := url.ParseQuery(body)
	if err != nil {
		return "<unparsable form>"
	}
	for k, vs := range v {
		if sensitiveParams[strings.ToLower(k)] {
			for i := range vs {
				vs[i] = redacted
			}
		}
	}
	return v.Encode()
}

// sensitiveKeys is the alternation of sensitiveParams for the patterns
// below, longest first so that "x-amz-signature" wins over "signature".
var sensitiveKeys = func() string {
	keys := make([]string, 0, len(sensitiveParams))
	for k := range sensitiveParams {
		keys = append(keys, regexp.QuoteMeta(k))
	}
	// Longest first: the alternation is tried in order.
	slices.SortFunc(keys, func(a, b string) int { return cmp.Or(len(b)-len(a), strings.Compare(a, b)) })
	return strings.Join(keys, "|")
}()

// encodedKeys is sensitiveKeys with "-" and "_" also matched
// percent-encoded, once or more ("X%2DAmz%2DSignature", "%252D").
var encodedKeys = strings.NewReplacer("-", `(?:-|%(?:25)*2d)`, "_", `(?:_|%(?:25)*5f)`).Replace(sensitiveKeys)

var (
	// key=value as in a query string or a form, percent-encoded or not,
	// also nested (percent-encoded, once or more) in another URL's path or
	// parameter: any percent-encoded byte ("%3F", "%26", "%253F") may
	// precede the key, and "=" may be "%3D" or "%253D".
	paramPattern = regexp.MustCompile(`(?i)((?:^|[^a-z0-9_-]|%(?:25)*[0-9a-f]{2})(?:` + encodedKeys + `)(?:=|%(?:25)*3d))[^&\s"'<>,;\\]*`)
	// "key": "value" as in a JSON error body; a value the text ends in (an
	// excerpt cut short) goes to the end.
	jsonPattern = regexp.MustCompile(`(?i)("(?:` + sensitiveKeys + `)"\s*:\s*")(?:[^"\\]|\\.)*(?:"|\\?$)`)
	// user:password@ in a URL.
	userinfoPattern = regexp.MustCompile(`(://[^/\s:@]*:)[^/\s@]*@`)
	// What S3 sends back in a SignatureDoesNotMatch error: the signature given,
	// the access key, and the canonical request with the credential. An
	// element the text ends in (a body cut short before it is redacted) goes
	// to the end.
	xmlPattern = regexp.MustCompile(`(?is)<(SignatureProvided|AWSAccessKeyId|StringToSign|StringToSignBytes|CanonicalRequest|CanonicalRequestBytes|SecurityToken)>.*?(?:</(?:SignatureProvided|AWSAccessKeyId|StringToSign|StringToSignBytes|CanonicalRequest|CanonicalRequestBytes|SecurityToken)>|$)`)
)

// redactText removes credentials from free text, such as an error body, a
// header value or a message: sensitive key=value pairs (whether or not in a
// URL), sensitive JSON string members, URL passwords, and the parts of S3
// signature errors that echo the request's signature and credential.
func redactText(s string) string {
	if s == "" {
		return s
	}
	s = paramPattern.ReplaceAllString(s, "${1}"+redacted)
	s = jsonPattern.ReplaceAllString(s, `${1}`+redacted+`"`)
	s = userinfoPattern.ReplaceAllString(s, "${1}"+redacted+"@")
	s = xmlPattern.ReplaceAllString(s, "<${1}>"+redacted+"</${1}>")
	return s
}

// redactError is err with its message passed through redactText. The
// result matches what err matches with errors.Is (context.Canceled, ...),
// but does not unwrap: errors.As must not hand the caller the original,
// whose message holds the credential. nil stays nil.
func redactError(err error) error {
	if err == nil {
		return nil
	}
	if msg := err.Error(); redactText(msg) != msg {
		return &redactedError{msg: redactText(msg), err: err}
	}
	return err
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string        { return e.msg }
func (e *redactedError) Is(target error) bool { return errors.Is(e.err, target) }

// headerValue is a slog.LogValuer that renders headers with secrets
// redacted; it is only evaluated when the Debug level is enabled.
type headerValue http.Header

func (h headerValue) LogValue() slog.Value {
	attrs := make([]slog.Attr, 0, len(h))
	for k, vs := range h {
		v := strings.Join(vs, ", ")
		if sensitiveHeaders[http.CanonicalHeaderKey(k)] {
			v = redacted
		} else {
			// Location and the like carry pre-signed URLs.
			v = redactText(v)
		}
		attrs = append(attrs, slog.String(k, v))
	}
	return slog.GroupValue(attrs...)
}

// minRedactedValue is the shortest known credential redactValues replaces:
// a shorter one would match ordinary text by chance.
const minRedactedValue = 6

// redactValues is redactError that also removes the given credentials
// wherever they appear, as they are or percent-encoded: an OAuth token
// endpoint, or a proxy before it, may echo the code, refresh token or
// client secret in free text that no key=value pattern recognises. Like
// redactError, the result matches what err matched (errors.Is) but, when
// something was removed, does not hand out the original.
func redactValues(err error, values ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	out := msg
	for _, v := range values {
		if len(v) < minRedactedValue {
			continue
		}
		out = strings.ReplaceAll(out, v, redacted)
		if e := url.QueryEscape(v); e != v {
			out = strings.ReplaceAll(out, e, redacted)
		}
	}
	if out = redactText(out); out == msg {
		return err
	}
	return &redactedError{msg: out, err: err}
}

// redactURLErrInner is err with the inner error of its *url.Error redacted
// (redactError): besides the URL, which sanitizeTransportErr cleans, a
// transport error can quote one in its cause, such as a malformed Location
// header holding a signed URL. An err without a *url.Error goes through
// redactError whole.
func redactURLErrInner(err error) error {
	ue, ok := errors.AsType[*url.Error](err)
	if !ok {
		return redactError(err)
	}
	if ue.Err != nil {
		if msg := ue.Err.Error(); redactText(msg) != msg {
			return &url.Error{Op: ue.Op, URL: ue.URL, Err: redactError(ue.Err)}
		}
	}
	return err
}

// scrubValues removes the given credentials from err's message, as
// redactValues does, but keeps a *Error a *Error (callers branch on its
// status) by scrubbing its Message and Type in place. For the calls that
// send a credential the API could echo in free text: Activate's webhook
// secret, Deauthorize's access token.
func scrubValues(err error, values ...string) error {
	if e, ok := errors.AsType[*Error](err); ok {
		for _, v := range values {
			if len(v) >= minRedactedValue {
				e.Message = strings.ReplaceAll(e.Message, v, redacted)
				e.Type = strings.ReplaceAll(e.Type, v, redacted)
			}
		}
	}
	return redactValues(err, values...)
}
