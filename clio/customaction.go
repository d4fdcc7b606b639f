package clio

// Custom actions. When a user clicks an app's custom action in Clio, the
// browser opens the app's target_url with custom_action_id, user_id,
// subject_url and custom_action_nonce. Those parameters come from the
// browser and can be forged; the nonce is what makes them trustworthy: the
// app sends it back to the API (as a query parameter of a GET of
// subject_url, with the token of the user it believes clicked) and Clio
// answers an error unless that user really clicked that action.

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
)

// CustomActionRequest holds the parameters Clio adds to a custom action's
// target_url. They are unverified until confirmed with the nonce.
type CustomActionRequest struct {
	CustomActionID int64
	UserID         int64
	// SubjectURL is the API URL of the record(s) the action was clicked on,
	// e.g. /api/v4/matters/123.json.
	SubjectURL string
	Nonce      string
}

// CustomAction is a confirmed custom action click.
type CustomAction struct {
	CustomActionRequest
	// Subject is the "data" of the GET of SubjectURL: the record the user
	// clicked on, as the user is allowed to see it.
	Subject json.RawMessage
}

// ParseCustomActionRequest reads and checks the custom action parameters of
// r's query. It makes no request: use it to pick the OAuth token (the
// Client) of UserID, then confirm with that client. The values are not to
// be trusted before that confirmation.
func ParseCustomActionRequest(r *http.Request) (CustomActionRequest, error) {
	q := r.URL.Query()
	var car CustomActionRequest
	var err error
	if car.CustomActionID, err = positiveID(q, "custom_action_id"); err != nil {
		return car, err
	}
	if car.UserID, err = positiveID(q, "user_id"); err != nil {
		return car, err
	}
	car.SubjectURL = q.Get("subject_url")
	if car.SubjectURL == "" {
		return car, &InputError{Field: "subject_url", Reason: "is missing"}
	}
	car.Nonce = q.Get("custom_action_nonce")
	if car.Nonce == "" {
		return car, &InputError{Field: "custom_action_nonce", Reason: "is missing"}
	}
	return car, nil
}

func positiveID(q url.Values, name string) (int64, error) {
	v := q.Get(name)
	if v == "" {
		return 0, &InputError{Field: name, Reason: "is missing"}
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, &InputError{Field: name, Reason: "is not a positive integer"}
	}
	return id, nil
}

// errForeignSubject is wrapped by the error for a subject_url that does not
// point into the API of the client's host.
var errForeignSubject = errors.New("subject_url is not an API URL on the client's host")

// subjectPath checks that raw names an API resource on base's origin and
// returns its path and query. The token is about to be sent with it: a
// forged subject_url pointing elsewhere must not receive it.
func subjectPath(base *url.URL, raw string) (string, url.Values, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", nil, &InputError{Field: "subject_url", Reason: "is not a URL"}
	}
	bad := func(why string) (string, url.Values, error) {
		return "", nil, &InputError{Field: "subject_url", Reason: errForeignSubject.Error() + ": " + why}
	}
	if u.IsAbs() || u.Host != "" {
		if !strings.EqualFold(u.Scheme, base.Scheme) || !strings.EqualFold(u.Host, base.Host) {
			return bad("host " + u.Host)
		}
	}
	switch {
	case u.User != nil:
		return bad("has user info")
	case u.Opaque != "":
		return bad("is opaque")
	case !strings.HasPrefix(u.Path, "/api/v4/"):
		return bad("path outside /api/v4/")
	case path.Clean(u.Path) != u.Path || hasEncodedSeparator(u.EscapedPath()):
		// No dot segments or encoded slashes/dots that a server might
		// resolve to a path outside the API.
		return bad("path is not canonical")
	}
	return u.Path, u.Query(), nil
}

// confirmCustomAction parses r, checks subject_url and GETs it with the nonce through the
// pipeline, with the token of the Client (the user who supposedly clicked). An error from
// the API, such as the one for a forged or reused nonce, is returned as is (a *Error) and
// means the click is not confirmed. fields, if not empty, shapes Subject.
func (c *Client) confirmCustomAction(ctx context.Context, r *http.Request, fields string) (*CustomAction, *Response, error) {
	car, err := ParseCustomActionRequest(r)
	if err != nil {
		return nil, nil, err
	}
	p, q, err := subjectPath(c.base, car.SubjectURL)
	if err != nil {
		return nil, nil, err
	}
	q.Set("custom_action_nonce", car.Nonce)
	if fields != "" {
		f, err := ParseFields(fields)
		if err != nil {
			return nil, nil, err
		}
		q.Set("fields", f.String())
	}
	u := *c.base
	u.Path, u.RawQuery = strings.TrimSuffix(c.base.Path, "/")+p, q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, nil, err
	}
	subject, resp, err := Do[json.RawMessage](ctx, c, Request{HTTP: req})
	if err != nil {
		return nil, resp, err
	}
	return &CustomAction{CustomActionRequest: car, Subject: subject}, resp, nil
}

// hasEncodedSeparator reports a percent-encoded slash, dot or backslash, which some
// servers decode before routing.
func hasEncodedSeparator(p string) bool {
	p = strings.ToLower(p)
	return strings.Contains(p, "%2f") || strings.Contains(p, "%2e") || strings.Contains(p, "%5c")
}

// Confirm checks a custom action click with Clio before it is trusted: it sends the request's
// custom_action_nonce with a GET of its subject_url (on the API host only) and returns the
// user and the subject record. A forged or replayed nonce is an error. Parse the request with
// ParseCustomActionRequest first to choose the Client of the user who clicked.
func (s *CustomActionsService) Confirm(ctx context.Context, r *http.Request, fields string) (*CustomAction, *Response, error) {
	if err := checkContext(ctx); err != nil {
		return nil, nil, err
	}
	return s.client.confirmCustomAction(ctx, r, fields)
}
