package clio_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/clio-go/clio-go/clio"
	"golang.org/x/oauth2"
)

func ExampleNewClient() {
	ctx := context.Background()
	o, err := clio.NewOAuth(clio.OAuthConfig{
		ClientID: "app-id", ClientSecret: "app-secret",
		RedirectURL: "https://myapp.example/oauth/callback",
		Region:      clio.EU,
	})
	if err != nil {
		log.Fatal(err)
	}
	saved := &oauth2.Token{AccessToken: "…", RefreshToken: "…"} // from your store
	ts := o.TokenSource(ctx, saved, func(t *oauth2.Token) error {
		return nil // persist t: it may carry a rotated refresh token
	})
	c, err := clio.NewClient(ctx, clio.WithRegion(clio.EU), clio.WithTokenSource(ts))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.BaseURL())
	// Output: https://eu.app.clio.com
}

func ExampleFields() {
	f := clio.Fields("id", "display_number").Nested("client", "id", "name")
	fmt.Println(f)

	_, err := clio.ParseFields("id,client{id,primary_address{city}}")
	fmt.Println(err)
	// Output:
	// id,display_number,client{id,name}
	// clio: invalid fields: client{id,primary_address…}: Clio allows only one level of nesting inside a nested resource
}

type matter struct {
	ID            int64  `json:"id"`
	DisplayNumber string `json:"display_number"`
}

func ExampleAll() {
	// A stand-in for Clio: two pages linked by meta.paging.next.
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("page_token") == "" {
			fmt.Fprintf(w, `{"data":[{"id":1,"display_number":"00001-Smith"}],"meta":{"paging":{"next":"%s/api/v4/matters.json?page_token=p2"},"records":2}}`, srv.URL)
			return
		}
		fmt.Fprint(w, `{"data":[{"id":2,"display_number":"00002-Jones"}],"meta":{"paging":{},"records":2}}`)
	}))
	defer srv.Close()

	ctx := context.Background()
	c, err := clio.NewClient(ctx, clio.WithBaseURL(srv.URL), clio.WithToken("token"))
	if err != nil {
		log.Fatal(err)
	}
	// Any request built for the Client's base URL goes through the same pipeline;
	// the generated services build theirs with gen.NewListMattersRequest and the like.
	listMatters := clio.NewRequest(http.NewRequest("GET", c.BaseURL()+"/api/v4/matters.json", nil))
	for m, err := range clio.All[matter](ctx, c, listMatters, clio.Fields("id", "display_number")) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(m.ID, m.DisplayNumber)
	}
	// Output:
	// 1 00001-Smith
	// 2 00002-Jones
}
