package clio_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clio-go/clio-go/clio"
	"github.com/clio-go/clio-go/clio/cliotest"
	"github.com/clio-go/clio-go/clio/webhook"
	"github.com/clio-go/clio-go/gen"
)

// hookSink is a loopback webhook receiver that answers 200 to everything
// without echoing the handshake secret (so webhooks stay pending), and
// remembers the secrets it was sent.
type hookSink struct {
	*httptest.Server
	mu      sync.Mutex
	secrets []string
}

func newHookSink(t *testing.T) *hookSink {
	t.Helper()
	s := &hookSink{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sec := r.Header.Get(webhook.HeaderSecret); sec != "" {
			s.mu.Lock()
			s.secrets = append(s.secrets, sec)
			s.mu.Unlock()
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *hookSink) lastSecret() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.secrets) == 0 {
		return ""
	}
	return s.secrets[len(s.secrets)-1]
}

// Bad registrations are refused client-side, naming the WebhookParams
// field, and never reach Clio.
func TestWebhooksRegisterValidation(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, cliotest.WithInsecureWebhooks())
	ok := clio.WebhookParams{URL: "https://hooks.example.com/clio", Model: "matter", Events: []string{"created"}}
	long := make([]string, 200)
	for i := range long {
		long[i] = fmt.Sprintf("field_%03d", i)
	}
	cases := []struct {
		name  string
		edit  func(p *clio.WebhookParams)
		field string
	}{
		{"empty url", func(p *clio.WebhookParams) { p.URL = "" }, "URL"},
		{"relative url", func(p *clio.WebhookParams) { p.URL = "/hooks" }, "URL"},
		{"plain http to a public host", func(p *clio.WebhookParams) { p.URL = "http://hooks.example.com/clio" }, "URL"},
		{"ftp", func(p *clio.WebhookParams) { p.URL = "ftp://hooks.example.com/clio" }, "URL"},
		{"credentials in url", func(p *clio.WebhookParams) { p.URL = "https://u:p@hooks.example.com/clio" }, "URL"},
		{"unknown model", func(p *clio.WebhookParams) { p.Model = "invoice" }, "Model"},
		{"empty model", func(p *clio.WebhookParams) { p.Model = "" }, "Model"},
		{"no events", func(p *clio.WebhookParams) { p.Events = nil }, "Events"},
		{"unknown event", func(p *clio.WebhookParams) { p.Events = []string{"created", "archived"} }, "Events"},
		{"matter event on contact", func(p *clio.WebhookParams) { p.Model = "contact"; p.Events = []string{"matter_closed"} }, "Events"},
		{"duplicate event", func(p *clio.WebhookParams) { p.Events = []string{"created", "created"} }, "Events"},
		{"bad fields", func(p *clio.WebhookParams) { p.Fields = clio.Fields("id", "Display Number") }, "Fields"},
		{"fields over 1000 chars", func(p *clio.WebhookParams) { p.Fields = clio.Fields(long...) }, "Fields"},
		{"negative expiry", func(p *clio.WebhookParams) { p.ExpiresIn = -time.Hour }, "ExpiresIn"},
		{"expiry past 31 days", func(p *clio.WebhookParams) { p.ExpiresIn = 32 * 24 * time.Hour }, "ExpiresIn"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := ok
			p.Events = append([]string(nil), ok.Events...)
			tc.edit(&p)
			before := srv.Counters().Requests
			_, resp, err := c.Webhooks.Register(context.Background(), p)
			var ie *clio.InputError
			if !errors.As(err, &ie) || ie.Field != tc.field || !errors.Is(err, clio.ErrInvalidInput) {
				t.Fatalf("err = %v, want an *InputError naming %s", err, tc.field)
			}
			if resp != nil || srv.Counters().Requests != before {
				t.Fatal("an invalid registration reached the server")
			}
		})
	}
}

// Valid registrations, including the loopback-http and matter-event cases
// that the validation lets through, are accepted by the fake Clio, which
// applies the same rules server-side.
func TestWebhooksRegisterAccepted(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, cliotest.WithInsecureWebhooks())
	sink := newHookSink(t)
	localhost := strings.Replace(sink.URL, "127.0.0.1", "localhost", 1)
	cases := []struct {
		name    string
		p       clio.WebhookParams
		wantExp time.Duration // 0: Clio's default of 3 days
	}{
		{"matter events, default expiry", clio.WebhookParams{URL: sink.URL + "/h?model=matter", Model: "matter",
			Events: []string{"created", "matter_opened", "matter_closed"}}, 0},
		{"localhost, fields, 31 days", clio.WebhookParams{URL: localhost + "/h", Model: "contact",
			Events: []string{"updated", "deleted"}, Fields: clio.Fields("id", "etag", "name"), ExpiresIn: clio.WebhookMaxLifetime}, clio.WebhookMaxLifetime},
		{"payments, one hour", clio.WebhookParams{URL: sink.URL, Model: "clio_payments_payment",
			Events: []string{"created"}, ExpiresIn: time.Hour}, time.Hour},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			w, _, err := c.Webhooks.Register(context.Background(), tc.p)
			if err != nil {
				t.Fatal(err)
			}
			if w.Id == 0 || w.Model == "" || w.Model != tc.p.Model || w.Url == "" || w.Url != tc.p.URL ||
				w.Status == "" || w.Status != "pending" || w.SharedSecret == "" || w.ExpiresAt.IsZero() {
				t.Fatalf("registered webhook = %+v", w)
			}
			if w.SharedSecret != sink.lastSecret() {
				t.Fatal("shared_secret differs from the handshake's X-Hook-Secret")
			}
			if got := strings.Join(w.Events, ","); got != strings.Join(tc.p.Events, ",") {
				t.Fatalf("events = %s, want %v", got, tc.p.Events)
			}
			want := tc.wantExp
			if want == 0 {
				want = 3 * 24 * time.Hour
			}
			if d := w.ExpiresAt.Sub(start); d < want-2*time.Minute || d > want+2*time.Second {
				t.Fatalf("expires in %s, want about %s", d, want)
			}
			if f := tc.p.Fields.String(); f != "" && (w.Fields == "" || w.Fields != f) {
				t.Fatalf("fields = %v, want %s", w.Fields, f)
			}
		})
	}
	if v := srv.Violations(); len(v) > 0 {
		t.Fatal(v)
	}
}

// Renew and RenewExpiring push expiry forward, never past 31 days, and
// touch only the webhooks that expire soon.
func TestWebhooksRenew(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, cliotest.WithInsecureWebhooks())
	sink := newHookSink(t)
	ctx := context.Background()
	reg := func(life time.Duration) gen.Webhook {
		t.Helper()
		w, _, err := c.Webhooks.Register(ctx, clio.WebhookParams{URL: sink.URL, Model: "task", Events: []string{"created"}, ExpiresIn: life})
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	soon, later, days := reg(time.Hour), reg(20*24*time.Hour), reg(2*24*time.Hour)

	// Explicit renewals: refused client-side when impossible.
	for _, tc := range []struct {
		name  string
		id    int64
		until time.Time
		field string
	}{
		{"past", soon.Id, time.Now().Add(-time.Minute), "until"},
		{"beyond 31 days", soon.Id, time.Now().Add(32 * 24 * time.Hour), "until"},
		{"no id", 0, time.Now().Add(time.Hour), "id"},
	} {
		before := srv.Counters().Requests
		_, _, err := c.Webhooks.Renew(ctx, tc.id, tc.until)
		var ie *clio.InputError
		if !errors.As(err, &ie) || ie.Field != tc.field || srv.Counters().Requests != before {
			t.Fatalf("%s: err = %v, want an *InputError naming %s and no request", tc.name, err, tc.field)
		}
	}
	until := time.Now().Add(5 * 24 * time.Hour).Truncate(time.Second)
	w, _, err := c.Webhooks.Renew(ctx, soon.Id, until)
	if err != nil || w.ExpiresAt.IsZero() || !w.ExpiresAt.Equal(until) {
		t.Fatalf("Renew: %+v %v, want expires_at %s", w.ExpiresAt, err, until)
	}
	// At the 31-day limit: trimmed for skew, accepted by Clio.
	w, _, err = c.Webhooks.Renew(ctx, soon.Id, time.Now().Add(clio.WebhookMaxLifetime))
	if err != nil || w.ExpiresAt.After(time.Now().Add(clio.WebhookMaxLifetime)) {
		t.Fatalf("Renew at the limit: %v %v", w.ExpiresAt, err)
	}
	// Back to an hour, then renew what expires within 3 days by 30 days.
	if _, _, err := c.Webhooks.Renew(ctx, soon.Id, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	laterBefore, _, _ := c.Webhooks.Get(ctx, later.Id, clio.Fields("id", "expires_at"))
	start := time.Now()
	renewed, _, err := c.Webhooks.RenewExpiring(ctx, 3*24*time.Hour, 30*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	got := map[int64]time.Time{}
	for _, w := range renewed {
		got[w.Id] = w.ExpiresAt
	}
	if len(got) != 2 || got[soon.Id].IsZero() || got[days.Id].IsZero() {
		t.Fatalf("renewed %v, want webhooks %d and %d", got, soon.Id, days.Id)
	}
	// 1 hour + 30 days: under the cap, kept as computed.
	if d := got[soon.Id].Sub(start); d < 30*24*time.Hour+time.Hour-time.Minute || d > 30*24*time.Hour+time.Hour+time.Minute {
		t.Fatalf("the 1-hour webhook now expires in %s, want about 30 days 1 hour", d)
	}
	// 2 days + 30 days: capped at 31 days from now.
	if d := got[days.Id].Sub(start); d > clio.WebhookMaxLifetime || d < clio.WebhookMaxLifetime-2*time.Minute {
		t.Fatalf("the 2-day webhook now expires in %s, want just under 31 days", d)
	}
	laterAfter, _, _ := c.Webhooks.Get(ctx, later.Id, clio.Fields("id", "expires_at"))
	if !laterAfter.ExpiresAt.Equal(laterBefore.ExpiresAt) {
		t.Fatal("a webhook far from expiry was renewed")
	}
	if _, _, err := c.Webhooks.RenewExpiring(ctx, 0, time.Hour); !errors.Is(err, clio.ErrInvalidInput) {
		t.Fatalf("within 0: %v", err)
	}
}

// A receiver that stores the secret instead of echoing it leaves the
// webhook pending until Activate sends the secret back.
func TestWebhooksActivate(t *testing.T) {
	t.Parallel()
	_, c := newFake(t, cliotest.WithInsecureWebhooks())
	sink := newHookSink(t)
	ctx := context.Background()
	w, _, err := c.Webhooks.Register(ctx, clio.WebhookParams{URL: sink.URL, Model: "matter", Events: []string{"created"}})
	if err != nil || w.Status != "pending" {
		t.Fatalf("register: %v %v", err, w.Status)
	}
	id := w.Id
	if _, err := c.Webhooks.Activate(ctx, id, ""); !errors.Is(err, clio.ErrInvalidInput) {
		t.Fatalf("empty secret: %v", err)
	}
	if _, err := c.Webhooks.Activate(ctx, id, "not-the-secret"); !errors.Is(err, clio.ErrValidation) {
		t.Fatalf("wrong secret: %v, want ErrValidation", err)
	}
	if _, err := c.Webhooks.Activate(ctx, id, sink.lastSecret()); err != nil {
		t.Fatal(err)
	}
	got, _, err := c.Webhooks.Get(ctx, id, clio.Fields("id", "status"))
	if err != nil || got.Status == "" || got.Status != "enabled" {
		t.Fatalf("after Activate: %v %v, want enabled", got.Status, err)
	}
}

func ExampleWebhooksService_Register() {
	ctx := context.Background()
	// A fake Clio stands in for the real one; in production the client
	// targets a region and the receiver is an https endpoint of your app.
	srv := cliotest.NewServer(cliotest.WithRateLimit(0, 0), cliotest.WithInsecureWebhooks())
	defer srv.Close()
	c, err := clio.NewClient(ctx, clio.WithBaseURL(srv.URL), clio.WithToken(srv.IssueToken().AccessToken))
	if err != nil {
		log.Fatal(err)
	}

	// The receiving side: package webhook answers the handshake of the
	// webhooks recorded in the registry, and verifies every delivery. In
	// production the registry is a database table both sides reach.
	type matter struct {
		ID          int64  `json:"id"`
		Description string `json:"description"`
	}
	registry := webhook.NewMemoryRegistry()
	events := make(chan string, 1)
	receiver := httptest.NewServer(webhook.NewHandler(registry, func(ctx context.Context, ev webhook.Event) error {
		m, err := webhook.DecodeData[matter](ev)
		if err != nil {
			return err
		}
		events <- fmt.Sprintf("%s %s: %s", ev.Model, ev.Name, m.Description)
		return nil
	}))
	defer receiver.Close()

	w, _, err := c.Webhooks.Register(ctx, clio.WebhookParams{
		URL:       receiver.URL + "/clio/hooks",
		Model:     "matter",
		Events:    []string{"created", "updated"},
		Fields:    clio.Fields("id", "etag", "description"),
		ExpiresIn: 7 * 24 * time.Hour,
	}, clio.UseWebhookRegistry(registry))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("webhook", w.Model, w.Status)

	client, _, err := c.Contacts.Create(ctx, nil, gen.ContactCreateInput{Type: gen.ContactTypePerson, FirstName: clio.Ptr("Ann"), LastName: clio.Ptr("Smith")})
	if err != nil {
		log.Fatal(err)
	}
	_, _, err = c.Matters.Create(ctx, nil, gen.MatterCreateInput{
		Client: clio.Ref(client.Id), Description: clio.Ptr("Smith v. Jones"),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(<-events)

	// Later, e.g. daily: keep webhooks from expiring.
	if _, _, err := c.Webhooks.RenewExpiring(ctx, 2*24*time.Hour, 30*24*time.Hour, clio.UseWebhookRegistry(registry)); err != nil {
		log.Fatal(err)
	}
	// Output:
	// webhook matter enabled
	// matter created: Smith v. Jones
}

// The caller's paging options are for the listing: the renewals, which are not lists, go
// through without them instead of failing with an *InputError.
func TestWebhooksRenewExpiringWithPagingOptions(t *testing.T) {
	t.Parallel()
	_, c := newFake(t, cliotest.WithInsecureWebhooks())
	sink := newHookSink(t)
	ctx := context.Background()
	for range 2 {
		if _, _, err := c.Webhooks.Register(ctx, clio.WebhookParams{URL: sink.URL, Model: "task", Events: []string{"created"}, ExpiresIn: time.Hour}); err != nil {
			t.Fatal(err)
		}
	}
	for _, opts := range [][]clio.CallOption{{clio.PageSize(1)}, {clio.OffsetPagination(2)}} {
		renewed, _, err := c.Webhooks.RenewExpiring(ctx, 3*24*time.Hour, time.Hour, opts...)
		if err != nil || len(renewed) != 2 {
			t.Fatalf("RenewExpiring with paging options: %d renewed, %v", len(renewed), err)
		}
	}
}
