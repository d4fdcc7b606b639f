package webhook

import (
	"context"
	"errors"
	"sync"
)

// ErrUnknownWebhook is returned by a SecretStore that holds no secret for the
// requested webhook id. The Handler answers such deliveries with 401.
var ErrUnknownWebhook = errors.New("webhook: no secret stored for this webhook")

// SecretStore keeps the shared secret of each webhook, keyed by the webhook
// id Clio assigned. Implementations must be safe for concurrent use: the
// Handler calls them from every request goroutine. A production store is
// usually a database table, so that secrets survive restarts and are shared
// by every replica behind the webhook URL.
type SecretStore interface {
	// Secret returns the secret of webhook id, or an error wrapping
	// ErrUnknownWebhook when there is none.
	Secret(ctx context.Context, webhookID int64) ([]byte, error)
	// SetSecret stores (or replaces) the secret of webhook id.
	SetSecret(ctx context.Context, webhookID int64, secret []byte) error
}

// MemorySecretStore is an in-memory, goroutine-safe SecretStore. It is fine
// for tests and single-process receivers; secrets are lost on restart, after
// which Clio's deliveries fail with 401 until the webhooks are re-created.
// The zero value is ready to use.
type MemorySecretStore struct {
	mu      sync.RWMutex
	secrets map[int64][]byte
}

// NewMemorySecretStore returns an empty MemorySecretStore.
func NewMemorySecretStore() *MemorySecretStore { return &MemorySecretStore{} }

// Secret implements SecretStore. The returned slice is a copy.
func (s *MemorySecretStore) Secret(_ context.Context, webhookID int64) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v, ok := s.secrets[webhookID]
	if !ok {
		return nil, ErrUnknownWebhook
	}
	return append([]byte(nil), v...), nil
}

// SetSecret implements SecretStore. The secret is copied, so the caller may
// reuse its slice.
func (s *MemorySecretStore) SetSecret(_ context.Context, webhookID int64, secret []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.secrets == nil {
		s.secrets = make(map[int64][]byte)
	}
	s.secrets[webhookID] = append([]byte(nil), secret...)
	return nil
}
