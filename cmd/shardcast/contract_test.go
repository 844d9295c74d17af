package main

import (
	"os"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// TestContractListsEveryCommand keeps docs/CONTRACT.md whole: every
// command and every flag the CLI has is written there, so a new one is
// documented when it is added.
func TestContractListsEveryCommand(t *testing.T) {
	raw, err := os.ReadFile("../../docs/CONTRACT.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	root := newRoot(&env{})
	root.PersistentFlags().VisitAll(func(f *pflag.Flag) {
		if !strings.Contains(doc, "`--"+f.Name) {
			t.Errorf("docs/CONTRACT.md does not mention the global flag --%s", f.Name)
		}
	})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.Hidden || sub.Name() == "help" {
				continue
			}
			path := strings.TrimPrefix(sub.CommandPath(), "shardcast ")
			if !strings.Contains(doc, "`"+path) {
				t.Errorf("docs/CONTRACT.md does not list the command %q", path)
			}
			sub.LocalNonPersistentFlags().VisitAll(func(f *pflag.Flag) {
				if f.Name != "help" && !strings.Contains(doc, "`--"+f.Name) && !strings.Contains(doc, "--"+f.Name+" ") {
					t.Errorf("docs/CONTRACT.md does not mention %s --%s", path, f.Name)
				}
			})
			walk(sub)
		}
	}
	walk(root)
}
