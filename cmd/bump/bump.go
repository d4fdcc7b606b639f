package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// workDir (gitignored) holds what a bump compares with and what it reports.
const workDir = ".bump"

// sources are where the transcriber reads the reference and the endpoints table.
var sources = struct{ ref, endpoints string }{"api/source/clio-api-v4-reference.txt", "api/source/clio-endpoints.tsv"}

// bump runs the maintainer's procedure in the repository at root: snapshot what is committed,
// take the new sources in, relocate, regenerate, compare, report and draft the changelog.
func bump(root, ref, endpoints, version string) (*changeReport, error) {
	t, err := buildTools(root)
	if err != nil {
		return nil, err
	}
	before := filepath.Join(root, workDir, "before")
	if err := snapshot(t, root, before); err != nil {
		return nil, fmt.Errorf("recording the current API (is the tree generated? run `go generate ./...`): %w", err)
	}
	for _, c := range []struct{ from, to string }{{ref, sources.ref}, {endpoints, sources.endpoints}} {
		if err := copyFile(c.from, filepath.Join(root, c.to)); err != nil {
			return nil, err
		}
	}
	if err := run(root, nil, "go", "run", "./cmd/transcribe", "relocate", "-ref", sources.ref, "-endpoints", sources.endpoints); err != nil {
		return nil, fmt.Errorf("relocating the sections of %s: %w", ref, err)
	}
	if err := run(root, nil, "go", "generate", "./..."); err != nil {
		return nil, fmt.Errorf("regenerating from %s: %w", ref, err)
	}
	r, err := compare(t, before, root)
	if err != nil {
		return nil, err
	}
	if version != "" && r.NewVersion != version {
		return nil, fmt.Errorf("the new reference documents %s, not %s: its changelog's newest entry is the version clients will send; "+
			"check that %s is the reference of %s", r.NewVersion, version, ref, version)
	}
	if err := os.WriteFile(filepath.Join(root, workDir, "report.md"), []byte(r.markdown()), 0o644); err != nil {
		return nil, err
	}
	if err := draftChangelog(filepath.Join(root, "CHANGELOG.md"), r, time.Now().UTC()); err != nil {
		return nil, err
	}
	return r, nil
}

// copyFile copies from to to, unless they are the same file (a bump of the committed sources).
func copyFile(from, to string) error {
	if a, err := filepath.Abs(from); err == nil {
		if b, err := filepath.Abs(to); err == nil && a == b {
			return nil
		}
	}
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o644)
}
