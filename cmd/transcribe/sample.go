package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// kind is the JSON kind of a sample value.
type kind int

const (
	kObject kind = iota
	kArray
	kString
	kInteger
	kNumber
	kBoolean
	kNull
)

// node is a sample value with the key order of the reference preserved.
type node struct {
	Kind   kind
	Keys   []string // objects
	Fields []*node  // objects: values in Keys order; arrays: the elements
	Str    string   // strings
}

func (n *node) field(key string) *node {
	for i, k := range n.Keys {
		if k == key {
			return n.Fields[i]
		}
	}
	return nil
}

// sampleLine turns one line of the rendered sample back into JSON text: the renderer put
// "- " before every member and element ("{- ", "}, - ", "], - ").
func sampleLine(l string) string {
	l = strings.TrimSpace(l)
	for _, p := range []string{"{- ", "[- "} {
		if strings.HasPrefix(l, p) {
			return p[:1] + l[len(p):]
		}
	}
	for _, p := range []string{"}, - ", "], - "} {
		if strings.HasPrefix(l, p) {
			return p[:2] + l[len(p):]
		}
	}
	if strings.HasPrefix(l, "- ") {
		return l[2:]
	}
	return l
}

// parseSample reads a rendered JSON sample starting at lines[i] and returns it with the index
// of the line after it.
func parseSample(lines []string, i, end int) (*node, int, error) {
	var b strings.Builder
	depth, inStr, esc, started := 0, false, false, false
	j := i
	for ; j < end; j++ {
		s := sampleLine(lines[j])
		b.WriteString(s)
		b.WriteByte('\n')
		for _, c := range s {
			switch {
			case esc:
				esc = false
			case inStr && c == '\\':
				esc = true
			case c == '"':
				inStr = !inStr
			case inStr:
			case c == '{' || c == '[':
				depth++
				started = true
			case c == '}' || c == ']':
				depth--
			}
		}
		if started && depth == 0 {
			j++
			break
		}
	}
	if depth != 0 {
		return nil, j, fmt.Errorf("unbalanced sample (depth %d at line %d)", depth, j)
	}
	dec := json.NewDecoder(strings.NewReader(b.String()))
	dec.UseNumber()
	n, err := decodeNode(dec)
	if err != nil {
		return nil, j, fmt.Errorf("%w in\n%s", err, b.String())
	}
	return n, j, nil
}

func decodeNode(dec *json.Decoder) (*node, error) {
	t, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch v := t.(type) {
	case json.Delim:
		switch v {
		case '{':
			n := &node{Kind: kObject}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				key, ok := kt.(string)
				if !ok {
					return nil, fmt.Errorf("object key is %v", kt)
				}
				val, err := decodeNode(dec)
				if err != nil {
					return nil, err
				}
				if n.field(key) != nil {
					continue // a repeated key adds nothing
				}
				n.Keys = append(n.Keys, key)
				n.Fields = append(n.Fields, val)
			}
			_, err := dec.Token()
			return n, err
		case '[':
			n := &node{Kind: kArray}
			for dec.More() {
				val, err := decodeNode(dec)
				if err != nil {
					return nil, err
				}
				n.Fields = append(n.Fields, val)
			}
			_, err := dec.Token()
			return n, err
		}
		return nil, fmt.Errorf("unexpected %v", v)
	case string:
		return &node{Kind: kString, Str: v}, nil
	case json.Number:
		if strings.ContainsAny(v.String(), ".eE") {
			return &node{Kind: kNumber, Str: v.String()}, nil
		}
		return &node{Kind: kInteger, Str: v.String()}, nil
	case bool:
		return &node{Kind: kBoolean}, nil
	case nil:
		return &node{Kind: kNull}, nil
	}
	return nil, errors.New("unexpected token")
}
