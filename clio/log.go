package clio

import (
	"bytes"
	"context"
	"errors"
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

// sanitizeTransportErr strips secrets from the URL that *url.Error embeds.
func sanitizeTransportErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.URL != "" {
		if s := sanitizeString(ue.URL); s != ue.URL {
			return &url.Error{Op: ue.Op, URL: s, Err: ue.Err}
		}
	}
	return err
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

// logCall writes one record per request, after its last attempt: method, sanitized URL,
// duration, attempts, status or error. Successes log at Debug, client errors at Info,
// server and transport errors at Warn. Nothing secret is logged: URLs go through
// sanitizeURL, headers through headerValue, form bodies through redactForm.
func (c *Client) logCall(ctx context.Context, x exchange, out *Response, err error, attempts int, start time.Time) {
	if c.logger == nil {
		return
	}
	level := slog.LevelDebug
	switch {
	case out == nil && err != nil:
		level = slog.LevelWarn
	case out != nil && (out.StatusCode >= 500 || out.StatusCode == http.StatusTooManyRequests):
		level = slog.LevelWarn
	case out != nil && out.StatusCode >= 400:
		level = slog.LevelInfo
	case err != nil:
		level = slog.LevelWarn
	}
	if !c.logger.Enabled(ctx, level) {
		return
	}
	req := x.req
	attrs := make([]slog.Attr, 0, 10)
	attrs = append(attrs,
		slog.String("method", req.Method),
		slog.String("url", x.logURL()),
		slog.Duration("duration", c.now().Sub(start)),
		slog.Int("attempts", max(attempts, 1)),
	)
	if out != nil {
		attrs = append(attrs, slog.Int("status", out.StatusCode))
		if out.RequestID != "" {
			attrs = append(attrs, slog.String("request_id", out.RequestID))
		}
		if out.APIVersion != "" {
			attrs = append(attrs, slog.String("api_version", out.APIVersion))
		}
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", sanitizeTransportErr(err).Error()))
	}
	if c.logger.Enabled(ctx, slog.LevelDebug) {
		h := req.Header
		if h.Get("Authorization") != "" {
			h = h.Clone()
			h.Del("Authorization")
		}
		attrs = append(attrs, slog.Any("request_headers", headerValue(h)))
		if strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") && req.GetBody != nil {
			if body, gerr := req.GetBody(); gerr == nil {
				data, _ := io.ReadAll(io.LimitReader(body, 64<<10))
				body.Close()
				attrs = append(attrs, slog.String("form", redactForm(string(bytes.TrimSpace(data)))))
			}
		}
		if out != nil {
			attrs = append(attrs, slog.Any("response_headers", headerValue(out.Header)))
		}
	}
	c.logger.LogAttrs(ctx, level, "clio request", attrs...)
}

// logRetry records one retry decision: which attempt failed, why, and the wait.
func (c *Client) logRetry(ctx context.Context, x exchange, attempt int, wait time.Duration, why error) {
	if c.logger == nil || !c.logger.Enabled(ctx, slog.LevelInfo) {
		return
	}
	reason := ""
	if why != nil {
		reason = sanitizeTransportErr(why).Error()
	}
	c.logger.LogAttrs(ctx, slog.LevelInfo, "clio retry",
		slog.String("method", x.req.Method), slog.String("url", x.logURL()),
		slog.Int("attempt", attempt), slog.Duration("wait", wait), slog.String("reason", reason))
}

// logURL is the request's URL as logs show it: sanitized, and for a storage host without
// its query (a signed URL is a credential).
func (x exchange) logURL() string {
	if x.to == toStorage {
		u := *x.req.URL
		u.RawQuery, u.User = "", nil
		return u.String()
	}
	return sanitizeURL(x.req.URL)
}
