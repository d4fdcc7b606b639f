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

// What is redacted, and how, is in redact.go.

// sanitizeTransportErr strips secrets from the URL that *url.Error embeds.
func sanitizeTransportErr(err error) error {
	err = redactURLErrInner(err) // the cause may quote a signed URL too (see redact.go)
	var ue *url.Error
	if errors.As(err, &ue) && ue.URL != "" {
		if s := sanitizeString(ue.URL); s != ue.URL {
			return &url.Error{Op: ue.Op, URL: s, Err: ue.Err}
		}
	}
	return err
}

// logCall writes one record per request, after its last attempt: method, sanitized URL,
// duration, attempts, status or error. Successes log at Debug, client errors at Info,
// server and transport errors at Warn. Nothing secret is logged: URLs go through
// sanitizeURL, headers through headerValue, form bodies through redactForm.
func logCall(ctx context.Context, logger *slog.Logger, req *http.Request, storage bool, out *Response, err error, attempts int, dur time.Duration) {
	if logger == nil {
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
	if !logger.Enabled(ctx, level) {
		return
	}
	attrs := make([]slog.Attr, 0, 10)
	attrs = append(attrs,
		slog.String("method", req.Method),
		slog.String("url", logURL(req, storage)),
		slog.Duration("duration", dur),
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
	if logger.Enabled(ctx, slog.LevelDebug) {
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
	logger.LogAttrs(ctx, level, "clio request", attrs...)
}

// logRetry records one retry decision: which attempt failed, why, and the wait.
func logRetry(ctx context.Context, logger *slog.Logger, req *http.Request, storage bool, attempt int, wait time.Duration, why error) {
	if logger == nil || !logger.Enabled(ctx, slog.LevelInfo) {
		return
	}
	reason := ""
	if why != nil {
		reason = sanitizeTransportErr(why).Error()
	}
	logger.LogAttrs(ctx, slog.LevelInfo, "clio retry",
		slog.String("method", req.Method), slog.String("url", logURL(req, storage)),
		slog.Int("attempt", attempt), slog.Duration("wait", wait), slog.String("reason", reason))
}

// logURL is the request's URL as logs show it: sanitized, and for a storage host without
// its query (a signed URL is a credential).
func logURL(req *http.Request, storage bool) string {
	if storage {
		u := *req.URL
		u.RawQuery, u.User = "", nil
		return u.String()
	}
	return sanitizeURL(req.URL)
}
