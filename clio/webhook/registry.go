package webhook

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"
)

// TokenParam is the query parameter of a webhook URL that carries the
// registration token (see Registration). A query parameter rather than a
// path segment: it needs no wildcard route in the application's mux, so the
// token can be added to any URL the Handler is mounted at, and it survives
// a ?model= or other parameters the application puts there itself.
const TokenParam = "clio_hook"

// tokenBytes is the entropy of a token: 256 bits, far beyond guessing.
const tokenBytes = 32

// minTokenLen refuses registrations whose token is too short to be
// unguessable (128 bits in base64url).
const minTokenLen = 22

// Errors of a Registry. Test with errors.Is.
var (
	// ErrUnknownRegistration means no registration holds the token: the
	// request names a webhook this application did not register, or one
	// whose registration expired.
	ErrUnknownRegistration = errors.New("webhook: no registration for this token (not registered by this application, or expired)")
	// ErrSecretSet means a handshake brought a secret for a registration
	// that already holds another one. A handshake never replaces a secret:
	// that would let whoever learned the URL sign events.
	ErrSecretSet = errors.New("webhook: the registration already holds another secret")
)

// Registration is one webhook the application registered: the only kind of
// webhook whose handshake the Handler accepts. The application creates it
// (clio's WebhooksService.Register does, with a fresh NewToken) before
// asking Clio for the webhook, and puts Token in the webhook's URL as the
// TokenParam query parameter. Clio's handshake carries nothing but the
// X-Hook-Secret header; the token in the URL it POSTs to tells the Handler
// which registration the secret belongs to. Strangers do not know any
// token, so they can neither hand the Handler a secret nor make it store
// anything.
type Registration struct {
	// Token is the unguessable value of the TokenParam query parameter.
	Token string
	// WebhookID is Clio's id of the webhook, 0 until the application
	// records it (Clio answers the creation after the handshake).
	WebhookID int64
	// Model is the webhook's model ("matter", ...): it fills Event.Model.
	Model string
	// Secret is the X-Hook-Secret of the handshake, nil until then.
	Secret []byte
	// ExpiresAt is when the registration stops being valid: the webhook's
	// expires_at (Clio webhooks live at most 31 days unless renewed). Zero
	// means no expiry.
	ExpiresAt time.Time
	// HandshakeBy is when a registration still without a secret stops
	// taking one. Clio sends the handshake while it creates the webhook; a
	// registration whose handshake failed (the receiver was down) would
	// otherwise take the secret of whoever reads its URL later, in a proxy's
	// access log say, for as long as it lives. Register sets it a few
	// minutes after the creation. Zero means no deadline.
	HandshakeBy time.Time
}

// NewToken returns a fresh registration token: 256 random bits from
// crypto/rand, base64url without padding (safe in a URL as it is).
func NewToken() (string, error) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("webhook: reading random bytes for a token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// URLWithToken returns rawURL with the TokenParam query parameter set to
// token (replacing any), keeping the rest of the URL as it is.
func URLWithToken(rawURL, token string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("webhook: URL %q does not parse", rawURL)
	}
	q := u.Query()
	q.Set(TokenParam, token)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// TokenFromURL returns the TokenParam query parameter of rawURL, "" when it
// has none (or does not parse).
func TokenFromURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return u.Query().Get(TokenParam)
}

// Registry keeps the Registrations the application made. It is what the
// application (which registers webhooks) and the Handler (which receives
// them) share: usually a database table keyed by token, so that
// registrations survive restarts and every replica behind the URL sees
// them. Implementations must be safe for concurrent use.
//
// Only the application adds entries (Add): the Handler looks them up and
// fills in the secret, so requests from strangers cannot grow the store.
// A database-backed Registry might be:
//
//	CREATE TABLE clio_webhook_registrations (
//	    token      text PRIMARY KEY,  -- or a hash of it
//	    webhook_id bigint,
//	    model      text NOT NULL,
//	    secret     bytea,             -- NULL until the handshake
//	    expires_at timestamptz,
//	    handshake_by timestamptz
//	);
//
// with SetSecret as UPDATE ... SET secret = $2 WHERE token = $1 AND
// (secret IS NULL OR secret = $2), reporting ErrSecretSet when no row
// changed but the token exists; and a periodic DELETE of expired rows.
// A Registry that compares secrets in Go must do it in constant time
// (crypto/subtle), as MemoryRegistry does.
type Registry interface {
	// Add records a new registration. It fails if the token is already used.
	Add(ctx context.Context, reg Registration) error
	// Lookup returns the registration of token, or an error wrapping
	// ErrUnknownRegistration when there is none or it has expired.
	Lookup(ctx context.Context, token string) (Registration, error)
	// SetSecret stores the handshake's secret in the registration of
	// token, only if it holds none yet or holds the same one; otherwise it
	// returns an error wrapping ErrSecretSet. This must be atomic (a
	// compare-and-set): two handshakes racing must not both win.
	SetSecret(ctx context.Context, token string, secret []byte) error
	// SetWebhook records Clio's webhook id and expiry in the registration
	// of token: after the webhook was created, and after each renewal.
	SetWebhook(ctx context.Context, token string, webhookID int64, expiresAt time.Time) error
	// Remove deletes the registration of token; removing an unknown token
	// is not an error.
	Remove(ctx context.Context, token string) error
}

// MemoryRegistry is an in-memory, goroutine-safe Registry for tests and
// single-process applications that register and receive webhooks in the
// same process. Registrations are lost on restart (Clio's deliveries are
// then refused until the webhooks are registered again). Expired
// registrations are dropped as they are met and whenever one is added, so
// the map holds no more than the live webhooks the application registered.
// The zero value is ready to use.
type MemoryRegistry struct {
	mu   sync.Mutex
	regs map[string]*Registration
	// now is time.Now unless a test sets it.
	now func() time.Time
}

// NewMemoryRegistry returns an empty MemoryRegistry.
func NewMemoryRegistry() *MemoryRegistry { return &MemoryRegistry{} }

func (m *MemoryRegistry) clock() time.Time {
	if m.now != nil {
		return m.now()
	}
	return time.Now()
}

func expired(r *Registration, now time.Time) bool {
	return !r.ExpiresAt.IsZero() && !now.Before(r.ExpiresAt)
}

// get returns the live registration of token; m.mu is held.
func (m *MemoryRegistry) get(token string) (*Registration, error) {
	r, ok := m.regs[token]
	if !ok {
		return nil, ErrUnknownRegistration
	}
	if expired(r, m.clock()) {
		delete(m.regs, token)
		return nil, ErrUnknownRegistration
	}
	return r, nil
}

// Add implements Registry. A token shorter than 22 characters (128 bits in
// base64url) is refused: it could be guessed.
func (m *MemoryRegistry) Add(_ context.Context, reg Registration) error {
	if len(reg.Token) < minTokenLen {
		return fmt.Errorf("webhook: a registration token must have at least %d characters (use NewToken), got %d", minTokenLen, len(reg.Token))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.regs == nil {
		m.regs = make(map[string]*Registration)
	}
	now := m.clock()
	for t, r := range m.regs {
		if expired(r, now) {
			delete(m.regs, t)
		}
	}
	if _, dup := m.regs[reg.Token]; dup {
		return errors.New("webhook: a registration with this token exists already")
	}
	reg.Secret = clone(reg.Secret)
	m.regs[reg.Token] = &reg
	return nil
}

// Lookup implements Registry. The returned secret is a copy.
func (m *MemoryRegistry) Lookup(_ context.Context, token string) (Registration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.get(token)
	if err != nil {
		return Registration{}, err
	}
	out := *r
	out.Secret = clone(r.Secret)
	return out, nil
}

// SetSecret implements Registry.
func (m *MemoryRegistry) SetSecret(_ context.Context, token string, secret []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.get(token)
	if err != nil {
		return err
	}
	// Constant time: whoever knows the URL may send handshakes, and must not
	// learn the stored secret byte by byte from how long a refusal takes.
	if r.Secret != nil && subtle.ConstantTimeCompare(r.Secret, secret) != 1 {
		return ErrSecretSet
	}
	r.Secret = clone(secret)
	return nil
}

// SetWebhook implements Registry.
func (m *MemoryRegistry) SetWebhook(_ context.Context, token string, webhookID int64, expiresAt time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.get(token)
	if err != nil {
		return err
	}
	r.WebhookID, r.ExpiresAt = webhookID, expiresAt
	return nil
}

// Remove implements Registry.
func (m *MemoryRegistry) Remove(_ context.Context, token string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.regs, token)
	return nil
}

// Len returns the number of registrations held, expired ones included
// until they are dropped.
func (m *MemoryRegistry) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.regs)
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}
