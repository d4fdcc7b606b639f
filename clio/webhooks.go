package clio

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/clio-go/clio-go/clio/webhook"
	"github.com/clio-go/clio-go/gen"
)

// The sending side of Clio webhooks: thin helpers over the generated
// Webhooks service (Create, List, Update, ActivateWebhook) that validate
// before any request and handle expiry. The receiving side (handshake,
// signatures, typed events) is package clio/webhook.

// WebhookMaxLifetime is the longest a Clio webhook lives: expires_at is at
// most 31 days away (the default is 3 days). Webhooks must be renewed
// before they expire; see Renew and RenewExpiring.
const WebhookMaxLifetime = 31 * 24 * time.Hour

// webhookSkew is kept off WebhookMaxLifetime when the client computes an
// expiry at the limit, so that a server clock a little behind ours does
// not refuse it as more than 31 days away.
const webhookSkew = time.Minute

// maxWebhookFields is the longest fields value Clio accepts on a webhook.
const maxWebhookFields = 1000

// webhookModels are the models Clio sends webhooks for.
var webhookModels = []string{
	"matter", "activity", "bill", "calendar_entry", "communication",
	"contact", "task", "document", "folder", "clio_payments_payment",
}

// matterWebhookEvents are events only the matter model has.
var matterWebhookEvents = []string{"matter_opened", "matter_pended", "matter_closed"}

// webhookDefaultLifetime is how long Clio keeps a webhook registered
// without expires_at.
const webhookDefaultLifetime = 3 * 24 * time.Hour

// webhookHandshakeWindow is how long after Register records a
// registration its handshake is accepted (webhook.Registration.HandshakeBy).
// Clio sends the handshake while it creates the webhook: this is room for a
// slow creation and for clock skew between the registering process and the
// receiver.
const webhookHandshakeWindow = 15 * time.Minute

// webhookAnswerFields is what Register, Renew and RenewExpiring ask Clio to
// answer with unless the call passes its own Fields.
var webhookAnswerFields = Fields("id", "etag", "url", "model", "events", "fields", "status", "expires_at", "shared_secret", "created_at", "updated_at")

// WebhookModels returns the models Clio sends webhooks for ("matter",
// "activity", ..., "clio_payments_payment").
func WebhookModels() []string { return slices.Clone(webhookModels) }

// WebhookParams describes a webhook to register with WebhooksService.Register.
type WebhookParams struct {
	// URL receives the handshake and the deliveries. Clio requires https;
	// http is accepted only for loopback hosts (localhost, 127.0.0.1, ::1),
	// for tests and local fakes. A query string is kept as given; with
	// UseWebhookRegistry, Register adds the registration token to it as the
	// clio_hook parameter (webhook.TokenParam), which the URL must not
	// carry already.
	URL string
	// Model is one of WebhookModels, e.g. "matter".
	Model string
	// Events lists at least one of "created", "updated", "deleted", and for
	// the matter model also "matter_opened", "matter_pended",
	// "matter_closed".
	Events []string
	// Fields are the record fields each delivery carries (and, for
	// "updated", the ones whose change triggers it). Zero means Clio's
	// default (id and etag). Build it with Fields/Nested, or ParseFields
	// for a string; at most 1000 characters.
	Fields FieldSet
	// ExpiresIn is the webhook's lifetime, at most WebhookMaxLifetime
	// (31 days). Zero means Clio's default, 3 days.
	ExpiresIn time.Duration
}

// validate checks p as Clio would, naming the offending field.
func (p *WebhookParams) validate() error {
	if err := checkWebhookURL(p.URL); err != nil {
		return err
	}
	if !slices.Contains(webhookModels, p.Model) {
		return &InputError{Field: "Model", Reason: fmt.Sprintf("%q is not a webhook model; use one of %s", p.Model, strings.Join(webhookModels, ", "))}
	}
	if len(p.Events) == 0 {
		return &InputError{Field: "Events", Reason: "at least one event is required (created, updated, deleted)"}
	}
	for i, e := range p.Events {
		switch {
		case e == "created" || e == "updated" || e == "deleted":
		case slices.Contains(matterWebhookEvents, e):
			if p.Model != "matter" {
				return &InputError{Field: "Events", Reason: fmt.Sprintf("%q is only available for the matter model, not %q", e, p.Model)}
			}
		default:
			allowed := "created, updated, deleted"
			if p.Model == "matter" {
				allowed += ", " + strings.Join(matterWebhookEvents, ", ")
			}
			return &InputError{Field: "Events", Reason: fmt.Sprintf("%q is not a webhook event; use %s", e, allowed)}
		}
		if slices.Contains(p.Events[:i], e) {
			return &InputError{Field: "Events", Reason: fmt.Sprintf("%q is listed twice", e)}
		}
	}
	if err := checkWebhookFields(p.Fields); err != nil {
		return err
	}
	if p.ExpiresIn < 0 {
		return &InputError{Field: "ExpiresIn", Reason: fmt.Sprintf("%s is negative", p.ExpiresIn)}
	}
	if p.ExpiresIn > WebhookMaxLifetime {
		return &InputError{Field: "ExpiresIn", Reason: fmt.Sprintf("%s is more than Clio's 31 days (%s)", p.ExpiresIn, WebhookMaxLifetime)}
	}
	return nil
}

func checkWebhookURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return &InputError{Field: "URL", Reason: fmt.Sprintf("%q is not an absolute URL", sanitizeString(raw))}
	}
	if u.User != nil {
		return &InputError{Field: "URL", Reason: "must not carry credentials (user:password@)"}
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopbackHost(u.Hostname()) {
			return nil
		}
		return &InputError{Field: "URL", Reason: fmt.Sprintf("Clio delivers webhooks over https only; http is accepted for loopback hosts alone, not %q", u.Hostname())}
	}
	return &InputError{Field: "URL", Reason: fmt.Sprintf("scheme %q: Clio delivers webhooks over https only", u.Scheme)}
}

func isLoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func checkWebhookFields(f FieldSet) error {
	if err := f.Err(); err != nil {
		var ie *InputError
		if errors.As(err, &ie) {
			return &InputError{Field: "Fields", Reason: ie.Reason}
		}
		return &InputError{Field: "Fields", Reason: err.Error()}
	}
	if s := f.String(); len(s) > maxWebhookFields {
		return &InputError{Field: "Fields", Reason: fmt.Sprintf("%d characters is more than Clio's %d", len(s), maxWebhookFields)}
	}
	return nil
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// webhookLimit is the latest expires_at the client asks for: 31 days from
// now, less a minute for clock skew.
func webhookLimit(now time.Time) time.Time {
	return now.Add(WebhookMaxLifetime - webhookSkew)
}

// UseWebhookRegistry makes Register, Renew and RenewExpiring keep reg, the
// webhook.Registry the clio/webhook Handler receiving the webhooks uses, up
// to date: Register records each new webhook there (the only webhooks whose
// handshake the Handler accepts), and renewals move the registration's
// expiry with the webhook's. Other calls ignore it.
func UseWebhookRegistry(reg webhook.Registry) CallOption { return webhookRegistryOption{reg} }

type webhookRegistryOption struct{ reg webhook.Registry }

func (webhookRegistryOption) applyCall(*settings) {}

// webhookRegistry returns the registry among opts, nil when there is none.
func webhookRegistry(opts []CallOption) webhook.Registry {
	var reg webhook.Registry
	for _, o := range opts {
		if r, ok := o.(webhookRegistryOption); ok && r.reg != nil {
			reg = r.reg
		}
	}
	return reg
}

// Register creates a webhook after checking p client-side: an invalid
// URL, model, event, fields value or lifetime fails with an *InputError
// naming the WebhookParams field, before any request.
//
// Clio answers the registration by POSTing a handshake with X-Hook-Secret
// to p.URL; until the receiver echoes it (the clio/webhook handler does)
// or the app calls Activate with it, the webhook is "pending". The
// returned webhook carries id, url, status, expires_at and shared_secret,
// unless opts select other Fields.
//
// With UseWebhookRegistry(reg) among opts, which the clio/webhook Handler
// requires, Register first records a webhook.Registration with a fresh
// unguessable token in reg and registers p.URL with the token added (the
// clio_hook query parameter): the Handler accepts the handshake of that
// URL alone, so nobody else can slip their own secret in for the webhook.
// Once Clio answers, the webhook's id and expiry are recorded in the
// registration; if the creation fails, the registration is removed. The
// registration takes a handshake for 15 minutes only (its HandshakeBy): if
// the receiver missed Clio's, register the webhook again rather than let
// its URL take anyone's secret later.
//
// A lifetime of exactly WebhookMaxLifetime is trimmed by a minute, so that
// a Clio clock slightly behind this one does not reject it.
func (s *WebhooksService) Register(ctx context.Context, p WebhookParams, opts ...CallOption) (gen.Webhook, *Response, error) {
	if err := p.validate(); err != nil {
		return gen.Webhook{}, nil, err
	}
	in := gen.WebhookCreateInput{
		Url:    p.URL,
		Model:  p.Model,
		Events: slices.Clone(p.Events),
	}
	if f := p.Fields.String(); f != "" {
		in.Fields = Ptr(f)
	}
	now := time.Now()
	expires := now.Add(webhookDefaultLifetime)
	if p.ExpiresIn > 0 {
		exp := earliest(now.Add(p.ExpiresIn), webhookLimit(now)).UTC().Truncate(time.Second)
		in.ExpiresAt = &exp
		expires = exp
	}
	reg := webhookRegistry(opts)
	var token string
	if reg != nil {
		if webhook.TokenFromURL(p.URL) != "" {
			return gen.Webhook{}, nil, &InputError{Field: "URL", Reason: "already carries a " + webhook.TokenParam + " parameter; Register adds a fresh registration token itself"}
		}
		var err error
		if token, err = webhook.NewToken(); err != nil {
			return gen.Webhook{}, nil, err
		}
		if in.Url, err = webhook.URLWithToken(p.URL, token); err != nil {
			return gen.Webhook{}, nil, err
		}
		// Recorded before the creation: Clio sends the handshake before it answers.
		// The skew keeps a registration from ending before its webhook does.
		r := webhook.Registration{Token: token, Model: p.Model, ExpiresAt: expires.Add(webhookSkew),
			HandshakeBy: now.Add(webhookHandshakeWindow)}
		if err := reg.Add(ctx, r); err != nil {
			return gen.Webhook{}, nil, fmt.Errorf("clio: recording the webhook registration: %w", err)
		}
	}
	w, resp, err := s.Create(ctx, in, withAnswerFields(opts)...)
	if reg == nil {
		return w, resp, err
	}
	if err != nil {
		// Nothing was created (or nothing is known of it): the token must not stay usable.
		if rerr := reg.Remove(context.WithoutCancel(ctx), token); rerr != nil {
			err = errors.Join(err, fmt.Errorf("clio: removing the webhook registration: %w", rerr))
		}
		return w, resp, err
	}
	if !w.ExpiresAt.IsZero() {
		expires = w.ExpiresAt
	}
	if err := reg.SetWebhook(ctx, token, w.Id, expires.Add(webhookSkew)); err != nil {
		return w, resp, fmt.Errorf("clio: webhook %d was created but recording it in the registry failed: %w", w.Id, err)
	}
	return w, resp, nil
}

// Renew moves webhook id's expiry to until, which must be in the future
// and at most WebhookMaxLifetime (31 days) away; otherwise it fails with
// an *InputError naming "until" before any request. An until within a
// minute of the 31-day limit is trimmed to leave room for clock skew.
// With UseWebhookRegistry among opts, the expiry of the webhook's
// registration (found by the token in its URL) moves with it.
func (s *WebhooksService) Renew(ctx context.Context, id int64, until time.Time, opts ...CallOption) (gen.Webhook, *Response, error) {
	now := time.Now()
	switch {
	case id <= 0:
		return gen.Webhook{}, nil, &InputError{Field: "id", Reason: fmt.Sprintf("%d is not a webhook id", id)}
	case !until.After(now):
		return gen.Webhook{}, nil, &InputError{Field: "until", Reason: fmt.Sprintf("%s is not in the future", until.UTC().Format(time.RFC3339))}
	case until.After(now.Add(WebhookMaxLifetime)):
		return gen.Webhook{}, nil, &InputError{Field: "until", Reason: fmt.Sprintf("%s is more than 31 days away; Clio caps webhook lifetimes at 31 days", until.UTC().Format(time.RFC3339))}
	}
	exp := earliest(until, webhookLimit(now)).UTC().Truncate(time.Second)
	w, resp, err := s.Update(ctx, id, gen.WebhookUpdateInput{ExpiresAt: &exp}, withAnswerFields(opts)...)
	if reg := webhookRegistry(opts); reg != nil && err == nil {
		if token := webhook.TokenFromURL(w.Url); token != "" {
			if !w.ExpiresAt.IsZero() {
				exp = w.ExpiresAt
			}
			if rerr := reg.SetWebhook(ctx, token, id, exp.Add(webhookSkew)); rerr != nil {
				return w, resp, fmt.Errorf("clio: webhook %d was renewed but recording it in the registry failed: %w", id, rerr)
			}
		}
	}
	return w, resp, err
}

// RenewExpiring lists the app's webhooks and renews each one that expires
// within the given window (already expired ones included), pushing its
// expires_at by extendBy from its current expiry (or from now, if that is
// past), capped at 31 days from now. Run it periodically, e.g. daily with
// within = 2 days and extendBy = 30 days, to keep webhooks alive.
//
// It returns the renewed webhooks and the Response of the last call (the
// last renewal, or the listing when none was due). A failed renewal does not stop the
// others: the errors are joined (errors.Join) in the returned error. The
// listing comes first, so a failed listing renews nothing. opts apply to
// the listing and to each renewal (e.g. UseAPIVersion); the fields of the
// listing always include expires_at, and paging options apply to the
// listing only.
func (s *WebhooksService) RenewExpiring(ctx context.Context, within, extendBy time.Duration, opts ...CallOption) ([]gen.Webhook, *Response, error) {
	if within <= 0 {
		return nil, nil, &InputError{Field: "within", Reason: fmt.Sprintf("%s must be positive", within)}
	}
	if extendBy <= 0 {
		return nil, nil, &InputError{Field: "extendBy", Reason: fmt.Sprintf("%s must be positive", extendBy)}
	}
	type due struct {
		id  int64
		exp time.Time
	}
	var todo []due
	horizon := time.Now().Add(within)
	// The caller's options apply to the listing too, but its fields must
	// include expires_at: ours come last and win.
	listOpts := append(slices.Clone(opts), Fields("id", "expires_at"))
	var last *Response
	for p, err := range s.Pages(ctx, nil, listOpts...) {
		if err != nil {
			return nil, last, fmt.Errorf("clio: listing webhooks to renew: %w", err)
		}
		last = p.Response
		for _, w := range p.Items {
			if w.Id == 0 || w.ExpiresAt.IsZero() || w.ExpiresAt.After(horizon) {
				continue
			}
			todo = append(todo, due{w.Id, w.ExpiresAt})
		}
	}
	// The renewals are not lists: the caller's paging options, meant for the listing, would
	// make them fail (see notAList).
	renewOpts := append(slices.Clone(opts), callOptionFunc(func(c *settings) {
		c.pageURL, c.pageSize, c.offsetMode, c.workers = nil, 0, false, 0
	}))
	var renewed []gen.Webhook
	var errs []error
	for _, d := range todo {
		now := time.Now()
		from := d.exp
		if from.Before(now) {
			from = now
		}
		until := earliest(from.Add(extendBy), webhookLimit(now))
		w, resp, err := s.Renew(ctx, d.id, until, renewOpts...)
		if resp != nil {
			last = resp
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("renewing webhook %d: %w", d.id, err))
			if ctx.Err() != nil {
				break
			}
			continue
		}
		renewed = append(renewed, w)
	}
	return renewed, last, errors.Join(errs...)
}

// withAnswerFields puts the webhook answer fields first, so that a Fields option of the
// caller replaces them.
func withAnswerFields(opts []CallOption) []CallOption {
	return append([]CallOption{webhookAnswerFields}, opts...)
}

// Activate enables a pending webhook with the secret Clio sent in its
// handshake (PUT /webhooks/{id}/activate.json with X-Hook-Secret), for
// receivers that store the secret instead of echoing it (see
// webhook.WithDelayedActivation). A wrong secret is a 422 (ErrValidation).
// The secret is redacted from logs.
func (s *WebhooksService) Activate(ctx context.Context, id int64, secret string, opts ...CallOption) (*Response, error) {
	if id <= 0 {
		return nil, &InputError{Field: "id", Reason: fmt.Sprintf("%d is not a webhook id", id)}
	}
	if strings.TrimSpace(secret) == "" || strings.ContainsAny(secret, "\r\n") {
		return nil, &InputError{Field: "secret", Reason: "must be the non-empty X-Hook-Secret of the handshake"}
	}
	resp, err := s.ActivateWebhook(ctx, id, &gen.ActivateWebhookParams{XHookSecret: secret}, opts...)
	return resp, scrubValues(err, secret) // a refusal may quote the secret
}
