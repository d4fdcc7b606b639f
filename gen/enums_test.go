package gen_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strings"
	"testing"
)

// Every enum constant carries its type's name (ListMattersParamsStatusOpen, MatterStatusOpen),
// whatever else is in the package: a constant named only while it is unique (A, Valid,
// TimeEntry) would be renamed by a later regeneration that adds a clashing value.
func TestEnumConstantsCarryTheirTypeName(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "clio.gen.go", nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			v := s.(*ast.ValueSpec)
			typ, ok := v.Type.(*ast.Ident)
			if !ok {
				continue
			}
			for _, name := range v.Names {
				n++
				if !strings.HasPrefix(name.Name, typ.Name) || name.Name == typ.Name {
					t.Errorf("constant %s of type %s does not carry its type's name", name.Name, typ.Name)
				}
			}
		}
	}
	if n < 500 {
		t.Errorf("found only %d enum constants: the reading is broken", n)
	}
}
