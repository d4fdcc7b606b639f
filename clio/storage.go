package clio

// Storage hosts. Clio keeps document bytes outside the API: uploads PUT them to the signed
// put_urls Clio hands out (upload.go), downloads GET them from the location of a 303
// (download.go). Both go through the pipeline as storage requests: no token, no API rate
// limiter, the same retries, storage's own errors, and no loopback, link-local or private
// address unless WithPrivateStorage allows it.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// StorageError is a non-2xx answer from the document storage host (a
// put_url or a download location), which is not Clio and does not answer
// with Clio's error shape. Body holds the start of the answer, for S3 an XML
// <Error> with a Code such as BadDigest or AccessDenied.
type StorageError struct {
	Method     string
	Host       string // the storage host; the signed URL itself is not kept
	StatusCode int
	Body       string
	Attempts   int // attempts made before giving up; 0 or 1 for one
}

// Error renders the status and the start of storage's answer; the signed
// URL is left out because its query string is a credential.
func (e *StorageError) Error() string {
	s := fmt.Sprintf("clio: storage %s %s: %d %s: %s", e.Method, e.Host, e.StatusCode,
		http.StatusText(e.StatusCode), e.Body)
	if e.Attempts > 1 {
		s += fmt.Sprintf(" (after %d attempts)", e.Attempts)
	}
	return s
}

func storageError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
	return &StorageError{Method: resp.Request.Method, Host: resp.Request.URL.Host,
		StatusCode: resp.StatusCode, Body: redactText(strings.TrimSpace(string(b)))}
}

// stripURLErr drops the signed URL from a *url.Error: its query string is
// a credential for the file and must not end up in logs.
func stripURLErr(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// errPrivateStorage refuses a storage URL on a loopback, link-local or private address.
var errPrivateStorage = errors.New("clio: storage URL points to a loopback, link-local or private address (WithPrivateStorage allows it)")

// checkStorageURL vets a storage URL before anything is sent to it: http(s), and, unless
// the Client allows it, no address a cloud metadata service or an internal host lives at.
func checkStorageURL(ctx context.Context, u *url.URL, allowPrivate bool) error {
	if u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("clio: storage URL has unsupported scheme %q or no host", u.Scheme)
	}
	if allowPrivate {
		return nil
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return fmt.Errorf("%w: %s", errPrivateStorage, host)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if !publicAddr(ip) {
			return fmt.Errorf("%w: %s", errPrivateStorage, host)
		}
		return nil
	}
	addrs, _ := net.DefaultResolver.LookupNetIP(ctx, "ip", host) // none: the attempt reports the unknown host
	for _, ip := range addrs {
		if !publicAddr(ip) {
			return fmt.Errorf("%w: %s resolves to %s", errPrivateStorage, host, ip)
		}
	}
	return nil
}

func publicAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsValid() && !ip.IsLoopback() && !ip.IsLinkLocalUnicast() && !ip.IsLinkLocalMulticast() &&
		!ip.IsPrivate() && !ip.IsUnspecified() && !ip.IsInterfaceLocalMulticast()
}

// putHeader is one of the headers Clio asks to send with a PUT to storage.
type putHeader struct{ Name, Value string }
