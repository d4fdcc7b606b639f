package main

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/clio-go/clio-go/clio/replica"
	"github.com/clio-go/clio-go/clio/replica/pgsink"
)

// pgTarget is the database --postgres names: the DSN itself, which may carry a password
// and so is never printed, what may be printed of it, and the secrets to keep out of
// every message.
type pgTarget struct {
	dsn     string
	where   string   // host:port/database, for the progress output
	secrets []string // passwords found in the DSN, scrubbed from errors
}

// parsePostgres checks the DSN before anything connects, so that a typo fails at once
// and with a message that never holds the password.
func parsePostgres(dsn string) (*pgTarget, error) {
	t := &pgTarget{dsn: dsn, secrets: dsnSecrets(dsn)}
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return nil, t.scrub(fmt.Errorf("--postgres: not a PostgreSQL connection string (want postgres://user@host/database or host=... dbname=...): %w", err))
	}
	if cfg.Password != "" {
		t.secrets = append(t.secrets, cfg.Password)
	}
	t.where = net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))) + "/" + cfg.Database
	return t, nil
}

// kvPassword finds the password and sslpassword of a key=value DSN, quoted or not.
var kvPassword = regexp.MustCompile(`(?:^|\s)(?:ssl)?password\s*=\s*(?:'((?:[^'\\]|\\.)*)'|(\S+))`)

// dsnSecrets finds the passwords in a DSN without relying on it being valid: a DSN that
// does not parse is exactly the one whose error might quote it.
func dsnSecrets(dsn string) []string {
	var out []string
	if u, err := url.Parse(dsn); err == nil {
		if p, ok := u.User.Password(); ok {
			out = append(out, p)
		}
		for _, k := range []string{"password", "sslpassword"} {
			if v := u.Query().Get(k); v != "" {
				out = append(out, v)
			}
		}
	}
	if rest, ok := strings.CutPrefix(dsn, "postgres://"); ok || strings.HasPrefix(dsn, "postgresql://") {
		if !ok {
			rest = strings.TrimPrefix(dsn, "postgresql://")
		}
		// The userinfo of a URL url.Parse refused: up to the last '@' before the path.
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			if _, p, found := strings.Cut(rest[:at], ":"); found && p != "" {
				out = append(out, p)
			}
		}
	}
	for _, m := range kvPassword.FindAllStringSubmatch(dsn, -1) {
		out = append(out, m[1]+m[2])
	}
	return out
}

// scrub replaces the DSN's secrets in err's text, as written and percent-encoded, and
// keeps err for errors.Is (an interrupted sync is told apart by its context's error).
// A nil target (SQLite) has nothing to hide.
func (t *pgTarget) scrub(err error) error {
	if err == nil || t == nil {
		return err
	}
	msg := err.Error()
	clean := msg
	for _, s := range t.secrets {
		if s == "" {
			continue
		}
		for _, form := range []string{s, url.QueryEscape(s), url.PathEscape(s), url.UserPassword("", s).String()[1:]} {
			if form != "" {
				clean = strings.ReplaceAll(clean, form, "xxxxx")
			}
		}
	}
	if clean == msg {
		return err
	}
	return &scrubbedError{msg: clean, err: err}
}

// scrubbedError is an error whose text had a secret taken out.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// openPostgres connects the sink. pgxpool connects lazily, so the sink's first statement
// is where a wrong host or a refused login shows.
func openPostgres(ctx context.Context, t *pgTarget) (*store, error) {
	sink, pool, err := pgsink.Open(ctx, t.dsn)
	if err != nil {
		return nil, t.scrub(fmt.Errorf("--postgres: cannot use the database at %s: %w", t.where, err))
	}
	return &store{
		sink:  sink,
		close: pool.Close,
		counts: func(ctx context.Context, r replica.Resource, firm string) (live, deleted int64, err error) {
			table, err := sink.Table(ctx, r.Name)
			if err != nil {
				return 0, 0, err
			}
			err = pool.QueryRow(ctx, `SELECT COUNT(*) FILTER (WHERE NOT deleted), COUNT(*) FILTER (WHERE deleted) FROM "`+table+`" WHERE firm = $1`, firm).Scan(&live, &deleted)
			return live, deleted, err
		},
	}, nil
}
