package oidc

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/vault"
	"github.com/go-jose/go-jose/v4"
)

// Signing algorithms: every tenant has an active key for each.
const (
	RS256 = gatehouse.RS256
	ES256 = gatehouse.ES256
	EdDSA = gatehouse.EdDSA
)

// joseAlgorithms are the JWS algorithms a token presented to Gatehouse may
// name: exactly those it signs with (TK-1).
var joseAlgorithms = []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA}

// cachedTypes are the typ headers whose JWS header each key keeps encoded.
var cachedTypes = []string{AccessTokenType, IDTokenType}

// Key lifetimes.
const (
	// AccessTokenLifetime is how long an access token is valid.
	AccessTokenLifetime = time.Hour
	// RetainRetired is how long a retired key stays in the JWK set and
	// verifies tokens: until every token it signed has expired (OP-7).
	RetainRetired = AccessTokenLifetime + 5*time.Minute
	// DefaultRefreshInterval is how often Keys re-reads a tenant's keys,
	// so that each node sees rotations done by another.
	DefaultRefreshInterval = 10 * time.Second
	// maxRefreshInterval bounds SetRefreshInterval, so that the publish
	// delay a JWKS cache lifetime needs stays within maxPublishDelay.
	maxRefreshInterval = time.Minute
	// JWKSCacheLifetime is how long relying parties and HTTP caches may
	// keep a tenant's JWK set (JWKSMaxAge), unless a short refresh
	// interval makes it shorter.
	JWKSCacheLifetime = time.Minute
	// maxPublishDelay bounds publishDelay so that a token signed by a
	// retired key in its grace period expires, leeway included, within
	// RetainRetired.
	maxPublishDelay = 3 * time.Minute
	// unknownKIDInterval is the least time between two store reads for one
	// tenant caused by tokens with an unknown kid or by a missing key.
	unknownKIDInterval = time.Second
)

// KeyStore is what Keys needs of the store.
type KeyStore interface {
	SigningKeys(ctx context.Context, tenantID string) ([]*gatehouse.SigningKey, error)
	Update(ctx context.Context, fn func(tx gatehouse.Tx) error) error
}

// Keys creates, rotates, publishes and uses the tenants' signing keys. It
// keeps each tenant's keys decrypted and parsed in memory, re-reading the
// store every refresh interval (DefaultRefreshInterval) and, at most once
// a second, when a token names an unknown kid; only keys with a new kid are
// decrypted. It is safe for concurrent use.
//
// A key that Rotate creates is published at once but signs only after a
// publish delay: until then the key it replaced goes on signing, so that
// every node, and every relying party fetching the JWK set from any node,
// knows a key before it sees a token signed with it (OP-7). The delay is
// the JWK set's cache lifetime (JWKSMaxAge, one minute) plus two refresh
// intervals: one for the node that has not yet read the new key and
// serves the old set, one as margin for the clocks of the nodes. So a
// relying party that keeps the set it fetched for as long as the response
// allows, and never fetches it again for an unknown kid, still has every
// key that signs. A tenant's first keys sign at once.
//
// A stored key that cannot be unsealed (its row is damaged, or it was
// sealed under another encryption key, which the key check now prevents
// but older versions allowed) is logged as an error, once per node, and
// left out: the tenant goes on signing and verifying with the keys that
// can be read, instead of every request of the tenant failing because of
// one row. Leaving a key out never widens what is accepted: tokens signed
// with it fail verification, and a retired key still signs only during
// the publish delay. When that leaves the tenant no key to sign with, Sign
// (and, with no readable key at all, JWKS) fails saying that its keys
// cannot be decrypted; rotating them with the right key repairs it.
type Keys struct {
	store   KeyStore
	vault   *vault.Vault
	now     func() time.Time
	logger  atomic.Pointer[slog.Logger]
	refresh atomic.Int64 // time.Duration
	tenants sync.Map     // tenant ID -> *tenantKeys
}

// tenantKeys is the cache of one tenant's keys.
type tenantKeys struct {
	mu  sync.Mutex // held while the store is read
	set atomic.Pointer[keySet]
}

// keySet is an immutable snapshot of a tenant's keys.
type keySet struct {
	checked time.Time // when the store was last read, or tried
	gen     uint64    // counts the reads of the store for the tenant
	keys    []*key    // newest first (by CreatedAt, then kid descending)
	// unreadable are the stored keys that could not be unsealed, left out
	// of keys; they are not tried again.
	unreadable []*unreadableKey
}

// unreadableKey is a stored key that could not be unsealed.
type unreadableKey struct {
	id, alg string
	retired time.Time // zero while active
	err     error
}

// key is one parsed signing key. It is immutable; a refresh that finds a
// key retired makes a changed copy.
type key struct {
	id, alg string
	created time.Time
	retired time.Time // zero while active
	private crypto.Signer
	public  jose.JSONWebKey
	// headers are the encoded JWS headers for the cachedTypes (jws.go),
	// shared by copies and never changed.
	headers map[string]string
}

// NewKeys returns Keys over store, unsealing keys with v, with now as its
// clock (time.Now if nil).
func NewKeys(store KeyStore, v *vault.Vault, now func() time.Time) *Keys {
	if now == nil {
		now = time.Now
	}
	k := &Keys{store: store, vault: v, now: now}
	k.refresh.Store(int64(DefaultRefreshInterval))
	k.logger.Store(slog.New(slog.DiscardHandler))
	return k
}

// SetLogger sets the logger that reports stored keys that cannot be
// unsealed. Without one nothing is logged.
func (k *Keys) SetLogger(l *slog.Logger) {
	if l != nil {
		k.logger.Store(l)
	}
}

// SetRefreshInterval sets how long a tenant's cached keys are used before
// the store is read again, at most a minute. With d = 0 every use reads
// the store, a new key signs at once and the JWK set may not be cached.
func (k *Keys) SetRefreshInterval(d time.Duration) {
	k.refresh.Store(int64(min(max(d, 0), maxRefreshInterval)))
}

func (k *Keys) refreshInterval() time.Duration { return time.Duration(k.refresh.Load()) }

// JWKSMaxAge is how long a JWK set that JWKS returned may be kept by
// relying parties and caches (the max-age of the JWKS response):
// JWKSCacheLifetime, or six refresh intervals if that is shorter (none
// when every use reads the store). A new key signs only after it has been
// published for longer than this plus a refresh interval (publishDelay).
func (k *Keys) JWKSMaxAge() time.Duration {
	return min(JWKSCacheLifetime, 6*k.refreshInterval())
}

// publishDelay is how long a new key is published before it signs: the
// JWK set's cache lifetime, a refresh interval for the nodes that still
// serve the set without the key, and one more as margin for clock skew
// between nodes. It is at most maxPublishDelay, which the refresh
// interval's bound keeps it within.
func (k *Keys) publishDelay() time.Duration {
	return min(k.JWKSMaxAge()+2*k.refreshInterval(), maxPublishDelay)
}

// Create generates a tenant's signing keys, one RS256 (RSA 2048), one
// ES256 (P-256) and one EdDSA (Ed25519), and stores them in tx, sealed with
// the vault. It is meant for a new tenant; Rotate replaces existing keys.
func (k *Keys) Create(ctx context.Context, tx gatehouse.Tx, tenantID string) error {
	keys, err := k.generate(tenantID, gatehouse.SigningAlgorithms...)
	if err != nil {
		return err
	}
	for _, sk := range keys {
		if err := tx.CreateSigningKey(ctx, sk); err != nil {
			return fmt.Errorf("oidc: storing signing key: %w", err)
		}
	}
	k.expire(tenantID)
	return nil
}

// Ensure gives the tenant an active key for alg in tx, unless it has one
// (readable or not), and returns the key it created, or nil. It is how a
// tenant created before Gatehouse signed with EdDSA gets its first EdDSA
// key: in the transaction that first chooses EdDSA for its tokens. The key
// signs at once, as a tenant's first key of an algorithm does (see Keys),
// and is published from the commit. Two concurrent first choices may each
// add one; the newer signs, both are published, and the next rotation
// retires both.
func (k *Keys) Ensure(ctx context.Context, tx gatehouse.Tx, tenantID, alg string) (*gatehouse.SigningKey, error) {
	if err := gatehouse.ValidateSigningAlg("alg", alg, false); err != nil {
		return nil, err
	}
	rows, err := tx.SigningKeys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	for _, row := range rows {
		if row.Algorithm == alg && row.Active() {
			return nil, nil
		}
	}
	keys, err := k.generate(tenantID, alg)
	if err != nil {
		return nil, err
	}
	if err := tx.CreateSigningKey(ctx, keys[0]); err != nil {
		return nil, fmt.Errorf("oidc: storing signing key: %w", err)
	}
	k.expire(tenantID)
	return keys[0], nil
}

// Rotate creates new RS256, ES256 and EdDSA keys for the tenant and
// retires its active ones (RetiredAt = now); so a tenant that had no EdDSA
// key gets one. Retired keys stay published for
// RetainRetired; see Keys for when the new keys start signing.
//
// Before it writes anything it checks that the vault opens the tenant's
// keys, and it refuses, with an error wrapping ErrWrongEncryptionKey, when
// the vault opens none of them: new keys sealed with a foreign key would
// retire keys every other server can read for keys none can. One key that
// opens suffices, so that a tenant whose active keys cannot be read (a
// damaged row, or a rotation done with a wrong key before the key check
// existed) is repaired by rotating with the right key.
func (k *Keys) Rotate(ctx context.Context, tenantID string) error {
	keys, err := k.generate(tenantID, gatehouse.SigningAlgorithms...) // outside the transaction: RSA is slow
	if err != nil {
		return err
	}
	err = k.store.Update(ctx, func(tx gatehouse.Tx) error {
		now := k.now()
		old, err := tx.SigningKeys(ctx, tenantID)
		if err != nil {
			return err
		}
		if err := k.opensAny(tenantID, old); err != nil {
			return err
		}
		for _, o := range old {
			if !o.Active() {
				continue
			}
			_, err := tx.UpdateSigningKey(ctx, tenantID, o.ID, func(sk *gatehouse.SigningKey) error {
				if sk.RetiredAt.IsZero() {
					sk.RetiredAt = now
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		for _, sk := range keys {
			if err := tx.CreateSigningKey(ctx, sk); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("oidc: rotating signing keys: %w", err)
	}
	k.expire(tenantID)
	return nil
}

// opensAny returns nil if the tenant has no keys or the vault opens one of
// them, trying active keys first, and otherwise an error wrapping
// ErrWrongEncryptionKey and the vault's error.
func (k *Keys) opensAny(tenantID string, rows []*gatehouse.SigningKey) error {
	var firstErr error
	for _, active := range []bool{true, false} {
		for _, row := range rows {
			if row.Active() != active {
				continue
			}
			_, err := k.vault.Open(row.PrivateKey, sealAD(tenantID, row.ID))
			if err == nil {
				return nil
			}
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	if firstErr == nil {
		return nil
	}
	return fmt.Errorf("%w: it cannot decrypt any of the tenant's %d signing keys, so new keys sealed with it would replace keys the other servers can read with keys they cannot; nothing was changed (%w)",
		ErrWrongEncryptionKey, len(rows), firstErr)
}

// generate returns new sealed keys for the tenant, one per alg.
func (k *Keys) generate(tenantID string, algs ...string) ([]*gatehouse.SigningKey, error) {
	var out []*gatehouse.SigningKey
	for _, alg := range algs {
		var key crypto.Signer
		var err error
		switch alg {
		case RS256:
			key, err = rsa.GenerateKey(rand.Reader, 2048)
		case ES256:
			key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		case EdDSA:
			_, key, err = ed25519.GenerateKey(rand.Reader)
		default:
			err = fmt.Errorf("unknown algorithm %q", alg)
		}
		if err != nil {
			return nil, fmt.Errorf("oidc: generating %s key: %w", alg, err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, fmt.Errorf("oidc: encoding %s key: %w", alg, err)
		}
		kid := randomID()
		sealed, err := k.vault.Seal(der, sealAD(tenantID, kid))
		clear(der)
		if err != nil {
			return nil, fmt.Errorf("oidc: sealing %s key: %w", alg, err)
		}
		out = append(out, &gatehouse.SigningKey{ID: kid, TenantID: tenantID, Algorithm: alg, PrivateKey: sealed})
	}
	return out, nil
}

// sealAD is the additional data a tenant's key is sealed with: a sealed key
// opens only as the key it was created as.
func sealAD(tenantID, kid string) []byte { return []byte(tenantID + "/" + kid) }

// randomID returns 128 random bits in base64url.
func randomID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// JWKS returns the public keys of the tenant's active keys and of keys
// retired less than RetainRetired ago, newest first, each with kid, alg and
// use "sig". Keys that cannot be unsealed are left out; if that leaves
// none of the keys that should be published, it returns an error saying
// that they cannot be decrypted.
func (k *Keys) JWKS(ctx context.Context, tenantID string) (*jose.JSONWebKeySet, error) {
	s, err := k.keySet(ctx, tenantID, k.refreshInterval())
	if err != nil {
		return nil, err
	}
	now := k.now()
	set := &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	for _, key := range s.keys {
		if key.published(now) {
			set.Keys = append(set.Keys, key.public)
		}
	}
	if len(set.Keys) == 0 {
		for _, u := range s.unreadable {
			if u.retired.IsZero() || now.Before(u.retired.Add(RetainRetired)) {
				return nil, fmt.Errorf("oidc: the published signing keys of tenant %s cannot be decrypted with this server's encryption key (is it the one the database was set up with?); the first is %s: %w",
					tenantID, u.id, u.err)
			}
		}
	}
	return set, nil
}

// Sign returns a JWS compact serialization of claims signed with the
// tenant's current key for alg (RS256, ES256 or EdDSA; "" means RS256),
// with header typ (omitted when "") and the key's kid. It returns EINVALID
// for another alg.
func (k *Keys) Sign(ctx context.Context, tenantID, alg, typ string, claims any) (string, error) {
	if alg == "" {
		alg = RS256
	}
	if alg != RS256 && alg != ES256 && alg != EdDSA {
		return "", gatehouse.Errorf(gatehouse.EINVALID, "Signing algorithm %q is not supported; use RS256, ES256 or EdDSA.", alg)
	}
	s, err := k.keySet(ctx, tenantID, k.refreshInterval())
	if err != nil {
		return "", err
	}
	key := s.signer(alg, k.now(), k.publishDelay())
	if key == nil {
		// Perhaps the key was created since the last read (Ensure, on
		// another node): read again, unless another caller did since.
		if s, err = k.keySetAfter(ctx, tenantID, s.gen); err != nil {
			return "", err
		}
		if key = s.signer(alg, k.now(), k.publishDelay()); key == nil {
			return "", s.noSigner(tenantID, alg)
		}
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("oidc: encoding claims: %w", err)
	}
	return key.sign(typ, payload)
}

// verifier returns the tenant's published key with the kid, re-reading the
// store (at most once a second) if the kid is unknown, or nil.
func (k *Keys) verifier(ctx context.Context, tenantID, kid string) (*key, error) {
	s, err := k.keySet(ctx, tenantID, k.refreshInterval())
	if err != nil {
		return nil, err
	}
	key := s.find(kid)
	if key == nil {
		if s, err = k.keySet(ctx, tenantID, unknownKIDInterval); err != nil {
			return nil, err
		}
		key = s.find(kid)
	}
	if key == nil || !key.published(k.now()) {
		return nil, nil
	}
	return key, nil
}

// published reports whether the key is in the JWK set at now.
func (key *key) published(now time.Time) bool {
	return key.retired.IsZero() || now.Before(key.retired.Add(RetainRetired))
}

// signer returns the key that signs for alg at now: the newest active key
// published for at least delay or, while none is, a key retired less than
// delay ago that was (the one a rotation replaced); or else the tenant's
// first key, which signed from its creation, while it was retired less
// than delay ago (a rotation of a new tenant, found by FT-5); or else the
// newest active key (a tenant's first). It returns nil if the tenant has
// no active key for alg.
func (s *keySet) signer(alg string, now time.Time, delay time.Duration) *key {
	var newest, first *key
	for _, key := range s.keys { // newest first: first ends as the oldest
		if key.alg != alg {
			continue
		}
		first = key
		old := now.Sub(key.created) >= delay
		if key.retired.IsZero() {
			if old {
				return key
			}
			if newest == nil {
				newest = key
			}
		} else if old && now.Sub(key.retired) < delay {
			return key
		}
	}
	if first != nil && !first.retired.IsZero() && now.Sub(first.retired) < delay {
		return first
	}
	return newest
}

// noSigner returns the error of Sign when the tenant has no key that signs
// for alg: it says so, and whether active keys were left out because they
// cannot be unsealed.
func (s *keySet) noSigner(tenantID, alg string) error {
	var bad []*unreadableKey
	for _, u := range s.unreadable {
		if u.alg == alg && u.retired.IsZero() {
			bad = append(bad, u)
		}
	}
	if len(bad) == 0 {
		return fmt.Errorf("oidc: tenant %s has no active %s signing key", tenantID, alg)
	}
	return fmt.Errorf("oidc: tenant %s has no readable active %s signing key: %d active key(s), the first %s, cannot be decrypted with this server's encryption key (is it the one the database was set up with?); rotate the tenant's keys with the right key (gatehouse tenant rotate-keys): %w",
		tenantID, alg, len(bad), bad[0].id, bad[0].err)
}

func (s *keySet) find(kid string) *key {
	for _, key := range s.keys {
		if key.id == kid {
			return key
		}
	}
	return nil
}

func (k *Keys) tenant(tenantID string) *tenantKeys {
	if t, ok := k.tenants.Load(tenantID); ok {
		return t.(*tenantKeys)
	}
	t, _ := k.tenants.LoadOrStore(tenantID, new(tenantKeys))
	return t.(*tenantKeys)
}

// expire makes the next use of the tenant's keys read the store.
func (k *Keys) expire(tenantID string) {
	t := k.tenant(tenantID)
	t.mu.Lock()
	defer t.mu.Unlock()
	if s := t.set.Load(); s != nil {
		t.set.Store(&keySet{gen: s.gen, keys: s.keys, unreadable: s.unreadable})
	}
}

// keySet returns the tenant's keys, read from the store if the cached set
// was read maxAge or longer ago. If the store fails and a cached set
// exists, it returns the cached set and tries again after the refresh
// interval, so that a database outage does not stop token signing and
// verification.
func (k *Keys) keySet(ctx context.Context, tenantID string, maxAge time.Duration) (*keySet, error) {
	return k.readKeySet(ctx, tenantID, func(s *keySet) bool {
		if s == nil || s.checked.IsZero() {
			return false
		}
		age := k.now().Sub(s.checked)
		return age >= 0 && age < maxAge
	})
}

// keySetAfter returns the tenant's keys read from the store after the set
// of generation gen: it reads the store unless another caller has since.
// So concurrent callers that miss a key share one read.
func (k *Keys) keySetAfter(ctx context.Context, tenantID string, gen uint64) (*keySet, error) {
	return k.readKeySet(ctx, tenantID, func(s *keySet) bool { return s != nil && !s.checked.IsZero() && s.gen > gen })
}

// readKeySet returns the tenant's cached keys if fresh says they are, and
// otherwise reads them from the store.
func (k *Keys) readKeySet(ctx context.Context, tenantID string, fresh func(*keySet) bool) (*keySet, error) {
	t := k.tenant(tenantID)
	if s := t.set.Load(); fresh(s) {
		return s, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	old := t.set.Load()
	if fresh(old) { // another goroutine read the store while we waited
		return old, nil
	}
	now := k.now()
	var gen uint64
	if old != nil {
		gen = old.gen
	}
	rows, err := k.store.SigningKeys(ctx, tenantID)
	if err != nil {
		if old != nil && ctx.Err() == nil {
			t.set.Store(&keySet{checked: now, gen: gen + 1, keys: old.keys, unreadable: old.unreadable})
			return old, nil
		}
		return nil, fmt.Errorf("oidc: reading signing keys: %w", err)
	}
	s := k.parse(ctx, tenantID, rows, old)
	s.checked, s.gen = now, gen+1
	t.set.Store(s)
	return s, nil
}

// parse turns store rows into a keySet, reusing the parsed keys of old and
// unsealing only keys with a new kid. A key that cannot be unsealed is
// logged, once, and left out (see Keys).
func (k *Keys) parse(ctx context.Context, tenantID string, rows []*gatehouse.SigningKey, old *keySet) *keySet {
	s := &keySet{keys: make([]*key, 0, len(rows))}
	for _, row := range rows {
		if old != nil {
			if o := old.find(row.ID); o != nil && o.alg == row.Algorithm {
				if !o.retired.Equal(row.RetiredAt) || !o.created.Equal(row.CreatedAt) {
					c := *o
					c.retired, c.created = row.RetiredAt, row.CreatedAt
					o = &c
				}
				s.keys = append(s.keys, o)
				continue
			}
			if u := old.findUnreadable(row.ID); u != nil && u.alg == row.Algorithm {
				if !u.retired.Equal(row.RetiredAt) {
					c := *u
					c.retired = row.RetiredAt
					u = &c
				}
				s.unreadable = append(s.unreadable, u)
				continue
			}
		}
		key, err := k.unseal(tenantID, row)
		if err != nil {
			k.logger.Load().ErrorContext(ctx, "a signing key cannot be decrypted with this server's encryption key and is left out of the tenant's keys; is the key the one the database was set up with? If the tenant has no other key to sign with, rotate its keys with the right key",
				"tenant", tenantID, "kid", row.ID, "alg", row.Algorithm, "active", row.Active(), "err", err)
			s.unreadable = append(s.unreadable, &unreadableKey{id: row.ID, alg: row.Algorithm, retired: row.RetiredAt, err: err})
			continue
		}
		s.keys = append(s.keys, key)
	}
	slices.SortFunc(s.keys, func(a, b *key) int {
		if c := b.created.Compare(a.created); c != 0 {
			return c
		}
		return strings.Compare(b.id, a.id)
	})
	return s
}

func (s *keySet) findUnreadable(kid string) *unreadableKey {
	for _, u := range s.unreadable {
		if u.id == kid {
			return u
		}
	}
	return nil
}

// unseal decrypts and parses one stored key.
func (k *Keys) unseal(tenantID string, row *gatehouse.SigningKey) (*key, error) {
	der, err := k.vault.Open(row.PrivateKey, sealAD(tenantID, row.ID))
	if err != nil {
		return nil, fmt.Errorf("oidc: signing key %s of tenant %s: %w", row.ID, tenantID, err)
	}
	priv, err := x509.ParsePKCS8PrivateKey(der)
	clear(der)
	if err != nil {
		return nil, fmt.Errorf("oidc: signing key %s of tenant %s: %w", row.ID, tenantID, err)
	}
	var signer crypto.Signer
	switch p := priv.(type) {
	case *rsa.PrivateKey:
		if row.Algorithm == RS256 && p.N.BitLen() >= 2048 {
			signer = p
		}
	case *ecdsa.PrivateKey:
		if row.Algorithm == ES256 && p.Curve == elliptic.P256() {
			signer = p
		}
	case ed25519.PrivateKey:
		if row.Algorithm == EdDSA {
			signer = p
		}
	}
	if signer == nil {
		return nil, fmt.Errorf("oidc: signing key %s of tenant %s: a %T is not a valid %s key", row.ID, tenantID, priv, row.Algorithm)
	}
	key := &key{
		id:      row.ID,
		alg:     row.Algorithm,
		created: row.CreatedAt,
		retired: row.RetiredAt,
		private: signer,
		public:  jose.JSONWebKey{Key: signer.Public(), KeyID: row.ID, Algorithm: row.Algorithm, Use: "sig"},
		headers: map[string]string{},
	}
	for _, typ := range cachedTypes {
		if key.headers[typ], err = key.encodedHeader(typ); err != nil {
			return nil, fmt.Errorf("oidc: signing key %s of tenant %s: %w", row.ID, tenantID, err)
		}
	}
	return key, nil
}
