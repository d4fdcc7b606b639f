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
	"time"
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
// "webhook_id": ...}}; it does not name the model, so Model comes from the
// Registration (or the function given to WithModel).
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
// Every request must carry the token of a Registration the application made
// (the TokenParam query parameter that clio's WebhooksService.Register puts
// in the webhook URL), exactly once: a URL with two is refused. Clio's handshake carries only the X-Hook-Secret
// header: the token says which registration the secret belongs to, and a
// handshake without a known token is refused and stores nothing. A
// delivery is verified with the secret of its token's registration.
//
// Answers:
//   - 200 on a handshake (with X-Hook-Secret echoed unless
//     WithDelayedActivation is used) and on a delivery handled successfully
//     or recognised as a duplicate of one that was;
//   - 400 on a delivery body that is not a Clio payload;
//   - 401 on a delivery with a missing or wrong signature, an unknown or
//     expired token, for a registration without a secret yet, or naming
//     another webhook than its registration's;
//   - 403 on a handshake with an unknown or expired token, one past the
//     registration's HandshakeBy, one refused by the WithHandshakeCheck
//     function, or one bringing another secret than the one the
//     registration holds (the same secret again is accepted);
//   - 405 on anything but POST;
//   - 409 on a re-delivery that arrives while the first copy is still being
//     handled (Clio retries it later);
//   - 410 when the event function returns ErrGone;
//   - 413 on a body larger than the limit (WithMaxBodyBytes);
//   - 500 when the event function or a store fails, so that Clio retries.
//
// Error details are logged, never written to the answer; tokens, secrets
// and signatures are never logged.
type Handler struct {
	reg      Registry
	fn       func(context.Context, Event) error
	maxBody  int64
	dedupe   Deduper
	activate func(ctx context.Context, reg Registration) error
	check    func(ctx context.Context, reg Registration, r *http.Request) error
	model    func(r *http.Request, webhookID int64) string
	log      *slog.Logger
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
// DefaultDedupeSize). Pass a Deduper backed by a database to drop
// re-deliveries across restarts, or nil to turn de-duplication off, for
// instance when the event function is itself idempotent.
func WithDeduper(d Deduper) Option { return func(h *Handler) { h.dedupe = d } }

// WithDelayedActivation makes the handshake store the secret in the
// registration and call activate instead of echoing X-Hook-Secret.
// activate typically arranges for PUT /api/v4/webhooks/{id}/activate.json
// with reg.Secret (clio's WebhooksService.Activate), now or later, for
// instance after an operator approved the subscription. Clio sends the
// handshake while it creates the webhook, so reg.WebhookID is usually still
// 0: the id is recorded in the Registry when Register gets Clio's answer,
// and the activation must wait for it. If activate returns an error the
// handshake gets 500 (the secret stays stored).
func WithDelayedActivation(activate func(ctx context.Context, reg Registration) error) Option {
	return func(h *Handler) { h.activate = activate }
}

// WithHandshakeCheck sets a function that must also approve a handshake
// before its secret is stored; an error refuses it with 403. It is called
// only for a handshake whose token names a live registration: it can
// narrow what is accepted (say, registrations of one model, or requests
// from known addresses), never widen it.
func WithHandshakeCheck(check func(ctx context.Context, reg Registration, r *http.Request) error) Option {
	return func(h *Handler) { h.check = check }
}

// WithModel sets the function that fills Event.Model. By default Model is
// the Registration's model, or else the "model" query parameter of the
// request URL.
func WithModel(f func(r *http.Request, webhookID int64) string) Option {
	return func(h *Handler) { h.model = f }
}

// WithLogger sets where refused requests and event function errors are
// logged (slog.Default by default). Tokens, secrets and signatures are never
// logged.
func WithLogger(l *slog.Logger) Option {
	return func(h *Handler) {
		if l != nil {
			h.log = l
		}
	}
}

var errNoEventFunc = errors.New("webhook: the Handler has no event function (NewHandler with a nil fn)")

// NewHandler returns a Handler that accepts the handshakes of the webhooks
// registered in reg, verifies deliveries with their secrets and calls fn
// once per distinct event. reg must be the Registry the application
// registers webhooks with (clio.UseWebhookRegistry). A nil reg is an empty
// in-memory one nobody can add to: every request is then refused, never
// accepted. A nil fn answers every delivery with 500, so that Clio keeps it
// for later.
//
// fn runs before the answer is sent, and Clio gives up waiting after a short
// time (then retries): do lengthy work asynchronously. An error from fn gives
// a 500 answer so that Clio retries the delivery later.
func NewHandler(reg Registry, fn func(ctx context.Context, ev Event) error, opts ...Option) *Handler {
	if reg == nil {
		reg = NewMemoryRegistry()
	}
	if fn == nil {
		// Acknowledging events nobody handles would lose them: fail every delivery, so
		// Clio keeps it for retry, and say why in the log.
		fn = func(context.Context, Event) error { return errNoEventFunc }
	}
	h := &Handler{
		reg:     reg,
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
	Data json.RawMessage `json:"data"`
	Meta struct {
		Event     string          `json:"event"`
		WebhookID json.RawMessage `json:"webhook_id"`
	} `json:"meta"`
}

type recordHead struct {
	ID   json.RawMessage `json:"id"`
	ETag string          `json:"etag"`
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
		h.handshake(w, r, secret)
		return
	}
	h.deliver(w, r, body)
}

func (h *Handler) answer(w http.ResponseWriter, code int) {
	http.Error(w, http.StatusText(code), code)
}

// registration finds the registration named by the token in r's URL. It
// answers the request itself and returns false when there is none.
func (h *Handler) registration(w http.ResponseWriter, r *http.Request, refuse int, what string) (Registration, bool) {
	ctx := r.Context()
	tokens := r.URL.Query()[TokenParam]
	if len(tokens) != 1 || tokens[0] == "" {
		if len(tokens) > 1 {
			// Register puts exactly one in the URL. Two are a forgery, or a URL
			// that a proxy in front may read otherwise than this Handler does.
			h.log.WarnContext(ctx, "webhook: "+what+" refused: the URL has more than one "+TokenParam+" parameter")
		} else {
			h.log.WarnContext(ctx, "webhook: "+what+" refused: the URL has no "+TokenParam+" registration token (register webhooks through clio's Register with UseWebhookRegistry)")
		}
		h.answer(w, refuse)
		return Registration{}, false
	}
	token := tokens[0]
	reg, err := h.reg.Lookup(ctx, token)
	switch {
	case errors.Is(err, ErrUnknownRegistration) || err == nil && expired(&reg, time.Now()):
		// The expiry is checked here too: a Registry that forgot to filter
		// expired rows must not keep a registration alive.
		h.log.WarnContext(ctx, "webhook: "+what+" refused: unknown or expired registration token")
		h.answer(w, refuse)
		return Registration{}, false
	case err != nil:
		h.log.ErrorContext(ctx, "webhook: looking up a registration", "err", err)
		h.answer(w, http.StatusInternalServerError)
		return Registration{}, false
	case reg.Token != token:
		// A Registry that answers for another token would hand out another
		// registration's secret: refuse rather than trust it.
		h.log.ErrorContext(ctx, "webhook: the Registry answered a lookup with another registration")
		h.answer(w, http.StatusInternalServerError)
		return Registration{}, false
	}
	return reg, true
}

func (h *Handler) handshake(w http.ResponseWriter, r *http.Request, secret string) {
	ctx := r.Context()
	reg, ok := h.registration(w, r, http.StatusForbidden, "handshake")
	if !ok {
		return
	}
	if reg.Secret == nil && !reg.HandshakeBy.IsZero() && !time.Now().Before(reg.HandshakeBy) {
		// Clio's handshake failed (or never came) when the webhook was created;
		// whoever sends one now learned the URL some other way.
		h.log.WarnContext(ctx, "webhook: handshake refused: the registration's handshake deadline has passed (register the webhook again)", "webhook_id", reg.WebhookID)
		h.answer(w, http.StatusForbidden)
		return
	}
	if reg.Secret != nil && subtle.ConstantTimeCompare(reg.Secret, []byte(secret)) != 1 {
		// Checked here as well as by the Registry's compare-and-set: one whose
		// SetSecret overwrites must not let a second handshake replace the secret.
		h.log.WarnContext(ctx, "webhook: handshake refused: the registration already holds another secret", "webhook_id", reg.WebhookID)
		h.answer(w, http.StatusForbidden)
		return
	}
	if h.check != nil {
		if err := h.check(ctx, reg, r); err != nil {
			h.log.WarnContext(ctx, "webhook: handshake refused by the check", "webhook_id", reg.WebhookID, "err", err)
			h.answer(w, http.StatusForbidden)
			return
		}
	}
	if err := h.reg.SetSecret(ctx, reg.Token, []byte(secret)); err != nil {
		if errors.Is(err, ErrSecretSet) {
			h.log.WarnContext(ctx, "webhook: handshake refused: the registration already holds another secret", "webhook_id", reg.WebhookID)
			h.answer(w, http.StatusForbidden)
			return
		}
		if errors.Is(err, ErrUnknownRegistration) {
			h.log.WarnContext(ctx, "webhook: handshake refused: the registration expired")
			h.answer(w, http.StatusForbidden)
			return
		}
		h.log.ErrorContext(ctx, "webhook: storing secret", "webhook_id", reg.WebhookID, "err", err)
		h.answer(w, http.StatusInternalServerError)
		return
	}
	if h.activate != nil {
		reg.Secret = []byte(secret)
		if err := h.activate(ctx, reg); err != nil {
			h.log.ErrorContext(ctx, "webhook: delayed activation", "webhook_id", reg.WebhookID, "err", err)
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
	reg, ok := h.registration(w, r, http.StatusUnauthorized, "delivery")
	if !ok {
		return
	}
	if len(reg.Secret) == 0 {
		h.log.WarnContext(ctx, "webhook: delivery refused: the registration has no secret (no handshake yet)", "webhook_id", reg.WebhookID)
		h.answer(w, http.StatusUnauthorized)
		return
	}
	// The signature comes first: nothing of an unverified body is looked at.
	if err := Verify(reg.Secret, body, r.Header.Get(HeaderSignature)); err != nil {
		h.log.WarnContext(ctx, "webhook: refused delivery", "webhook_id", reg.WebhookID, "err", err)
		h.answer(w, http.StatusUnauthorized)
		return
	}
	var p payload
	if err := json.Unmarshal(body, &p); err != nil {
		h.log.WarnContext(ctx, "webhook: signed delivery is not a Clio payload", "webhook_id", reg.WebhookID)
		h.answer(w, http.StatusBadRequest)
		return
	}
	id, bodyOK := parseID(p.Meta.WebhookID)
	switch {
	case reg.WebhookID != 0 && bodyOK && id != reg.WebhookID:
		// Signed with this registration's secret yet naming another webhook: not
		// something Clio sends; refuse rather than attribute it to either.
		h.log.WarnContext(ctx, "webhook: delivery names another webhook than its registration's", "registered", reg.WebhookID, "body", id)
		h.answer(w, http.StatusUnauthorized)
		return
	case !bodyOK:
		id = reg.WebhookID
	}

	// From here on the body is known to come from Clio.
	var head recordHead
	_ = json.Unmarshal(p.Data, &head) // data may legitimately lack id/etag
	ev := Event{WebhookID: id, Name: p.Meta.Event, ETag: head.ETag, Data: p.Data}
	ev.ID, _ = parseID(head.ID)
	switch {
	case h.model != nil:
		ev.Model = h.model(r, id)
	case reg.Model != "":
		ev.Model = reg.Model
	default:
		ev.Model = r.URL.Query().Get("model")
	}

	if h.dedupe == nil {
		h.run(w, r, ev)
		return
	}
	key := dedupeKey(reg.Token, ev, body)
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
//
// The key starts with a hash of the registration's token (never the token
// itself: keys may be stored and logged): webhooks in different Clio
// regions, or of another registration, can share an id, and one's event
// must not pass for the other's. The event name and etag are quoted, so
// that no field can shift into the next one.
func dedupeKey(token string, ev Event, body []byte) string {
	reg := sha256.Sum256([]byte(token))
	regID := hex.EncodeToString(reg[:16])
	if ev.ETag == "" {
		sum := sha256.Sum256(body)
		return fmt.Sprintf("%s|%d|%q|%d|body:%s", regID, ev.WebhookID, ev.Name, ev.ID, hex.EncodeToString(sum[:]))
	}
	return fmt.Sprintf("%s|%d|%q|%d|%q", regID, ev.WebhookID, ev.Name, ev.ID, ev.ETag)
}
