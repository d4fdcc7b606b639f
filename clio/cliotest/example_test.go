package cliotest_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"strings"

	"github.com/clio-go/clio-go/clio/cliotest"
)

func ExampleNewServer() {
	srv := cliotest.NewServer()
	defer srv.Close()
	tok := srv.IssueToken()

	req, _ := http.NewRequest("POST", srv.URL+"/api/v4/contacts.json?fields=id,name",
		strings.NewReader(`{"data":{"type":"Person","first_name":"Ada","last_name":"Lovelace"}}`))
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	fmt.Println(res.StatusCode, string(body))
	// Output: 201 {"data":{"id":1,"name":"Ada Lovelace"}}
}

// get sends an authorized GET and prints the status and body.
func get(srv *cliotest.Server, token, path string) {
	req, _ := http.NewRequest("GET", srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	fmt.Println(res.StatusCode, strings.TrimSpace(string(body)))
}

func ExampleServer_Insert() {
	srv := cliotest.NewServer()
	defer srv.Close()

	// A matter refers to its client: insert the contact first.
	contacts, err := srv.Insert("contacts", map[string]any{"type": "Person", "first_name": "Ada", "last_name": "Lovelace"})
	if err != nil {
		log.Fatal(err)
	}
	matters, err := srv.Insert("matters", map[string]any{
		"description": "Estate planning", "status": "Open",
		"client": map[string]any{"id": contacts[0]},
	})
	if err != nil {
		log.Fatal(err)
	}
	get(srv, srv.IssueToken().AccessToken, fmt.Sprintf("/api/v4/matters/%d.json?fields=description,client{name}", matters[0]))

	// Insert checks what it is given against the document and names what is wrong.
	_, err = srv.Insert("matters", map[string]any{"description": "Lost", "client": map[string]any{"id": 99}})
	fmt.Println(err)
	// Output:
	// 200 {"data":{"client":{"name":"Ada Lovelace"},"description":"Estate planning"}}
	// cliotest: seed matters[0].client: no contacts record with id 99 (insert it first)
}

func ExampleServer_InjectFault() {
	srv := cliotest.NewServer()
	defer srv.Close()
	token := srv.IssueToken().AccessToken

	// The next two GETs of who_am_i get a 502; the third goes through.
	srv.InjectFault(cliotest.Fault{Kind: cliotest.FaultStatus, Status: http.StatusBadGateway, Method: "GET", Path: "/api/v4/users/who_am_i.json", Burst: 2})
	for range 3 {
		get(srv, token, "/api/v4/users/who_am_i.json?fields=name")
	}
	fmt.Println("faults fired:", srv.Counters().StatusFaults, "pending:", srv.PendingFaults())
	// Output:
	// 502 {"error":{"message":"injected fault: Bad Gateway","type":"ServiceUnavailable"}}
	// 502 {"error":{"message":"injected fault: Bad Gateway","type":"ServiceUnavailable"}}
	// 200 {"data":{"name":"Alex Lawyer"}}
	// faults fired: 2 pending: 0
}
