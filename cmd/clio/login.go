package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"runtime"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/clio-go/clio-go/internal/loopback"
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
	state := loopback.State()
	authURL, err := o.AuthCodeURL(state)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Open this page to authorize clio:\n\n  %s\n\n", authURL)
	if !l.noBrowser {
		if err := openBrowser(authURL); err != nil {
			fmt.Fprintf(stdout, "(could not open a browser: %v)\n", err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	code, err := loopback.Wait(ctx, ln, "/callback", state)
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("no answer from Clio's consent page within %s", l.timeout)
	}
	if err != nil {
		return err
	}
	tok, err := o.Exchange(ctx, code)
	if err != nil {
		return err
	}
	if err := saveToken(g.tokenFile, tok); err != nil {
		return fmt.Errorf("saving the token: %w", err)
	}
	fmt.Fprintf(stdout, "Logged in. The token is in %s (readable by you only).\n", g.tokenFile)
	return nil
}
