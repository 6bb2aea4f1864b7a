package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/sqlstore"
	"github.com/gatehouse/gatehouse/vault"
)

// File names inside the data directory.
const (
	databaseFile = "gatehouse.db"
	keyFile      = "encryption.key"
)

// newLogger returns the logger of a command, writing to w.
func newLogger(c *config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// openStore opens the configured database and brings its schema up to
// date. Every command that opens the store migrates, so a fresh machine
// needs no separate step; migrating is idempotent.
func openStore(ctx context.Context, c *config, logger *slog.Logger) (*sqlstore.Store, error) {
	var (
		store *sqlstore.Store
		err   error
	)
	if c.DatabaseURL != "" {
		// Never log the URL: it may hold a password.
		logger.Debug("opening the database", "engine", "postgresql")
		store, err = sqlstore.OpenPostgres(ctx, c.DatabaseURL)
		if err != nil {
			return nil, fmt.Errorf("open the PostgreSQL database: %w", err)
		}
	} else {
		if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("create the data directory: %w", err)
		}
		path := filepath.Join(c.DataDir, databaseFile)
		logger.Debug("opening the database", "engine", "sqlite", "path", path)
		store, err = sqlstore.OpenSQLite(ctx, path)
		if err != nil {
			return nil, fmt.Errorf("open the SQLite database %s: %w", path, err)
		}
	}
	if err := store.Migrate(ctx); err != nil {
		store.Close()
		return nil, fmt.Errorf("migrate the database: %w", err)
	}
	return store, nil
}

// openVault builds the vault from the configured encryption key: the flag
// or variable, the key file, or (SQLite only) the data directory's key
// file, created on first use.
// With the data directory's key file missing, it refuses a database that
// already has tenants: their signing keys were sealed with the lost key,
// and a new one would make them unreadable.
func openVault(ctx context.Context, c *config, store gatehouse.Reader) (*vault.Vault, error) {
	var (
		key []byte
		err error
	)
	switch {
	case c.EncryptionKey != "":
		key, err = vault.ParseKey(c.EncryptionKey)
		if err != nil {
			return nil, fmt.Errorf("--encryption-key: %w", err)
		}
	case c.EncryptionKeyFile != "":
		// A named file must exist: creating one here would give each
		// node of a cluster a different key.
		if _, err := os.Stat(c.EncryptionKeyFile); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("--encryption-key-file %s does not exist; create it with: (umask 077; openssl rand -base64 32 > %s)", c.EncryptionKeyFile, c.EncryptionKeyFile)
		}
		key, err = vault.LoadOrCreateKeyFile(c.EncryptionKeyFile)
		if err != nil {
			return nil, err
		}
	case c.DatabaseURL != "":
		// parse refuses this; keep the rule where the key is chosen too.
		return nil, errors.New("--encryption-key or --encryption-key-file is required with --database-url")
	default:
		path := filepath.Join(c.DataDir, keyFile)
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			tenants, err := store.ListTenants(ctx)
			if err != nil {
				return nil, fmt.Errorf("list tenants: %w", err)
			}
			if len(tenants) > 0 {
				return nil, fmt.Errorf("the encryption key %s is missing, but the database has %d tenant(s) whose keys were encrypted with it; restore the file from a backup (a new key cannot read them)", path, len(tenants))
			}
		}
		key, err = vault.LoadOrCreateKeyFile(path)
		if err != nil {
			return nil, err
		}
	}
	return vault.New(key)
}
