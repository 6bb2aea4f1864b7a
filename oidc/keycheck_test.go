package oidc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/storetest"
	"github.com/gatehouse/gatehouse/vault"
	"github.com/google/go-cmp/cmp"
)

// storedKeyCheck returns the store's key check value, nil if it has none.
func storedKeyCheck(t *testing.T, s gatehouse.Store) []byte {
	t.Helper()
	c, err := s.KeyCheck(t.Context())
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return nil
	} else if err != nil {
		t.Fatalf("KeyCheck: %v", err)
	}
	return c.Value
}

func TestCheckEncryptionKey(t *testing.T) { forEachEngine(t, testCheckEncryptionKey) }

func testCheckEncryptionKey(t *testing.T, e storetest.Engine) {
	ctx := t.Context()
	t.Run("NewDatabase", func(t *testing.T) {
		s := newTestStore(t, e, time.Now)
		right, wrong := newVault(t), newVault(t)
		if stored, err := CheckEncryptionKey(ctx, s, right); err != nil || !stored {
			t.Fatalf("first CheckEncryptionKey = %v, %v; want the check stored", stored, err)
		}
		if got := storedKeyCheck(t, s); !bytes.Equal(got, right.KeyCheck()) {
			t.Errorf("stored key check = %x, want the vault's %x", got, right.KeyCheck())
		}
		for range 2 {
			if stored, err := CheckEncryptionKey(ctx, s, right); err != nil || stored {
				t.Errorf("CheckEncryptionKey with the same key = %v, %v; want nil and nothing stored", stored, err)
			}
		}
		stored, err := CheckEncryptionKey(ctx, s, wrong)
		if !errors.Is(err, ErrWrongEncryptionKey) || stored {
			t.Errorf("CheckEncryptionKey with another key = %v, %v; want ErrWrongEncryptionKey", stored, err)
		}
		if got := storedKeyCheck(t, s); !bytes.Equal(got, right.KeyCheck()) {
			t.Errorf("the wrong key changed the stored key check to %x", got)
		}
	})

	t.Run("TenantsWithoutKeys", func(t *testing.T) {
		// Nothing is sealed yet, so any key may become the database's.
		s := newTestStore(t, e, time.Now, tenantA)
		v := newVault(t)
		if stored, err := CheckEncryptionKey(ctx, s, v); err != nil || !stored {
			t.Fatalf("CheckEncryptionKey = %v, %v; want the check stored", stored, err)
		}
	})

	t.Run("Upgraded", func(t *testing.T) {
		// A database of an older version: tenants and keys, no check.
		f := newFixtureOn(t, e)
		if got := storedKeyCheck(t, f.store); got != nil {
			t.Fatalf("the fixture has a key check already")
		}
		before := allRows(t, f.store)
		stored, err := CheckEncryptionKey(ctx, f.store, newVault(t))
		if !errors.Is(err, ErrWrongEncryptionKey) || !errors.Is(err, vault.ErrOpen) || stored {
			t.Fatalf("CheckEncryptionKey with another key = %v, %v; want ErrWrongEncryptionKey from opening a key", stored, err)
		}
		oldest := before[tenantA][len(before[tenantA])-1]
		for _, want := range []string{oldest.ID, `tenant "tenant-1"`, "oldest"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name %s", err, want)
			}
		}
		if got := storedKeyCheck(t, f.store); got != nil {
			t.Errorf("a key that opens no key was stored as the database's")
		}
		if diff := cmp.Diff(before, allRows(t, f.store)); diff != "" {
			t.Errorf("the refused check changed signing keys (-before +after):\n%s", diff)
		}
		if stored, err := CheckEncryptionKey(ctx, f.store, f.vault); err != nil || !stored {
			t.Fatalf("CheckEncryptionKey with the tenants' key = %v, %v; want the check stored", stored, err)
		}
		if _, err := CheckEncryptionKey(ctx, f.store, newVault(t)); !errors.Is(err, ErrWrongEncryptionKey) {
			t.Errorf("CheckEncryptionKey with another key after the check was stored: %v", err)
		}
	})

	t.Run("UpgradedAfterWrongRotation", func(t *testing.T) {
		// Before key checks, a rotation with a wrong key retired tenant A's
		// keys for keys sealed with that key. The key the database was set
		// up with is still the one that opens its oldest key.
		f := newFixtureOn(t, e)
		wrong := newVault(t)
		f.clock.Add(time.Hour)
		if err := rotateUnchecked(t, f.store, NewKeys(f.store, wrong, f.clock.Now), tenantA, f.clock.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := CheckEncryptionKey(ctx, f.store, wrong); !errors.Is(err, ErrWrongEncryptionKey) {
			t.Errorf("CheckEncryptionKey with the key of the newest keys: %v, want ErrWrongEncryptionKey", err)
		}
		if _, err := CheckEncryptionKey(ctx, f.store, f.vault); err != nil {
			t.Errorf("CheckEncryptionKey with the key the database was set up with: %v", err)
		}
	})
}

// rotateUnchecked does what Rotate did before it checked the vault: it
// retires the tenant's active keys at now and stores new ones sealed with
// k's vault.
func rotateUnchecked(t *testing.T, s gatehouse.Store, k *Keys, tenantID string, now time.Time) error {
	t.Helper()
	return s.Update(t.Context(), func(tx gatehouse.Tx) error {
		rows, err := tx.SigningKeys(t.Context(), tenantID)
		if err != nil {
			return err
		}
		for _, row := range rows {
			if !row.Active() {
				continue
			}
			if _, err := tx.UpdateSigningKey(t.Context(), tenantID, row.ID, func(sk *gatehouse.SigningKey) error {
				sk.RetiredAt = now
				return nil
			}); err != nil {
				return err
			}
		}
		return k.Create(t.Context(), tx, tenantID)
	})
}

// allRows returns the stored signing keys of tenants A and B.
func allRows(t *testing.T, s gatehouse.Store) map[string][]*gatehouse.SigningKey {
	t.Helper()
	out := map[string][]*gatehouse.SigningKey{}
	for _, id := range []string{tenantA, tenantB} {
		rows, err := s.SigningKeys(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		out[id] = rows
	}
	return out
}

func TestCheckEncryptionKeyConcurrent(t *testing.T) {
	forEachEngine(t, testCheckEncryptionKeyConcurrent)
}

// testCheckEncryptionKeyConcurrent starts processes with two different
// keys on a new database at once: the key of exactly one of them becomes
// the database's, and every process with the other key is refused.
func testCheckEncryptionKeyConcurrent(t *testing.T, e storetest.Engine) {
	s := newTestStore(t, e, time.Now)
	vaults := []*vault.Vault{newVault(t), newVault(t)}
	const n = 10
	type result struct {
		v      int
		stored bool
		err    error
	}
	results := make([]result, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			stored, err := CheckEncryptionKey(t.Context(), s, vaults[i%2])
			results[i] = result{i % 2, stored, err}
		})
	}
	close(start)
	wg.Wait()
	got := storedKeyCheck(t, s)
	winner := -1
	for i, v := range vaults {
		if bytes.Equal(got, v.KeyCheck()) {
			winner = i
		}
	}
	if winner < 0 {
		t.Fatalf("the stored key check %x is neither vault's", got)
	}
	stores := 0
	for i, r := range results {
		if r.stored {
			stores++
		}
		switch {
		case r.v == winner && r.err != nil:
			t.Errorf("process %d with the winning key: %v", i, r.err)
		case r.v != winner && !errors.Is(r.err, ErrWrongEncryptionKey):
			t.Errorf("process %d with the losing key: %v, want ErrWrongEncryptionKey", i, r.err)
		}
	}
	if stores != 1 {
		t.Errorf("%d processes stored the key check, want exactly 1", stores)
	}
}

func TestCheckEncryptionKeyLostRace(t *testing.T) { forEachEngine(t, testCheckEncryptionKeyLostRace) }

// testCheckEncryptionKeyLostRace checks the path of a process that found
// no key check and then lost the race to store one: it compares its key
// with the winner's instead of taking its own as stored.
func testCheckEncryptionKeyLostRace(t *testing.T, e storetest.Engine) {
	for _, tc := range []struct {
		name     string
		sameKey  bool
		wantFail bool
	}{
		{"same key", true, false},
		{"other key", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := newVault(t)
			winner := newVault(t)
			if tc.sameKey {
				winner = v
			}
			s := &racingStore{Store: newTestStore(t, e, time.Now), other: winner.KeyCheck()}
			stored, err := CheckEncryptionKey(t.Context(), s, v)
			if stored {
				t.Errorf("CheckEncryptionKey reports its check stored, but the other process's was")
			}
			if got := errors.Is(err, ErrWrongEncryptionKey); got != tc.wantFail || (err != nil && !got) {
				t.Errorf("CheckEncryptionKey after losing the race: %v, want wrong key %v", err, tc.wantFail)
			}
			if !s.raced {
				t.Fatal("the race was not run")
			}
			if got := storedKeyCheck(t, s.Store); !bytes.Equal(got, winner.KeyCheck()) {
				t.Errorf("stored key check = %x, want the winner's", got)
			}
		})
	}
}

// racingStore is a store on which another process stores its key check,
// other, after this process's first read of the key check in its
// transaction found none and before its CreateKeyCheck: the interleaving
// of two first starts on PostgreSQL. (The other process's transaction
// runs just before this one's, and this one's first read is made to miss
// it, so that the test runs the same on SQLite, which serializes writers.)
type racingStore struct {
	gatehouse.Store
	other []byte
	raced bool
}

func (s *racingStore) KeyCheck(ctx context.Context) (*gatehouse.KeyCheck, error) {
	return nil, gatehouse.Errorf(gatehouse.ENOTFOUND, "no key check yet")
}

func (s *racingStore) Update(ctx context.Context, fn func(tx gatehouse.Tx) error) error {
	if !s.raced {
		s.raced = true
		if err := s.Store.Update(ctx, func(tx gatehouse.Tx) error {
			return tx.CreateKeyCheck(ctx, &gatehouse.KeyCheck{Value: s.other})
		}); err != nil {
			return err
		}
	}
	return s.Store.Update(ctx, func(tx gatehouse.Tx) error { return fn(&racingTx{Tx: tx}) })
}

// racingTx misses the other process's key check at its first read.
type racingTx struct {
	gatehouse.Tx
	read bool
}

func (tx *racingTx) KeyCheck(ctx context.Context) (*gatehouse.KeyCheck, error) {
	if tx.read {
		return tx.Tx.KeyCheck(ctx)
	}
	tx.read = true
	return nil, gatehouse.Errorf(gatehouse.ENOTFOUND, "no key check yet")
}

func TestRotateRefusesWrongKey(t *testing.T) { forEachEngine(t, testRotateRefusesWrongKey) }

func testRotateRefusesWrongKey(t *testing.T, e storetest.Engine) {
	f := newFixtureOn(t, e)
	before := allRows(t, f.store)
	wrong := NewKeys(f.store, newVault(t), f.clock.Now)
	err := wrong.Rotate(t.Context(), tenantA)
	if !errors.Is(err, ErrWrongEncryptionKey) || !errors.Is(err, vault.ErrOpen) {
		t.Fatalf("Rotate with another key: %v, want ErrWrongEncryptionKey", err)
	}
	if !strings.Contains(err.Error(), "nothing was changed") {
		t.Errorf("error %q does not say that nothing was changed", err)
	}
	if diff := cmp.Diff(before, allRows(t, f.store)); diff != "" {
		t.Errorf("the refused rotation changed signing keys (-before +after):\n%s", diff)
	}
	// The tenant's keys still work, and Rotate with the right key works.
	token := f.sign(t, f.keys, tenantA, RS256, AccessTokenType, f.claims())
	if _, err := f.verify(f.keys, token); err != nil {
		t.Errorf("VerifyAccessToken after the refused rotation: %v", err)
	}
	if err := f.keys.Rotate(t.Context(), tenantA); err != nil {
		t.Errorf("Rotate with the right key: %v", err)
	}
}

// logRecords returns the messages of the JSON log records in buf at level.
func logRecords(t *testing.T, buf *syncBuffer, level string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["level"] == level {
			out = append(out, rec)
		}
	}
	return out
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestUnreadableKeys(t *testing.T) { forEachEngine(t, testUnreadableKeys) }

// testUnreadableKeys checks that keys that cannot be unsealed are logged
// once and left out, that the tenant goes on with its readable keys, that
// a tenant left without a key to sign with gets a clear error, and that
// rotating with the right key repairs it.
func testUnreadableKeys(t *testing.T, e storetest.Engine) {
	f := newFixtureOn(t, e)
	ctx := t.Context()
	foreign := NewKeys(f.store, newVault(t), f.clock.Now)
	good := jwksKIDs(t, f.keys, tenantA)

	// Tenant A gets a second, newer pair of active keys it cannot read.
	f.clock.Add(time.Minute)
	if err := f.store.Update(ctx, func(tx gatehouse.Tx) error { return foreign.Create(ctx, tx, tenantA) }); err != nil {
		t.Fatal(err)
	}
	// Tenant B's keys are retired for keys it cannot read, as a rotation
	// with a wrong key did before the key check.
	if err := rotateUnchecked(t, f.store, foreign, tenantB, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	// Tenant C has only keys it cannot read.
	const tenantC = "7f8c9d2e-0000-4000-8000-00000000000c"
	if err := f.store.Update(ctx, func(tx gatehouse.Tx) error {
		if err := tx.CreateTenant(ctx, &gatehouse.Tenant{ID: tenantC, Name: "tenant-3"}); err != nil {
			return err
		}
		return foreign.Create(ctx, tx, tenantC)
	}); err != nil {
		t.Fatal(err)
	}

	logs := &syncBuffer{}
	k := NewKeys(f.store, f.vault, f.clock.Now)
	k.SetLogger(slog.New(slog.NewJSONHandler(logs, nil)))

	// Tenant A: the readable keys are served and sign.
	for range 3 {
		if got := jwksKIDs(t, k, tenantA); !cmp.Equal(got, good) {
			t.Errorf("JWKS of tenant A = %v, want its readable keys %v", got, good)
		}
		for _, alg := range []string{RS256, ES256} {
			token := f.sign(t, k, tenantA, alg, AccessTokenType, f.claims())
			if kid := kidOf(t, token); !strings.Contains(strings.Join(good, " "), kid) {
				t.Errorf("%s token signed with %s, want one of the readable keys %v", alg, kid, good)
			}
			if _, err := f.verify(k, token); err != nil {
				t.Errorf("VerifyAccessToken: %v", err)
			}
		}
		f.clock.Add(DefaultRefreshInterval) // the next round reads the store again
	}
	errs := logRecords(t, logs, "ERROR")
	if len(errs) != 2 {
		t.Fatalf("%d error log records after three reads of tenant A, want 2 (one per unreadable key, once):\n%s", len(errs), logs.String())
	}
	for _, rec := range errs {
		if rec["tenant"] != tenantA || rec["active"] != true || !strings.Contains(rec["msg"].(string), "cannot be decrypted") {
			t.Errorf("log record %v: want the tenant, the key and that it cannot be decrypted", rec)
		}
	}

	// Tenant B: its retired keys are published, but none signs.
	if got := jwksKIDs(t, k, tenantB); len(got) != 2 {
		t.Errorf("JWKS of tenant B = %v, want its 2 readable retired keys", got)
	}
	f.clock.Add(k.publishDelay()) // past the publish delay
	_, err := k.Sign(ctx, tenantB, RS256, AccessTokenType, f.claims())
	if !errors.Is(err, vault.ErrOpen) {
		t.Errorf("Sign for tenant B: %v, want an error wrapping %v", err, vault.ErrOpen)
	}
	for _, want := range []string{"no readable active RS256 signing key", "cannot be decrypted", "rotate-keys"} {
		if err != nil && !strings.Contains(err.Error(), want) {
			t.Errorf("Sign error %q does not say %q", err, want)
		}
	}

	// Tenant C: nothing to publish or sign with.
	if _, err := k.JWKS(ctx, tenantC); !errors.Is(err, vault.ErrOpen) || !strings.Contains(err.Error(), "cannot be decrypted") {
		t.Errorf("JWKS of tenant C: %v, want that its keys cannot be decrypted", err)
	}
	if _, err := k.Sign(ctx, tenantC, ES256, AccessTokenType, f.claims()); !errors.Is(err, vault.ErrOpen) {
		t.Errorf("Sign for tenant C: %v, want an error wrapping %v", err, vault.ErrOpen)
	}
	if err := k.Rotate(ctx, tenantC); !errors.Is(err, ErrWrongEncryptionKey) {
		t.Errorf("Rotate of tenant C, none of whose keys opens: %v, want ErrWrongEncryptionKey", err)
	}

	// Rotating tenant B with the right key repairs it: its old keys open.
	if err := k.Rotate(ctx, tenantB); err != nil {
		t.Fatalf("Rotate of tenant B with the right key: %v", err)
	}
	f.clock.Add(k.publishDelay())
	issuerB, audienceB := gatehouse.IssuerURL(publicURL, "tenant-2"), gatehouse.AdminAPIURL(publicURL, "tenant-2")
	claims := NewAccessToken(issuerB, audienceB, "0c1d2e3f-sp", "4a5b6c7d-app", tenantB, f.clock.Now())
	for _, alg := range []string{RS256, ES256} {
		token, err := k.Sign(ctx, tenantB, alg, AccessTokenType, claims)
		if err != nil {
			t.Errorf("Sign for tenant B after the repair: %v", err)
			continue
		}
		if _, err := k.VerifyAccessToken(ctx, tenantB, issuerB, audienceB, token); err != nil {
			t.Errorf("VerifyAccessToken for tenant B after the repair: %v", err)
		}
	}
}
