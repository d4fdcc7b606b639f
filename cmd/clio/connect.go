package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/oauth2"

	"github.com/clio-go/clio-go/clio"
)

// defaultTokenFile is $XDG_CONFIG_HOME/clio/token.json (or the OS's equivalent).
func defaultTokenFile() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "clio-token.json"
	}
	return filepath.Join(dir, "clio", "token.json")
}

func (g *globals) credentials() (id, secret string) {
	id, secret = g.clientID, g.clientSecret
	if id == "" {
		id = os.Getenv("CLIO_CLIENT_ID")
	}
	if secret == "" {
		secret = os.Getenv("CLIO_CLIENT_SECRET")
	}
	return id, secret
}

// host is the Clio a command talks to, with what closes it.
// connect builds the client the flags ask for, and returns what to call when done with
// it (it stops the embedded fake).
func (g *globals) connect(ctx context.Context, stderr io.Writer) (*clio.Client, func(), error) {
	opts, done, err := g.clientOptions(ctx, stderr)
	if err != nil {
		return nil, nil, err
	}
	c, err := clio.NewClient(ctx, opts...)
	if err != nil {
		done()
		return nil, nil, err
	}
	return c, done, nil
}

// clientOptions resolves the flags into client options: the embedded fake, or real Clio
// with the token `clio login` saved (refreshed, and saved again, when the app's
// credentials are known).
func (g *globals) clientOptions(ctx context.Context, stderr io.Writer) ([]clio.Option, func(), error) {
	if g.fake {
		srv, err := startFake(g.fakeRecords)
		if err != nil {
			return nil, nil, err
		}
		fmt.Fprintf(stderr, "Using the embedded fake Clio at %s (a demo firm, %d records per collection)\n", srv.URL, g.fakeRecords)
		return []clio.Option{clio.WithBaseURL(srv.URL), clio.WithToken(srv.IssueToken().AccessToken)}, srv.Close, nil
	}
	opts := []clio.Option{}
	if g.baseURL != "" {
		opts = append(opts, clio.WithBaseURL(g.baseURL))
	} else {
		opts = append(opts, clio.WithRegion(clio.Region(g.region)))
	}
	tok, err := loadToken(g.tokenFile)
	if err != nil {
		return nil, nil, err
	}
	id, secret := g.credentials()
	if id == "" || secret == "" || tok.RefreshToken == "" {
		return append(opts, clio.WithToken(tok.AccessToken)), func() {}, nil
	}
	o, err := g.oauth(id, secret, "http://127.0.0.1/callback")
	if err != nil {
		return nil, nil, err
	}
	ts := o.TokenSource(ctx, tok, func(t *oauth2.Token) error { return saveToken(g.tokenFile, t) })
	return append(opts, clio.WithTokenSource(ts)), func() {}, nil
}

func (g *globals) oauth(id, secret, redirect string) (*clio.OAuth, error) {
	cfg := clio.OAuthConfig{ClientID: id, ClientSecret: secret, RedirectURL: redirect, BaseURL: g.baseURL}
	if g.baseURL == "" {
		cfg.Region = clio.Region(g.region)
	}
	return clio.NewOAuth(cfg)
}

func loadToken(path string) (*oauth2.Token, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no token in %s: run `clio login` first, or try --fake", path)
	}
	if err != nil {
		return nil, err
	}
	var tok oauth2.Token
	if err := json.Unmarshal(b, &tok); err != nil || tok.AccessToken == "" {
		return nil, fmt.Errorf("%s holds no token (run `clio login` again)", path)
	}
	return &tok, nil
}

// saveToken writes the token so that only its owner can read it: the directory 0700, the
// file 0600, written to a temporary file and renamed so that a crash never leaves half a
// token (and so never loses a rotated refresh token).
func saveToken(path string, tok *oauth2.Token) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(tok, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".token-*.json")
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(tmp.Name()) }() // after the rename there is nothing to remove
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
