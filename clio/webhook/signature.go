// Package webhook receives Clio Manage webhooks: the X-Hook-Secret handshake,
// X-Hook-Signature verification, typed event decoding and idempotent handling
// of re-deliveries.
//
// It does not depend on the clio client: a receiver usually runs in a
// different process from the code that registers webhooks, and tests of a
// receiver should not need an API client at all. What the two sides share
// is a Registry (a database table in production).
//
// Clio's protocol, in short:
//
//   - Right after a webhook is created (or its URL changes) Clio POSTs to the
//     URL with an X-Hook-Secret header, and nothing else that names the
//     webhook. The receiver either echoes that header in a 200 answer, or
//     stores it and later calls PUT /api/v4/webhooks/{id}/activate.json with
//     it (see WithDelayedActivation).
//   - Every delivery carries X-Hook-Signature: lowercase hex HMAC-SHA256 of the
//     raw body keyed with that secret.
//   - Any 2xx or 3xx answer is success; 410 disables the webhook; anything else
//     (including a timeout) is retried with back-off, so the same event can
//     arrive more than once.
//
// The handshake is not signed (its point is to hand over the secret), so
// anyone who can reach the URL can send one. Accepting any of them would let
// a stranger hand the receiver a secret of their own for a webhook id the
// application is about to create, then sign events. So the Handler accepts a
// handshake only at a URL carrying the token of a Registration the
// application made: clio's WebhooksService.Register mints a 256-bit token
// (NewToken), records a Registration in the Registry and registers the URL
// with the token as the TokenParam query parameter. Deliveries are verified
// with the secret of their URL's registration.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
)

// Header names used by Clio's webhook protocol.
const (
	// HeaderSecret carries the shared secret in the handshake request, and in
	// the handshake answer when the receiver confirms immediately.
	HeaderSecret = "X-Hook-Secret"
	// HeaderSignature carries the hex HMAC-SHA256 of a delivery's raw body.
	HeaderSignature = "X-Hook-Signature"
)

// Sentinel errors returned by Verify and reported by the Handler. Test with errors.Is.
var (
	// ErrNoSignature means the delivery carried no X-Hook-Signature header.
	ErrNoSignature = errors.New("webhook: missing " + HeaderSignature + " header")
	// ErrBadSignature means the signature is malformed or does not match the
	// body under the secret: the request did not come from Clio, was altered,
	// or the secret is wrong.
	ErrBadSignature = errors.New("webhook: signature does not match body")
)

// Sign returns the signature Clio puts in X-Hook-Signature for body:
// lowercase hex HMAC-SHA256 keyed with secret. It is exported so that users
// can build signed deliveries in their own tests.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Verify checks that signature is the HMAC-SHA256 of body under secret. It
// returns nil on a match, ErrNoSignature when signature is empty and
// ErrBadSignature otherwise. The comparison is constant time so that timing
// does not reveal how many leading bytes of a forged signature were right.
// Hex digits are accepted in either case: Clio sends lowercase, but the bytes
// compared are the decoded MAC, not the text.
func Verify(secret, body []byte, signature string) error {
	if signature == "" {
		return ErrNoSignature
	}
	if len(secret) == 0 {
		// An empty key would make every "signature" computable by anyone.
		return ErrBadSignature
	}
	got, err := hex.DecodeString(signature)
	if err != nil || len(got) != sha256.Size {
		return ErrBadSignature
	}
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	if !hmac.Equal(got, m.Sum(nil)) {
		return ErrBadSignature
	}
	return nil
}
