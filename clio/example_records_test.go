package clio_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/clio-go/clio-go/clio"
	"github.com/clio-go/clio-go/clio/cliotest"
	"github.com/clio-go/clio-go/gen"
	"golang.org/x/oauth2"
)

// seedNumberedMatters gives the fake a client with n matters, "Matter 1" to "Matter n".
func seedNumberedMatters(srv *cliotest.Server, n int) {
	client := mustInsert(srv, "contacts", map[string]any{"type": "Person", "name": "Ada Lovelace"})[0]
	for i := range n {
		mustInsert(srv, "matters", map[string]any{"description": fmt.Sprintf("Matter %d", i+1), "client": map[string]any{"id": client}})
	}
}

// mustInsert seeds the fake; an example has no *testing.T to fail.
func mustInsert(srv *cliotest.Server, collection string, recs ...map[string]any) []int64 {
	ids, err := srv.Insert(collection, recs...)
	if err != nil {
		log.Fatal(err)
	}
	return ids
}

// A contact with its email addresses and phone numbers: Create takes the record's input
// type, and nested records are asked for with Nested.
func ExampleContactsService_Create() {
	srv, c := exampleClient()
	defer srv.Close()
	ctx := context.Background()

	ada, _, err := c.Contacts.Create(ctx, nil, gen.ContactCreateInput{
		Type: gen.ContactTypePerson, FirstName: clio.Ptr("Ada"), LastName: clio.Ptr("Lovelace"),
		EmailAddresses: []gen.EmailAddressInput{
			{Name: clio.Ptr("Work"), Address: clio.Ptr("ada@example.com"), DefaultEmail: clio.Ptr(true)},
		},
		PhoneNumbers: []gen.PhoneNumberInput{
			{Name: clio.Ptr("Mobile"), Number: clio.Ptr("+44 20 7946 0000"), DefaultNumber: clio.Ptr(true)},
		},
	}, clio.ContactFields.Nested("email_addresses", "address").Nested("phone_numbers", "number"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ada.Name, ada.EmailAddresses[0].Address, ada.PhoneNumbers[0].Number)
	// Output: Ada Lovelace ada@example.com +44 20 7946 0000
}

// Time entries on a matter: references are clio.Ref, dates clio.Date; the list is filtered
// by the matter and read with the default field set.
func ExampleActivitiesService_Create() {
	srv, c := exampleClient()
	defer srv.Close()
	ctx := context.Background()
	contactID := mustInsert(srv, "contacts", map[string]any{"type": "Person", "name": "Ada Lovelace"})[0]
	matter, _, err := c.Matters.Create(ctx, nil, gen.MatterCreateInput{
		Client:      clio.Ref(contactID),
		Description: clio.Ptr("Patent filing"),
		OpenDate:    clio.Date(2026, time.March, 2),
	})
	if err != nil {
		log.Fatal(err)
	}

	for _, e := range []struct {
		hours float64
		note  string
	}{{1.5, "Drafting claims"}, {0.25, "Call with the client"}} {
		_, _, err := c.Activities.Create(ctx, gen.ActivityCreateInput{
			Type:     gen.ActivityTypeTimeEntry,
			Matter:   clio.Ref(matter.Id),
			Date:     clio.Date(2026, time.March, 2),
			Quantity: clio.Ptr(e.hours * 3600), // seconds
			Note:     clio.Ptr(e.note),
		})
		if err != nil {
			log.Fatal(err)
		}
	}
	for a, err := range c.Activities.All(ctx, &gen.ListActivitiesParams{MatterId: clio.Ptr(matter.Id)}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s %.2fh %s\n", a.Type, a.Quantity/3600, a.Note)
	}
	// Output:
	// TimeEntry 1.50h Drafting claims
	// TimeEntry 0.25h Call with the client
}

// Offset pagination fetches pages concurrently and yields them in order; Pages hands each
// page with its Response (meta.records in Records).
func ExampleOffsetPagination() {
	srv, c := exampleClient()
	defer srv.Close()
	ctx := context.Background()
	seedNumberedMatters(srv, 25)

	n := 0
	for page, err := range c.Matters.Pages(ctx, nil, clio.Fields("id", "description"), clio.PageSize(10), clio.OffsetPagination(3)) {
		if err != nil {
			log.Fatal(err)
		}
		n += len(page.Items)
		fmt.Printf("%d records, %d of %d so far; first: %s\n", len(page.Items), n, page.Response.Records, page.Items[0].Description)
	}
	// Output:
	// 10 records, 10 of 25 so far; first: Matter 1
	// 10 records, 20 of 25 so far; first: Matter 11
	// 5 records, 25 of 25 so far; first: Matter 21
}

// An iteration that fails after it started says where it stopped; Resume continues from
// there without losing or repeating a record.
func ExamplePageError_Resume() {
	srv, c := exampleClient()
	defer srv.Close()
	ctx := context.Background()
	seedNumberedMatters(srv, 5)

	opts := []clio.CallOption{clio.PageSize(2)}
	read := 0
	for attempt := 0; attempt < 3; attempt++ {
		var perr *clio.PageError
		for _, err := range c.Matters.All(ctx, nil, opts...) {
			if errors.As(err, &perr) {
				break
			} else if err != nil {
				log.Fatal(err)
			}
			read++
		}
		if perr == nil {
			break
		}
		opts = append(opts, perr.Resume()) // same parameters and options, from where it stopped
	}
	fmt.Println(read, "matters")
	// Output: 5 matters
}

// Every open matter with its client's name: the README's second snippet.
func Example() {
	srv, c0 := exampleClient()
	defer srv.Close()
	ctx := context.Background()
	ada := mustInsert(srv, "contacts", map[string]any{"type": "Person", "first_name": "Ada", "last_name": "Lovelace", "name": "Ada Lovelace"})[0]
	mustInsert(srv, "matters", map[string]any{"description": "Estate", "status": "open", "open_date": "2024-03-01", "client": map[string]any{"id": ada}})
	ts := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: srv.IssueToken().AccessToken})
	_ = c0
	run := func() error {
		c, err := clio.NewClient(ctx, clio.WithBaseURL(srv.URL), clio.WithTokenSource(ts))
		if err != nil {
			return err
		}

		fields := clio.Fields("id", "display_number").Nested("client", "id", "name")
		params := &gen.ListMattersParams{
			Status:   []gen.ListMattersParamsStatus{gen.ListMattersParamsStatusOpen, gen.ListMattersParamsStatusPending}, // status=open,pending
			OpenDate: []string{clio.Gte.Date(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))},                               // open_date[]=>=2024-01-01
		}
		for m, err := range c.Matters.All(ctx, params, fields) {
			if err != nil {
				return err
			}
			fmt.Println(m.DisplayNumber, m.Client.Name)
		}
		return nil
	}
	if err := run(); err != nil {
		log.Fatal(err)
	}
	// Output: 00001-Lovelace Ada Lovelace
}
