// Command cliofake runs the in-memory Clio Manage API v4 of package cliotest on a port,
// for trying a Clio integration without a Clio account:
//
//	go run ./cmd/cliofake -addr 127.0.0.1:8080 -seed seed.json
//
// It serves the API (/api/v4/...) and OAuth (/oauth/authorize, /oauth/token,
// /oauth/deauthorize) on -addr and the document storage host (put_url uploads and
// download redirects) on -storage-addr, then prints the URLs, the OAuth client
// credentials and a ready access token. Everything lives in memory and is lost on exit.
//
// -seed loads records before serving. The file is a JSON object mapping collections
// (the path under /api/v4 without ".json") to arrays of records, inserted in the order
// the file lists them, so a record can refer to one listed above it by its "id":
//
//	{
//	  "contacts": [{"id": 10, "type": "Person", "first_name": "Ada", "last_name": "Lovelace"}],
//	  "matters":  [{"description": "Estate", "status": "Open", "client": {"id": 10}}]
//	}
//
// Every record is checked against the API document as cliotest's Server.Insert checks
// it: an unknown collection or field, a value of the wrong type or a reference to a
// missing record stops cliofake with an error naming the collection, the record's index
// and the field (exit status 1).
//
// Webhooks follow Clio's rule, as the in-process fake does: https URLs only.
// -insecure-webhooks (cliotest.WithInsecureWebhooks) also accepts http:// URLs on
// loopback hosts (127.0.0.1, ::1, localhost), for a receiver on your machine.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/clio-go/clio-go/clio/cliotest"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("cliofake: ")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		log.Fatal(err)
	}
}

// run serves until ctx is done; -h prints the usage and returns nil.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("cliofake", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "address of the API and OAuth endpoints")
	storageAddr := fs.String("storage-addr", "127.0.0.1:0", "address of the storage host (0 picks a free port)")
	clientID := fs.String("client-id", cliotest.DefaultClientID, "OAuth client id the server accepts")
	clientSecret := fs.String("client-secret", cliotest.DefaultClientSecret, "OAuth client secret the server accepts")
	rateLimit := fs.Int("rate-limit", 50, "requests per token per window (0 disables rate limiting)")
	rateWindow := fs.Duration("rate-window", time.Minute, "rate-limit window")
	tokenLife := fs.Duration("token-lifetime", 30*24*time.Hour, "lifetime of access tokens")
	insecureHooks := fs.Bool("insecure-webhooks", false, "also accept http:// webhook URLs on loopback hosts (Clio, and the fake by default, require https)")
	minPart := fs.Int64("min-part-size", 5<<20, "smallest multipart upload part other than the last, in bytes")
	seed := fs.String("seed", "", "JSON file of records to load before serving: {\"collection\": [records...], ...}")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q (flags only; see -h)", fs.Args())
	}
	apiLn, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	defer func() { _ = apiLn.Close() }() // Shutdown closes it too; this covers the early returns
	storageLn, err := net.Listen("tcp", *storageAddr)
	if err != nil {
		return err
	}
	defer func() { _ = storageLn.Close() }()
	opts := []cliotest.Option{
		cliotest.WithStorageURL("http://" + storageLn.Addr().String()),
		cliotest.WithOAuthClient(*clientID, *clientSecret),
		cliotest.WithRateLimit(*rateLimit, *rateWindow),
		cliotest.WithTokenLifetime(*tokenLife),
		cliotest.WithMinPartSize(*minPart),
	}
	if *insecureHooks {
		opts = append(opts, cliotest.WithInsecureWebhooks())
	}
	srv, err := cliotest.New(opts...)
	if err != nil {
		return err
	}
	if *seed != "" {
		if err := loadSeed(srv, *seed); err != nil {
			return err
		}
	}
	srv.URL = "http://" + apiLn.Addr().String()
	apiSrv := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	storageSrv := &http.Server{Handler: srv.StorageHandler(), ReadHeaderTimeout: 10 * time.Second}
	errs := make(chan error, 2)
	go func() { errs <- apiSrv.Serve(apiLn) }()
	go func() { errs <- storageSrv.Serve(storageLn) }()

	tok := srv.IssueToken()
	hooks := "https only, as on Clio (-insecure-webhooks also accepts http:// on loopback)"
	if *insecureHooks {
		hooks = "https, or http:// on loopback hosts"
	}
	fmt.Fprintf(stdout, "Clio fake API:   %s\n", srv.URL)
	fmt.Fprintf(stdout, "API version:     %s (the document's, pinned by clio-go); without X-API-VERSION %s, as on Clio\n", cliotest.LatestAPIVersion, cliotest.DefaultAPIVersion)
	fmt.Fprintf(stdout, "storage host:    %s\n", srv.StorageURL)
	fmt.Fprintf(stdout, "OAuth:           %s/oauth/authorize  %s/oauth/token  client_id=%s client_secret=%s\n", srv.URL, srv.URL, *clientID, *clientSecret)
	fmt.Fprintf(stdout, "webhooks:        %s\n", hooks)
	fmt.Fprintf(stdout, "access token:    %s\n", tok.AccessToken)
	fmt.Fprintf(stdout, "refresh token:   %s\n", tok.RefreshToken)
	fmt.Fprintf(stdout, "try:             curl -H 'Authorization: Bearer %s' '%s/api/v4/users/who_am_i.json?fields=id,name'\n", tok.AccessToken, srv.URL)

	var serveErr error
	select {
	case <-ctx.Done():
	case err := <-errs:
		if !errors.Is(err, http.ErrServerClosed) {
			serveErr = err
		}
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = apiSrv.Shutdown(shutdown)
	_ = storageSrv.Shutdown(shutdown)
	srv.Close()
	return serveErr
}

func loadSeed(srv *cliotest.Server, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("-seed: %w", err)
	}
	defer f.Close()
	if err := srv.LoadSeed(f); err != nil {
		return fmt.Errorf("-seed %s: %w", path, err)
	}
	return nil
}
