package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// versionRe is a changelog entry: a line ending in a version of the form 4.X.Y. The render
// glued some entries to the line before ("... for Activities4.0.5").
var versionRe = regexp.MustCompile(`(?:^|[^0-9.])(4\.\d+\.\d+)$`)

// referenceVersion is the newest version the reference's changelog lists: the text before the
// first operation's heading. It becomes info.version and so clio.APIVersion, the X-API-VERSION
// a client sends by default, which is why a new reference brings its own version.
func referenceVersion(lines []string, eps []endpoint) (string, error) {
	placed, _ := placeRows(lines, eps)
	first := len(lines)
	for _, ls := range placed {
		for _, l := range ls {
			first = min(first, l-1)
		}
	}
	best, bestKey := "", [3]int{}
	for _, l := range lines[:first] {
		m := versionRe.FindStringSubmatch(strings.TrimSpace(l))
		if m == nil {
			continue
		}
		var key [3]int
		for i, p := range strings.Split(m[1], ".") {
			key[i], _ = strconv.Atoi(p)
		}
		if best == "" || less(bestKey, key) {
			best, bestKey = m[1], key
		}
	}
	if best == "" {
		return "", fmt.Errorf("the reference's changelog (the %d lines before the first operation) names no version of the form 4.X.Y: "+
			"the version is what clients send as X-API-VERSION, so the text must say it", first)
	}
	return best, nil
}

func less(a, b [3]int) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}
