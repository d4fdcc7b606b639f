package main

import (
	"fmt"
	"regexp"
)

var versionRe = regexp.MustCompile(`^4\.\d+\.\d+$`)

// versionDecl declares clio.APIVersion from the document's info.version, so the X-API-VERSION
// a client sends by default follows every regenerated reference without anyone editing it.
func versionDecl(doc map[string]any) ([]byte, error) {
	info, _ := doc["info"].(map[string]any)
	v, _ := info["version"].(string)
	if !versionRe.MatchString(v) {
		return nil, fmt.Errorf("info.version is %q, not a version of the form 4.X.Y to send as X-API-VERSION: "+
			"the reference's changelog gives it (cmd/transcribe)", v)
	}
	return fmt.Appendf(nil, `
// APIVersion is the X-API-VERSION sent by default: info.version of api/openapi.yaml, the
// newest version the reference text documents. Pin another with WithAPIVersion or
// UseAPIVersion.
const APIVersion = %q
`, v), nil
}
