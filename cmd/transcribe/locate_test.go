package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func referenceLines(t *testing.T) []string {
	t.Helper()
	text, err := os.ReadFile(refPath)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(string(text), "\n")
}

// writeSources writes a reference text and an endpoints table into a temp dir.
func writeSources(t *testing.T, lines []string, eps []endpoint) (ref, tsv string) {
	t.Helper()
	dir := t.TempDir()
	ref, tsv = filepath.Join(dir, "ref.txt"), filepath.Join(dir, "endpoints.tsv")
	if err := os.WriteFile(ref, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tsv, []byte(formatEndpoints(eps)), 0o644); err != nil {
		t.Fatal(err)
	}
	return ref, tsv
}

// formatEndpoints writes rows as clio-endpoints.tsv holds them.
func formatEndpoints(eps []endpoint) string {
	var b strings.Builder
	b.WriteString(endpointColumns + "\n")
	for _, e := range eps {
		in := "yes"
		if !e.InReference {
			in = "no"
		}
		b.WriteString(strings.Join([]string{e.Method, e.Path, e.Operation, e.Tag, in, e.Summary, joinInts(e.Lines)}, "\t") + "\n")
	}
	return b.String()
}

// The committed table is what the headings say: relocating it against its own reference
// changes nothing, including the two operations that share a summary and the sections that
// repeat.
func TestHeadingsGiveTheCommittedLines(t *testing.T) {
	eps := endpoints(t)
	placed, problems := placeRows(referenceLines(t), eps)
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	repeated := 0
	for i, e := range eps {
		if !slices.Equal(placed[i], e.Lines) {
			t.Errorf("%s: headings at %v, the table says %v", e.Operation, placed[i], e.Lines)
		}
		if len(e.Lines) > 1 {
			repeated++
		}
	}
	if repeated < 10 {
		t.Errorf("only %d repeated sections: the check lost its subject", repeated)
	}
}

// A reference in which every line moved: the old table is refused with the operation, the
// heading it expects, where the heading is now, and the fix; relocating the table, or
// emptying its reference_line column, gives the same document as before.
func TestShiftedReference(t *testing.T) {
	lines := append([]string{"A paragraph Clio added.", "And another."}, referenceLines(t)...)
	eps := endpoints(t)
	ref, tsv := writeSources(t, lines, eps)
	_, _, err := transcribe(ref, tsv, corrPath)
	if err == nil {
		t.Fatal("stale reference lines accepted")
	}
	first, inText := eps[0], 0
	for _, e := range eps {
		if len(e.Lines) > 0 {
			inText++
		}
	}
	for _, want := range []string{
		fmt.Sprintf("%s: reference_line %d", first.Operation, first.Lines[0]), fmt.Sprintf("%q", first.Summary),
		fmt.Sprintf("now at line %d", first.Lines[0]+2), "make relocate", fmt.Sprintf("(%d rows)", inText),
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q:\n%.600s", want, err)
		}
	}
	want, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	moved, notes, err := relocate(ref, tsv)
	if err != nil || moved != inText || len(notes) > 0 {
		t.Fatalf("relocate: %d rows moved, %v, notes %q", moved, err, notes)
	}
	got, _, err := transcribe(ref, tsv, corrPath)
	if err != nil || string(got) != string(want) {
		t.Fatalf("after relocate: %v (same document: %v)", err, string(got) == string(want))
	}
	blank := slices.Clone(eps)
	for i := range blank {
		blank[i].Lines = nil
	}
	ref, tsv = writeSources(t, lines, blank)
	got, _, err = transcribe(ref, tsv, corrPath)
	if err != nil || string(got) != string(want) {
		t.Fatalf("without reference lines: %v (same document: %v)", err, string(got) == string(want))
	}
}

// Rows relocate cannot place are all named with what to do, and the table is left alone.
func TestRelocateNamesRowsItCannotPlace(t *testing.T) {
	lines := referenceLines(t)
	eps := endpoints(t)
	renamed := slices.IndexFunc(eps, func(e endpoint) bool { return e.Operation == "ActivityRate#destroy" })
	eps[renamed].Summary = "Remove a single ActivityRate"
	shared := slices.IndexFunc(eps, func(e endpoint) bool { return e.Operation == "Webhook#index" })
	eps[shared].Summary = "Return the data for all Activities"
	ref, tsv := writeSources(t, lines, eps)
	before, _ := os.ReadFile(tsv)
	_, _, err := relocate(ref, tsv)
	if err == nil {
		t.Fatal("relocate placed a row whose heading is not in the text")
	}
	for _, want := range []string{
		`ActivityRate#destroy: no heading "Remove a single ActivityRate"`, "delete its row", "api/corrections.yaml",
		`is the summary of Activity#index and Webhook#index`, "nothing written",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q:\n%s", want, err)
		}
	}
	if strings.Contains(err.Error(), "Activity#index: no heading") {
		t.Errorf("a shared heading reported as missing:\n%s", err)
	}
	if after, _ := os.ReadFile(tsv); string(after) != string(before) {
		t.Error("relocate rewrote the table although it failed")
	}
}

// A new operation needs only method, path, operation, tag and summary: relocate fills in the
// rest. Rows that break the format are refused with what the format is.
func TestNewRowNeedsNoLine(t *testing.T) {
	committed := endpoints(t)[0]
	row := strings.Join([]string{committed.Method, committed.Path, committed.Operation, committed.Tag, "", committed.Summary, ""}, "\t")
	eps, err := readEndpoints(strings.NewReader(endpointColumns + "\n" + row + "\n"))
	if err != nil || len(eps) != 1 || !eps[0].InReference || eps[0].Lines != nil {
		t.Fatalf("%+v, %v", eps, err)
	}
	ref, tsv := writeSources(t, referenceLines(t), eps)
	if _, _, err := relocate(ref, tsv); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(tsv); !strings.HasSuffix(string(got), fmt.Sprintf("\tyes\t%s\t%d\n", committed.Summary, committed.Lines[0])) {
		t.Errorf("relocated row: %q", got)
	}
	for row, want := range map[string]string{
		"GET\t/x.json\tX#index\tX\tyes\tSummary":                "want 7 tab-separated columns (method, path",
		"GET\t/x.json\tX#index\tX\tmaybe\tSummary\t":            `in_reference is "maybe"`,
		"GET\t/x.json\tX#index\tX\tyes\tSummary\tten":           `bad reference line "ten"`,
		"GET\t/x.json\tX#index\tX\tno\tSummary\t12":             "marked in_reference no but has reference lines",
		"GET\t\tX#index\tX\tyes\tSummary\t12":                   "method, path, operation and summary are required",
		"GET\t/x.json\tX#index\tX\tyes\tSummary\t0":             `bad reference line "0"`,
		"GET\t/x.json\tX#index\tX\tyes\tNowhere in the text\t1": "", // refused later, by locateSections
	} {
		_, err := readEndpoints(strings.NewReader(endpointColumns + "\n" + row + "\n"))
		if want == "" {
			if err != nil {
				t.Errorf("%q: %v", row, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", row, err, want)
		}
	}
}

// The version is the newest the changelog lists, glued entries included; a text without one is
// refused, since clients would send no X-API-VERSION worth having.
func TestReferenceVersion(t *testing.T) {
	lines, eps := referenceLines(t), endpoints(t)
	v, err := referenceVersion(lines, eps)
	if want := loadDoc(t).Info.Version; v != want || err != nil {
		t.Errorf("committed reference: %q, %v; the document says %s", v, err, want)
	}
	at := slices.Index(lines, v)
	next := slices.Concat(lines[:at+2], []string{"Add the responsible_staff field to Matters4.99.0", "Something else"}, lines[at+2:])
	if v, err := referenceVersion(next, eps); v != "4.99.0" || err != nil {
		t.Errorf("with a glued 4.99.0 entry: %q, %v", v, err)
	}
	var none []string
	for _, l := range lines {
		if !versionRe.MatchString(l) {
			none = append(none, l)
		}
	}
	if _, err := referenceVersion(none, eps); err == nil || !strings.Contains(err.Error(), "names no version of the form 4.X.Y") {
		t.Errorf("without a changelog: %v", err)
	}
}

// api/version.go is what the transcriber writes from the committed reference, and says the
// document's version.
func TestCommittedVersionGoIsReproducible(t *testing.T) {
	path := filepath.Join(t.TempDir(), "version.go")
	if err := writeVersionGo(path, refPath, tsvPath); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	want, err := os.ReadFile("../../api/version.go")
	if err != nil || string(got) != string(want) {
		t.Fatalf("api/version.go differs from what cmd/transcribe writes (%v): run `go generate ./...`", err)
	}
	if v := loadDoc(t).Info.Version; !strings.Contains(string(got), fmt.Sprintf("const Version = %q", v)) {
		t.Errorf("api/version.go does not say the document's version %s:\n%s", v, got)
	}
}

// A row marked absent whose heading a new text has is named, with what to do, and left alone:
// api/corrections.yaml may still describe it.
func TestRelocateNotesOperationsTheTextNowDocuments(t *testing.T) {
	eps := endpoints(t)
	absent := eps[slices.IndexFunc(eps, func(e endpoint) bool { return !e.InReference })]
	lines := append(referenceLines(t), absent.Summary, "Outlines the parameters of a section the next render added")
	ref, tsv := writeSources(t, lines, eps)
	_, notes, err := relocate(ref, tsv)
	if err != nil || len(notes) != 1 || !strings.Contains(notes[0], absent.Operation+" is marked in_reference no") ||
		!strings.Contains(notes[0], fmt.Sprintf("at line %d", len(lines)-1)) {
		t.Fatalf("notes %q, %v", notes, err)
	}
	f, _ := os.Open(tsv)
	defer f.Close()
	if got, _ := readEndpoints(f); slices.ContainsFunc(got, func(e endpoint) bool { return e.Operation == absent.Operation && e.InReference }) {
		t.Errorf("relocate marked %s in the reference by itself", absent.Operation)
	}
}
