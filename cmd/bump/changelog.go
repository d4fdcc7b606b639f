package main

import (
	"fmt"
	"os"
	"strings"
	"time"
)

// changelogHead opens CHANGELOG.md; entries follow it, newest first.
const changelogHead = "# Changelog\n"

// draftChangelog puts an entry for the report at the top of CHANGELOG.md: the version, the
// semver verdict and what changed, for the maintainer to edit before committing.
func draftChangelog(path string, r *changeReport, now time.Time) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	rest := strings.TrimPrefix(string(old), changelogHead)
	return os.WriteFile(path, []byte(changelogHead+"\n"+changelogEntry(r, now)+strings.TrimLeft(rest, "\n")), 0o644)
}

// changelogEntry is the draft: one line per operation the API changed, breaking ones first.
func changelogEntry(r *changeReport, now time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## Unreleased (draft of %s): Clio API %s\n\n", now.Format("2006-01-02"), r.NewVersion)
	if r.OldVersion != r.NewVersion {
		fmt.Fprintf(&b, "- The default X-API-VERSION (clio.APIVersion) is now %s (was %s).\n", r.NewVersion, r.OldVersion)
	}
	fmt.Fprintf(&b, "- %s\n", r.verdict())
	breaking, other := apiChanges(r.API)
	for _, c := range breaking {
		fmt.Fprintf(&b, "- Breaking: %s\n", c)
	}
	for _, c := range other {
		fmt.Fprintf(&b, "- %s\n", c)
	}
	for _, p := range goPackages {
		for _, c := range incompatible(r.Go[p.name]) {
			fmt.Fprintf(&b, "- Go, %s: %s\n", p.name, c)
		}
	}
	return b.String() + "\n"
}

// apiChanges turns oasdiff's markdown changelog into "OPERATION: change" lines.
func apiChanges(md string) (breaking, other []string) {
	op := ""
	for _, l := range strings.Split(md, "\n") {
		switch {
		case strings.HasPrefix(l, "#"): // an operation, or Components, Info
			op = strings.TrimLeft(l, "# ")
		case strings.HasPrefix(l, "- "):
			c := strings.TrimSpace(strings.TrimPrefix(l, "- "))
			if strings.HasPrefix(c, ":warning:") {
				breaking = append(breaking, op+": "+strings.TrimSpace(strings.TrimPrefix(c, ":warning:")))
			} else {
				other = append(other, op+": "+c)
			}
		}
	}
	return breaking, other
}

// incompatible lists the changes under "Incompatible changes:" of an apidiff report.
func incompatible(report string) []string {
	var out []string
	in := false
	for _, l := range strings.Split(report, "\n") {
		switch t := strings.TrimSpace(l); {
		case strings.HasSuffix(t, "changes:"):
			in = t == "Incompatible changes:"
		case in && strings.HasPrefix(t, "- "):
			out = append(out, strings.TrimPrefix(t, "- "))
		}
	}
	return out
}

// versionChange is how apidiff reports the new clio.APIVersion. The constant follows the
// reference by design (servicegen writes it from info.version): its value changing breaks no
// build that does not compare it with a literal, so it alone is no new major version.
const versionChange = "APIVersion: value changed from "

// goBreaking says whether an apidiff report has incompatible changes besides APIVersion's value.
func goBreaking(report string) bool {
	for _, c := range incompatible(report) {
		if !strings.HasPrefix(c, versionChange) {
			return true
		}
	}
	return false
}
