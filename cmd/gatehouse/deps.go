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
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/oidc"
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
	store.SignInRetention = time.Duration(c.SignInRetentionDays) * 24 * time.Hour
	if err := store.Migrate(ctx); err != nil {
		store.Close()
		return nil, fmt.Errorf("migrate the database: %w", err)
	}
	return store, nil
}

// openVault builds the vault from the configured encryption key: the flag
// or variable, the key file, or (SQLite only) the data directory's key
// file, created on first use. It then checks the key against the
// database's key check (oidc.CheckEncryptionKey), storing the check on a
// database's first use, and refuses a key that is not the one the
// database was set up with, before anything is sealed with it: a server
// or command with another key would seal signing keys no other server
// could read.
// With the data directory's key file missing, it refuses a database that
// already has tenants or a key check: their signing keys were sealed with
// the lost key, and a new one would make them unreadable.
func openVault(ctx context.Context, c *config, store gatehouse.Store, logger *slog.Logger) (*vault.Vault, error) {
	var (
		key []byte
		err error
	)
	switch {
	case c.EncryptionKey != "":
		key, err = vault.ParseKey(c.EncryptionKey)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.origin(optEncryptionKey), err)
		}
	case c.EncryptionKeyFile != "":
		// A named file must exist: creating one here would give each
		// node of a cluster a different key.
		if _, err := os.Stat(c.EncryptionKeyFile); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s %s does not exist; create it with: (umask 077; openssl rand -base64 32 > %s)", c.origin(optEncryptionKeyFile), c.EncryptionKeyFile, c.EncryptionKeyFile)
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
			if err := refuseLostKey(ctx, store, path); err != nil {
				return nil, err
			}
		}
		key, err = vault.LoadOrCreateKeyFile(path)
		if err != nil {
			return nil, err
		}
	}
	v, err := vault.New(key)
	if err != nil {
		return nil, err
	}
	stored, err := oidc.CheckEncryptionKey(ctx, store, v)
	if errors.Is(err, oidc.ErrWrongEncryptionKey) {
		return nil, fmt.Errorf("%w; every server of one database must use the same key, and this one came from %s: start with the key the database was set up with (nothing was changed)", err, keySource(c))
	} else if err != nil {
		return nil, fmt.Errorf("check the encryption key: %w", err)
	}
	if stored {
		logger.Info("the database now holds a check of the encryption key: every server and command that uses this database must use the same key", "key", keySource(c))
	}
	return v, nil
}

// refuseLostKey returns an error if the database was set up with a key,
// the data directory's key file at path, which is missing.
func refuseLostKey(ctx context.Context, store gatehouse.Reader, path string) error {
	tenants, err := store.ListTenants(ctx)
	if err != nil {
		return fmt.Errorf("list tenants: %w", err)
	}
	if len(tenants) > 0 {
		return fmt.Errorf("the encryption key %s is missing, but the database has %d tenant(s) whose keys were encrypted with it; restore the file from a backup (a new key cannot read them)", path, len(tenants))
	}
	_, err = store.KeyCheck(ctx)
	switch gatehouse.ErrorCode(err) {
	case "":
		return fmt.Errorf("the encryption key %s is missing, but the database was set up with it; restore the file from a backup (a new key would not match)", path)
	case gatehouse.ENOTFOUND:
		return nil
	}
	return fmt.Errorf("read the key check: %w", err)
}

// keySource says where the configured encryption key comes from, for
// messages.
func keySource(c *config) string {
	switch {
	case c.EncryptionKey != "":
		return c.origin(optEncryptionKey)
	case c.EncryptionKeyFile != "":
		return fmt.Sprintf("the key file %s (%s)", c.EncryptionKeyFile, c.origin(optEncryptionKeyFile))
	}
	return fmt.Sprintf("the data directory's key file %s", filepath.Join(c.DataDir, keyFile))
}

// sweepInterval is how often a server removes what has expired.
const sweepInterval = 5 * time.Minute

// startSweeper removes, now and every sweepInterval until ctx ends or
// the returned stop is called, what has expired from the store: codes,
// requests, sessions, grants, old rate limit windows and failure records,
// and sign-in log entries past their retention (sqlstore's
// DeleteExpired). Every node of a cluster sweeps; the deletes are small
// batches, so they take turns harmlessly. stop waits for a sweep in
// progress; calling it again does nothing.
func startSweeper(ctx context.Context, store *sqlstore.Store, logger *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(sweepInterval)
		defer t.Stop()
		for {
			n, err := store.DeleteExpired(ctx, time.Now())
			switch {
			case err != nil && ctx.Err() == nil:
				logger.Warn("removing expired data failed; trying again later", "err", err, "removed", n)
			case n > 0:
				logger.Info("removed expired data", "rows", n)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() { cancel(); <-done }
}
