package cliotest

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// applyFaultBefore acts on a fault before the request is processed; it reports whether
// the request is finished.
func (s *Server) applyFaultBefore(w http.ResponseWriter, r *http.Request, f *Fault) bool {
	switch f.Kind {
	case FaultStatus:
		st := f.Status
		if st == 0 {
			st = http.StatusServiceUnavailable
		}
		writeRaw(w, errResp(st, "ServiceUnavailable", "injected fault: "+http.StatusText(st)))
		return true
	case FaultRateLimit:
		writeRaw(w, injectedRateLimit(f))
		return true
	case FaultDrop:
		if !f.AfterProcessing {
			dropConn(w)
			return true
		}
	case FaultDelay:
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
			return true
		}
	case FaultBody:
		res := emptyResp(orDefault(f.Status, http.StatusOK))
		res.header.Set("Content-Type", "application/json; charset=utf-8")
		res.body = f.Body
		writeRaw(w, res)
		return true
	case FaultEmptyPage:
		writeRaw(w, s.emptyPage(r))
		return true
	case FaultRedirect:
		loc := f.Location
		if loc == "" {
			loc = "http://redirected.invalid" + r.URL.RequestURI()
		}
		res := emptyResp(orDefault(f.Status, http.StatusSeeOther))
		res.header.Set("Location", loc)
		writeRaw(w, res)
		return true
	}
	return false
}

func orDefault(v, fallback int) int {
	if v == 0 {
		return fallback
	}
	return v
}

func injectedRateLimit(f *Fault) *resp {
	ra := f.RetryAfter
	if ra == 0 {
		ra = time.Second
	}
	res := rateLimited(ra)
	if ra < 0 {
		// Clio never announces 0, but tests that read thousands of records through
		// storms should not sleep.
		res = errResp(http.StatusTooManyRequests, "RateLimited", "Rate limit exceeded. Retry in 0 seconds.")
		res.header.Set("Retry-After", "0")
	}
	if f.OddBody {
		res.header.Set("Content-Type", "text/plain")
		res.body = []byte(base64.StdEncoding.EncodeToString([]byte("RateLimited: too many requests, retry in " + res.header.Get("Retry-After") + " seconds")))
	}
	return res
}

// emptyPage is a list page without records whose next link leads to another one.
func (s *Server) emptyPage(r *http.Request) *resp {
	s.mu.Lock()
	s.emptyPages++
	n := s.emptyPages
	s.mu.Unlock()
	q := r.URL.Query()
	q.Del("offset")
	q.Set("page_token", "empty-"+strconv.Itoa(n))
	base := s.cfg.nextURLBase
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	next := (&url.URL{Path: r.URL.Path, RawQuery: q.Encode()}).String()
	return jsonResp(http.StatusOK, map[string]any{"data": []any{}, "meta": map[string]any{"paging": map[string]any{"next": base + next}, "records": 0}})
}

func dropConn(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

func writeRaw(w http.ResponseWriter, res *resp) {
	for k, v := range res.header {
		w.Header()[k] = v
	}
	if len(res.body) > 0 || res.status >= 200 && res.status != http.StatusNoContent && res.status != http.StatusNotModified {
		w.Header().Set("Content-Length", strconv.Itoa(len(res.body)))
	}
	w.WriteHeader(res.status)
	_, _ = w.Write(res.body)
}

// writeResp writes an answer, applying the faults that act after processing.
func (s *Server) writeResp(w http.ResponseWriter, r *http.Request, res *resp, f *Fault) {
	if f != nil {
		switch {
		case f.Kind == FaultDrop && f.AfterProcessing:
			dropConn(w)
			return
		case f.Kind == FaultTruncate:
			for k, v := range res.header {
				w.Header()[k] = v
			}
			full := len(res.body)
			if full == 0 {
				full = 64
			}
			w.Header().Set("Content-Length", strconv.Itoa(full))
			w.WriteHeader(res.status)
			_, _ = w.Write(res.body[:len(res.body)/2])
			if fl, ok := w.(http.Flusher); ok {
				fl.Flush()
			}
			panic(http.ErrAbortHandler)
		case f.Kind == FaultTruncatedJSON:
			res = truncatedJSON(res)
		}
	}
	if r.Method == http.MethodHead {
		res.body = nil
	}
	writeRaw(w, res)
}

// truncatedJSON keeps the answer's status and headers and cuts its JSON in half; an
// answer without a body (204, 304) becomes a 200 with the start of an envelope, so the
// client still gets JSON it cannot decode.
func truncatedJSON(res *resp) *resp {
	out := &resp{status: res.status, header: res.header.Clone(), body: res.body[:len(res.body)/2]}
	if len(out.body) == 0 {
		out.body = []byte(`{"data":`)
		if out.status == http.StatusNoContent || out.status == http.StatusNotModified {
			out.status = http.StatusOK
		}
	}
	out.header.Set("Content-Type", "application/json; charset=utf-8")
	return out
}
