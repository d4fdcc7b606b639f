package clio

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"golang.org/x/oauth2"
)

// ErrInvalidClient is matched (errors.Is) by token-endpoint failures whose
// OAuth error is invalid_client. With Clio this usually means the wrong
// region: an app and its tokens exist in one region only.
var ErrInvalidClient = errors.New("clio: invalid_client")

// OAuthConfig describes a Clio OAuth application.
type OAuthConfig struct {
	ClientID     string
	ClientSecret string
	RedirectURL  string
	// Region selects the authorization host (default US). It must be the
	// region the app was registered in.
	Region Region
	// BaseURL overrides the region's host (tests, proxies).
	BaseURL string
	// HTTPClient is used for token, refresh and deauthorize calls;
	// default http.DefaultClient.
	HTTPClient *http.Client
}

// OAuth runs Clio's authorization-code flow on golang.org/x/oauth2.
type OAuth struct {
	conf   oauth2.Config
	host   string
	region Region
	hc     *http.Client
}

// NewOAuth validates cfg and builds the flow. Clio wants the client id and
// secret in the form body, so the endpoint uses AuthStyleInParams
// explicitly (auto-detection would first try, and fail, the other style).
func NewOAuth(cfg OAuthConfig) (*OAuth, error) {
	if cfg.ClientID == "" {
		return nil, &InputError{Field: "ClientID", Reason: "empty"}
	}
	if cfg.ClientSecret == "" {
		return nil, &InputError{Field: "ClientSecret", Reason: "empty"}
	}
	if _, err := url.ParseRequestURI(cfg.RedirectURL); err != nil || cfg.RedirectURL == "" {
		return nil, &InputError{Field: "RedirectURL", Reason: "must be an absolute URL registered with the app"}
	}
	region := cmp.Or(cfg.Region, US)
	if err := region.validate("Region"); err != nil {
		return nil, err
	}
	host := region.BaseURL()
	if cfg.BaseURL != "" {
		var c config
		if err := WithBaseURL(cfg.BaseURL)(&c); err != nil {
			reason := err.Error()
			if ie, ok := errors.AsType[*InputError](err); ok {
				reason = ie.Reason
			}
			return nil, &InputError{Field: "BaseURL", Reason: reason}
		}
		host = c.baseURL
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	return &OAuth{
		conf: oauth2.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			RedirectURL:  cfg.RedirectURL,
			Endpoint: oauth2.Endpoint{
				AuthURL:   host + "/oauth/authorize",
				TokenURL:  host + "/oauth/token",
				AuthStyle: oauth2.AuthStyleInParams,
			},
		},
		host:   host,
		region: region,
		hc:     hc,
	}, nil
}

// Config returns a copy of the underlying oauth2.Config.
func (o *OAuth) Config() *oauth2.Config {
	c := o.conf
	return &c
}

// RedirectOnDecline asks Clio to send the user back to the redirect URL
// (with error=access_denied) when they decline, instead of stopping on
// Clio's page.
func RedirectOnDecline() oauth2.AuthCodeOption {
	return oauth2.SetAuthURLParam("redirect_on_decline", "true")
}

// AuthCodeURL returns the URL to send the user to. state must be an
// unguessable value tied to the user's session and checked on return
// (CSRF protection): an empty state is an *InputError.
func (o *OAuth) AuthCodeURL(state string, opts ...oauth2.AuthCodeOption) (string, error) {
	if state == "" {
		return "", &InputError{Field: "state", Reason: "must be an unguessable value tied to the user's session, checked on return (CSRF protection)"}
	}
	return o.conf.AuthCodeURL(state, opts...), nil
}

func (o *OAuth) ctx(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, o.hc)
}

// Exchange trades the code from the redirect for a token.
func (o *OAuth) Exchange(ctx context.Context, code string) (*oauth2.Token, error) {
	if code == "" {
		return nil, &InputError{Field: "code", Reason: "empty"}
	}
	tok, err := o.conf.Exchange(o.ctx(ctx), code)
	if err != nil {
		return nil, o.wrap("exchanging code", err, code)
	}
	return tok, nil
}

// wrap explains invalid_client, whose raw text sends people looking at
// their secret when the region is the usual culprit, and removes the
// credentials sent (secrets: the code or refresh token; the client secret)
// that the token endpoint may have echoed.
func (o *OAuth) wrap(op string, err error, secrets ...string) error {
	return redactValues(o.explain(op, err), append(secrets, o.conf.ClientSecret)...)
}

func (o *OAuth) explain(op string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.ErrorCode == "invalid_client" {
		return fmt.Errorf("%w: %s at %s: Clio does not know this client id/secret in region %q; apps and tokens belong to the region they were created in, so check OAuthConfig.Region (and the client secret): %w",
			ErrInvalidClient, op, o.host, o.region, err)
	}
	return fmt.Errorf("clio: %s: %w", op, err)
}

// TokenSource returns a source that serves tok, refreshes it when it
// expires (or when Clio rejected it with 401, see Invalidator) and calls
// onRefresh with every new token so it can be persisted. A refresh answer
// without refresh_token keeps the previous one (Clio only returns it when
// it changes). If onRefresh fails, Token returns its error (the new token
// is kept and onRefresh is tried again on the next call), because losing
// a rotated refresh token loses access.
//
// ctx is used for every refresh; only its values are kept
// (context.WithoutCancel), so a cancelled request context never breaks
// later refreshes. onRefresh may be nil.
func (o *OAuth) TokenSource(ctx context.Context, tok *oauth2.Token, onRefresh func(*oauth2.Token) error) *TokenSource {
	return &TokenSource{
		cur:    tok,
		notify: onRefresh,
		refresh: func(rt string) (*oauth2.Token, error) {
			// An access-token-less token makes x/oauth2 refresh at once.
			t, err := o.conf.TokenSource(o.ctx(context.WithoutCancel(ctx)), &oauth2.Token{RefreshToken: rt}).Token()
			if err != nil {
				return nil, o.wrap("refreshing token", err, rt)
			}
			return t, nil
		},
	}
}

// Deauthorize revokes tok at Clio (POST {host}/oauth/deauthorize). Call it
// when a user disconnects the app.
func (o *OAuth) Deauthorize(ctx context.Context, tok *oauth2.Token) error {
	if tok == nil || tok.AccessToken == "" {
		return &InputError{Field: "token", Reason: "no access token to revoke"}
	}
	form := url.Values{"token": {tok.AccessToken}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.host+"/oauth/deauthorize", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := o.hc.Do(req)
	if err != nil {
		return fmt.Errorf("clio: deauthorize: %w", sanitizeTransportErr(err))
	}
	if err := CheckResponse(resp); err != nil {
		return scrubValues(err, tok.AccessToken) // a refusal may quote the token
	}
	drainClose(resp.Body)
	return nil
}

// TokenSource is a refreshing, invalidatable, notifying token source; see
// OAuth.TokenSource. It is safe for concurrent use: concurrent callers
// share one refresh.
type TokenSource struct {
	mu      sync.Mutex
	cur     *oauth2.Token
	stale   bool // Clio rejected cur with 401
	unsaved bool // onRefresh failed for cur
	notify  func(*oauth2.Token) error
	refresh func(refreshToken string) (*oauth2.Token, error)
}

// Token returns a valid token, refreshing if needed.
func (s *TokenSource) Token() (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.unsaved {
		if err := s.notify(s.cur); err != nil {
			return nil, fmt.Errorf("clio: persisting refreshed token: %w", err)
		}
		s.unsaved = false
	}
	if s.cur != nil && s.cur.Valid() && !s.stale {
		return s.cur, nil
	}
	if s.cur == nil || s.cur.RefreshToken == "" {
		return nil, errors.New("clio: access token expired or rejected and there is no refresh token")
	}
	t, err := s.refresh(s.cur.RefreshToken)
	if err != nil {
		return nil, err
	}
	if t.RefreshToken == "" {
		t.RefreshToken = s.cur.RefreshToken
	}
	s.cur, s.stale = t, false
	if s.notify != nil {
		if err := s.notify(t); err != nil {
			s.unsaved = true
			return nil, fmt.Errorf("clio: persisting refreshed token: %w", err)
		}
	}
	return t, nil
}

// Invalidate marks the cached token as rejected if it is still
// rejectedAccessToken, so the next Token call refreshes. Comparing the
// token means N goroutines hitting 401 at once cause one refresh, not N.
func (s *TokenSource) Invalidate(rejectedAccessToken string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur != nil && s.cur.AccessToken == rejectedAccessToken {
		s.stale = true
	}
}

// NotifyingTokenSource wraps any token source so that notify is called
// each time it hands out an access token different from the previous one
// (starting with prev, which may be nil), to persist it. A token without
// refresh_token inherits the previous one. Invalidate is passed through
// when src supports it. notify errors are returned by Token.
func NotifyingTokenSource(src oauth2.TokenSource, prev *oauth2.Token, notify func(*oauth2.Token) error) oauth2.TokenSource {
	return &notifying{src: src, notify: notify, last: prev}
}

type notifying struct {
	mu     sync.Mutex
	src    oauth2.TokenSource
	notify func(*oauth2.Token) error
	last   *oauth2.Token
}

func (n *notifying) Token() (*oauth2.Token, error) {
	// Held across src.Token: two goroutines must not report tokens out of order and
	// leave the older one persisted.
	n.mu.Lock()
	defer n.mu.Unlock()
	t, err := n.src.Token()
	if err != nil {
		return nil, err
	}
	if n.last != nil && t.AccessToken == n.last.AccessToken {
		return n.last, nil
	}
	if t.RefreshToken == "" && n.last != nil && n.last.RefreshToken != "" {
		c := *t
		c.RefreshToken = n.last.RefreshToken
		t = &c
	}
	if n.notify != nil {
		if err := n.notify(t); err != nil {
			return nil, fmt.Errorf("clio: persisting token: %w", err)
		}
	}
	n.last = t
	return t, nil
}

func (n *notifying) Invalidate(rejected string) {
	if inv, ok := n.src.(Invalidator); ok {
		inv.Invalidate(rejected)
	}
}
