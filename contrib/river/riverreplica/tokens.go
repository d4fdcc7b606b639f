package riverreplica

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/oauth2"
)

// RefreshFunc trades a refresh token for a new token at Clio, e.g. with
// clio.OAuth.Config().TokenSource(ctx, &oauth2.Token{RefreshToken: rt}).Token().
type RefreshFunc func(ctx context.Context, refreshToken string) (*oauth2.Token, error)

// TokenStore keeps each firm's token in PostgreSQL (table clio_replica_tokens).
type TokenStore struct {
	pool    *pgxpool.Pool
	refresh RefreshFunc
	// Early is how long before its expiry a token is refreshed (default one minute).
	Early time.Duration
}

// NewTokenStore creates the tokens table when missing.
func NewTokenStore(ctx context.Context, pool *pgxpool.Pool, refresh RefreshFunc) (*TokenStore, error) {
	if refresh == nil {
		return nil, errors.New("riverreplica: NewTokenStore needs a RefreshFunc")
	}
	_, err := pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS clio_replica_tokens (
		firm text PRIMARY KEY, access_token text NOT NULL, refresh_token text NOT NULL,
		expiry timestamptz, refreshes bigint NOT NULL DEFAULT 0, refreshed_at timestamptz)`)
	if err != nil && !isDuplicate(err) {
		return nil, fmt.Errorf("riverreplica: creating clio_replica_tokens: %w", err)
	}
	return &TokenStore{pool: pool, refresh: refresh}, nil
}

// Save stores a firm's token (after the firm authorized the app).
func (s *TokenStore) Save(ctx context.Context, firm string, tok *oauth2.Token) error {
	if tok == nil || tok.AccessToken == "" || tok.RefreshToken == "" {
		return fmt.Errorf("riverreplica: the token of firm %q needs an access and a refresh token", firm)
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO clio_replica_tokens (firm, access_token, refresh_token, expiry) VALUES ($1, $2, $3, $4)
		ON CONFLICT (firm) DO UPDATE SET access_token = excluded.access_token, refresh_token = excluded.refresh_token, expiry = excluded.expiry`,
		firm, tok.AccessToken, tok.RefreshToken, expiryArg(tok.Expiry))
	return err
}

// Firms lists the firms that have a token.
func (s *TokenStore) Firms(ctx context.Context) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT firm FROM clio_replica_tokens ORDER BY firm`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

func expiryArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// fresh is true for a token that is not about to expire (or whose expiry is unknown).
func (s *TokenStore) fresh(expiry *time.Time) bool {
	early := s.Early
	if early == 0 {
		early = time.Minute
	}
	return expiry == nil || expiry.IsZero() || time.Until(*expiry) > early
}

// Token returns a valid token of the firm. When it is about to expire, the firm's row is
// locked (SELECT ... FOR UPDATE) while one worker refreshes it, the others wait and then
// find the new token; the rotated refresh token is committed before the token is
// returned, so it is never lost and never used twice.
func (s *TokenStore) Token(ctx context.Context, firm string) (*oauth2.Token, error) {
	var access, refresh string
	var expiry *time.Time
	err := s.pool.QueryRow(ctx, `SELECT access_token, refresh_token, expiry FROM clio_replica_tokens WHERE firm = $1`, firm).Scan(&access, &refresh, &expiry)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("riverreplica: firm %q has no token", firm)
	}
	if err != nil {
		return nil, err
	}
	if s.fresh(expiry) {
		return token(access, refresh, expiry), nil
	}
	var out *oauth2.Token
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT access_token, refresh_token, expiry FROM clio_replica_tokens WHERE firm = $1 FOR UPDATE`, firm).Scan(&access, &refresh, &expiry); err != nil {
			return err
		}
		if s.fresh(expiry) { // another worker refreshed it while we waited for the lock
			out = token(access, refresh, expiry)
			return nil
		}
		t, err := s.refresh(ctx, refresh)
		if err != nil {
			return fmt.Errorf("riverreplica: refreshing the token of firm %q: %w", firm, err)
		}
		if t.RefreshToken == "" {
			t.RefreshToken = refresh // Clio only sends it when it changes
		}
		if _, err := tx.Exec(ctx, `UPDATE clio_replica_tokens SET access_token = $2, refresh_token = $3, expiry = $4,
			refreshes = refreshes + 1, refreshed_at = now() WHERE firm = $1`, firm, t.AccessToken, t.RefreshToken, expiryArg(t.Expiry)); err != nil {
			return err
		}
		out = t
		return nil
	})
	return out, err
}

func token(access, refresh string, expiry *time.Time) *oauth2.Token {
	t := &oauth2.Token{AccessToken: access, RefreshToken: refresh, TokenType: "Bearer"}
	if expiry != nil {
		t.Expiry = *expiry
	}
	return t
}

// TokenSource is a firm's token source for clio.WithTokenSource: it keeps the token in
// memory until it is about to expire or Clio rejects it (Invalidate), then asks the
// store.
func (s *TokenStore) TokenSource(firm string) oauth2.TokenSource {
	return &firmTokens{store: s, firm: firm}
}

type firmTokens struct {
	store *TokenStore
	firm  string
	mu    sync.Mutex
	cur   *oauth2.Token
}

func (f *firmTokens) Token() (*oauth2.Token, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cur != nil && f.store.fresh(&f.cur.Expiry) {
		return f.cur, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	t, err := f.store.Token(ctx, f.firm)
	if err != nil {
		return nil, err
	}
	f.cur = t
	return t, nil
}

// Invalidate drops a token Clio rejected, so that the next call reads the store again.
func (f *firmTokens) Invalidate(rejected string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cur != nil && f.cur.AccessToken == rejected {
		f.cur = nil
	}
}
