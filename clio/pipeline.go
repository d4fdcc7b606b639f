package clio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// The pipeline. Every request the Client makes goes through send: API calls, list pages,
// the API calls of uploads and their storage PUTs, downloads and custom-action
// confirmations. One loop runs the attempts of a request, in this order:
//
//	rate limiter (API only) → headers and token (API only) → one attempt, with its
//	header and stall timeouts → 401: refresh the token once → the answer: decoded,
//	or turned into an error → the Retryer's decision → back-off → next attempt
//
// The call's settings arrive as an argument; nothing travels in the context, and nothing
// calls back into the caller but decode.

// destination is where a request goes, which decides what the pipeline adds to it.
type destination uint8

const (
	toAPI     destination = iota // the API origin: token, X-API-VERSION, rate limiter, 401 refresh
	toStorage                    // a storage host: no token, no limiter, no private addresses
)

// exchange is one request as the pipeline runs it.
type exchange struct {
	req *http.Request // a body must be replayable (GetBody); its context is not used: send is given the call's
	s   settings      // the call's options (a copy: shared settings are never written)
	to  destination
	// stream hands a 2xx answer back unread (downloads); redirect also hands back a 3xx,
	// for the caller to follow (a download's 303 to storage); raw hands back every answer
	// as it is (HTTPClient). Otherwise a 3xx is an error: API calls never follow one.
	stream, redirect, raw bool
}

// decodeFunc reads a 2xx answer's body with the Client's codec. A read error (the
// connection dropped, the answer was cut) makes the attempt fail like a dropped connection.
type decodeFunc[R any] func(codec Codec, body io.Reader, r *Response) (R, error)

// pipeline is what the attempt loop needs of a Client: where requests go, the credential,
// the policies and the limits. A Client embeds one.
type pipeline struct {
	origin      origin            // the API origin: token, limiter and 401 refresh apply there only
	rt          http.RoundTripper // the base transport with the caller's middlewares
	codec       Codec
	retryer     Retryer
	limiter     *RateLimiter
	ts          oauth2.TokenSource
	refreshable bool
	apiVersion  []string // fixedValue: X-API-VERSION
	userAgent   []string // fixedValue: User-Agent
	logger      *slog.Logger

	timeout time.Duration // the caller's http.Client.Timeout: a whole call
	clock   *clock        // the attempts' timeouts; nil when all are off
	// headerInTransport: the base transport enforces the header timeout itself
	// (ResponseHeaderTimeout on a clone of an *http.Transport), not the clock.
	headerInTransport bool
	maxAnswer         int64
	privateStorage    bool

	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
}

// send runs the attempts of x and returns what decode made of the answer.
func send[R any](ctx context.Context, c *pipeline, x exchange, decode decodeFunc[R]) (R, *Response, error) {
	var zero R
	if c.timeout > 0 && !x.stream && !x.raw {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	req := x.req
	if x.to == toStorage {
		if err := checkStorageURL(ctx, req.URL, c.privateStorage); err != nil {
			return zero, nil, err
		}
	}
	inPlace := !x.stream && !x.raw // headers go on req itself; the token comes off before return
	if inPlace && x.to == toAPI {
		defer req.Header.Del("Authorization")
	}
	idempotent := isIdempotent(req.Method) || x.s.retryUnsafe
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	start := c.now()
	counted, sent, waits := 1, 0, 0 // counted: the attempt's number for the Retryer (waited-out 429s excluded)
	refreshed := false
	var out *Response // the answer of the latest attempt
	logged := func(err error) {
		if c.logger != nil { // checked here too: the duration costs a clock read
			logCall(ctx, c.logger, x.req, x.to == toStorage, out, err, sent, c.now().Sub(start))
		}
	}
	for {
		sent++
		if x.to == toAPI && c.limiter != nil {
			if err := c.limiter.Wait(ctx); err != nil {
				return zero, nil, c.giveUp(ctx, x, nil, err, sent-1, start)
			}
		}
		r, tok, err := c.outgoing(x, inPlace, sent)
		if err != nil {
			return zero, nil, err
		}
		resp, err := c.attempt(ctx, r) //nolint:bodyclose // drained and closed on every path below, or handed to the caller (stream, raw)
		out = nil
		var answerErr error // the server's non-2xx answer as an error
		if err == nil {
			rl, rlOK := parseRateLimit(resp.Header) // once, for the limiter and the Response
			if x.to == toAPI {
				resp.Request = req // without the token (in place: removed before return)
				normalizeRateLimit(resp)
				if c.limiter != nil {
					c.limiter.observe(resp.StatusCode, resp.Header, rl, rlOK)
				}
				if resp.StatusCode == http.StatusUnauthorized && c.refreshable && !refreshed && replayable {
					again, rerr := refreshToken(c.ts, tok)
					if rerr != nil {
						drainClose(resp.Body)
						return zero, nil, c.giveUp(ctx, x, nil, fmt.Errorf("%w: Clio rejected the token and refreshing it failed: %w", ErrUnauthorized, rerr), sent, start)
					}
					if again {
						refreshed = true
						drainClose(resp.Body)
						continue
					}
				}
			}
			out = newResponse(resp, rl)
			status := resp.StatusCode
			switch {
			case x.raw && status < 400, x.stream && (status/100 == 2 || x.redirect && isRedirect(status)):
				logged(nil)
				return zero, out, nil
			case status/100 == 2 || status == http.StatusNotModified:
				if status == http.StatusNotModified || status == http.StatusNoContent || decode == nil {
					drainClose(resp.Body)
					logged(nil)
					return zero, out, nil
				}
				body := answerReader{r: resp.Body, left: c.maxAnswer}
				v, derr := decode(c.codec, &body, out)
				if body.eof {
					resp.Body.Close() // read to its end: nothing to drain
				} else {
					drainClose(resp.Body)
				}
				switch {
				case derr == nil:
					logged(nil)
					return v, out, nil
				case body.tooLarge:
					err = &AnswerTooLargeError{Method: req.Method, URL: sanitizeURL(req.URL), Limit: c.maxAnswer}
					logged(err)
					return zero, out, err
				case body.err != nil:
					err = fmt.Errorf("clio: reading answer of %s %s: %w", req.Method, sanitizeURL(req.URL), body.err)
				case isTruncated(derr):
					// HTTP itself was fine, the JSON was not: a cut answer, retried like one.
					err = fmt.Errorf("clio: answer of %s %s ends early: %w: %w", req.Method, sanitizeURL(req.URL), io.ErrUnexpectedEOF, derr)
				default:
					err = fmt.Errorf("clio: decoding answer of %s %s: %w", req.Method, sanitizeURL(req.URL), derr)
					logged(err)
					return zero, out, err
				}
				resp = nil
			default:
				answerErr = c.answerError(resp, x)
			}
		}
		rateLimited := resp != nil && resp.StatusCode == http.StatusTooManyRequests
		a := Attempt{Request: r, Response: resp, Err: err, Number: counted, RateLimited: waits, Elapsed: c.now().Sub(start), Idempotent: idempotent}
		a.APIError, _ = errors.AsType[*Error](answerErr)
		final := err
		if final == nil {
			final = answerErr
		}
		delay, again := c.retryer.RetryDelay(a)
		if again && ctx.Err() == nil && replayable {
			if dl, ok := ctx.Deadline(); ok && c.now().Add(delay).After(dl) {
				again = false // sleeping would outlive the caller: report now
			}
		} else {
			again = false
		}
		if !again {
			if x.raw && err == nil {
				logged(nil)
				return zero, out, nil // the answer as it is; its error body was put back
			}
			return zero, out, c.giveUp(ctx, x, out, final, sent, start)
		}
		logRetry(ctx, c.logger, x.req, x.to == toStorage, sent, delay, final)
		if resp != nil {
			drainClose(resp.Body)
		}
		if !rateLimited || x.to != toAPI || c.limiter == nil {
			// A 429 on the API is waited out in the limiter, which holds every caller of the
			// token until the window resets and lets them go staggered.
			if err := c.sleep(ctx, delay); err != nil {
				return zero, out, c.giveUp(ctx, x, out, errors.Join(final, err), sent, start)
			}
		}
		if rateLimited {
			waits++ // a rate limit honoured is not a failure
		} else {
			counted++
		}
	}
}

// outgoing returns the request for attempt n: headers set, body replayed. In place, the
// caller's request itself is used (it was built for this call); otherwise a clone, so the
// request handed back with the answer never holds the token.
func (c *pipeline) outgoing(x exchange, inPlace bool, n int) (*http.Request, string, error) {
	r := x.req
	if !inPlace {
		r = r.Clone(r.Context())
	}
	if n > 1 && x.req.GetBody != nil {
		body, err := x.req.GetBody()
		if err != nil {
			return nil, "", fmt.Errorf("clio: replaying request body: %w", err)
		}
		r.Body = body
	}
	if x.to == toStorage {
		r.Header.Del("Authorization") // storage is not Clio: whatever the caller set, no token leaves
		return r, "", nil
	}
	tok, err := c.ts.Token()
	if err != nil {
		return nil, "", fmt.Errorf("clio: obtaining access token: %w", err)
	}
	setHeaders(r.Header, &x.s, tok.AccessToken, c.apiVersion, c.userAgent)
	return r, tok.AccessToken, nil
}

// attempt sends r once, on ctx and the Client's clock (timeouts.go): the attempt ends when the
// headers do not arrive within the header timeout, when the body stalls longer than the
// stall timeout, or (WithAttemptTimeout) when the whole attempt takes too long. The
// caller's context is left alone, so the attempt can be retried.
func (c *pipeline) attempt(ctx context.Context, r *http.Request) (*http.Response, error) {
	var w *watch
	if c.clock != nil {
		r, w = c.clock.start(ctx, r)
	} else {
		r = onContext(r, ctx)
	}
	resp, err := c.rt.RoundTrip(r)
	switch {
	case err == nil:
		if w != nil {
			resp.Body = c.clock.headersIn(w, resp.Body)
		}
		return resp, nil
	case c.headerInTransport && ctx.Err() == nil && isHeaderTimeout(err):
		err = fmt.Errorf("%w: %w", errHeaderTimeout, err)
	case w != nil:
		err = w.failed(err)
	}
	if w != nil {
		c.clock.end(w)
	}
	return nil, err
}

// isHeaderTimeout recognises net/http's ResponseHeaderTimeout error.
func isHeaderTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() && strings.Contains(err.Error(), "awaiting response headers")
}

// answerReader bounds an answer (WithMaxAnswerSize) and remembers read errors, so a decode
// failure caused by a dropped connection (retryable) can be told apart from a malformed
// answer (not retryable), whatever the Codec.
type answerReader struct {
	r        io.Reader
	left     int64
	err      error
	tooLarge bool
	eof      bool
}

func (b *answerReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		b.tooLarge = true
		return 0, errAnswerTooLarge
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	if err == io.EOF { //nolint:errorlint // io.EOF is returned bare by readers
		b.eof = true
	} else if err != nil {
		b.err = err
	}
	if b.left <= 0 && err == nil {
		// Exactly at the limit: the answer is too large unless it ends here.
		var one [1]byte
		if m, _ := b.r.Read(one[:]); m > 0 {
			b.tooLarge = true
			return n, errAnswerTooLarge
		}
	}
	return n, err
}

var errAnswerTooLarge = errors.New("clio: answer larger than the limit")

// giveUp is the last word on a request: the final error says how many attempts were made,
// and the call is logged.
func (c *pipeline) giveUp(ctx context.Context, x exchange, out *Response, err error, attempts int, start time.Time) error {
	// Answers (*Error, *StorageError) were redacted when they were read and stay matchable
	// with errors.As; transport errors may quote a URL or a signed one.
	_, isAnswer := errors.AsType[*Error](err)
	if _, ok := errors.AsType[*StorageError](err); ok {
		isAnswer = true
	}
	switch {
	case isAnswer:
	case x.to == toStorage:
		err = redactError(stripURLErr(err))
	default:
		err = sanitizeTransportErr(err)
	}
	if attempts > 1 {
		if e, ok := errors.AsType[*Error](err); ok {
			e.Attempts = attempts
		} else if se, ok := errors.AsType[*StorageError](err); ok {
			se.Attempts = attempts
		} else {
			err = fmt.Errorf("clio: %s %s: giving up after %d attempts: %w", x.req.Method, x.hostOrURL(), attempts, err)
		}
	}
	logCall(ctx, c.logger, x.req, x.to == toStorage, out, err, attempts, c.now().Sub(start))
	return err
}

// hostOrURL names the request in an error: the API URL (sanitized) or, for storage, only the
// host, since a signed URL is a credential.
func (x exchange) hostOrURL() string {
	if x.to == toStorage {
		return x.req.URL.Host
	}
	return sanitizeURL(x.req.URL)
}

// answerError turns a non-2xx answer into the error of its destination.
func (c *pipeline) answerError(resp *http.Response, x exchange) error {
	if x.to == toStorage {
		return storageError(resp)
	}
	return checkResponse(resp, c.codec)
}
