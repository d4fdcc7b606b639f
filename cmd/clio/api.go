package main

import "github.com/spf13/cobra"

func newAPI(g *globals) *cobra.Command { return &cobra.Command{Use: "api"} }
