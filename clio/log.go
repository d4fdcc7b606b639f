package clio

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const redacted = "REDACTED"

// sensitiveParams are query or form keys whose values never reach a log
// line or an error message: OAuth secrets, the custom-action nonce, and the
// signature parts of pre-signed storage URLs (S3, GCS, Azure).
var sensitiveParams = map[string]bool{
	"access_token":         true,
	"refresh_token":        true,
	"client_secret":        true,
	"code":                 true,
	"token":                true,
	"custom_action_nonce":  true,
	"x-amz-signature":      true,
	"x-amz-credential":     true,
	"x-amz-security-token": true,
	"x-goog-signature":     true,
	"x-goog-credential":    true,
	"signature":            true,
	"sig":                  true,
	"googleaccessid":       true,
	"awsaccesskeyid":       true,
}

// sensitiveHeaders are request or response headers whose values are
// replaced by REDACTED in logs.
var sensitiveHeaders = map[string]bool{
	"Authorization":        true,
	"Proxy-Authorization":  true,
	"Cookie":               true,
	"Set-Cookie":           true,
	"X-Hook-Secret":        true,
	"X-Hook-Signature":     true,
	"X-Amz-Security-Token": true,
	"X-Api-Key":            true,
}

// sanitizeURL renders u with the values of sensitive query parameters and
// any userinfo password replaced, so URLs can be logged and put in errors.
func sanitizeURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	if u.User == nil && u.RawQuery == "" {
		return u.String()
	}
	c := *u
	if _, has := c.User.Password(); has {
		c.User = url.UserPassword(c.User.Username(), redacted)
	}
	if c.RawQuery != "" && hasSensitiveParam(c.RawQuery) {
		q := c.Query()
		for k, vs := range q {
			if sensitiveParams[strings.ToLower(k)] {
				for i := range vs {
					vs[i] = redacted
				}
			}
		}
		c.RawQuery = q.Encode()
	}
	return c.String()
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

// headerValue is a slog.LogValuer that renders headers with secrets
// redacted; it is only evaluated when the Debug level is enabled.
type headerValue http.Header

func (h headerValue) LogValue() slog.Value {
	attrs := make([]slog.Attr, 0, len(h))
	for k, vs := range h {
		v := strings.Join(vs, ", ")
		if sensitiveHeaders[http.CanonicalHeaderKey(k)] {
			v = redacted
		}
		attrs = append(attrs, slog.String(k, v))
	}
	return slog.GroupValue(attrs...)
}

// attemptInfo travels in the request context from the logging layer to
// the retry layer, which counts attempts into it.
type attemptInfo struct{ n int }

type attemptKey struct{}

func attemptsFrom(ctx context.Context) *attemptInfo {
	a, _ := ctx.Value(attemptKey{}).(*attemptInfo)
	return a
}

// logTransport is the outermost layer: one log record per logical request
// (after all retries), with the attempt count, duration and status.
// Successes log at Debug, client errors at Info, server and transport
// errors at Warn. Nothing secret is logged: URLs go through sanitizeURL,
// headers through headerValue, form bodies through redactForm.
type logTransport struct {
	next   http.RoundTripper
	logger *slog.Logger
	now    func() time.Time
}

func (t *logTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if !t.logger.Enabled(ctx, slog.LevelWarn) {
		return t.next.RoundTrip(req)
	}
	info := &attemptInfo{}
	req = req.WithContext(context.WithValue(ctx, attemptKey{}, info))
	start := t.now()
	resp, err := t.next.RoundTrip(req)
	dur := t.now().Sub(start)

	level := slog.LevelDebug
	switch {
	case err != nil:
		level = slog.LevelWarn
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		level = slog.LevelWarn
	case resp.StatusCode >= 400:
		level = slog.LevelInfo
	}
	if !t.logger.Enabled(ctx, level) {
		return resp, err
	}
	attrs := make([]slog.Attr, 0, 10)
	attrs = append(attrs,
		slog.String("method", req.Method),
		slog.String("url", sanitizeURL(req.URL)),
		slog.Duration("duration", dur),
		slog.Int("attempts", max(info.n, 1)),
	)
	if err != nil {
		attrs = append(attrs, slog.String("error", sanitizeTransportErr(err).Error()))
	} else {
		attrs = append(attrs, slog.Int("status", resp.StatusCode))
		if id := requestID(resp.Header); id != "" {
			attrs = append(attrs, slog.String("request_id", id))
		}
		if v := resp.Header.Get("X-Api-Version"); v != "" {
			attrs = append(attrs, slog.String("api_version", v))
		}
	}
	if t.logger.Enabled(ctx, slog.LevelDebug) {
		attrs = append(attrs, slog.Any("request_headers", headerValue(req.Header)))
		if strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") && req.GetBody != nil {
			if body, gerr := req.GetBody(); gerr == nil {
				data, _ := io.ReadAll(io.LimitReader(body, 64<<10))
				body.Close()
				attrs = append(attrs, slog.String("form", redactForm(string(bytes.TrimSpace(data)))))
			}
		}
		if resp != nil {
			attrs = append(attrs, slog.Any("response_headers", headerValue(resp.Header)))
		}
	}
	t.logger.LogAttrs(ctx, level, "clio request", attrs...)
	return resp, err
}
