package cliotest_test

import (
	"fmt"
	"io"
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
