package clio

import (
	"regexp"

	"github.com/clio-go/clio-go/api"
)

// Versions a request names: the API version it asks for (X-API-VERSION) and this library's
// own (User-Agent). Options, call options and the headers all take them from here.

// APIVersion is the X-API-VERSION sent by default: the version the API
// description in api/openapi.yaml was transcribed from (info.version, kept in
// api.Version), the newest the reference documents; Clio's default is 4.0.9. Pin
// another with WithAPIVersion or UseAPIVersion.
const APIVersion = api.Version

// Version is this library's version, sent in the User-Agent.
const Version = "0.1.0"

const defaultUserAgent = "clio-go/" + Version

var versionRE = regexp.MustCompile(`^4\.0\.[0-9]+$`)
