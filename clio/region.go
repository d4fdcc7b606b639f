package clio

import (
	"fmt"
	"strings"
)

// Region selects one of Clio's regional deployments. Tokens and OAuth apps
// belong to a single region: a token issued in the EU is unknown in the US,
// and the wrong host answers a misleading invalid_client.
type Region string

// The regions Clio runs in.
const (
	US Region = "us" // https://app.clio.com
	CA Region = "ca" // https://ca.app.clio.com
	EU Region = "eu" // https://eu.app.clio.com
	AU Region = "au" // https://au.app.clio.com
)

var regionHosts = map[Region]string{
	US: "https://app.clio.com",
	CA: "https://ca.app.clio.com",
	EU: "https://eu.app.clio.com",
	AU: "https://au.app.clio.com",
}

// BaseURL returns the region's host (scheme and host, no path), for example
// "https://eu.app.clio.com". It returns "" for an unknown region.
func (r Region) BaseURL() string { return regionHosts[r] }

// String returns the region code.
func (r Region) String() string { return string(r) }

func (r Region) validate(option string) error {
	if _, ok := regionHosts[r]; !ok {
		return &InputError{Field: option, Reason: fmt.Sprintf("unknown region %q (want clio.US, clio.CA, clio.EU or clio.AU)", string(r))}
	}
	return nil
}

// ParseRegion reads a region code ("us", "ca", "eu", "au", any case), as found in
// configuration or the environment.
func ParseRegion(s string) (Region, error) {
	r := Region(strings.ToLower(strings.TrimSpace(s)))
	if err := r.validate("region"); err != nil {
		return "", err
	}
	return r, nil
}
