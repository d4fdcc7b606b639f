package main

import "github.com/spf13/cobra"

func newLogin(g *globals) *cobra.Command { return &cobra.Command{Use: "login"} }
