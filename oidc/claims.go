package oidc

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"hash"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// UserClaims are the standard claims about the user (OpenID Connect Core
// section 5.1) that Gatehouse releases, per scope, in ID tokens and from
// userinfo alike.
type UserClaims struct {
	// email scope.
	Email         string `json:"email,omitempty"`
	EmailVerified *bool  `json:"email_verified,omitempty"`
	// profile scope.
	Name          string `json:"name,omitempty"`
	GivenName     string `json:"given_name,omitempty"`
	FamilyName    string `json:"family_name,omitempty"`
	PreferredName string `json:"preferred_username,omitempty"`
	// address scope.
	Address *Address `json:"address,omitempty"`
}

// Address is the address claim (OpenID Connect Core section 5.1.1).
type Address struct {
	Formatted     string `json:"formatted,omitempty"`
	StreetAddress string `json:"street_address,omitempty"`
	Locality      string `json:"locality,omitempty"`
	Region        string `json:"region,omitempty"`
	PostalCode    string `json:"postal_code,omitempty"`
	Country       string `json:"country,omitempty"`
}

// Scopes Gatehouse grants for claims about the user, besides openid.
const (
	ScopeProfile = "profile"
	ScopeEmail   = "email"
	ScopeAddress = "address"
)

// ReleasedClaims returns the claims about u that the granted scope (space
// separated) releases, or that the claims request parameter asked for one
// by one (requested: claim names, OpenID Connect Core 5.5): email with
// email_verified (the address is verified at sign-up or by the
// administrator who set it); name, given_name, family_name and
// preferred_username (the email address, with which the user signs in)
// for profile; the address, from the user's street address, city, state,
// postal code and country, for address. A claim without a value is left
// out, and so is an address with no part at all.
//
// Gatehouse keeps no profile phone number (the phone number of the SMS
// sign-in method is an authentication factor, not a claim about the user),
// so the phone scope is not granted and phone_number is never released.
func ReleasedClaims(scope string, requested []string, u *gatehouse.User) UserClaims {
	var c UserClaims
	scopes := strings.Fields(scope)
	wants := func(scope, claim string) bool {
		return slices.Contains(scopes, scope) || slices.Contains(requested, claim)
	}
	yes := true
	if wants(ScopeEmail, "email") {
		c.Email = u.Mail
	}
	if wants(ScopeEmail, "email_verified") {
		c.EmailVerified = &yes
	}
	if wants(ScopeProfile, "name") {
		c.Name = u.DisplayName
	}
	if wants(ScopeProfile, "given_name") {
		c.GivenName = u.GivenName
	}
	if wants(ScopeProfile, "family_name") {
		c.FamilyName = u.Surname
	}
	if wants(ScopeProfile, "preferred_username") {
		c.PreferredName = u.Mail
	}
	if wants(ScopeAddress, "address") {
		c.Address = addressOf(u)
	}
	return c
}

// addressOf returns the user's address claim, or nil if the user has no
// address at all. formatted puts the parts Gatehouse has on lines of
// their own: the street, then "city, state postal code", then the country.
// No country's postal conventions are applied: clients that print labels
// should use the parts.
func addressOf(u *gatehouse.User) *Address {
	a := &Address{StreetAddress: u.StreetAddress, Locality: u.City, Region: u.State, PostalCode: u.PostalCode, Country: u.Country}
	if *a == (Address{}) {
		return nil
	}
	place := strings.Join(nonEmpty(a.Region, a.PostalCode), " ")
	a.Formatted = strings.Join(nonEmpty(a.StreetAddress, strings.Join(nonEmpty(a.Locality, place), ", "), a.Country), "\n")
	return a
}

func nonEmpty(parts ...string) []string {
	return slices.DeleteFunc(parts, func(s string) bool { return s == "" })
}

// AccessTokenHash returns the at_hash claim of an ID token signed with alg
// that is issued with accessToken (OpenID Connect Core section 3.1.3.6):
// the base64url encoding of the left-most half of the hash of the token's
// ASCII octets, with the hash of the signing algorithm (SHA-256 for RS256
// and ES256; SHA-512 for EdDSA, as the OpenID Connect errata set 2 says for
// Ed25519). It returns "" for an algorithm it does not know, so that no
// wrong hash is ever issued.
func AccessTokenHash(alg, accessToken string) string {
	var h hash.Hash
	switch alg {
	case RS256, ES256, "PS256":
		h = sha256.New()
	case "RS384", "ES384", "PS384":
		h = sha512.New384()
	case "RS512", "ES512", "PS512", "EdDSA":
		h = sha512.New()
	default:
		return ""
	}
	h.Write([]byte(accessToken))
	sum := h.Sum(nil)
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}
