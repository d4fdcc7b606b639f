// Command bump takes a new Clio reference in and gives a reviewed change report out.
//
//	go run ./cmd/bump -ref new-reference.txt -endpoints new-endpoints.tsv [-version 4.0.13]
//
// copies the two sources into api/source, relocates the sections (cmd/transcribe relocate),
// regenerates (go generate ./...), prints what changed in the API (oasdiff) and in the Go API
// of gen/ and clio/ (apidiff), writes the report to .bump/report.md and drafts a CHANGELOG.md
// entry. `make bump REF=... TSV=...` runs it.
//
//	go run ./cmd/bump report -base ../main
//
// prints the same report between a checkout of another revision (CI: main) and this tree.
// Both tools are pinned in tools/reports/go.mod, apart from our dependencies.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

func main() {
	var err error
	if len(os.Args) > 1 && os.Args[1] == "report" {
		err = reportMain(os.Args[2:], os.Stdout)
	} else {
		err = bumpMain(os.Args[1:], os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bump:", err)
		os.Exit(1)
	}
}

func bumpMain(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bump", flag.ContinueOnError)
	ref := fs.String("ref", "", "the new reference text (required)")
	tsv := fs.String("endpoints", "", "the new endpoints table; a new operation needs only method, path, operation, tag and summary (required)")
	version := fs.String("version", "", "the version the reference must document (its changelog's newest); empty: whatever it says")
	root := fs.String("C", ".", "the repository root")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *ref == "" || *tsv == "" {
		return fmt.Errorf("-ref and -endpoints are required: make bump REF=path/to/reference.txt TSV=path/to/endpoints.tsv [VERSION=4.0.x]")
	}
	r, err := bump(*root, *ref, *tsv, *version)
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, r.markdown())
	fmt.Fprintf(stdout, "\nReport: %s. CHANGELOG.md has a draft entry: review it, then commit api/, gen/, clio/ and CHANGELOG.md.\n",
		filepath.Join(workDir, "report.md"))
	return nil
}

func reportMain(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	base := fs.String("base", "", "a checkout of the revision to compare with, e.g. main (required)")
	root := fs.String("C", ".", "the repository root")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *base == "" {
		return fmt.Errorf("-base is required: the directory of a checkout to compare with (git worktree add ../main main)")
	}
	t, err := buildTools(*root)
	if err != nil {
		return err
	}
	before := filepath.Join(*root, workDir, "base")
	if err := snapshot(t, *base, before); err != nil {
		return err
	}
	r, err := compare(t, before, *root)
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, r.markdown())
	return nil
}
