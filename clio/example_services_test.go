package clio_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"strings"

	"github.com/clio-go/clio-go/clio"
	"github.com/clio-go/clio-go/clio/cliotest"
	"github.com/clio-go/clio-go/gen"
)

// exampleClient starts the fake Clio of package cliotest and a Client on it, as a test of
// your own integration would.
func exampleClient() (*cliotest.Server, *clio.Client) {
	srv := cliotest.NewServer()
	c, err := clio.NewClient(context.Background(), clio.WithBaseURL(srv.URL), clio.WithToken(srv.IssueToken().AccessToken),
		clio.WithPrivateStorage()) // the fake's storage host is on loopback
	if err != nil {
		log.Fatal(err)
	}
	return srv, c
}

func ExampleMattersService_All() {
	srv, c := exampleClient()
	defer srv.Close()
	ctx := context.Background()
	ada, _, err := c.Contacts.Create(ctx, nil, gen.ContactCreateInput{
		Type: gen.ContactTypePerson, FirstName: clio.Ptr("Ada"), LastName: clio.Ptr("Lovelace"),
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, d := range []string{"Estate planning", "Patent filing", "Lease review"} {
		_, _, err := c.Matters.Create(ctx, nil, gen.MatterCreateInput{
			Client: clio.Ref(ada.Id), Description: clio.Ptr(d),
		})
		if err != nil {
			log.Fatal(err)
		}
	}

	// Every matter, two per request, with the client's name nested in each.
	fields := clio.Fields("id", "display_number", "description").Nested("client", "name")
	for m, err := range c.Matters.All(ctx, nil, fields, clio.PageSize(2)) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(m.DisplayNumber, m.Description, "for", m.Client.Name)
	}
	// Output:
	// 00001-Lovelace Estate planning for Ada Lovelace
	// 00002-Lovelace Patent filing for Ada Lovelace
	// 00003-Lovelace Lease review for Ada Lovelace
}

func ExampleDocumentsService_Upload() {
	srv, c := exampleClient()
	defer srv.Close()
	ctx := context.Background()
	folders, err := srv.Insert("folders", map[string]any{"name": "Letters"})
	if err != nil {
		log.Fatal(err)
	}
	folder := folders[0]

	letter := []byte("Dear client, ...")
	res, _, err := c.Documents.Upload(ctx, clio.UploadParams{
		Parent: clio.DocumentParent{ID: folder, Type: clio.ParentFolder},
		Name:   "letter.txt",
		Body:   bytes.NewReader(letter),
		Size:   int64(len(letter)),
	})
	if err != nil {
		log.Fatal(err)
	}
	dl, _, err := c.Documents.Download(ctx, res.DocumentID)
	if err != nil {
		log.Fatal(err)
	}
	defer dl.Close()
	got, err := io.ReadAll(dl)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s (%d parts)\n", got, res.Parts)
	// Output: Dear client, ... (0 parts)
}

func ExamplePracticeAreasService_Refresh() {
	srv, c := exampleClient()
	defer srv.Close()
	ctx := context.Background()
	areas, err := srv.Insert("practice_areas", map[string]any{"name": "Family law"})
	if err != nil {
		log.Fatal(err)
	}
	id := areas[0]

	pa, _, err := c.PracticeAreas.Get(ctx, id)
	if err != nil {
		log.Fatal(err)
	}
	// Later: ask again only if it changed; a 304 hands back what we had.
	again, resp, err := c.PracticeAreas.Refresh(ctx, id, pa)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(again.Name, resp.NotModified)
	// Output: Family law true
}

func ExampleError() {
	srv, c := exampleClient()
	defer srv.Close()

	_, _, err := c.Matters.Get(context.Background(), 424242, nil)
	var ce *clio.Error
	if errors.As(err, &ce) {
		fmt.Println(ce.StatusCode, errors.Is(err, clio.ErrNotFound))
	}
	// Output: 404 true
}

func ExampleOAuth_AuthCodeURL() {
	o, err := clio.NewOAuth(clio.OAuthConfig{
		ClientID: "app-id", ClientSecret: "app-secret",
		RedirectURL: "https://myapp.example/oauth/callback",
		Region:      clio.CA,
	})
	if err != nil {
		log.Fatal(err)
	}
	u, err := o.AuthCodeURL("state-123")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(strings.SplitN(u, "?", 2)[0])
	fmt.Println(strings.Contains(u, "state=state-123"), strings.Contains(u, "response_type=code"))
	// Output:
	// https://ca.app.clio.com/oauth/authorize
	// true true
}
