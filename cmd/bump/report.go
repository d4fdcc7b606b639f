package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// tools are the two comparers, built from tools/reports/go.mod into .bump/bin so that they
// can run in any checkout (CI runs them in one of main).
type tools struct{ oasdiff, apidiff string }

func buildTools(root string) (tools, error) {
	bin, err := filepath.Abs(filepath.Join(root, workDir, "bin"))
	if err != nil {
		return tools{}, err
	}
	if err := run(root, nil, "go", "build", "-modfile=tools/reports/go.mod", "-o", bin+string(filepath.Separator),
		"github.com/oasdiff/oasdiff", "golang.org/x/exp/cmd/apidiff"); err != nil {
		return tools{}, fmt.Errorf("building oasdiff and apidiff from tools/reports/go.mod: %w", err)
	}
	return tools{filepath.Join(bin, "oasdiff"), filepath.Join(bin, "apidiff")}, nil
}

// goPackages are the packages whose Go API users compile against.
var goPackages = []struct{ name, path string }{
	{"gen", "github.com/clio-go/clio-go/gen"},
	{"clio", "github.com/clio-go/clio-go/clio"},
}

// snapshot records the API of the checkout at root into dir: its document, its generator
// input (for the version) and the export data of every package in goPackages.
func snapshot(t tools, root, dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range []string{"api/openapi.yaml", "gen/openapi.json"} {
		if err := copyFile(filepath.Join(root, f), filepath.Join(dir, filepath.Base(f))); err != nil {
			return err
		}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	for _, p := range goPackages {
		if err := run(root, nil, t.apidiff, "-w", filepath.Join(abs, p.name+".export"), p.path); err != nil {
			return fmt.Errorf("apidiff -w %s: %w", p.path, err)
		}
	}
	return nil
}

// changeReport is what changed between a snapshot and the tree.
type changeReport struct {
	OldVersion, NewVersion string
	API                    string            // oasdiff changelog, markdown; breaking changes carry :warning:
	APIBreaking            int               // how many
	Go                     map[string]string // apidiff per package of goPackages
	GoBreaking             bool              // some package has incompatible changes (see goBreaking)
}

// compare reports the changes from the snapshot in before to the tree at root.
func compare(t tools, before, root string) (*changeReport, error) {
	r := &changeReport{Go: map[string]string{}}
	var err error
	if r.OldVersion, err = docVersion(filepath.Join(before, "openapi.json")); err != nil {
		return nil, err
	}
	if r.NewVersion, err = docVersion(filepath.Join(root, "gen/openapi.json")); err != nil {
		return nil, err
	}
	// Relative paths keep temp directories out of the report.
	rel, err := filepath.Rel(root, filepath.Join(before, "openapi.yaml"))
	if err != nil {
		return nil, err
	}
	var api bytes.Buffer
	if err := run(root, &api, t.oasdiff, "changelog", filepath.ToSlash(rel), "api/openapi.yaml", "-f", "markdown"); err != nil {
		return nil, fmt.Errorf("oasdiff: %w", err)
	}
	r.API = strings.TrimSpace(api.String())
	r.APIBreaking = strings.Count(r.API, ":warning:")
	for _, p := range goPackages {
		var out bytes.Buffer
		if err := run(root, &out, t.apidiff, filepath.Join(before, p.name+".export"), p.path); err != nil {
			return nil, fmt.Errorf("apidiff %s: %w", p.path, err)
		}
		r.Go[p.name] = strings.TrimSpace(out.String())
		r.GoBreaking = r.GoBreaking || goBreaking(r.Go[p.name])
	}
	return r, nil
}

// docVersion reads info.version of a generator input.
func docVersion(path string) (string, error) {
	js, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	var doc struct {
		Info struct{ Version string } `json:"info"`
	}
	if err := json.Unmarshal(js, &doc); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return doc.Info.Version, nil
}

// verdict is the semver consequence for clio-go.
func (r *changeReport) verdict() string {
	switch {
	case r.GoBreaking:
		return "Go-breaking: code that compiles against the old gen/ or clio/ may not compile against the new; release a new major version of clio-go."
	case len(r.Go["gen"])+len(r.Go["clio"]) > 0:
		return "Go-compatible additions only: release a new minor version of clio-go."
	default:
		return "No change to the Go API: a patch release at most."
	}
}

// markdown is the report a maintainer reviews (and CI prints).
func (r *changeReport) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Clio API %s -> %s\n\n", r.OldVersion, r.NewVersion)
	fmt.Fprintf(&b, "%s\n\nAPI changes marked :warning: are breaking for API clients (%d).\n\n", r.verdict(), r.APIBreaking)
	fmt.Fprintf(&b, "## The API (oasdiff changelog of api/openapi.yaml)\n\n%s\n\n", demote(r.API))
	for _, p := range goPackages {
		out := r.Go[p.name]
		if out == "" {
			out = "No changes."
		}
		fmt.Fprintf(&b, "## The Go API of %s (apidiff)\n\n```\n%s\n```\n\n", p.path, out)
	}
	return b.String()
}

// demote moves oasdiff's headings two levels down, under the report's own.
func demote(md string) string {
	lines := strings.Split(md, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "#") {
			lines[i] = "##" + l
		}
	}
	return strings.Join(lines, "\n")
}

// run runs a command in dir; its output goes to stdout (discarded when nil) and its standard
// error into the error, so a failure says what the tool said.
func run(dir string, stdout io.Writer, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if stdout == nil {
		stdout = io.Discard
	}
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = stdout, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w\n%s", filepath.Base(name), strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return nil
}
