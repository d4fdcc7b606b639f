// Package loopback receives the code of an OAuth authorization-code flow on a loopback
// redirect URL: how a program on the user's own machine (cmd/clio login, cmd/quickstart)
// completes Clio's consent page in a browser.
package loopback

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"
)

// State returns a fresh random state for an authorize URL: Clio sends it back with the
// code, so that a redirect this program did not ask for is refused.
func State() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// CodeFrom reads the code out of the query of Clio's redirect, checking its state first.
func CodeFrom(q url.Values, state string) (string, error) {
	switch {
	case q.Get("state") != state:
		return "", errors.New("the redirect's state does not match this authorization (a stale or forged redirect)")
	case q.Get("error") != "":
		return "", fmt.Errorf("clio refused the authorization: %s (%s)", q.Get("error"), q.Get("error_description"))
	case q.Get("code") == "":
		return "", errors.New("the redirect carries no code")
	}
	return q.Get("code"), nil
}

// Wait serves ln until the browser arrives at path with Clio's redirect, and returns its
// code (see CodeFrom); the browser is told whether it may close the page. Other paths
// answer 404 and do not end the wait; an empty path is "/". It returns ctx's error when
// ctx ends first, and stops serving (and closes ln) before it returns.
func Wait(ctx context.Context, ln net.Listener, path, state string) (string, error) {
	if path == "" {
		path = "/"
	}
	type result struct {
		code string
		err  error
	}
	done := make(chan result, 1)
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != path {
			http.NotFound(w, r)
			return
		}
		code, err := CodeFrom(r.URL.Query(), state)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
		} else {
			fmt.Fprintln(w, "Authorized: you can close this page.")
		}
		select {
		case done <- result{code, err}:
		default: // a second redirect: the first one decided
		}
	})}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		// Shut down, not Close: the browser is still being told how it went.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		if srv.Shutdown(sctx) != nil {
			_ = srv.Close()
		}
	}()
	select {
	case res := <-done:
		return res.code, res.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}
