// Package clio is the client for the Clio Manage API v4. It is a thin,
// safe layer over the generated code in package gen: it wraps, it does
// not re-type the API. Every operation is reachable from a *Client with the
// generated parameter, input and result types.
//
//	c, err := clio.NewClient(ctx, clio.WithRegion(clio.EU), clio.WithTokenSource(ts))
//	for m, err := range c.Matters.All(ctx, &gen.ListMattersParams{}, clio.Fields("id", "display_number")) {
//		...
//	}
//	m, _, err := c.Matters.Create(ctx, nil, gen.MatterCreateInput{Client: clio.Ref(id), OpenDate: clio.Date(2026, time.March, 2)})
//
// # Authentication
//
// OAuth (NewOAuth) runs Clio's authorization-code flow on
// golang.org/x/oauth2: AuthCodeURL (with state, optionally
// RedirectOnDecline), Exchange, and TokenSource, which refreshes expired
// tokens, keeps the refresh token when Clio does not rotate it, and calls
// your hook to persist every new token. When Clio answers 401 to a
// refreshable token the client refreshes once and repeats the request once.
// Deauthorize revokes a token. invalid_client errors match
// ErrInvalidClient and name the region, the usual cause.
//
// The bearer token is only ever sent to the configured API origin (scheme
// and host): not to a foreign next URL, not to storage hosts. API calls
// never follow a redirect (a 3xx is an *Error naming where it led); only
// downloads follow their 303 to storage, without the token, and storage
// requests refuse loopback, link-local and private addresses unless
// WithPrivateStorage allows them (tests against local fakes).
//
// # Regions
//
// US (default), CA, EU and AU (WithRegion), or any origin with
// WithBaseURL. Apps and tokens belong to one region.
//
// # Fields
//
// Clio returns only id and etag unless asked, and the models hold values,
// so a record fetched without fields would look complete and be empty.
// Every Get, List, All, Create and Update of the services therefore asks
// for the record's default field set when the call names none: every
// scalar field of its schema (MatterFields, ContactFields, ... generated
// from the document). Nested records need Nested, e.g.
// clio.MatterFields.Nested("client", "id", "name"). Fields and Nested build
// a validated fields value (one level of nesting inside a nested resource,
// names in [a-z0-9_]); it is a CallOption, the one way to set fields (the
// generated parameters have no fields), and an invalid one fails with an
// *InputError naming the field before any request is sent.
//
// # Filters and parameters
//
// Filters are typed as Clio takes them, not as the reference's render shows them: a
// matter's open_date[], close_date[] and pending_date[] take operator-and-date conditions
// (Gte.Date(t) is ">=2024-01-01"; several must all hold), status takes a list sent as one
// comma list (open,pending), and custom_field_values maps a custom field's id to a
// condition (CustomFieldValues: map[string]string{CustomFieldKey(12): Gte.Value("5")}).
// Enum types are shared by a record and its create and update inputs
// (gen.MatterStatusOpen in both; the list filter takes Clio's lowercase
// gen.ListMattersParamsStatusOpen), and every enum constant carries its type's name. A
// request date Clio takes as a date or a date-time (a task's due_at) is a string of
// either form. A query or header parameter Clio requires (a document version list's id,
// a note list's type) is checked before the request leaves: without it the call fails
// with an *InputError naming it and nothing is sent.
//
// Calendar entries have string ids, as Clio sends them, and their calls take that id.
//
// # Pagination
//
// List operations have record iterators (All: iter.Seq2[T, error]) and
// page iterators (Pages: each *Page carries its *Response). Cursor mode (the
// default) sets order=id(asc), refuses a conflicting order with an
// *InputError rather than overriding it, and follows meta.paging.next
// exactly as given, prefetching the next page while you consume the
// current one. OffsetPagination(workers) fetches pages concurrently and
// yields them in order, up to Clio's 10,000-record offset cap
// (ErrOffsetLimit past it). A next URL on another host is ErrUntrustedURL.
// Breaking out of a loop or cancelling the context stops all fetching.
// PageSize sets limit (at most 200; iterators default to 200). An error
// after the iteration started is a *PageError saying where it stopped;
// Resume() continues from there, no record lost or repeated. A long run of
// empty pages, or a next link seen before, ends with ErrPaging; an offset
// read whose pages disagree with meta.records with ErrCountMismatch.
//
// # Rate limits and retries
//
// Requests are paced by a RateLimiter fed by Clio's X-RateLimit-* headers,
// one per token: shared by all goroutines and by every Client built with the
// same token or token source (WithRateLimiter to choose otherwise). Retries: 429 always (waiting
// Retry-After or X-RateLimit-Reset, never a fixed 1-2-4 s; a waited-out 429
// uses up no attempt, and the workers it held resume staggered), 5xx,
// timeouts, dropped connections and answers cut short (JSON included) only
// for GET, HEAD, PUT, DELETE and OPTIONS, or for a POST/PATCH marked
// RetryUnsafe. Back-off is exponential with full jitter, bodies are
// replayed through Request.GetBody, and no wait outlives the context
// deadline. Tune or replace the policy with WithRetryer (a StandardRetryer
// with MaxAttempts, MaxElapsed, BaseDelay...). A retried call's final
// error says how many attempts it made.
//
// Every request takes one pipeline (pipeline.go): a service method builds
// it with gen's request builder (gen.NewGetMatterRequest...) and one loop
// sends it: rate limiter → token and headers (API origin only) →
// WithTransportMiddleware layers → base transport → 401 refresh once →
// decode or error → retry decision → back-off. Default timeouts end an
// attempt whose headers do not come (60 s) or whose body stalls (30 s);
// WithTimeouts changes them. Answers are bounded (WithMaxAnswerSize, 64 MiB
// by default) while they are read.
//
// # Conditional requests
//
// Refresh (c.Matters.Refresh(ctx, id, nil, old)) asks again only if the
// record changed since old was read and returns old with
// Response.NotModified on 304; the cached record's type is the call's, at
// compile time. IfMatch(etag) turns a lost race into
// ErrPreconditionFailed. IfModifiedSince conditions list calls.
//
// # API versions
//
// X-API-VERSION is APIVersion unless WithAPIVersion or UseAPIVersion say
// otherwise; Response.APIVersion is Clio's echo; a retired version is
// ErrGone.
//
// # Errors
//
// Clio's error answers are *Error (status, type, message, request id,
// the wait Clio asked for on a 429 or 503, attempts) and match the
// sentinels with errors.Is: ErrBadRequest,
// ErrUnauthorized, ErrForbidden, ErrNotFound, ErrConflict, ErrGone,
// ErrPreconditionFailed, ErrValidation, ErrRateLimited, ErrServer. Bad
// input from the caller is an *InputError naming the field or option
// (errors.Is(err, ErrInvalidInput)). CheckResponse gives the same errors
// to code using package gen directly. A success without its record
// ({"data": null}) is ErrEmptyAnswer.
//
// # Webhooks
//
// c.Webhooks.Register validates a subscription (https URL, one of Clio's
// webhook models, its events, fields, at most 31 days) before sending it;
// Renew and RenewExpiring push expires_at forward, and Activate completes a
// delayed handshake. The receiving side is package webhook: an http.Handler
// that answers the handshake, verifies X-Hook-Signature and hands over
// typed events once each. Clio's handshake names no webhook, and anyone who
// reaches the URL can send one; so, given UseWebhookRegistry(reg), Register
// records a webhook.Registration with an unguessable token and puts the
// token in the webhook's URL, and the handler (built over the same reg)
// accepts only the handshakes of registered tokens.
//
// # Documents
//
// c.Documents.Upload takes a parent, a name and an io.Reader of known size:
// one PUT, or concurrent multipart parts (100 MB and up, or with MD5
// checks) with memory bounded by Concurrency x PartSize; the storage host
// never sees the token. Download (documents, archives, templates, reports)
// follows Clio's 303 to storage without the token and streams the body.
//
// # JSON
//
// Every answer is decoded through the Client's Codec: FastCodec
// (goccy/go-json) by default, held to encoding/json's results by
// differential tests over every response model; WithCodec(JSONCodec{})
// selects the standard library. Answers up to 1 MiB are decoded whole from a
// reused buffer, larger ones streamed.
//
// # Logging
//
// WithLogger logs each request (method, URL, status, duration, attempts)
// and each retry through log/slog. Authorization, cookies, X-Hook-Secret
// and token, code, secret, nonce and storage-signature parameters are
// redacted.
//
// # Using generated operations directly
//
// The generic entry points take a Request: what a request builder of
// package gen returns, paired by NewRequest. The generated services
// (services_gen.go) are one-liners over them:
//
//	Do[T](ctx, c, r, opts...) (T, *Response, error)            // one record: Get, Create, Update
//	Refresh[T](ctx, c, r, cached, etag, opts...)               // Get unless unchanged
//	DoNoContent(ctx, c, r, opts...) (*Response, error)         // Delete (204)
//	ListPage[T](ctx, c, r, opts...) ([]T, *Response, error)    // one page: List
//	All[T](ctx, c, r, opts...) iter.Seq2[T, error]             // every record: All
//	Pages[T](ctx, c, r, opts...) iter.Seq2[*Page[T], error]    // every page: Pages
//
// where r is, for example,
//
//	clio.NewRequest(gen.NewListMattersRequest(c.BaseURL(), params))
//
// The same functions work from user code for any operation the services
// do not cover; HTTPClient sends requests of gen's own client through the
// same pipeline.
package clio
