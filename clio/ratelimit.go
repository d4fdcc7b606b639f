package clio

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// rateWindow is Clio's rate-limit window.
const rateWindow = 60 * time.Second

// RateLimiter paces requests made with one access token so that a bulk job
// stays just under Clio's per-token limit instead of bouncing off 429s.
// It follows the X-RateLimit-Limit / -Remaining / -Reset headers of every
// answer rather than a constant (Clio's limits differ between peak and
// off-peak hours and may change): requests flow freely while more than a
// fifth of the budget is left, then the rest is spread evenly over the
// rest of the window, and when it is exhausted (or a 429 arrives) every
// goroutine waits for the window to reset.
//
// Until the first answer arrives nothing is known, so the first requests
// are not delayed. A RateLimiter is safe for concurrent use; Clients built
// with the same credential share one (see WithRateLimiter).
type RateLimiter struct {
	mu           sync.Mutex
	lim          *rate.Limiter
	blockedUntil time.Time
	blockSpan    time.Duration // length of the current block, for the stagger
	reserve      int           // requests kept in hand for other in-flight calls
	last         RateLimit
	limited      int64         // 429 answers seen
	announced    time.Duration // the waits they announced
	now          func() time.Time
}

// RateLimit is Clio's view of the budget, from the X-RateLimit-* headers.
type RateLimit struct {
	Limit     int       // requests per window
	Remaining int       // left in the current window
	Reset     time.Time // when the window resets; zero if unknown
}

// NewRateLimiter returns a limiter with no budget known yet.
func NewRateLimiter() *RateLimiter {
	return &RateLimiter{lim: rate.NewLimiter(rate.Inf, 1), reserve: 1, now: time.Now}
}

// Last returns the most recent budget reported by Clio.
func (l *RateLimiter) Last() RateLimit {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

// Wait blocks until a request may be sent. It fails at once, without
// sleeping, when the wait would outlast ctx's deadline.
//
// Callers held by a 429 share one wait, until the window resets, and then
// leave staggered over a tenth of that wait (at most a second), so that the
// workers of a bulk job do not hit the next window together.
func (l *RateLimiter) Wait(ctx context.Context) error {
	// Loop: a 429 seen by another goroutine while this one slept may have pushed the
	// block further out.
	for {
		l.mu.Lock()
		until, span := l.blockedUntil, l.blockSpan
		l.mu.Unlock()
		d := time.Duration(0)
		if !until.IsZero() {
			d = until.Sub(l.now())
		}
		if d <= 0 {
			if !until.IsZero() {
				l.mu.Lock()
				if l.blockedUntil.Equal(until) {
					l.blockedUntil = time.Time{} // over: the next Wait need not read the clock
				}
				l.mu.Unlock()
			}
			if l.lim.Limit() == rate.Inf {
				return ctx.Err() // unpaced: no reservation to make
			}
			return l.lim.Wait(ctx)
		}
		if s := min(span/10, time.Second); s > 0 {
			d += rand.N(s)
		}
		if dl, ok := ctx.Deadline(); ok && l.now().Add(d).After(dl) {
			return fmt.Errorf("%w: rate-limit window resets in %s, after the context deadline", ErrRateLimited, d.Round(time.Millisecond))
		}
		if err := sleepCtx(ctx, d); err != nil {
			return err
		}
	}
}

// Limited returns how many 429 answers the limiter has seen since it was made (Clio's
// atypical rate-limit answer included) and the waits they announced (Retry-After or
// X-RateLimit-Reset, at most five windows each; Clio's 60-second window when they name
// none): what a long job reports as time spent rate limited. Clients sharing the limiter
// share the figures.
func (l *RateLimiter) Limited() (answers int64, announced time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.limited, l.announced
}

// Observe feeds the limiter with an answer's headers. A 429 blocks all
// callers until Retry-After / X-RateLimit-Reset.
func (l *RateLimiter) Observe(status int, h http.Header) {
	rl, ok := parseRateLimit(h)
	l.observe(status, h, rl, ok)
}

// observe is Observe with the budget already read from h (ok when h carried one), so the
// pipeline parses each answer's headers once for the limiter and the Response.
func (l *RateLimiter) observe(status int, h http.Header, rl RateLimit, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if status == http.StatusTooManyRequests {
		now := l.now()
		d, found := retryAfter(h, now)
		if !found {
			d = rateWindow
		}
		l.block(now.Add(d))
		l.limited++
		l.announced += min(d, maxBlock) // as block clamps it: an absurd header must not overflow the sum
	}
	if !ok {
		return
	}
	l.last = rl
	spend := rl.Remaining - l.reserve
	// While more than a fifth of the window's budget is left, requests go out unpaced: a
	// short script is never slowed down. It is the common answer, so it reads no clock.
	// Below that, what is left is spread over the rest of the window, so a bulk job
	// glides to the reset instead of hitting 429.
	if spend > 0 && rl.Remaining > rl.Limit/5+l.reserve {
		if l.lim.Limit() != rate.Inf {
			l.lim.SetLimitAt(l.now(), rate.Inf)
		}
		return
	}
	now := l.now()
	left := time.Duration(0)
	if !rl.Reset.IsZero() {
		left = rl.Reset.Sub(now)
	}
	// Clamp against clock skew between us and Clio.
	if left <= 0 || left > rateWindow {
		left = rateWindow
	}
	if spend <= 0 {
		l.block(now.Add(left))
		// After the reset, pace at the nominal rate until fresh headers
		// say otherwise.
		l.lim.SetLimitAt(now, rate.Limit(float64(max(rl.Limit, 1))/rateWindow.Seconds()))
		l.lim.SetBurstAt(now, 1)
		return
	}
	l.lim.SetLimitAt(now, rate.Limit(float64(spend)/left.Seconds()))
	l.lim.SetBurstAt(now, 1)
}

// maxBlock bounds how long one answer can stop every caller: Clio's window is a minute, so a
// Retry-After of hours is a broken header, not a reason to hang a bulk job.
const maxBlock = 5 * rateWindow

func (l *RateLimiter) block(until time.Time) {
	if limit := l.now().Add(maxBlock); until.After(limit) {
		until = limit
	}
	if until.After(l.blockedUntil) {
		l.blockedUntil = until
		l.blockSpan = until.Sub(l.now())
	}
}

func parseRateLimit(h http.Header) (RateLimit, bool) {
	lim, err1 := strconv.Atoi(getHeader(h, hdrRateLimitLimit))
	rem, err2 := strconv.Atoi(getHeader(h, hdrRateLimitLeft))
	if err1 != nil || err2 != nil {
		return RateLimit{}, false
	}
	rl := RateLimit{Limit: lim, Remaining: rem}
	// Parsed only when present: a failed parse allocates an error on every answer.
	if v := getHeader(h, hdrRateLimitReset); v != "" {
		if reset, err := strconv.ParseInt(v, 10, 64); err == nil && reset > 0 {
			rl.Reset = time.Unix(reset, 0)
		}
	}
	return rl, true
}

// normalizeRateLimit turns Clio's atypical rate-limit answer (a base64
// text containing "RateLimited", not a JSON 429) into a 429, so the retry
// policy, the limiter and CheckResponse all treat it as one. Only error
// statuses and small non-JSON answers are inspected; the body is put back.
func normalizeRateLimit(resp *http.Response) {
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusNotModified || resp.StatusCode == http.StatusNoContent || resp.Body == nil {
		return
	}
	limit := int64(8<<10 + 1)
	if resp.StatusCode < 400 {
		// A success is only suspicious when it is small and not JSON;
		// every regular Clio answer is application/json.
		// Media types are case-insensitive; a JSON one is the common case, so it is
		// recognised before paying for a full parse.
		ct := strings.ToLower(getHeader(resp.Header, hdrContentType))
		if !strings.Contains(ct, "json") {
			ct, _, _ = mime.ParseMediaType(ct)
		}
		if strings.Contains(ct, "json") || resp.ContentLength <= 0 || resp.ContentLength > 1024 ||
			resp.Request != nil && resp.Request.Method == http.MethodHead {
			return
		}
		limit = resp.ContentLength
	}
	head := make([]byte, limit)
	n, err := io.ReadFull(resp.Body, head)
	head = head[:n]
	rest := resp.Body
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), rest), rest}
	if (err == nil || err == io.ErrUnexpectedEOF || err == io.EOF) && int64(n) < int64(8<<10+1) && isRateLimitBody(head) {
		resp.StatusCode = http.StatusTooManyRequests
		resp.Status = "429 Too Many Requests (atypical rate-limit body)"
	}
}

// isRateLimitBody recognises the atypical rate-limit answer Clio has been
// seen to send: a base64-encoded text containing "RateLimited" (or the
// plain text itself), instead of a JSON 429.
func isRateLimitBody(data []byte) bool {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || len(data) > 8<<10 {
		return false
	}
	if bytes.Contains(data, []byte("RateLimited")) {
		return true
	}
	if data[0] == '{' || data[0] == '[' || data[0] == '<' {
		return false
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		dec, err := enc.DecodeString(string(data))
		if err == nil && bytes.Contains(dec, []byte("RateLimited")) {
			return true
		}
	}
	return false
}

// retryAfter reads how long the server asks us to wait: Retry-After in
// seconds or as an HTTP date, else X-RateLimit-Reset (Unix seconds).
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if secs, err := strconv.ParseFloat(v, 64); err == nil && secs >= 0 {
			if secs >= float64(math.MaxInt64/int64(time.Second)) { // also +Inf
				return time.Duration(math.MaxInt64), true // converting would wrap negative
			}
			return time.Duration(secs * float64(time.Second)), true
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(t.Sub(now), 0), true
		}
	}
	if v := strings.TrimSpace(h.Get("X-Ratelimit-Reset")); v != "" {
		if unix, err := strconv.ParseInt(v, 10, 64); err == nil && unix > 0 {
			return max(time.Unix(unix, 0).Sub(now), 0), true
		}
	}
	return 0, false
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
