package main

import (
	"context"
	"fmt"
)

func migrateCommand() *command {
	return &command{
		name:    "migrate",
		usage:   "migrate [flags]",
		summary: "Create or upgrade the database schema.",
		help: `Creates the database schema, or upgrades it to this version's, and exits.
Running it again changes nothing. serve and tenant create migrate too, so
this is only needed to upgrade a database before starting new servers.`,
		options: join([]option{optDataDir, optDatabaseURL}, logOptions),
		args:    noArgs,
		run: func(ctx context.Context, e *env, c *config) error {
			logger := newLogger(c, e.stderr)
			store, err := openStore(ctx, c, logger)
			if err != nil {
				return err
			}
			if err := store.Close(); err != nil {
				return fmt.Errorf("close the database: %w", err)
			}
			fmt.Fprintln(e.stdout, "The database schema is up to date.")
			return nil
		},
	}
}
