package cliotest

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

//go:embed testdata/mini.yaml
var miniDoc []byte

// fixture is a server plus a token and a client that does not follow redirects.
type fixture struct {
	t   testing.TB
	s   *Server
	tok string
	c   *http.Client
}

func newFixture(t testing.TB, opts ...Option) *fixture {
	t.Helper()
	s := NewServer(append([]Option{WithT(t), WithRateLimit(0, 0)}, opts...)...)
	c := s.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &fixture{t: t, s: s, tok: s.IssueToken().AccessToken, c: c}
}

func mini(t testing.TB, opts ...Option) *fixture {
	t.Helper()
	return newFixture(t, append([]Option{WithDocument(miniDoc)}, opts...)...)
}

type answer struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

func (a answer) data() map[string]any {
	d, _ := a.body["data"].(map[string]any)
	return d
}

func (a answer) list() []any {
	d, _ := a.body["data"].([]any)
	return d
}

func (a answer) errType() string {
	e, _ := a.body["error"].(map[string]any)
	s, _ := e["type"].(string)
	return s
}

// do sends a request; target is a path on the server or a full URL; hdr holds name, value pairs.
func (f *fixture) do(method, target string, body any, hdr ...string) answer {
	f.t.Helper()
	var rd io.Reader
	if body != nil {
		switch b := body.(type) {
		case []byte:
			rd = bytes.NewReader(b)
		case string:
			rd = strings.NewReader(b)
		default:
			j, _ := json.Marshal(body)
			rd = bytes.NewReader(j)
		}
	}
	if !strings.HasPrefix(target, "http") {
		target = f.s.URL + target
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		f.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if f.tok != "" {
		req.Header.Set("Authorization", "Bearer "+f.tok)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := f.c.Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", method, target, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		f.t.Fatalf("%s %s: read: %v", method, target, err)
	}
	a := answer{status: res.StatusCode, header: res.Header, raw: raw}
	_ = json.Unmarshal(raw, &a.body)
	return a
}

// must sends a request and fails the test unless the status is want.
func (f *fixture) must(want int, method, target string, body any, hdr ...string) answer {
	f.t.Helper()
	a := f.do(method, target, body, hdr...)
	if a.status != want {
		f.t.Fatalf("%s %s: status %d, want %d; body %s", method, target, a.status, want, a.raw)
	}
	return a
}

func num(v any) int64 {
	n, _ := asInt(v)
	return n
}

func data(m map[string]any) map[string]any { return map[string]any{"data": m} }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
