package webhook

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
)

// DefaultMaxBodyBytes bounds the size of a request body the Handler reads
// (1 MiB). Clio payloads hold only the fields a webhook asked for, so they are
// small; the bound stops a caller from making the receiver buffer an
// arbitrary amount of data before the signature can be checked.
const DefaultMaxBodyBytes = 1 << 20

// ErrGone may be returned (or wrapped) by an event function to make the
// Handler answer 410 Gone, which tells Clio to disable the webhook.
var ErrGone = errors.New("webhook: unsubscribe")

// Event is one verified webhook delivery.
//
// Clio's payload is {"data": {...record fields...}, "meta": {"event": ...,
// "webhook_id": ...}}; it does not name the model, so Model is filled in by
// the function given to WithModel, or from the "model" query parameter of the
// URL the webhook was registered with (e.g. https://example.com/hooks?model=matter).
type Event struct {
	// WebhookID is the id of the webhook that fired.
	WebhookID int64
	// Name is the event: "created", "updated", "deleted", or a model
	// specific one such as "matter_opened", "matter_pended", "matter_closed".
	Name string
	// Model is the webhook's model ("matter", "activity", ...) when known,
	// otherwise "".
	Model string
	// ID is the id of the record the event is about (data.id), 0 if absent.
	ID int64
	// ETag is the record's etag (data.etag), "" if absent.
	ETag string
	// Data is the raw "data" object: the fields the webhook asked for.
	Data json.RawMessage
}

// DecodeData decodes ev.Data into a T, typically a generated record type or
// a small struct holding the fields the webhook asked for.
func DecodeData[T any](ev Event) (T, error) {
	var v T
	if len(ev.Data) == 0 {
		return v, errors.New("webhook: event has no data")
	}
	if err := json.Unmarshal(ev.Data, &v); err != nil {
		return v, fmt.Errorf("webhook: decoding %s %s event data: %w", ev.Model, ev.Name, err)
	}
	return v, nil
}

// Handler is an http.Handler that receives Clio webhooks. Build one with
// NewHandler. It is safe for concurrent use.
//
// Answers:
//   - 200 on a handshake (with X-Hook-Secret echoed unless
//     WithDelayedActivation is used) and on a delivery handled successfully
//     or recognised as a duplicate of one that was;
//   - 400 on a body that is not a Clio payload or names no webhook id;
//   - 401 on a delivery with a missing or wrong signature, or for a webhook
//     whose secret is unknown;
//   - 403 on a handshake refused by the WithHandshakeCheck function or, without
//     one, on a handshake for a webhook whose secret is already stored (the same
//     secret again is accepted);
//   - 405 on anything but POST;
//   - 409 on a re-delivery that arrives while the first copy is still being
//     handled (Clio retries it later);
//   - 410 when the event function returns ErrGone;
//   - 413 on a body larger than the limit (WithMaxBodyBytes);
//   - 500 when the event function or a store fails, so that Clio retries.
//
// Error details are logged, never written to the answer.
type Handler struct {
	store     SecretStore
	fn        func(context.Context, Event) error
	maxBody   int64
	dedupe    Deduper
	activate  func(ctx context.Context, webhookID int64, secret []byte) error
	check     func(ctx context.Context, webhookID int64, r *http.Request) error
	idFromReq func(r *http.Request) (int64, bool)
	model     func(r *http.Request, webhookID int64) string
	log       *slog.Logger
}

// Option configures a Handler.
type Option func(*Handler)

// WithMaxBodyBytes sets the largest body accepted (DefaultMaxBodyBytes by
// default); larger bodies get 413 without being read to the end.
func WithMaxBodyBytes(n int64) Option {
	return func(h *Handler) {
		if n > 0 {
			h.maxBody = n
		}
	}
}

// WithDeduper replaces the default in-memory deduper (NewMemoryDeduper with
// DefaultDedupeSize). Pass nil to turn de-duplication off, for instance when
// the event function is itself idempotent.
func WithDeduper(d Deduper) Option { return func(h *Handler) { h.dedupe = d } }

// WithDelayedActivation makes the handshake store the secret and call
// activate instead of echoing X-Hook-Secret. activate typically calls
// PUT /api/v4/webhooks/{id}/activate.json with the secret, now or later (for
// instance after an operator approved the subscription). If activate returns
// an error the handshake gets 500.
func WithDelayedActivation(activate func(ctx context.Context, webhookID int64, secret []byte) error) Option {
	return func(h *Handler) { h.activate = activate }
}

// WithHandshakeCheck sets a function that must approve a handshake before its
// secret is stored; an error refuses it with 403.
//
// The handshake is not signed (its whole point is to hand over the secret),
// so anyone who can reach the URL can send one. Without a check, the handler
// therefore accepts a handshake only for a webhook whose secret it does not
// know yet: a forged handshake cannot replace a secret and sign events. Clio
// sends a new handshake when a webhook's URL changes; to accept it, set a
// check that confirms through the API that the webhook id exists, belongs to
// this app and is pending (the check then decides alone).
func WithHandshakeCheck(check func(ctx context.Context, webhookID int64, r *http.Request) error) Option {
	return func(h *Handler) { h.check = check }
}

// WithWebhookIDFromRequest sets where the webhook id comes from when it is
// part of the URL the webhook was registered with, for example
//
//	webhook.WithWebhookIDFromRequest(func(r *http.Request) (int64, bool) {
//		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
//		return id, err == nil
//	})
//
// By default the id is the "webhook_id" query parameter when present, and
// otherwise is read from the body: meta.webhook_id for deliveries, and for
// handshakes the first of meta.webhook_id, webhook_id, id, data.webhook_id,
// data.id. When the request names an id and the delivery body names another
// one, the delivery is refused with 400.
func WithWebhookIDFromRequest(f func(r *http.Request) (int64, bool)) Option {
	return func(h *Handler) { h.idFromReq = f }
}

// WithModel sets the function that fills Event.Model, typically from a
// lookup of the webhooks this app created. By default Model is the "model"
// query parameter of the request URL.
func WithModel(f func(r *http.Request, webhookID int64) string) Option {
	return func(h *Handler) { h.model = f }
}

// WithLogger sets where refused requests and event function errors are
// logged (slog.Default by default). Secrets and signatures are never logged.
func WithLogger(l *slog.Logger) Option {
	return func(h *Handler) {
		if l != nil {
			h.log = l
		}
	}
}

var errNoEventFunc = errors.New("webhook: the Handler has no event function (NewHandler with a nil fn)")

// NewHandler returns a Handler that stores handshake secrets in store,
// verifies deliveries against them and calls fn once per distinct event.
// A nil store is an in-memory one (secrets are then lost on restart); a nil
// fn answers every delivery with 500, so that Clio keeps it for later.
//
// fn runs before the answer is sent, and Clio gives up waiting after a short
// time (then retries): do lengthy work asynchronously. An error from fn gives
// a 500 answer so that Clio retries the delivery later.
func NewHandler(store SecretStore, fn func(ctx context.Context, ev Event) error, opts ...Option) *Handler {
	if store == nil {
		store = NewMemorySecretStore()
	}
	if fn == nil {
		// Acknowledging events nobody handles would lose them: fail every delivery, so
		// Clio keeps it for retry, and say why in the log.
		fn = func(context.Context, Event) error { return errNoEventFunc }
	}
	h := &Handler{
		store:   store,
		fn:      fn,
		maxBody: DefaultMaxBodyBytes,
		dedupe:  NewMemoryDeduper(0),
		log:     slog.Default(),
	}
	for _, o := range opts {
		o(h)
	}
	return h
}

// payload is the part of Clio's webhook body the Handler looks at.
type payload struct {
	ID        json.RawMessage `json:"id"`
	WebhookID json.RawMessage `json:"webhook_id"`
	Data      json.RawMessage `json:"data"`
	Meta      struct {
		Event     string          `json:"event"`
		WebhookID json.RawMessage `json:"webhook_id"`
	} `json:"meta"`
}

type recordHead struct {
	ID        json.RawMessage `json:"id"`
	WebhookID json.RawMessage `json:"webhook_id"`
	ETag      string          `json:"etag"`
}

// parseID accepts an id as a JSON number or a JSON string holding one, since
// the spec is loose about how ids are typed in payloads.
func parseID(raw json.RawMessage) (int64, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return 0, false
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return 0, false
		}
		raw = []byte(s)
	}
	id, err := strconv.ParseInt(string(raw), 10, 64)
	return id, err == nil && id > 0
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.answer(w, http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			h.log.WarnContext(r.Context(), "webhook: body too large", "limit", h.maxBody)
			h.answer(w, http.StatusRequestEntityTooLarge)
			return
		}
		h.answer(w, http.StatusBadRequest)
		return
	}
	if secret := r.Header.Get(HeaderSecret); secret != "" {
		h.handshake(w, r, body, secret)
		return
	}
	h.deliver(w, r, body)
}

func (h *Handler) answer(w http.ResponseWriter, code int) {
	http.Error(w, http.StatusText(code), code)
}

// requestID returns the webhook id named by the request itself (URL), if any.
func (h *Handler) requestID(r *http.Request) (int64, bool) {
	if h.idFromReq != nil {
		return h.idFromReq(r)
	}
	if v := r.URL.Query().Get("webhook_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		return id, err == nil && id > 0
	}
	return 0, false
}

func (h *Handler) handshake(w http.ResponseWriter, r *http.Request, body []byte, secret string) {
	ctx := r.Context()
	id, ok := h.requestID(r)
	if !ok {
		var p payload
		if len(bytes.TrimSpace(body)) > 0 && json.Unmarshal(body, &p) == nil {
			var d recordHead
			_ = json.Unmarshal(p.Data, &d)
			for _, raw := range []json.RawMessage{p.Meta.WebhookID, p.WebhookID, p.ID, d.WebhookID, d.ID} {
				if id, ok = parseID(raw); ok {
					break
				}
			}
		}
	}
	if !ok {
		h.log.WarnContext(ctx, "webhook: handshake without a webhook id")
		h.answer(w, http.StatusBadRequest)
		return
	}
	if h.check != nil {
		if err := h.check(ctx, id, r); err != nil {
			h.log.WarnContext(ctx, "webhook: handshake refused", "webhook_id", id, "err", err)
			h.answer(w, http.StatusForbidden)
			return
		}
	} else if known, err := h.store.Secret(ctx, id); err == nil {
		// Without a check, a handshake may only introduce a webhook, never replace the
		// secret of one we know: that would let anyone who reaches the URL sign events.
		// The same secret again is Clio repeating a handshake (its answer was lost, or the
		// activation failed): whoever sends it knows it already.
		if subtle.ConstantTimeCompare(known, []byte(secret)) != 1 {
			h.log.WarnContext(ctx, "webhook: handshake refused: a secret is already stored for this webhook (use WithHandshakeCheck to allow re-handshakes)", "webhook_id", id)
			h.answer(w, http.StatusForbidden)
			return
		}
	} else if !errors.Is(err, ErrUnknownWebhook) {
		// Unknown whether a secret is stored: refusing is safe, and Clio retries later.
		h.log.ErrorContext(ctx, "webhook: loading secret", "webhook_id", id, "err", err)
		h.answer(w, http.StatusInternalServerError)
		return
	}
	if err := h.store.SetSecret(ctx, id, []byte(secret)); err != nil {
		h.log.ErrorContext(ctx, "webhook: storing secret", "webhook_id", id, "err", err)
		h.answer(w, http.StatusInternalServerError)
		return
	}
	if h.activate != nil {
		if err := h.activate(ctx, id, []byte(secret)); err != nil {
			h.log.ErrorContext(ctx, "webhook: delayed activation", "webhook_id", id, "err", err)
			h.answer(w, http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
		return
	}
	w.Header().Set(HeaderSecret, secret)
	w.WriteHeader(http.StatusOK)
}

func (h *Handler) deliver(w http.ResponseWriter, r *http.Request, body []byte) {
	ctx := r.Context()
	var p payload
	if err := json.Unmarshal(body, &p); err != nil {
		h.answer(w, http.StatusBadRequest)
		return
	}
	bodyID, bodyOK := parseID(p.Meta.WebhookID)
	id, ok := h.requestID(r)
	switch {
	case ok && bodyOK && id != bodyID:
		h.log.WarnContext(ctx, "webhook: webhook id in URL and body differ", "url", id, "body", bodyID)
		h.answer(w, http.StatusBadRequest)
		return
	case !ok && !bodyOK:
		h.answer(w, http.StatusBadRequest)
		return
	case !ok:
		id = bodyID
	}

	secret, err := h.store.Secret(ctx, id)
	if err != nil {
		if errors.Is(err, ErrUnknownWebhook) {
			h.log.WarnContext(ctx, "webhook: delivery for unknown webhook", "webhook_id", id)
			h.answer(w, http.StatusUnauthorized)
			return
		}
		h.log.ErrorContext(ctx, "webhook: loading secret", "webhook_id", id, "err", err)
		h.answer(w, http.StatusInternalServerError)
		return
	}
	if err := Verify(secret, body, r.Header.Get(HeaderSignature)); err != nil {
		h.log.WarnContext(ctx, "webhook: refused delivery", "webhook_id", id, "err", err)
		h.answer(w, http.StatusUnauthorized)
		return
	}

	// From here on the body is known to come from Clio.
	var head recordHead
	_ = json.Unmarshal(p.Data, &head) // data may legitimately lack id/etag
	ev := Event{WebhookID: id, Name: p.Meta.Event, ETag: head.ETag, Data: p.Data}
	ev.ID, _ = parseID(head.ID)
	if h.model != nil {
		ev.Model = h.model(r, id)
	} else {
		ev.Model = r.URL.Query().Get("model")
	}

	if h.dedupe == nil {
		h.run(w, r, ev)
		return
	}
	key := dedupeKey(ev, body)
	state, err := h.dedupe.Claim(ctx, key)
	if err != nil {
		h.log.ErrorContext(ctx, "webhook: dedupe claim", "err", err)
		h.answer(w, http.StatusInternalServerError)
		return
	}
	switch state {
	case ClaimDone:
		w.WriteHeader(http.StatusOK)
		return
	case ClaimInProgress:
		h.answer(w, http.StatusConflict)
		return
	}
	ok = false
	defer func() {
		// Also runs when fn panics: releasing the claim keeps a panicking
		// event from being answered 409 forever.
		// The context may be cancelled once the client has gone away; the
		// outcome must still be recorded.
		if err := h.dedupe.Finish(context.WithoutCancel(ctx), key, ok); err != nil {
			h.log.ErrorContext(ctx, "webhook: dedupe finish", "err", err)
		}
	}()
	ok = h.run(w, r, ev)
}

// run calls the event function and answers; it reports success.
func (h *Handler) run(w http.ResponseWriter, r *http.Request, ev Event) bool {
	if err := h.fn(r.Context(), ev); err != nil {
		if errors.Is(err, ErrGone) {
			h.answer(w, http.StatusGone)
			// Clio disables the webhook: no retry will come, remember it.
			return true
		}
		h.log.ErrorContext(r.Context(), "webhook: event function failed",
			"webhook_id", ev.WebhookID, "event", ev.Name, "id", ev.ID, "err", err)
		h.answer(w, http.StatusInternalServerError)
		return false
	}
	w.WriteHeader(http.StatusOK)
	return true
}

// dedupeKey identifies an event across re-deliveries. When the payload holds
// no etag (a webhook registered with fields that leave it out), the body
// hash stands in for it: Clio re-sends the same body, while the record id
// alone would make every later change of that record look like a duplicate.
func dedupeKey(ev Event, body []byte) string {
	if ev.ETag == "" {
		sum := sha256.Sum256(body)
		return fmt.Sprintf("%d|%s|%d|body:%s", ev.WebhookID, ev.Name, ev.ID, hex.EncodeToString(sum[:]))
	}
	return fmt.Sprintf("%d|%s|%d|%s", ev.WebhookID, ev.Name, ev.ID, ev.ETag)
}
