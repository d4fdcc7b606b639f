package cliotest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func postForm(t *testing.T, c *http.Client, u string, form url.Values) (int, map[string]any) {
	t.Helper()
	res, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(res.Body).Decode(&body)
	return res.StatusCode, body
}

func TestOAuthFlow(t *testing.T) {
	clock := NewManualClock(time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC))
	f := mini(t, WithClock(clock.Now), WithTokenLifetime(time.Hour))
	redirect := "http://127.0.0.1:9/callback"
	authURL := f.s.URL + "/oauth/authorize?" + url.Values{
		"response_type": {"code"}, "client_id": {DefaultClientID}, "redirect_uri": {redirect}, "state": {"xyz"},
	}.Encode()
	res, err := f.c.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc, _ := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusFound || !strings.HasPrefix(loc.String(), redirect) || loc.Query().Get("state") != "xyz" || loc.Query().Get("code") == "" {
		t.Fatalf("authorize: %d %s", res.StatusCode, loc)
	}
	code := loc.Query().Get("code")
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}, "client_id": {DefaultClientID}, "client_secret": {"wrong"}}
	if st, body := postForm(t, f.c, f.s.URL+"/oauth/token", form); st != 401 || body["error"] != "invalid_client" {
		t.Fatalf("bad secret: %d %v", st, body)
	}
	form.Set("client_secret", DefaultClientSecret)
	st, tok := postForm(t, f.c, f.s.URL+"/oauth/token", form)
	if st != 200 || tok["token_type"] != "bearer" || tok["access_token"] == nil || tok["refresh_token"] == nil || tok["expires_in"] != 3600.0 {
		t.Fatalf("token: %d %v", st, tok)
	}
	if st, body := postForm(t, f.c, f.s.URL+"/oauth/token", form); st != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("code reuse: %d %v", st, body)
	}
	f.tok = tok["access_token"].(string)
	f.must(200, "GET", "/api/v4/users/who_am_i.json", nil)
	clock.Advance(time.Hour)
	if a := f.must(401, "GET", "/api/v4/users/who_am_i.json", nil); !strings.Contains(string(a.raw), "expired") {
		t.Fatalf("expired: %s", a.raw)
	}
	// Refresh: a new access token; refresh_token omitted because it did not change.
	st, ref := postForm(t, f.c, f.s.URL+"/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}, "client_id": {DefaultClientID}, "client_secret": {DefaultClientSecret}})
	if st != 200 || ref["access_token"] == nil || ref["refresh_token"] != nil {
		t.Fatalf("refresh: %d %v", st, ref)
	}
	f.tok = ref["access_token"].(string)
	f.must(200, "GET", "/api/v4/users/who_am_i.json", nil)
	// Deauthorize revokes the access and refresh tokens.
	if st, _ := postForm(t, f.c, f.s.URL+"/oauth/deauthorize", url.Values{"token": {f.tok}}); st != 200 {
		t.Fatalf("deauthorize: %d", st)
	}
	f.must(401, "GET", "/api/v4/users/who_am_i.json", nil)
	if st, body := postForm(t, f.c, f.s.URL+"/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}, "client_id": {DefaultClientID}, "client_secret": {DefaultClientSecret}}); st != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("refresh after deauthorize: %d %v", st, body)
	}
}

func TestOAuthDecline(t *testing.T) {
	f := mini(t, WithRotatingRefreshTokens())
	redirect := "https://app.example/cb"
	q := url.Values{"response_type": {"code"}, "client_id": {DefaultClientID}, "redirect_uri": {redirect}, "state": {"s1"}}
	f.s.DeclineNextAuthorizations(1)
	for _, u := range []string{f.s.URL + "/oauth/authorize?" + q.Encode(), f.s.URL + "/oauth/authorize?consent=deny&" + q.Encode()} {
		res, err := f.c.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		loc, _ := url.Parse(res.Header.Get("Location"))
		if loc.Query().Get("error") != "access_denied" || loc.Query().Get("state") != "s1" || loc.Query().Get("code") != "" {
			t.Fatalf("decline: %s", loc)
		}
	}
	res, _ := f.c.Get(f.s.URL + "/oauth/authorize?" + strings.Replace(q.Encode(), DefaultClientID, "other", 1))
	res.Body.Close()
	if res.StatusCode != 401 {
		t.Fatalf("unknown client: %d", res.StatusCode)
	}
	// With rotation, a refresh returns a new refresh token and the old one stops working.
	tok := f.s.IssueToken()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "client_id": {DefaultClientID}, "client_secret": {DefaultClientSecret}}
	st, ref := postForm(t, f.c, f.s.URL+"/oauth/token", form)
	if st != 200 || ref["refresh_token"] == nil || ref["refresh_token"] == tok.RefreshToken {
		t.Fatalf("rotating refresh: %d %v", st, ref)
	}
	if st, _ := postForm(t, f.c, f.s.URL+"/oauth/token", form); st != 400 {
		t.Fatalf("old refresh token still works: %d", st)
	}
	// HTTP Basic client authentication is accepted too (x/oauth2 may use it).
	req, _ := http.NewRequest("POST", f.s.URL+"/oauth/token", strings.NewReader(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {ref["refresh_token"].(string)}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(DefaultClientID, DefaultClientSecret)
	res, err := f.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("basic auth: %d", res.StatusCode)
	}
}
