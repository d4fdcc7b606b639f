package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/oauth2"

	"github.com/clio-go/clio-go/contrib/river/riverreplica"
	"github.com/clio-go/clio-go/internal/pgtest"
)

// secret tokens: no output of any command may contain them.
var secrets = []string{"acme-access-3f9c", "acme-refresh-77d1", "beta-access-a0b2", "beta-refresh-c4e8", "acme-access-2nd", "acme-refresh-2nd", "lonely-access-9e1"}

// run executes clio-worker in-process, as main would, and checks that no token leaks.
func run(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := newRoot()
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = cmd.ExecuteContext(ctx)
	all := out.String() + errb.String()
	if err != nil {
		all += err.Error()
	}
	for _, s := range secrets {
		if strings.Contains(all, s) {
			t.Errorf("clio-worker %q printed the token text %q:\n%s", args, s, all)
		}
	}
	return out.String(), errb.String(), err
}

// writeToken writes a token file the way `clio login` does (oauth2.Token as JSON).
func writeToken(t *testing.T, name string, tok *oauth2.Token, perm os.FileMode) string {
	t.Helper()
	b, err := json.MarshalIndent(tok, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, name, string(b), perm)
}

func writeFile(t *testing.T, name, content string, perm os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, perm); err != nil { // past the umask
		t.Fatal(err)
	}
	return p
}

func TestFirmsAddAndList(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL")
	}
	pg := pgtest.Start(t)
	t.Setenv("DATABASE_URL", "")
	if _, _, err := run(t, "--database-url", pg.DSN, "--migrate"); err != nil {
		t.Fatalf("--migrate: %v", err)
	}
	expiry := time.Now().Add(time.Hour).Round(time.Second)
	acme := writeToken(t, "acme.json", &oauth2.Token{AccessToken: "acme-access-3f9c", RefreshToken: "acme-refresh-77d1", TokenType: "Bearer", Expiry: expiry}, 0o600)
	beta := writeToken(t, "beta.json", &oauth2.Token{AccessToken: "beta-access-a0b2", RefreshToken: "beta-refresh-c4e8", TokenType: "Bearer", Expiry: expiry}, 0o644)

	// --database-url after the subcommand, and before it: a persistent flag.
	out, errOut, err := run(t, "firms", "add", "--database-url", pg.DSN, "--firm", "acme", "--token-file", acme)
	if err != nil {
		t.Fatalf("firms add acme: %v", err)
	}
	if !strings.Contains(out, "acme") || errOut != "" {
		t.Errorf("firms add acme: stdout %q, stderr %q", out, errOut)
	}
	_, errOut, err = run(t, "--database-url", pg.DSN, "firms", "add", "--firm", "beta.firm_2-x", "--token-file", beta)
	if err != nil {
		t.Fatalf("firms add beta: %v", err)
	}
	if !strings.Contains(errOut, "warning") || !strings.Contains(errOut, "0644") {
		t.Errorf("a token file readable by others should be warned about, stderr: %q", errOut)
	}

	// DATABASE_URL works too (read when the command is built).
	t.Setenv("DATABASE_URL", pg.DSN)
	out, _, err = run(t, "firms", "list")
	if err != nil {
		t.Fatalf("firms list: %v", err)
	}
	if out != "acme\nbeta.firm_2-x\n" {
		t.Errorf("firms list = %q", out)
	}

	// A refused add changes nothing.
	if _, _, err := run(t, "firms", "add", "--firm", "bad name", "--token-file", acme); err == nil {
		t.Error("a bad firm name was accepted")
	}
	if out, _, _ := run(t, "firms", "list"); out != "acme\nbeta.firm_2-x\n" {
		t.Errorf("after a refused add, firms list = %q", out)
	}

	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pg.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	store, err := riverreplica.NewTokenStore(ctx, pool, func(context.Context, string) (*oauth2.Token, error) {
		t.Error("the stored tokens are fresh: nothing should refresh them")
		return nil, context.Canceled
	})
	if err != nil {
		t.Fatal(err)
	}
	check := func(firm, access, refresh string) {
		t.Helper()
		tok, err := store.Token(ctx, firm)
		if err != nil {
			t.Fatalf("Token(%s): %v", firm, err)
		}
		if tok.AccessToken != access || tok.RefreshToken != refresh || !tok.Expiry.Equal(expiry) {
			t.Errorf("Token(%s) = %s/%s/%v, want %s/%s/%v", firm, tok.AccessToken, tok.RefreshToken, tok.Expiry, access, refresh, expiry)
		}
	}
	check("acme", "acme-access-3f9c", "acme-refresh-77d1")
	check("beta.firm_2-x", "beta-access-a0b2", "beta-refresh-c4e8")

	// Adding a firm again replaces its token (a new clio login).
	again := writeToken(t, "again.json", &oauth2.Token{AccessToken: "acme-access-2nd", RefreshToken: "acme-refresh-2nd", Expiry: expiry}, 0o600)
	if _, _, err := run(t, "firms", "add", "--firm", "acme", "--token-file", again); err != nil {
		t.Fatalf("firms add acme again: %v", err)
	}
	check("acme", "acme-access-2nd", "acme-refresh-2nd")
	if out, _, _ := run(t, "firms", "list"); out != "acme\nbeta.firm_2-x\n" {
		t.Errorf("after replacing a token, firms list = %q", out)
	}
}

// TestFirmsAddRefusals needs no PostgreSQL: bad input is refused before the database is
// opened (the URL points nowhere).
func TestFirmsAddRefusals(t *testing.T) {
	t.Setenv("DATABASE_URL", "")
	nowhere := "host=" + filepath.Join(t.TempDir(), "no-server") + " user=postgres dbname=postgres connect_timeout=1"
	good := writeToken(t, "good.json", &oauth2.Token{AccessToken: "acme-access-3f9c", RefreshToken: "acme-refresh-77d1"}, 0o600)
	accessOnly := writeToken(t, "access.json", &oauth2.Token{AccessToken: "lonely-access-9e1"}, 0o600)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no firm", []string{"--token-file", good}, "--firm is required"},
		{"space", []string{"--firm", "acme corp", "--token-file", good}, "not allowed: use 1 to 64"},
		{"path", []string{"--firm", "../acme", "--token-file", good}, "not allowed"},
		{"quote", []string{"--firm", "ac'me", "--token-file", good}, "not allowed"},
		{"dash first", []string{"--firm=-acme", "--token-file", good}, "not allowed"},
		{"too long", []string{"--firm", strings.Repeat("a", 65), "--token-file", good}, "not allowed"},
		{"non-ascii", []string{"--firm", "acmé", "--token-file", good}, "not allowed"},
		{"no file flag", []string{"--firm", "acme"}, "--token-file is required"},
		{"missing file", []string{"--firm", "acme", "--token-file", filepath.Join(t.TempDir(), "none.json")}, "no such file"},
		{"directory", []string{"--firm", "acme", "--token-file", t.TempDir()}, "not a regular file"},
		{"empty object", []string{"--firm", "acme", "--token-file", writeFile(t, "empty.json", "{}", 0o600)}, "no access_token nor refresh_token"},
		{"access only", []string{"--firm", "acme", "--token-file", accessOnly}, "no refresh_token"},
		{"refresh only", []string{"--firm", "acme", "--token-file", writeFile(t, "r.json", `{"refresh_token":"acme-refresh-77d1"}`, 0o600)}, "no access_token"},
		{"not json", []string{"--firm", "acme", "--token-file", writeFile(t, "bad.json", "acme-access-3f9c", 0o600)}, "not the JSON `clio login` writes"},
		{"wrong type", []string{"--firm", "acme", "--token-file", writeFile(t, "num.json", `{"access_token":1}`, 0o600)}, "not the JSON"},
		{"no database", []string{"--firm", "acme", "--token-file", good, "--database-url", ""}, "--database-url (or DATABASE_URL) is required"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"--database-url", nowhere, "firms", "add"}, c.args...)
			_, _, err := run(t, args...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("clio-worker %q: error %v, want one containing %q", args, err, c.want)
			}
		})
	}
	if _, _, err := run(t, "firms", "list"); err == nil || !strings.Contains(err.Error(), "--database-url") {
		t.Errorf("firms list without a database: %v", err)
	}
	if _, _, err := run(t); err == nil || !strings.Contains(err.Error(), "--database-url") {
		t.Errorf("the workers without a database: %v", err)
	}
}
