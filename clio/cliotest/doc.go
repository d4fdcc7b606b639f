// Package cliotest is an in-memory Clio Manage API v4 for tests and local development.
//
// The server is driven by the OpenAPI document api/openapi.yaml (or another one given with
// WithDocument): every request is validated against it with kin-openapi's openapi3filter
// (a bad parameter gets Clio's 400, a bad body Clio's 422, both as
// {"error":{"type":"...","message":"..."}}), and every answer is validated too: with WithT
// an answer that breaks the document fails the test. It does not import the clio client
// package, so it checks the client rather than mirroring it.
//
// Like real Clio, it takes enum values of a body in any case and stores and answers them
// in the document's (a matter created with status "open" answers "Open"), filters lists
// by date conditions (open_date[]=>=2024-01-01, all of them must hold), comma lists
// (status=open,pending) and custom-field conditions (custom_field_values[12]=>=5), answers
// a date field sent as a date-time (a task's due_at) as its date, and gives calendar
// entries string ids.
//
// Every path of the document works: collection paths (matters.json) list and create,
// record paths (matters/{id}.json) show, update and delete, sub-resources
// (contacts/{contact_id}/email_addresses.json, matters/{matter_id}/client.json) read from
// their parent, and singletons (timer.json, settings/billing.json) keep one record.
// Contacts, matters, activities, tasks, calendar entries, notes, folders, documents,
// webhooks and users (who_am_i) have hand-written behaviour on top (see RealResources).
//
// Clio's platform rules are enforced: `fields` (default id,etag; one level of nesting
// inside a nested resource; unknown fields are 400), paging (limit 1..200, offset paging
// that stops at 10,000 records with a 422, cursor paging with order=id(asc) and an opaque
// page_token, meta.paging.next/previous as full URLs on the host the request used),
// ETags (IF-NONE-MATCH → 304, IF-MATCH → 412), X-RateLimit-* headers and 429 with
// Retry-After under a per-token budget (50 a minute by default, Clio's peak limit: use
// WithRateLimit(0, 0) to switch it off in tests that make many requests), X-API-VERSION
// (echoed on success; 4.0.0-4.0.3 retired with 410; anything else invalid with 400),
// OAuth (authorize with simulated consent, token with the authorization_code and
// refresh_token grants, deauthorize), webhooks (X-Hook-Secret handshake, activation,
// signed deliveries, expiry) and document uploads to a separate storage host that refuses
// requests carrying an Authorization header.
//
// Records are seeded with Server.Insert (or MustInsert in a test, LoadSeed from JSON),
// which checks them against the document: the collection, each field and its type, and
// each reference ({"client": {"id": 5}} must name a contact the fake holds). A refused
// record is a *SeedError naming the collection, the record's index and the field.
//
// Faults are injected with Server.InjectFault or WithFaults: 5xx answers, connections
// reset before or after the work, slow answers, bodies cut short, complete answers with
// truncated JSON, 429 storms, canned bodies ({"data":null}), endless empty pages and
// redirects to another host (see FaultKind). Fault.Burst makes one firing hit several
// requests in a row; Fault.Probability fires by chance from a seeded generator
// (WithFaultSeed), so a long read gets faults sprinkled through it repeatably; Chaos
// returns the usual mix. Counters tells how many of each kind fired.
//
// Webhook URLs follow Clio's rule, https only; WithInsecureWebhooks also accepts http on
// loopback hosts (cmd/cliofake: -insecure-webhooks).
//
// In a test:
//
//	srv := cliotest.NewServer(cliotest.WithT(t))
//	tok := srv.IssueToken() // or run the OAuth flow against srv.URL
//	// point the client at srv.URL with tok.AccessToken
//
// To serve the handlers yourself (httptest or a real listener), build the server with New,
// give it the storage host's URL with WithStorageURL, and serve Handler and
// StorageHandler; cmd/cliofake does that on fixed ports.
package cliotest
