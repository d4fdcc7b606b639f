package main

import (
	"strings"
	"testing"
)

// APIVersion is declared from info.version; a document without a usable version is refused
// with what is wrong, since the constant is what every client sends.
func TestVersionDecl(t *testing.T) {
	decl, err := versionDecl(map[string]any{"info": map[string]any{"version": "4.0.13"}})
	if err != nil || !strings.Contains(string(decl), `const APIVersion = "4.0.13"`) {
		t.Fatalf("%s, %v", decl, err)
	}
	for _, doc := range []map[string]any{{}, {"info": map[string]any{"version": "v4"}}, {"info": map[string]any{"version": "4.0.13\"; var x = 1; //"}}} {
		if _, err := versionDecl(doc); err == nil || !strings.Contains(err.Error(), "not a version of the form 4.X.Y") {
			t.Errorf("%v: %v", doc, err)
		}
	}
}
