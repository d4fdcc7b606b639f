// Command specfix turns api/openapi.yaml into the generator's input.
//
// It loads the document with kin-openapi and validates it, then applies, in order, the fixes
// that code generation needs and that do not belong in a faithful transcription (Go names,
// float64 money, enum constant names, ...). Each fix says why, reports what it changed and
// fails when it finds nothing to do, so a fix that no longer applies is noticed. The result is
// validated again and written as JSON for oapi-codegen.
//
//	go run ./cmd/specfix -in api/openapi.yaml -out gen/openapi.json
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/oasdiff/yaml"
)

func main() {
	in := flag.String("in", "api/openapi.yaml", "the curated document")
	out := flag.String("out", "gen/openapi.json", "the generator's input")
	quiet := flag.Bool("q", false, "do not report what each fix changed")
	flag.Parse()
	report := io.Writer(os.Stderr)
	if *quiet {
		report = io.Discard
	}
	if err := run(*in, *out, report); err != nil {
		fmt.Fprintln(os.Stderr, "specfix:", err)
		os.Exit(1)
	}
}

func run(in, out string, report io.Writer) error {
	src, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	fixed, err := fixDocument(src, report)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	return os.WriteFile(out, fixed, 0o644)
}

// fixDocument validates src, applies every fix and returns the generator's input.
func fixDocument(src []byte, report io.Writer) ([]byte, error) {
	if err := validate(src); err != nil {
		return nil, err
	}
	js, err := yaml.YAMLToJSON(src)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(js, &doc); err != nil {
		return nil, err
	}
	for _, f := range fixes {
		n, err := f.apply(doc)
		if err != nil {
			return nil, fmt.Errorf("fix %s: %w", f.name, err)
		}
		if n == 0 {
			return nil, fmt.Errorf("fix %s changed nothing: is it still needed? (%s)", f.name, f.why)
		}
		fmt.Fprintf(report, "specfix: %-22s %4d changes  (%s)\n", f.name, n, f.why)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", " ")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := validate(b.Bytes()); err != nil {
		return nil, fmt.Errorf("after the fixes: %w", err)
	}
	return b.Bytes(), nil
}

// validate loads a document and checks it against the OpenAPI 3 rules; the error names the
// path of the problem.
func validate(src []byte) error {
	l := openapi3.NewLoader()
	doc, err := l.LoadFromData(src)
	if err != nil {
		return fmt.Errorf("not a loadable OpenAPI document: %w", err)
	}
	if doc.OpenAPI == "" {
		return errors.New("not an OpenAPI 3 document: no openapi field")
	}
	if err := doc.Validate(context.Background()); err != nil {
		return fmt.Errorf("invalid OpenAPI document: %w", err)
	}
	return nil
}
