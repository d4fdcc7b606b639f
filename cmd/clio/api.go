package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/clio-go/clio-go/clio"
	"github.com/clio-go/clio-go/clio/replica"
)

type apiFlags struct {
	fields   string
	paginate bool
	data     string
}

func newAPI(g *globals) *cobra.Command {
	a := &apiFlags{}
	cmd := &cobra.Command{
		Use:   "api METHOD PATH",
		Short: "Call any Clio operation and print its JSON answer",
		Long: `api sends one request to Clio with the saved token (retries, rate limits and token
refresh included) and prints the answer's JSON. PATH is relative to /api/v4, with or
without the leading slash, and may carry a query string:

  clio api GET matters.json --fields id,display_number,client{name} --paginate
  clio api POST contacts.json --data '{"data":{"type":"Person","first_name":"Ada","last_name":"Lovelace"}}'
  clio api DELETE matters/42.json

With --paginate a list is followed to its last page (cursor order) and printed as one
JSON array of records.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAPI(cmd.Context(), g, a, strings.ToUpper(args[0]), args[1], cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&a.fields, "fields", "", "the fields to return, e.g. id,name,client{id,name}")
	f.BoolVar(&a.paginate, "paginate", false, "follow a list to its last page and print every record as one array (GET only)")
	f.StringVarP(&a.data, "data", "d", "", "the JSON body: inline, @file, or - for standard input")
	return cmd
}

func runAPI(ctx context.Context, g *globals, a *apiFlags, method, path string, stdin io.Reader, stdout, stderr io.Writer) error {
	switch method {
	case http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete:
	default:
		return fmt.Errorf("method %q: want GET, POST, PATCH, PUT or DELETE", method)
	}
	if a.paginate && method != http.MethodGet {
		return fmt.Errorf("--paginate needs GET, not %s", method)
	}
	if a.fields != "" {
		if _, err := clio.ParseFields(a.fields); err != nil {
			return fmt.Errorf("--fields: %w", err)
		}
	}
	body, err := readBody(a.data, stdin)
	if err != nil {
		return err
	}
	c, done, err := g.connect(ctx, stderr)
	if err != nil {
		return err
	}
	defer done()
	target, err := apiURL(c.BaseURL(), path, a.fields)
	if err != nil {
		return err
	}
	r := replica.Request(c, method, target, body)
	if a.paginate {
		return paginate(ctx, c, r, stdout)
	}
	if r.Err != nil {
		return r.Err
	}
	resp, err := c.HTTPClient().Do(r.HTTP.WithContext(ctx))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 400 {
		fmt.Fprintf(stderr, "%s\n", out)
		return fmt.Errorf("%s %s: %s", method, path, resp.Status)
	}
	return writeJSON(stdout, out)
}

// apiURL puts path under /api/v4 of the client's host.
func apiURL(base, path, fields string) (string, error) {
	path = strings.TrimPrefix(strings.TrimPrefix(path, "/"), "api/v4/")
	u, err := url.Parse(base + "/api/v4/" + path)
	if err != nil || strings.Contains(path, "://") {
		return "", fmt.Errorf("path %q: want a path under /api/v4 such as matters.json", path)
	}
	if fields != "" {
		q := u.Query()
		q.Set("fields", fields)
		u.RawQuery = q.Encode()
	}
	return u.String(), nil
}

// paginate prints every record of a list as one JSON array, page after page.
func paginate(ctx context.Context, c *clio.Client, r clio.Request, w io.Writer) error {
	if _, err := io.WriteString(w, "["); err != nil {
		return err
	}
	n := 0
	for rec, err := range clio.All[json.RawMessage](ctx, c, r) {
		if err != nil {
			return err
		}
		sep := ",\n"
		if n == 0 {
			sep = "\n"
		}
		if _, err := io.WriteString(w, sep+string(rec)); err != nil {
			return err
		}
		n++
	}
	_, err := io.WriteString(w, "\n]\n")
	return err
}

func readBody(data string, stdin io.Reader) ([]byte, error) {
	var b []byte
	var err error
	switch {
	case data == "":
		return nil, nil
	case data == "-":
		b, err = io.ReadAll(stdin)
	case strings.HasPrefix(data, "@"):
		b, err = os.ReadFile(data[1:])
	default:
		b = []byte(data)
	}
	if err != nil {
		return nil, fmt.Errorf("--data: %w", err)
	}
	if !json.Valid(b) {
		return nil, fmt.Errorf("--data is not valid JSON")
	}
	return b, nil
}

// writeJSON prints an answer indented; a body that is not JSON is printed as it is.
func writeJSON(w io.Writer, b []byte) error {
	var out bytes.Buffer
	if len(b) > 0 && json.Indent(&out, b, "", "  ") == nil {
		out.WriteByte('\n')
		b = out.Bytes()
	}
	_, err := w.Write(b)
	return err
}
