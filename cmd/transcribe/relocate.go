package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// relocateMain runs `transcribe relocate`: it rewrites the reference_line column of the
// endpoints table from the headings of a (new) reference text, so nobody keeps line numbers by
// hand. It writes nothing unless every row is placed, and names every row it could not place.
//
//	go run ./cmd/transcribe relocate -ref api/source/clio-api-v4-reference.txt -endpoints api/source/clio-endpoints.tsv
func relocateMain(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("relocate", flag.ContinueOnError)
	ref := fs.String("ref", "api/source/clio-api-v4-reference.txt", "the reference text")
	eps := fs.String("endpoints", "api/source/clio-endpoints.tsv", "the endpoints table to rewrite")
	if err := fs.Parse(args); err != nil {
		return err
	}
	moved, notes, err := relocate(*ref, *eps)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "relocate: %s: %d rows moved\n", *eps, moved)
	for _, n := range notes {
		fmt.Fprintln(stdout, "relocate: note:", n)
	}
	return nil
}

// relocate rewrites endpointsPath in place: every row in the reference gets the lines of its
// headings in refPath, and an empty in_reference becomes yes. Other columns are kept as they
// are. It returns how many rows changed, and notes on rows marked absent that the text now
// documents (see documentedNow).
func relocate(refPath, endpointsPath string) (int, []string, error) {
	table, err := os.ReadFile(endpointsPath)
	if err != nil {
		return 0, nil, err
	}
	eps, err := readEndpoints(bytes.NewReader(table))
	if err != nil {
		return 0, nil, fmt.Errorf("%s: %w", endpointsPath, err)
	}
	text, err := os.ReadFile(refPath)
	if err != nil {
		return 0, nil, err
	}
	lines := strings.Split(string(text), "\n")
	placed, problems := placeRows(lines, eps)
	if len(problems) > 0 {
		return 0, nil, fmt.Errorf("%s: %d rows could not be placed in %s, nothing written:\n\t%s",
			endpointsPath, len(problems), refPath, strings.Join(problems, "\n\t"))
	}
	rows := strings.Split(strings.TrimSuffix(string(table), "\n"), "\n")
	if len(rows) == 0 || rows[0] != endpointColumns {
		return 0, nil, errors.New(endpointsPath + ": the first line must be the header " + strings.ReplaceAll(endpointColumns, "\t", ", "))
	}
	moved := 0
	for i, e := range eps {
		f := strings.Split(rows[i+1], "\t")
		before := rows[i+1]
		if e.InReference {
			f[4], f[6] = "yes", joinInts(placed[i])
		}
		rows[i+1] = strings.Join(f, "\t")
		if rows[i+1] != before {
			moved++
		}
	}
	return moved, documentedNow(lines, eps), os.WriteFile(endpointsPath, []byte(strings.Join(rows, "\n")+"\n"), 0o644)
}
