package oidc

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// Tokens are JWS compact serializations (RFC 7515 section 7.1) that Keys
// writes itself: BASE64URL(header) "." BASE64URL(payload) "."
// BASE64URL(signature), with the signature from the standard library
// (RSASSA-PKCS1-v1_5 with SHA-256, ECDSA P-256 with SHA-256 as the 64-byte
// R || S of RFC 7518 section 3.4, Ed25519 of RFC 8037). go-jose, which
// verifies every token Gatehouse is presented, would sign the same bytes
// but spends about as much again as the ES256 signature on marshaling the
// header three times and the claims twice; at the token endpoint that was
// a tenth of the machine. The header of each key and typ is encoded once.

// jwsHeader is the protected header of Gatehouse's tokens: alg, the key's
// kid and, unless empty, typ. Nothing else, so no jku, jwk or x5u.
type jwsHeader struct {
	Alg string `json:"alg"`
	KID string `json:"kid"`
	Typ string `json:"typ,omitempty"`
}

// encodedHeader returns BASE64URL of the key's header with typ.
func (key *key) encodedHeader(typ string) (string, error) {
	if h, ok := key.headers[typ]; ok {
		return h, nil
	}
	b, err := json.Marshal(jwsHeader{Alg: key.alg, KID: key.id, Typ: typ})
	if err != nil {
		return "", fmt.Errorf("oidc: encoding the JWS header: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// sign returns the JWS compact serialization of payload signed with the
// key, with header typ.
func (key *key) sign(typ string, payload []byte) (string, error) {
	h, err := key.encodedHeader(typ)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	buf := make([]byte, 0, len(h)+enc.EncodedLen(len(payload))+enc.EncodedLen(key.signatureSize())+2)
	buf = append(buf, h...)
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, payload)
	sig, err := key.signature(buf)
	if err != nil {
		return "", fmt.Errorf("oidc: signing with %s key %s: %w", key.alg, key.id, err)
	}
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, sig)
	return string(buf), nil
}

// signatureSize is the length of the key's signatures.
func (key *key) signatureSize() int {
	if p, ok := key.private.(*rsa.PrivateKey); ok {
		return p.Size()
	}
	return 64 // ES256 (R || S) and Ed25519
}

// fixedRS turns an ASN.1 ECDSA P-256 signature into the 64 bytes R || S of
// JWS (RFC 7518 section 3.4), each big-endian and left-padded to 32 bytes.
// (ecdsa.Sign would do the same through two big.Int values.)
func fixedRS(der []byte) ([]byte, error) {
	var seq cryptobyte.String
	var r, s []byte
	in := cryptobyte.String(der)
	if !in.ReadASN1(&seq, asn1.SEQUENCE) || !in.Empty() ||
		!seq.ReadASN1Integer(&r) || !seq.ReadASN1Integer(&s) || !seq.Empty() {
		return nil, errors.New("malformed ECDSA signature")
	}
	sig := make([]byte, 64)
	for i, v := range [][]byte{r, s} {
		v = bytes.TrimLeft(v, "\x00") // the sign byte of a positive INTEGER
		if len(v) > 32 {
			return nil, errors.New("ECDSA signature value too long for P-256")
		}
		copy(sig[32*i+32-len(v):32*i+32], v)
	}
	return sig, nil
}

// signature returns the JWS signature of the signing input.
func (key *key) signature(input []byte) ([]byte, error) {
	switch p := key.private.(type) {
	case *rsa.PrivateKey:
		d := sha256.Sum256(input)
		return rsa.SignPKCS1v15(rand.Reader, p, crypto.SHA256, d[:])
	case *ecdsa.PrivateKey:
		d := sha256.Sum256(input)
		der, err := ecdsa.SignASN1(rand.Reader, p, d[:])
		if err != nil {
			return nil, err
		}
		return fixedRS(der)
	case ed25519.PrivateKey:
		return ed25519.Sign(p, input), nil
	}
	return nil, fmt.Errorf("a %T cannot sign", key.private)
}
