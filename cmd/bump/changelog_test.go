package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const apidiffSample = `Incompatible changes:
- (*PracticeAreasService).Delete: removed
- APIVersion: value changed from "4.0.10" to "4.0.11"
Compatible changes:
- PracticeAreaTemplatesService: added`

// The draft names the version, each API change under its operation (breaking ones first and
// marked) and each incompatible Go change; APIVersion's new value alone is not Go-breaking.
func TestChangelogEntry(t *testing.T) {
	r := &changeReport{OldVersion: "4.0.10", NewVersion: "4.0.11", API: strings.Join([]string{
		"# API Changelog 4.0.10 vs. 4.0.11", "## API Changes", "### GET /a.json", "-  endpoint added",
		"### DELETE /b.json", "- :warning: API removed without deprecation", "## Components", "-  removed the schema `X`",
	}, "\n"), Go: map[string]string{"clio": apidiffSample}}
	r.GoBreaking = goBreaking(apidiffSample)
	got := changelogEntry(r, time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC))
	want := `## Unreleased (draft of 2026-11-30): Clio API 4.0.11

- The default X-API-VERSION (clio.APIVersion) is now 4.0.11 (was 4.0.10).
- Go-breaking: code that compiles against the old gen/ or clio/ may not compile against the new; release a new major version of clio-go.
- Breaking: DELETE /b.json: API removed without deprecation
- GET /a.json: endpoint added
- Components: removed the schema ` + "`X`" + `
- Go, clio: (*PracticeAreasService).Delete: removed
- Go, clio: APIVersion: value changed from "4.0.10" to "4.0.11"

`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if goBreaking("Incompatible changes:\n- APIVersion: value changed from \"4.0.10\" to \"4.0.11\"\nCompatible changes:\n- X: added") {
		t.Error("a new APIVersion alone is counted as Go-breaking")
	}
	if goBreaking("Compatible changes:\n- X: added") || !goBreaking(apidiffSample) {
		t.Error("goBreaking does not follow the Incompatible section")
	}
}

// The draft goes on top of CHANGELOG.md, under its title, above the entries already there;
// a missing CHANGELOG.md is created.
func TestDraftChangelog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "CHANGELOG.md")
	r := &changeReport{OldVersion: "4.0.10", NewVersion: "4.0.10"}
	day := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	if err := draftChangelog(path, r, day); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(changelogHead+"\n## v0.1.0\n\n- First.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := draftChangelog(path, r, day); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	want := changelogHead + "\n## Unreleased (draft of 2026-11-30): Clio API 4.0.10\n\n- No change to the Go API: a patch release at most.\n\n## v0.1.0\n\n- First.\n"
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
