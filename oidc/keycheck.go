package oidc

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/vault"
)

// ErrWrongEncryptionKey is what CheckEncryptionKey and Keys.Rotate return,
// wrapped, when the vault's key is not the one the database's signing keys
// are sealed with.
var ErrWrongEncryptionKey = errors.New("the encryption key does not match the one this database was set up with")

// KeyCheckStore is what CheckEncryptionKey needs of the store.
type KeyCheckStore interface {
	KeyCheck(ctx context.Context) (*gatehouse.KeyCheck, error)
	Update(ctx context.Context, fn func(tx gatehouse.Tx) error) error
}

// CheckEncryptionKey makes sure that v has the key the store was set up
// with, before anything is sealed or opened with it: a process given
// another key must refuse to start rather than seal keys no other server
// can open. The store keeps a key check (vault.Vault.KeyCheck):
//
//   - if there is one, v's must match it;
//   - if there is none, v's is stored, so the first process that opens a
//     database with a key decides the database's key; of concurrent first
//     starts with different keys exactly one wins and the others fail.
//     A database that was set up before key checks existed may already
//     hold sealed keys: then v must first open the oldest signing key of
//     the oldest tenant (sealed when the database was set up, and never
//     rewritten since), or nothing is stored.
//
// It reports whether it stored the key check. A wrong key is an error
// wrapping ErrWrongEncryptionKey; the store is then left unchanged.
func CheckEncryptionKey(ctx context.Context, store KeyCheckStore, v *vault.Vault) (stored bool, err error) {
	c, err := store.KeyCheck(ctx)
	switch {
	case err == nil:
		return false, matchKeyCheck(v, c)
	case gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND:
		return false, fmt.Errorf("oidc: reading the key check: %w", err)
	}
	err = store.Update(ctx, func(tx gatehouse.Tx) error {
		stored = false
		c, err := tx.KeyCheck(ctx)
		switch {
		case err == nil:
			return matchKeyCheck(v, c)
		case gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND:
			return fmt.Errorf("oidc: reading the key check: %w", err)
		}
		if err := openOldestKey(ctx, tx, v); err != nil {
			return err
		}
		err = tx.CreateKeyCheck(ctx, &gatehouse.KeyCheck{Value: v.KeyCheck()})
		switch gatehouse.ErrorCode(err) {
		case "":
			stored = true
			return nil
		case gatehouse.ECONFLICT: // another process stored one first
			c, err := tx.KeyCheck(ctx)
			if err != nil {
				return fmt.Errorf("oidc: reading the key check: %w", err)
			}
			return matchKeyCheck(v, c)
		}
		return fmt.Errorf("oidc: storing the key check: %w", err)
	})
	return stored, err
}

func matchKeyCheck(v *vault.Vault, c *gatehouse.KeyCheck) error {
	if !v.MatchesKeyCheck(c.Value) {
		return ErrWrongEncryptionKey
	}
	return nil
}

// openOldestKey opens, with v, the oldest signing key of the oldest tenant
// that has keys, if any tenant has.
func openOldestKey(ctx context.Context, tx gatehouse.Reader, v *vault.Vault) error {
	tenants, err := tx.ListTenants(ctx)
	if err != nil {
		return fmt.Errorf("oidc: listing tenants: %w", err)
	}
	slices.SortStableFunc(tenants, func(a, b *gatehouse.Tenant) int { return a.CreatedAt.Compare(b.CreatedAt) })
	for _, tn := range tenants {
		rows, err := tx.SigningKeys(ctx, tn.ID)
		if err != nil {
			return fmt.Errorf("oidc: reading signing keys: %w", err)
		}
		if len(rows) == 0 {
			continue
		}
		oldest := rows[len(rows)-1] // newest first
		if _, err := v.Open(oldest.PrivateKey, sealAD(tn.ID, oldest.ID)); err != nil {
			return fmt.Errorf("%w: it cannot decrypt signing key %s of tenant %q, the oldest in the database (%w)",
				ErrWrongEncryptionKey, oldest.ID, tn.Name, err)
		}
		return nil
	}
	return nil
}
