package main

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// endpoint is one row of clio-endpoints.tsv.
type endpoint struct {
	Method, Path, Operation, Tag, Summary string
	// InReference: the text has the operation's section (in_reference "yes", or empty for a
	// new row); "no" marks the operations only api/corrections.yaml describes.
	InReference bool
	Lines       []int // 1-based start lines in the reference text; several when a section repeats
}

// endpointColumns is the header of clio-endpoints.tsv.
const endpointColumns = "method\tpath\toperation\ttag\tin_reference\tsummary\treference_line"

// readEndpoints parses the TSV that pairs each operation with its method, path and reference
// lines. in_reference and reference_line may be empty: the section is then found by its heading.
func readEndpoints(r io.Reader) ([]endpoint, error) {
	sc := bufio.NewScanner(r)
	var eps []endpoint
	n := 0
	for sc.Scan() {
		n++
		if n == 1 {
			continue // header
		}
		f := strings.Split(sc.Text(), "\t")
		if len(f) != 7 {
			return nil, fmt.Errorf("endpoints line %d: want 7 tab-separated columns (%s), got %d",
				n, strings.ReplaceAll(endpointColumns, "\t", ", "), len(f))
		}
		ep := endpoint{Method: f[0], Path: f[1], Operation: f[2], Tag: f[3], InReference: f[4] != "no", Summary: f[5]}
		if f[4] != "yes" && f[4] != "no" && f[4] != "" {
			return nil, fmt.Errorf("endpoints line %d: in_reference is %q: want yes, no, or empty (yes)", n, f[4])
		}
		if ep.Method == "" || ep.Path == "" || ep.Operation == "" || ep.Summary == "" {
			return nil, fmt.Errorf("endpoints line %d: method, path, operation and summary are required", n)
		}
		if f[6] != "" {
			if !ep.InReference {
				return nil, fmt.Errorf("endpoints line %d: %s is marked in_reference no but has reference lines", n, ep.Operation)
			}
			for _, s := range strings.Split(f[6], ",") {
				l, err := strconv.Atoi(s)
				if err != nil || l < 1 {
					return nil, fmt.Errorf("endpoints line %d: bad reference line %q: want 1-based line numbers separated by commas (%s)", n, s, relocateHint)
				}
				ep.Lines = append(ep.Lines, l)
			}
		}
		eps = append(eps, ep)
	}
	return eps, sc.Err()
}

// rawParam is one row of a "path/query/header Parameters" table.
type rawParam struct {
	In, Name    string
	Required    bool
	Type        string // string, integer, boolean, number
	Format      string // int64, int32, date, date-time
	Enum        []string
	Description string
}

// rawOperation is what the reference text tells about one operation.
type rawOperation struct {
	Line           int
	Summary        string
	Description    string
	Params         []rawParam
	HasBody        bool
	BodyRequired   bool // the "Request Body schema:" line says required
	BodyTopFields  []string
	RequestSample  *node
	ResponseCodes  []int
	ResponseSample *node // sample of ResponseCodes[0]
}

var (
	sectionRe = regexp.MustCompile(`^(path|query|header) Parameters$`)
	paramRe   = regexp.MustCompile(`(?s)^(\S+?)( required)? \| (string|integer|boolean|number|object|array)( <([a-z0-9-]+)>)? ?(.*)$`)
	codeRe    = regexp.MustCompile(`^- (\d{3})$`)
	enumRe    = regexp.MustCompile(`(?s)^(Enum|Value): ((?:"[^"]*" ?)+)(.*)$`)
	quotedRe  = regexp.MustCompile(`"([^"]*)"`)
)

// parseOperation reads the section of the reference starting at lines[start] (0-based) and
// ending before lines[end].
func parseOperation(lines []string, start, end int) (*rawOperation, error) {
	op := &rawOperation{Line: start + 1, Summary: strings.TrimSpace(lines[start])}
	i := start + 1
	// Some sections repeat the summary on the next line.
	if i < end && strings.TrimSpace(lines[i]) == op.Summary {
		i++
	}
	var desc []string
	for ; i < end; i++ {
		l := lines[i]
		if sectionRe.MatchString(l) || strings.HasPrefix(l, "Request Body schema:") || l == "Responses" {
			break
		}
		desc = append(desc, strings.TrimSpace(l))
	}
	op.Description = strings.Join(desc, "\n")
	in := ""
	for i < end {
		l := lines[i]
		switch {
		case sectionRe.MatchString(l):
			in = sectionRe.FindStringSubmatch(l)[1]
			i++
		case strings.HasPrefix(l, "Request Body schema:"):
			op.HasBody = true
			op.BodyRequired = strings.Contains(l, "required")
			in = "body"
			i++
		case l == "Responses":
			in = ""
			i++
		case l == "Request samples":
			i++
			for i < end && strings.HasPrefix(lines[i], "- ") {
				i++ // "- Payload"
			}
			n, next, err := parseSample(lines, i, end)
			if err != nil {
				return nil, fmt.Errorf("request sample at line %d: %w", i+1, err)
			}
			op.RequestSample, i = n, next
		case l == "Response samples":
			i++
			for i < end && codeRe.MatchString(lines[i]) {
				c, _ := strconv.Atoi(codeRe.FindStringSubmatch(lines[i])[1])
				op.ResponseCodes = append(op.ResponseCodes, c)
				i++
			}
			if i < end && strings.HasPrefix(lines[i], "{") {
				n, _, err := parseSample(lines, i, end)
				if err != nil {
					return nil, fmt.Errorf("response sample at line %d: %w", i+1, err)
				}
				op.ResponseSample = n
			}
			return op, nil // the response sample closes an operation
		case in == "body":
			if m := paramRe.FindStringSubmatch(l); m != nil {
				name := m[1]
				if name == "required" { // "data required | object": the renderer dropped the name
					name = "data"
				}
				op.BodyTopFields = append(op.BodyTopFields, name)
			}
			i++
		case in != "":
			// A parameter row runs until a line that ends with "|".
			row := l
			for !strings.HasSuffix(strings.TrimSpace(row), "|") && i+1 < end {
				i++
				row += "\n" + lines[i]
			}
			i++
			p, err := parseParam(in, row)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", i, err)
			}
			op.Params = append(op.Params, p)
		default:
			i++
		}
	}
	return op, nil
}

func parseParam(in, row string) (rawParam, error) {
	row = strings.TrimSuffix(strings.TrimSpace(row), "|")
	m := paramRe.FindStringSubmatch(strings.TrimSpace(row))
	if m == nil {
		return rawParam{}, fmt.Errorf("%s parameter row not understood: %q", in, row)
	}
	p := rawParam{In: in, Name: m[1], Required: m[2] != "", Type: m[3], Format: m[5]}
	rest := strings.TrimSpace(m[6])
	if em := enumRe.FindStringSubmatch(rest); em != nil {
		for _, q := range quotedRe.FindAllStringSubmatch(em[2], -1) {
			p.Enum = append(p.Enum, q[1])
		}
		rest = strings.TrimSpace(em[3])
	}
	p.Description = strings.Join(strings.Fields(rest), " ")
	return p, nil
}
