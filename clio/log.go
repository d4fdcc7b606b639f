package clio

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// What is redacted, and how, is in redact.go.

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
