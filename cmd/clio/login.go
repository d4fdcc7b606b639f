package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"runtime"
	"strconv"
	"time"

	"github.com/spf13/cobra"
)

type loginFlags struct {
	port      int
	noBrowser bool
	timeout   time.Duration
}

func newLogin(g *globals) *cobra.Command {
	l := &loginFlags{}
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Authorize this tool with Clio in the browser and keep the token",
		Long: `login runs Clio's OAuth flow: it opens Clio's consent page in the browser, receives
the redirect on http://127.0.0.1:PORT/callback (register that URL with your Clio app),
and saves the token in --token-file, readable by you only. Give the app's credentials
with --client-id/--client-secret or CLIO_CLIENT_ID/CLIO_CLIENT_SECRET; with them the
other commands refresh the token, and save the rotated one, on their own.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runLogin(cmd.Context(), g, l, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.IntVar(&l.port, "port", 8765, "the loopback port Clio redirects to")
	f.BoolVar(&l.noBrowser, "no-browser", false, "print the URL instead of opening the browser")
	f.DurationVar(&l.timeout, "timeout", 5*time.Minute, "how long to wait for the consent")
	return cmd
}

// openBrowser opens url in the user's browser; tests replace it.
var openBrowser = func(url string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", url)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	return cmd.Start()
}

func runLogin(ctx context.Context, g *globals, l *loginFlags, stdout io.Writer) error {
	if g.fake {
		return errors.New("login needs a real Clio: the --fake Clio lives only as long as one command")
	}
	id, secret := g.credentials()
	if id == "" || secret == "" {
		return errors.New("the app's credentials are missing: set --client-id and --client-secret (or CLIO_CLIENT_ID and CLIO_CLIENT_SECRET)")
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(l.port)))
	if err != nil {
		return fmt.Errorf("listening for Clio's redirect: %w", err)
	}
	defer func() { _ = ln.Close() }()
	redirect := fmt.Sprintf("http://127.0.0.1:%d/callback", ln.Addr().(*net.TCPAddr).Port)
	o, err := g.oauth(id, secret, redirect)
	if err != nil {
		return err
	}
	state := make([]byte, 16)
	_, _ = rand.Read(state)
	wantState := hex.EncodeToString(state)
	authURL, err := o.AuthCodeURL(wantState)
	if err != nil {
		return err
	}

	type result struct {
		code string
		err  error
	}
	done := make(chan result, 1)
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query()
		var res result
		switch {
		case q.Get("state") != wantState:
			res.err = errors.New("the redirect's state does not match this login (a stale or forged redirect)")
		case q.Get("error") != "":
			res.err = fmt.Errorf("clio refused the authorization: %s (%s)", q.Get("error"), q.Get("error_description"))
		case q.Get("code") == "":
			res.err = errors.New("the redirect carries no code")
		default:
			res.code = q.Get("code")
		}
		if res.err != nil {
			http.Error(w, res.err.Error(), http.StatusBadRequest)
		} else {
			fmt.Fprintln(w, "Logged in to Clio. You can close this window.")
		}
		select {
		case done <- res:
		default:
		}
	})}
	go func() { _ = srv.Serve(ln) }()
	defer func() { _ = srv.Close() }()

	fmt.Fprintf(stdout, "Open this page to authorize clio:\n\n  %s\n\n", authURL)
	if !l.noBrowser {
		if err := openBrowser(authURL); err != nil {
			fmt.Fprintf(stdout, "(could not open a browser: %v)\n", err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	var res result
	select {
	case res = <-done:
	case <-ctx.Done():
		return fmt.Errorf("no answer from Clio's consent page within %s", l.timeout)
	}
	if res.err != nil {
		return res.err
	}
	tok, err := o.Exchange(ctx, res.code)
	if err != nil {
		return err
	}
	if err := saveToken(g.tokenFile, tok); err != nil {
		return fmt.Errorf("saving the token: %w", err)
	}
	fmt.Fprintf(stdout, "Logged in. The token is in %s (readable by you only).\n", g.tokenFile)
	return nil
}
