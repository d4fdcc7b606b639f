package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A synthetic next version of the reference, made from the committed one the way Clio's next
// render would differ from it. Its changes are named so tests can look for each of them
// everywhere it must arrive.
const (
	nextVersion  = "4.0.11"
	newOperation = "GET /api/v4/practice_area_templates.json"
	removedOp    = "DELETE /api/v4/practice_areas/{id}.json"
	newField     = "abbreviation" // PracticeArea, a string
	newParam     = "active"       // GET /api/v4/practice_areas.json, a boolean
	newEnumValue = "updated_at(desc)"
	arrayField   = "code" // PracticeArea, a string that becomes an array of strings
)

// newSection is the section the next version adds; its row has only method, path, operation,
// tag and summary.
var newSection = []string{
	"Return the data for all PracticeAreaTemplates",
	"Outlines the parameters, optional and required, used when requesting the data for all PracticeAreaTemplates",
	"query Parameters",
	"fields | string The fields to be returned. See response samples for what fields are available. For more information see the fields section. |",
	"limit | integer <int32> A limit on the number of PracticeAreaTemplate records to be returned. Limit can range between 1 and 200. Default: |",
	"page_token | string A token specifying which page to return. |",
	"header Parameters",
	"X-API-VERSION | string The API minor version. Default: latest version. |",
	"Responses",
	"Response samples",
	"- 200",
	"- 400",
	`{- "data": [`,
	"- {",
	`- "id": 0,`,
	`- "etag": "string",`,
	`- "name": "string"`,
	"}",
	"]",
	"}",
}

const newRow = "GET\t/api/v4/practice_area_templates.json\tPracticeAreaTemplate#index\tPractice Area Templates\t\tReturn the data for all PracticeAreaTemplates\t"

// synthesize writes the next version's reference text and endpoints table into dir, from the
// committed ones in root. Every line of the text moves; the table keeps its stale
// reference_line column, as a maintainer would receive it.
func synthesize(t *testing.T, root, dir string) (ref, tsv string) {
	t.Helper()
	text, err := os.ReadFile(filepath.Join(root, sources.ref))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(text), "\n")
	find := func(from int, line string) int {
		i := slices.Index(lines[from:], line)
		if i < 0 {
			t.Fatalf("the reference has no line %q after line %d: the synthetic version needs updating", line, from+1)
		}
		return from + i
	}
	// The practice areas, up to their delete operation, which the next version removes: its
	// section, up to the next resource's introduction, gives way to the new operation.
	start := find(0, "Return the data for all PracticeAreas")
	del := find(start, "Delete a single PracticeArea")
	end := del + slices.IndexFunc(lines[del:], func(l string) bool { return strings.HasPrefix(l, "Log Entries populate") })
	var areas []string
	for _, l := range lines[start:del] {
		switch {
		case strings.HasPrefix(l, "code | string"):
			areas = append(areas, newParam+" | boolean Filter PracticeArea records to those that are active. |", l)
		case strings.HasPrefix(l, "order | string Enum:"):
			areas = append(areas, strings.Replace(l, `"code(desc)"`, `"code(desc)" "`+newEnumValue+`"`, 1))
		case l == `- "etag": "string",`:
			areas = append(areas, l, `- "`+newField+`": "string",`)
		case l == `- "`+arrayField+`": "string"`: // the last field of a response sample
			areas = append(areas, `- "`+arrayField+`": [`, `- "string"`, "]")
		default:
			areas = append(areas, l)
		}
	}
	lines = slices.Concat(lines[:start], areas, newSection, lines[end:])
	// Every line moves: a title on top, and a changelog entry for the new version.
	at := find(0, "4.0.10") + 4 // after the 4.0.10 entry
	lines = slices.Concat(
		[]string{"Clio Manage API v4 reference, rendered for " + nextVersion, ""},
		lines[:at], []string{nextVersion, "Added practice area templates; removed deleting practice areas"}, lines[at:])

	table, err := os.ReadFile(filepath.Join(root, sources.endpoints))
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, r := range strings.Split(strings.TrimSuffix(string(table), "\n"), "\n") {
		if f := strings.Split(r, "\t"); len(f) > 2 && f[0]+" "+f[1] == removedOp {
			continue
		}
		rows = append(rows, r)
	}
	rows = append(rows, newRow)

	ref, tsv = filepath.Join(dir, "reference.txt"), filepath.Join(dir, "endpoints.tsv")
	if err := os.WriteFile(ref, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tsv, []byte(strings.Join(rows, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return ref, tsv
}

// copyTree copies the module at root into dir, leaving out git's and bump's own directories.
func copyTree(t *testing.T, root, dir string) {
	t.Helper()
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		if d.IsDir() {
			if rel == ".git" || rel == workDir || rel == "bin" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		return copyFile(p, filepath.Join(dir, rel))
	})
	if err != nil {
		t.Fatal(fmt.Errorf("copying the module: %w", err))
	}
}
