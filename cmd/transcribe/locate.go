package main

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Every operation's section in the reference text starts with a heading: a line that is the
// operation's summary (clio-endpoints.tsv's summary column), sometimes written twice, and
// repeated where the reference repeats a section. The reference_line column records where
// those headings are; locating them again is what keeps a new reference, in which every line
// has moved, from needing a hand-kept column.

// relocateHint is the fix named by every error about a row's place in the text.
const relocateHint = "run `make relocate` to rewrite the reference_line column of the endpoints table from the headings"

// placeRows finds the heading lines (1-based) of every row in the reference, by row index.
// A row marked in_reference "no" is not looked for. A heading two rows share (the same
// summary) goes to the row whose resource the section's first line names ("... for all
// RelatedContacts"). problems names every row that could not be placed, and why.
func placeRows(lines []string, eps []endpoint) (map[int][]int, []string) {
	bySummary := map[string][]int{}
	for i, e := range eps {
		if e.InReference {
			bySummary[e.Summary] = append(bySummary[e.Summary], i)
		}
	}
	placed := map[int][]int{}
	ambiguous := map[int]bool{}
	var problems []string
	for n, l := range lines {
		rows := bySummary[strings.TrimSpace(l)]
		switch {
		case len(rows) == 0:
			continue
		case len(rows) > 1:
			var ok bool
			if rows, ok = claim(lines, n, rows, eps); !ok {
				problems = append(problems, fmt.Sprintf("line %d: heading %q is the summary of %s and the section does not say which: %s",
					n+1, eps[rows[0]].Summary, operationsOf(eps, rows), "give one of them a summary of its own"))
				for _, r := range rows {
					ambiguous[r] = true
				}
				continue
			}
		}
		placed[rows[0]] = append(placed[rows[0]], n+1)
	}
	for i, e := range eps {
		if e.InReference && len(placed[i]) == 0 && !ambiguous[i] {
			problems = append(problems, fmt.Sprintf("%s: no heading %q in the reference: if Clio removed the operation, delete its row; "+
				"if its summary changed, correct the summary column; if the text lost its section, set in_reference to no and "+
				"describe the operation in api/corrections.yaml", e.Operation, e.Summary))
		}
	}
	return placed, problems
}

// claim picks, among rows sharing the heading at lines[n], the one whose resource the
// section's first line of prose names as a word. It reports false when not exactly one does.
func claim(lines []string, n int, rows []int, eps []endpoint) ([]int, bool) {
	prose := ""
	for _, l := range lines[n+1:] {
		if t := strings.TrimSpace(l); t != strings.TrimSpace(lines[n]) {
			prose = t
			break
		}
	}
	var named []int
	for _, r := range rows {
		resource := strings.SplitN(eps[r].Operation, "#", 2)[0]
		if regexp.MustCompile(`\b` + regexp.QuoteMeta(resource) + `\b`).MatchString(prose) {
			named = append(named, r)
		}
	}
	if len(named) != 1 {
		return rows, false
	}
	return named, true
}

// documentedNow names the rows marked in_reference "no" whose heading the text now has: a new
// reference may document what api/corrections.yaml had to describe (the per-contact email
// address and phone number lists arrived in 4.0.11).
func documentedNow(lines []string, eps []endpoint) []string {
	var notes []string
	for _, e := range eps {
		if e.InReference {
			continue
		}
		for n, l := range lines {
			if strings.TrimSpace(l) == e.Summary {
				notes = append(notes, fmt.Sprintf("%s is marked in_reference no, but its heading %q is at line %d: "+
					"empty its in_reference to transcribe it, and keep in api/corrections.yaml only what the text still lacks",
					e.Operation, e.Summary, n+1))
				break
			}
		}
	}
	return notes
}

func operationsOf(eps []endpoint, rows []int) string {
	names := make([]string, len(rows))
	for i, r := range rows {
		names[i] = eps[r].Operation
	}
	return strings.Join(names, " and ")
}

// locateSections gives every row in the reference its section lines. A row without
// reference_line (a new operation needs only method, path, operation, tag and summary) is
// placed by its heading. A row whose recorded lines are not its headings is an error naming
// the operation, the heading it expects, where that heading is now, and the fix.
func locateSections(lines []string, eps []endpoint) ([]endpoint, error) {
	placed, problems := placeRows(lines, eps)
	out := make([]endpoint, len(eps))
	copy(out, eps)
	var stale []string
	for i, e := range out {
		if !e.InReference {
			continue
		}
		if len(e.Lines) == 0 {
			out[i].Lines = placed[i]
			continue
		}
		for _, l := range e.Lines {
			if l >= 1 && l <= len(lines) && strings.TrimSpace(lines[l-1]) == e.Summary {
				continue
			}
			got := "is outside the text"
			if l >= 1 && l <= len(lines) {
				got = fmt.Sprintf("reads %q", clip(strings.TrimSpace(lines[l-1])))
			}
			now := "found nowhere"
			if len(placed[i]) > 0 {
				now = "now at line " + joinInts(placed[i])
			}
			stale = append(stale, fmt.Sprintf("%s: reference_line %d should be its heading %q but %s; the heading is %s",
				e.Operation, l, e.Summary, got, now))
			break
		}
	}
	if len(stale) > 0 {
		return nil, fmt.Errorf("the endpoints table does not match this reference text (%d rows): %s\n\t%s",
			len(stale), relocateHint, strings.Join(stale, "\n\t"))
	}
	// Problems matter only for rows that still need a place.
	var unplaced []string
	for i, e := range out {
		if e.InReference && len(out[i].Lines) == 0 {
			unplaced = append(unplaced, e.Operation)
		}
	}
	if len(unplaced) > 0 {
		return nil, fmt.Errorf("%d rows could not be placed in the reference text (%s):\n\t%s",
			len(unplaced), strings.Join(unplaced, ", "), strings.Join(problems, "\n\t"))
	}
	return out, nil
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ",")
}

// sectionStarts lists every located section start, 0-based and sorted: a section ends where
// the next one starts.
func sectionStarts(eps []endpoint) []int {
	var starts []int
	for _, e := range eps {
		for _, l := range e.Lines {
			starts = append(starts, l-1)
		}
	}
	sort.Ints(starts)
	return starts
}

// clip shortens a line of the text quoted in an error.
func clip(s string) string {
	if r := []rune(s); len(r) > 60 {
		return string(r[:60]) + "..."
	}
	return s
}
