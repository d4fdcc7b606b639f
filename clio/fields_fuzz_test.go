package clio

import (
	"errors"
	"strings"
	"testing"
)

// FuzzFields feeds arbitrary text to ParseFields and, split into names, to the builder
// (Fields, With, Nested). Neither panics; every failure is an *InputError about "fields";
// a value accepted renders to a fields string that ParseFields accepts back unchanged and
// that holds only names, commas and one level of braces.
func FuzzFields(f *testing.F) {
	for _, s := range []string{"id", "id,etag", "id,client{id,name}", "a{b},c", "a{}", "a{b{c}}", "a,,b", "a,", ",", "}", "{",
		"a{b", "a{b}c", "id,id", "a{b,b}", "ID", "a b", "a{b},a", "", "é", "a{b}}", "x{y},z{w}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fs, err := ParseFields(s)
		if err != nil {
			if ie, ok := errors.AsType[*InputError](err); !ok || ie.Field != "fields" || ie.Reason == "" {
				t.Fatalf("ParseFields(%q) error %v is not an *InputError about fields", s, err)
			}
		} else {
			if got := fs.String(); got != s {
				t.Fatalf("ParseFields(%q).String() = %q", s, got)
			}
			checkRendered(t, s)
		}

		// The builder, from the same text: ';' separates groups, a group "r:a|b" is
		// Nested("r", "a", "b"), any other group is a list of names for With.
		var b FieldSet
		for i, g := range strings.Split(s, ";") {
			res, subs, nested := strings.Cut(g, ":")
			switch {
			case nested:
				var names []string
				if subs != "" {
					names = strings.Split(subs, "|")
				}
				b = b.Nested(res, names...)
			case i == 0:
				b = Fields(strings.Split(g, "|")...)
			default:
				b = b.With(strings.Split(g, "|")...)
			}
		}
		if err := b.Err(); err != nil {
			if ie, ok := errors.AsType[*InputError](err); !ok || ie.Field != "fields" {
				t.Fatalf("builder error %v is not an *InputError about fields", err)
			}
			return
		}
		out := b.String()
		back, err := ParseFields(out)
		if err != nil {
			t.Fatalf("the builder made %q, which ParseFields refuses: %v", out, err)
		}
		if back.String() != out {
			t.Fatalf("round trip of %q gave %q", out, back.String())
		}
		checkRendered(t, out)
	})
}

// checkRendered asserts that a fields string holds only lowercase names, digits, '_',
// ',' and non-nested braces.
func checkRendered(t *testing.T, s string) {
	t.Helper()
	depth := 0
	for _, c := range s {
		switch {
		case c == '{':
			depth++
		case c == '}':
			depth--
		case c == ',' || c == '_' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
		default:
			t.Fatalf("fields %q holds %q", s, c)
		}
		if depth < 0 || depth > 1 {
			t.Fatalf("fields %q nests braces wrongly", s)
		}
	}
	if depth != 0 {
		t.Fatalf("fields %q leaves a brace open", s)
	}
}
