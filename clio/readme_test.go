package clio_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every Go snippet of the README is compiled code: its lines appear, in order and
// together, in one of this package's Example functions (which `go test` builds and runs).
func TestREADMESnippetsAreExamples(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("example*_test.go")
	var examples []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		examples = append(examples, trimmedLines(string(b))...)
	}
	haystack := "\n" + strings.Join(examples, "\n") + "\n"
	blocks := strings.Split(string(readme), "```go\n")
	if len(blocks) < 2 {
		t.Fatal("the README has no Go snippet")
	}
	for _, b := range blocks[1:] {
		code, _, _ := strings.Cut(b, "```")
		if needle := "\n" + strings.Join(trimmedLines(code), "\n") + "\n"; !strings.Contains(haystack, needle) {
			t.Errorf("this README snippet is in no Example, so nothing compiles it:\n%s", code)
		}
	}
}

func trimmedLines(s string) []string {
	var out []string
	for l := range strings.Lines(s) {
		if l = strings.Join(strings.Fields(l), " "); l != "" { // gofmt aligns comments by context
			out = append(out, l)
		}
	}
	return out
}
