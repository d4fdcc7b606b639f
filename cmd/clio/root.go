package main

import (
	"github.com/spf13/cobra"
)

// globals are the flags every command shares: where Clio is and who we are.
type globals struct {
	fake         bool
	fakeRecords  int
	region       string
	baseURL      string
	tokenFile    string
	clientID     string
	clientSecret string
}

func newRoot() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:           "clio",
		Short:         "Work with the Clio Manage API v4: log in, call any operation, keep a copy of a firm",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	f := root.PersistentFlags()
	f.BoolVar(&g.fake, "fake", false, "talk to an embedded fake Clio seeded with a demo firm (no account needed)")
	f.IntVar(&g.fakeRecords, "fake-records", 1000, "records per collection in the --fake demo firm")
	f.StringVar(&g.region, "region", "us", "Clio region: us, ca, eu or au")
	f.StringVar(&g.baseURL, "base-url", "", "Clio's base URL, replacing the region's (a proxy, or cmd/cliofake)")
	f.StringVar(&g.tokenFile, "token-file", defaultTokenFile(), "where clio login keeps the token")
	f.StringVar(&g.clientID, "client-id", "", "the OAuth app's client id (default $CLIO_CLIENT_ID)")
	f.StringVar(&g.clientSecret, "client-secret", "", "the OAuth app's client secret (default $CLIO_CLIENT_SECRET)")
	root.AddCommand(newLogin(g), newAPI(g), newSync(g))
	return root
}
