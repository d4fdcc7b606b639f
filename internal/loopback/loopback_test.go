package loopback

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func listen(t *testing.T) (net.Listener, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln, "http://" + ln.Addr().String()
}

// visit is the browser: it arrives at u once Wait serves.
func visit(t *testing.T, u string) <-chan string {
	t.Helper()
	body := make(chan string, 1)
	go func() {
		resp, err := http.Get(u)
		if err != nil {
			body <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body <- resp.Status + " " + string(b)
	}()
	return body
}

func TestWaitReturnsTheCodeOfTheRightRedirect(t *testing.T) {
	ln, base := listen(t)
	state := State()
	type result struct {
		code string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		code, err := Wait(context.Background(), ln, "/callback", state)
		done <- result{code, err}
	}()
	// A browser asks for other paths first: they get a 404 and the wait goes on.
	if got := <-visit(t, base+"/favicon.ico"); !strings.Contains(got, "404") {
		t.Errorf("another path got %q", got)
	}
	page := visit(t, base+"/callback?code=abc&state="+state)
	if res := <-done; res.err != nil || res.code != "abc" {
		t.Fatalf("Wait: %q, %v", res.code, res.err)
	}
	if got := <-page; !strings.Contains(got, "200") || !strings.Contains(got, "close this page") {
		t.Errorf("the browser was told %q", got)
	}
}

func TestWaitRefusesABadRedirect(t *testing.T) {
	state := State()
	for query, want := range map[string]string{
		"code=abc&state=other":                      "state does not match",
		"error=access_denied&state=" + state:        "access_denied",
		"state=" + state:                            "no code",
		"code=abc&error=access_denied&state=forged": "state does not match",
	} {
		ln, base := listen(t)
		page := visit(t, base+"/callback?"+query)
		_, err := Wait(context.Background(), ln, "/callback", state)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error saying %q", query, err, want)
		}
		if got := <-page; !strings.Contains(got, "400") {
			t.Errorf("%s: the browser was told %q", query, got)
		}
	}
}

func TestWaitEndsWithItsContext(t *testing.T) {
	ln, _ := listen(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := Wait(ctx, ln, "/callback", State()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait after its context ended: %v", err)
	}
}

func TestStatesDiffer(t *testing.T) {
	if a, b := State(), State(); a == b || len(a) != 32 {
		t.Fatalf("states %q and %q", a, b)
	}
}

// A redirect URL without a path (http://127.0.0.1:8765) is answered at "/".
func TestWaitOnTheRootPath(t *testing.T) {
	ln, base := listen(t)
	state := State()
	page := visit(t, base+"/?code=xyz&state="+state)
	if code, err := Wait(context.Background(), ln, "", state); err != nil || code != "xyz" {
		t.Fatalf("Wait: %q, %v", code, err)
	}
	<-page
}
