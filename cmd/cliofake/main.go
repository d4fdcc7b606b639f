// Command cliofake runs the in-memory Clio Manage API v4 of package cliotest on a port,
// for trying a Clio integration without a Clio account:
//
//	go run ./cmd/cliofake -addr 127.0.0.1:8080
//
// It serves the API (/api/v4/...) and OAuth (/oauth/authorize, /oauth/token,
// /oauth/deauthorize) on -addr and the document storage host (put_url uploads and
// download redirects) on -storage-addr, then prints the URLs, the OAuth client
// credentials and a ready access token. Everything lives in memory and is lost on exit.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
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
	if err := run(os.Args[1:]); err != nil {
		log.Fatal(err)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("cliofake", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "address of the API and OAuth endpoints")
	storageAddr := fs.String("storage-addr", "127.0.0.1:0", "address of the storage host (0 picks a free port)")
	clientID := fs.String("client-id", cliotest.DefaultClientID, "OAuth client id the server accepts")
	clientSecret := fs.String("client-secret", cliotest.DefaultClientSecret, "OAuth client secret the server accepts")
	rateLimit := fs.Int("rate-limit", 50, "requests per token per window (0 disables rate limiting)")
	rateWindow := fs.Duration("rate-window", time.Minute, "rate-limit window")
	tokenLife := fs.Duration("token-lifetime", 30*24*time.Hour, "lifetime of access tokens")
	insecureHooks := fs.Bool("insecure-webhooks", true, "accept http:// webhook URLs on loopback hosts (Clio itself requires https)")
	minPart := fs.Int64("min-part-size", 5<<20, "smallest multipart upload part other than the last, in bytes")
	if err := fs.Parse(args); err != nil {
		return err
	}
	apiLn, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	storageLn, err := net.Listen("tcp", *storageAddr)
	if err != nil {
		return err
	}
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
	srv.URL = "http://" + apiLn.Addr().String()
	apiSrv := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	storageSrv := &http.Server{Handler: srv.StorageHandler(), ReadHeaderTimeout: 10 * time.Second}
	errs := make(chan error, 2)
	go func() { errs <- apiSrv.Serve(apiLn) }()
	go func() { errs <- storageSrv.Serve(storageLn) }()

	tok := srv.IssueToken()
	fmt.Printf("Clio fake API:   %s  (X-API-VERSION %s by default)\n", srv.URL, cliotest.DefaultAPIVersion)
	fmt.Printf("storage host:    %s\n", srv.StorageURL)
	fmt.Printf("OAuth:           %s/oauth/authorize  %s/oauth/token  client_id=%s client_secret=%s\n", srv.URL, srv.URL, *clientID, *clientSecret)
	fmt.Printf("access token:    %s\n", tok.AccessToken)
	fmt.Printf("refresh token:   %s\n", tok.RefreshToken)
	fmt.Printf("try:             curl -H 'Authorization: Bearer %s' '%s/api/v4/users/who_am_i.json?fields=id,name'\n", tok.AccessToken, srv.URL)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	select {
	case <-sig:
	case err := <-errs:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = apiSrv.Shutdown(ctx)
	_ = storageSrv.Shutdown(ctx)
	return nil
}
