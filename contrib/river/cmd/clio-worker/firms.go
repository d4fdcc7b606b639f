package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/cobra"
	"golang.org/x/oauth2"

	"github.com/clio-go/clio-go/contrib/river/riverreplica"
)

// firmNameRule is what a firm may be called. The name is a key in the tables and in the
// jobs' arguments and shows up in logs and error messages, so it is kept to characters
// that need no quoting anywhere and cannot be mistaken for a flag.
var firmNameRule = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

const firmNameHelp = "1 to 64 ASCII letters, digits, '.', '_' or '-', starting with a letter or digit"

func checkFirmName(name string) error {
	if name == "" {
		return fmt.Errorf("--firm is required: the firm's name, %s", firmNameHelp)
	}
	if !firmNameRule.MatchString(name) {
		return fmt.Errorf("the firm name %q is not allowed: use %s", name, firmNameHelp)
	}
	return nil
}

func newFirms(dsn *string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "firms",
		Short: "Add the firms of the fleet and list them",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newFirmsAdd(dsn), newFirmsList(dsn))
	return cmd
}

func newFirmsAdd(dsn *string) *cobra.Command {
	var firm, file string
	cmd := &cobra.Command{
		Use:   "add --firm NAME --token-file FILE",
		Short: "Store a firm's token (the file `clio login` saved); an existing firm's token is replaced",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFirmName(firm); err != nil {
				return err
			}
			if file == "" {
				return errors.New("--token-file is required: the file `clio login` saved the firm's token to")
			}
			tok, err := readTokenFile(file, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			return withTokens(cmd.Context(), *dsn, func(s *riverreplica.TokenStore) error {
				if err := s.Save(cmd.Context(), firm, tok); err != nil {
					return fmt.Errorf("saving the token of firm %q: %w", firm, err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "Stored the token of firm %s\n", firm)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&firm, "firm", "", "the firm's name in the fleet ("+firmNameHelp+")")
	cmd.Flags().StringVar(&file, "token-file", "", "the file clio login saved the token to (JSON)")
	return cmd
}

func newFirmsList(dsn *string) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "Print the firms that have a token, one per line",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withTokens(cmd.Context(), *dsn, func(s *riverreplica.TokenStore) error {
				firms, err := s.Firms(cmd.Context())
				if err != nil {
					return fmt.Errorf("listing the firms: %w", err)
				}
				for _, f := range firms {
					fmt.Fprintln(cmd.OutOrStdout(), f)
				}
				return nil
			})
		},
	}
}

// withTokens opens the token store for commands that only read and write tokens: they
// never refresh one, so they need no app credentials, and a refresh would be a bug.
func withTokens(ctx context.Context, dsn string, fn func(*riverreplica.TokenStore) error) error {
	if dsn == "" {
		return errors.New("--database-url (or DATABASE_URL) is required")
	}
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return err
	}
	defer pool.Close()
	s, err := riverreplica.NewTokenStore(ctx, pool, func(context.Context, string) (*oauth2.Token, error) {
		return nil, errors.New("clio-worker firms never refreshes tokens (the workers do, with the app's credentials)")
	})
	if err != nil {
		return err
	}
	return fn(s)
}

// readTokenFile reads the JSON `clio login` writes (an oauth2.Token). Its errors never
// quote the file's content: it holds secrets.
func readTokenFile(path string, stderr io.Writer) (*oauth2.Token, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("reading the token file: %w", err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("the token file %s is not a regular file", path)
	}
	// clio login writes it 0600; Windows has no such bits.
	if runtime.GOOS != "windows" && info.Mode().Perm()&0o077 != 0 {
		fmt.Fprintf(stderr, "warning: the token file %s can be read or written by others than its owner (mode %04o): chmod 600 it\n",
			path, info.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the token file: %w", err)
	}
	var tok oauth2.Token
	if err := json.Unmarshal(b, &tok); err != nil {
		return nil, fmt.Errorf("the token file %s is not the JSON `clio login` writes: %w", path, err)
	}
	switch {
	case tok.AccessToken == "" && tok.RefreshToken == "":
		return nil, fmt.Errorf("the token file %s holds no access_token nor refresh_token (run `clio login` again)", path)
	case tok.AccessToken == "":
		return nil, fmt.Errorf("the token file %s holds no access_token (run `clio login` again)", path)
	case tok.RefreshToken == "":
		return nil, fmt.Errorf("the token file %s holds no refresh_token, without which the workers lose the firm when its access token expires (run `clio login` again)", path)
	}
	return &tok, nil
}
