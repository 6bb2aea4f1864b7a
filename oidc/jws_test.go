package oidc

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/asn1"
	"math/big"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

// TestFixedRS checks the conversion of ASN.1 ECDSA signatures to JWS's
// fixed 64 bytes: short values are left-padded, the sign byte of a value
// with its top bit set is dropped, and anything else is refused.
func TestFixedRS(t *testing.T) {
	der := func(r, s *big.Int) []byte {
		b, err := asn1.Marshal(struct{ R, S *big.Int }{r, s})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	top := new(big.Int).SetBytes(bytes.Repeat([]byte{0xff}, 32)) // encoded with a 0x00 sign byte: 33 bytes
	got, err := fixedRS(der(big.NewInt(1), top))
	if err != nil {
		t.Fatal(err)
	}
	want := append(append(make([]byte, 31), 1), bytes.Repeat([]byte{0xff}, 32)...)
	if !bytes.Equal(got, want) {
		t.Errorf("fixedRS = %x, want %x", got, want)
	}
	tooLong := new(big.Int).Lsh(big.NewInt(1), 256)
	for name, bad := range map[string][]byte{
		"a 33-byte value": der(tooLong, big.NewInt(1)),
		"trailing data":   append(der(big.NewInt(1), big.NewInt(2)), 0),
		"not a sequence":  {0x02, 0x01, 0x01},
		"empty":           nil,
	} {
		if _, err := fixedRS(bad); err == nil {
			t.Errorf("%s: fixedRS accepted %x", name, bad)
		}
	}
}

// TestES256Signatures signs many tokens, so that values of R and S with
// leading zero bytes (about one in a hundred) occur, and verifies each
// with go-jose alone against the public key.
func TestES256Signatures(t *testing.T) {
	f := newFixture(t)
	s, err := f.keys.keySet(context.Background(), tenantA, f.keys.refreshInterval())
	if err != nil {
		t.Fatal(err)
	}
	key := s.signer(ES256, f.clock.Now(), f.keys.publishDelay())
	pub := key.private.Public().(*ecdsa.PublicKey)
	for i := range 2000 {
		token, err := key.sign(AccessTokenType, []byte(`{"n":`+big.NewInt(int64(i)).String()+`}`))
		if err != nil {
			t.Fatal(err)
		}
		jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256})
		if err != nil {
			t.Fatalf("token %d: %v", i, err)
		}
		if _, err := jws.Verify(pub); err != nil {
			t.Fatalf("token %d does not verify: %v (%s)", i, err, token)
		}
	}
}
