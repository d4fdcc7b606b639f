// Command quickstart walks Clio's real flow with this client: authorize, create a contact and
// a matter, list matters page by page with selected fields, upload and download a document,
// and receive a signed webhook.
//
// With no configuration it runs against the fake Clio of package cliotest, in this process:
//
//	go run ./cmd/quickstart
//
// Against real Clio, give the app's credentials and a token (or let it run the browser flow):
//
//	CLIO_REGION=us CLIO_CLIENT_ID=... CLIO_CLIENT_SECRET=... CLIO_REFRESH_TOKEN=... go run ./cmd/quickstart
//
// CLIO_ACCESS_TOKEN alone is used as it is; CLIO_BASE_URL replaces the region's host (a proxy,
// or a stand-in such as cmd/cliofake). Without CLIO_REFRESH_TOKEN or CLIO_ACCESS_TOKEN it
// prints the authorize URL and waits for Clio's redirect on CLIO_REDIRECT_URL (default
// http://127.0.0.1:8765/callback). Real Clio only delivers webhooks to a public https URL: set
// CLIO_WEBHOOK_URL to one that forwards to CLIO_WEBHOOK_LISTEN (default 127.0.0.1:8766), or the
// webhook step is skipped. Everything the quickstart creates in real Clio is deleted at the end.
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/clio-go/clio-go/clio"
	"github.com/clio-go/clio-go/clio/cliotest"
	"github.com/clio-go/clio-go/clio/webhook"
	"github.com/clio-go/clio-go/gen"
	"github.com/clio-go/clio-go/internal/loopback"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := run(ctx, os.Stdout, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// env is where the quickstart reads its configuration (os.Getenv, or a map in tests).
type env func(string) string

// target is the Clio the quickstart talks to.
type target struct {
	fake         *cliotest.Server // nil against real Clio
	oauth        *clio.OAuth
	opts         []clio.Option
	redirect     string
	webhookURL   string // where Clio should deliver
	webhookAddr  string // where this process listens for deliveries
	base         string // CLIO_BASE_URL, when set
	realAccess   string
	realRefresh  string
	interactive  bool
	createdLabel string
}

func run(ctx context.Context, out io.Writer, getenv env) error {
	t, err := setup(getenv)
	if err != nil {
		return err
	}
	if t.fake != nil {
		defer t.fake.Close()
	}
	step := stepper(out)

	// 1. Authorize.
	tok, how, err := t.authorize(ctx)
	if err != nil {
		return step.fail("authorize", err)
	}
	cred := clio.WithToken(tok.AccessToken) // an access token alone cannot be refreshed
	if t.oauth != nil {
		cred = clio.WithTokenSource(t.oauth.TokenSource(ctx, tok, func(*oauth2.Token) error { return nil }))
	}
	c, err := clio.NewClient(ctx, append(t.opts, cred)...)
	if err != nil {
		return step.fail("client", err)
	}
	me, _, err := c.Users.WhoAmI(ctx)
	if err != nil {
		return step.fail("who_am_i", err)
	}
	step.ok("Authorized %s as %s (user %d)", how, me.Name, me.Id)

	var cleanup []func() error
	defer func() {
		for i := len(cleanup) - 1; i >= 0; i-- {
			if err := cleanup[i](); err != nil && !errors.Is(err, clio.ErrNotFound) {
				fmt.Fprintln(out, "   cleanup:", err)
			}
		}
	}()

	// 2. Create a contact and matters for it.
	contact, _, err := c.Contacts.Create(ctx, nil, gen.ContactCreateInput{
		Type: gen.ContactTypePerson, FirstName: clio.Ptr("Ada"), LastName: clio.Ptr(t.label("Lovelace")),
	})
	if err != nil {
		return step.fail("create contact", err)
	}
	cleanup = append(cleanup, func() error { _, err := c.Contacts.Delete(ctx, contact.Id); return err })
	var matterIDs []int64
	for _, d := range []string{"Estate planning", "Patent filing", "Lease review"} {
		m, _, err := c.Matters.Create(ctx, nil, gen.MatterCreateInput{Client: clio.Ref(contact.Id), Description: clio.Ptr(t.label(d))})
		if err != nil {
			return step.fail("create matter", err)
		}
		matterIDs = append(matterIDs, m.Id)
		id := m.Id
		cleanup = append(cleanup, func() error { _, err := c.Matters.Delete(ctx, id); return err })
	}
	step.ok("Created contact %q (id %d) and %d matters for it", contact.Name, contact.Id, len(matterIDs))

	// 3. List the contact's matters, two per page, with nested fields.
	fields := clio.Fields("id", "display_number", "description").Nested("client", "id", "name")
	pages, listed := 0, 0
	var lines []string
	for page, err := range c.Matters.Pages(ctx, &gen.ListMattersParams{ClientId: clio.Ptr(contact.Id)}, fields, clio.PageSize(2)) {
		if err != nil {
			return step.fail("list matters", err)
		}
		pages++
		for _, m := range page.Items {
			listed++
			lines = append(lines, fmt.Sprintf("      page %d: %s  %s  (client %s)", pages, m.DisplayNumber, m.Description, m.Client.Name))
		}
	}
	step.ok("Listed %d matters in %d pages with fields=%s", listed, pages, fields)
	for _, l := range lines {
		fmt.Fprintln(out, l)
	}
	all := 0
	for _, err := range c.Matters.All(ctx, &gen.ListMattersParams{ClientId: clio.Ptr(contact.Id)}, clio.Fields("id")) {
		if err != nil {
			return step.fail("iterate matters", err)
		}
		all++
	}
	fmt.Fprintf(out, "      the iterator (cursor mode, order=id(asc)) yields the same %d matters\n", all)

	// 4. Upload a document to the first matter and download it back.
	content := []byte("Engagement letter for " + contact.Name + "\n" + strings.Repeat("clause. ", 512))
	up, _, err := c.Documents.Upload(ctx, clio.UploadParams{
		Parent: clio.DocumentParent{ID: matterIDs[0], Type: clio.ParentMatter},
		Name:   "engagement-letter.txt", Body: bytes.NewReader(content), Size: int64(len(content)),
	})
	if err != nil {
		return step.fail("upload", err)
	}
	cleanup = append(cleanup, func() error { _, err := c.Documents.Delete(ctx, up.DocumentID); return err })
	dl, _, err := c.Documents.Download(ctx, up.DocumentID)
	if err != nil {
		return step.fail("download", err)
	}
	got, err := io.ReadAll(dl)
	dl.Close()
	if err != nil {
		return step.fail("download", err)
	}
	if !bytes.Equal(got, content) {
		return step.fail("download", fmt.Errorf("downloaded %d bytes that differ from the %d uploaded", len(got), len(content)))
	}
	storage := "storage never saw the token"
	if t.fake != nil {
		if n := t.fake.Counters().StorageAuthRejected; n > 0 {
			return step.fail("upload", fmt.Errorf("the bearer token was sent to storage %d times", n))
		}
		storage = "the fake's storage counted 0 requests carrying the token"
	}
	step.ok("Uploaded %d bytes as document %d and downloaded them back identical (%s)", len(content), up.DocumentID, storage)

	// 5. Receive a signed webhook.
	if t.webhookURL == "" {
		step.skip("Webhook: real Clio delivers only to a public https URL; set CLIO_WEBHOOK_URL to receive one")
	} else {
		n, err := t.webhook(ctx, c, contact, &cleanup)
		if err != nil {
			return step.fail("webhook", err)
		}
		step.ok("Received and verified a signed %q webhook for matter %d (HMAC-SHA256 over the raw body)", "created", n)
	}
	fmt.Fprintf(out, "\nDone: %d steps against %s.\n", step.n, t.where())
	return nil
}

// webhook registers a matter webhook, creates a matter and waits for the signed delivery.
func (t *target) webhook(ctx context.Context, c *clio.Client, contact gen.Contact, cleanup *[]func() error) (int64, error) {
	events := make(chan webhook.Event, 4)
	// The receiver accepts the handshake of the webhooks registered in this registry
	// only (a database table when registering and receiving run in separate processes).
	registry := webhook.NewMemoryRegistry()
	h := webhook.NewHandler(registry, func(_ context.Context, ev webhook.Event) error {
		events <- ev
		return nil
	})
	ln, err := net.Listen("tcp", t.webhookAddr)
	if err != nil {
		return 0, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // ends with Shutdown below
	defer srv.Shutdown(context.Background())
	url := t.webhookURL
	if url == "auto" {
		url = "http://" + ln.Addr().String() + "/clio/webhooks"
	}
	hook, _, err := c.Webhooks.Register(ctx, clio.WebhookParams{
		URL: url, Model: "matter", Events: []string{"created"},
		Fields: clio.Fields("id", "etag", "display_number"), ExpiresIn: 24 * time.Hour,
	}, clio.UseWebhookRegistry(registry))
	if err != nil {
		return 0, err
	}
	*cleanup = append(*cleanup, func() error { _, err := c.Webhooks.Delete(ctx, hook.Id); return err })
	m, _, err := c.Matters.Create(ctx, nil, gen.MatterCreateInput{Client: clio.Ref(contact.Id), Description: clio.Ptr(t.label("Webhook demo"))})
	if err != nil {
		return 0, err
	}
	*cleanup = append(*cleanup, func() error { _, err := c.Matters.Delete(ctx, m.Id); return err })
	wait := time.NewTimer(2 * time.Minute)
	defer wait.Stop()
	for {
		select {
		case ev := <-events:
			if ev.Name == "created" && ev.ID == m.Id {
				return ev.ID, nil
			}
		case <-wait.C:
			return 0, fmt.Errorf("no delivery for matter %d at %s within 2 minutes", m.Id, url)
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

func setup(getenv env) (*target, error) {
	redirect := or(getenv("CLIO_REDIRECT_URL"), "http://127.0.0.1:8765/callback")
	t := &target{redirect: redirect, webhookAddr: or(getenv("CLIO_WEBHOOK_LISTEN"), "127.0.0.1:0")}
	id, secret := getenv("CLIO_CLIENT_ID"), getenv("CLIO_CLIENT_SECRET")
	if id == "" && getenv("CLIO_ACCESS_TOKEN") == "" {
		if getenv("CLIO_BASE_URL") != "" {
			return nil, errors.New("CLIO_BASE_URL is set but no credentials: set CLIO_ACCESS_TOKEN, or CLIO_CLIENT_ID and CLIO_CLIENT_SECRET")
		}
		// The embedded fake: it makes the consent decision itself, accepts http webhooks on
		// loopback, and checks every answer against api/openapi.yaml.
		t.fake = cliotest.NewServer(cliotest.WithInsecureWebhooks())
		o, err := clio.NewOAuth(clio.OAuthConfig{ClientID: cliotest.DefaultClientID, ClientSecret: cliotest.DefaultClientSecret,
			RedirectURL: redirect, BaseURL: t.fake.URL})
		if err != nil {
			return nil, err
		}
		t.oauth, t.opts, t.webhookURL = o, []clio.Option{clio.WithBaseURL(t.fake.URL), clio.WithPrivateStorage()}, "auto"
		return t, nil
	}
	if id != "" && secret == "" {
		return nil, errors.New("CLIO_CLIENT_ID is set but CLIO_CLIENT_SECRET is not")
	}
	region, err := clio.ParseRegion(or(getenv("CLIO_REGION"), "us"))
	if err != nil {
		return nil, err
	}
	// CLIO_BASE_URL points the whole run (API and OAuth) at another host than the region's:
	// a proxy, or a Clio stand-in such as cmd/cliofake.
	t.base = getenv("CLIO_BASE_URL")
	t.opts = []clio.Option{clio.WithBaseURL(t.base)}
	if u, err := url.Parse(t.base); err == nil && (u.Hostname() == "localhost" || net.ParseIP(u.Hostname()).IsLoopback()) {
		// A stand-in on this machine keeps its storage here too.
		t.opts = append(t.opts, clio.WithPrivateStorage())
	}
	if t.base == "" {
		t.base, t.opts = region.BaseURL(), []clio.Option{clio.WithRegion(region)}
	}
	t.realAccess, t.realRefresh = getenv("CLIO_ACCESS_TOKEN"), getenv("CLIO_REFRESH_TOKEN")
	if id != "" {
		o, err := clio.NewOAuth(clio.OAuthConfig{ClientID: id, ClientSecret: secret, RedirectURL: redirect, Region: region, BaseURL: getenv("CLIO_BASE_URL")})
		if err != nil {
			return nil, err
		}
		t.oauth = o
	} else if t.realRefresh != "" {
		return nil, errors.New("CLIO_REFRESH_TOKEN needs CLIO_CLIENT_ID and CLIO_CLIENT_SECRET to be refreshed")
	}
	t.interactive = t.realAccess == "" && t.realRefresh == ""
	t.webhookURL = getenv("CLIO_WEBHOOK_URL")
	if t.webhookURL != "" && getenv("CLIO_WEBHOOK_LISTEN") == "" {
		t.webhookAddr = "127.0.0.1:8766"
	}
	t.createdLabel = "(clio-go quickstart " + time.Now().UTC().Format("2006-01-02 15:04") + ")"
	return t, nil
}

// label marks what the quickstart creates in real Clio, so a person can tell it apart.
func (t *target) label(s string) string {
	if t.createdLabel == "" {
		return s
	}
	return s + " " + t.createdLabel
}

func (t *target) where() string {
	if t.fake != nil {
		return "the embedded fake Clio at " + t.fake.URL
	}
	return "Clio at " + t.base
}

// authorize gets a token: the authorization-code flow (simulated consent on the fake, the
// browser on real Clio), or the token given in the environment.
func (t *target) authorize(ctx context.Context) (*oauth2.Token, string, error) {
	if t.fake == nil && !t.interactive {
		tok := &oauth2.Token{AccessToken: t.realAccess, RefreshToken: t.realRefresh, TokenType: "bearer"}
		if tok.AccessToken == "" {
			tok.Expiry = time.Unix(1, 0) // refresh first
		}
		return tok, "with the token from the environment", nil
	}
	state := loopback.State()
	authURL, err := t.oauth.AuthCodeURL(state)
	if err != nil {
		return nil, "", err
	}
	var code string
	if t.fake != nil {
		code, err = consent(ctx, authURL, state)
	} else {
		code, err = browserConsent(ctx, authURL, t.redirect, state)
	}
	if err != nil {
		return nil, "", err
	}
	tok, err := t.oauth.Exchange(ctx, code)
	return tok, "through the authorization-code flow", err
}

// consent follows the authorize URL like a browser whose user clicks "Allow", stopping at
// the redirect back to the app.
func consent(ctx context.Context, authURL, state string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return "", err
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noFollow.Do(req)
	if err != nil {
		return "", err
	}
	res.Body.Close()
	loc, err := res.Location()
	if err != nil {
		return "", fmt.Errorf("authorize answered %s without a redirect", res.Status)
	}
	return loopback.CodeFrom(loc.Query(), state)
}

// browserConsent prints the authorize URL and waits for Clio's redirect to the local
// redirect URL.
func browserConsent(ctx context.Context, authURL, redirect, state string) (string, error) {
	u, err := url.Parse(redirect)
	if err != nil {
		return "", fmt.Errorf("CLIO_REDIRECT_URL: %w", err)
	}
	ln, err := net.Listen("tcp", u.Host)
	if err != nil {
		return "", fmt.Errorf("listening for the redirect on %s: %w", u.Host, err)
	}
	fmt.Printf("Open this URL, allow access, and come back:\n  %s\n", authURL)
	return loopback.Wait(ctx, ln, u.Path, state)
}

// stepper numbers and prints the quickstart's steps.
type steps struct {
	out io.Writer
	n   int
}

func stepper(out io.Writer) *steps { return &steps{out: out} }

func (s *steps) ok(format string, a ...any) {
	s.n++
	fmt.Fprintf(s.out, "%d. %s\n", s.n, fmt.Sprintf(format, a...))
}

func (s *steps) skip(format string, a ...any) {
	fmt.Fprintf(s.out, "-  %s\n", fmt.Sprintf(format, a...))
}

func (s *steps) fail(what string, err error) error {
	return fmt.Errorf("step %d (%s): %w", s.n+1, what, err)
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
