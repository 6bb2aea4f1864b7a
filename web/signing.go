package web

import (
	"net/http"

	"github.com/gatehouse/gatehouse"
)

// Token signing choices in the admin API. An application chooses its own
// algorithms under gatehouse (accessTokenSigningAlg, idTokenSigningAlg;
// null: the tenant's default). The tenant's defaults are part of Graph's
// organization, the tenant itself, under gatehouse too: Graph has no
// counterpart, and they are settings of the directory, not of how its
// pages look (branding).

// organizationSettings are the tenant's Gatehouse settings on Graph's
// organization: its default signing algorithms, as they apply.
type organizationSettings struct {
	AccessTokenSigningAlg string `json:"accessTokenSigningAlg"`
	IDTokenSigningAlg     string `json:"idTokenSigningAlg"`
}

// organizationSettingsInput is what "gatehouse" of an organization PATCH
// accepts; a setting not sent is kept, and null is refused: a tenant
// always has an algorithm for each.
type organizationSettingsInput struct {
	AccessTokenSigningAlg *string `json:"accessTokenSigningAlg" null:"refuse"`
	IDTokenSigningAlg     *string `json:"idTokenSigningAlg" null:"refuse"`
}

func toOrganizationSettings(t *gatehouse.Tenant) organizationSettings {
	return organizationSettings{AccessTokenSigningAlg: t.AccessTokenAlg(nil), IDTokenSigningAlg: t.IDTokenAlg(nil)}
}

// apply sets the tenant's defaults from in and validates them.
func (in *organizationSettingsInput) apply(t *gatehouse.Tenant) error {
	if in == nil {
		return nil
	}
	for _, s := range []struct {
		field string
		in    *string
		dst   *string
	}{
		{"gatehouse.accessTokenSigningAlg", in.AccessTokenSigningAlg, &t.TokenSigning.AccessTokenAlg},
		{"gatehouse.idTokenSigningAlg", in.IDTokenSigningAlg, &t.TokenSigning.IDTokenAlg},
	} {
		if s.in == nil {
			continue
		}
		if err := gatehouse.ValidateSigningAlg(s.field, *s.in, false); err != nil {
			return err
		}
		*s.dst = *s.in
	}
	return nil
}

// algOrNull is an application's own algorithm choice as the admin API
// shows it: null when the app follows the tenant's default.
func algOrNull(alg string) *string {
	if alg == "" {
		return nil
	}
	return &alg
}

// signingKeyAudit is how the audit log shows a signing key.
type signingKeyAudit struct {
	KID string `json:"kid"`
	Alg string `json:"alg"`
}

// ensureSigningKeys gives the tenant, in tx, an active key for each of
// algs that it lacks (oidc.Keys.Ensure), and records each key it adds in
// the audit log, so that a tenant created before Gatehouse signed with
// EdDSA gets its EdDSA key in the transaction that first chooses it; ""
// (the default) needs none.
func (s *server) ensureSigningKeys(r *http.Request, tx gatehouse.Tx, algs ...string) error {
	t := tenantFrom(r.Context())
	for _, alg := range algs {
		if alg == "" {
			continue
		}
		k, err := s.Keys.Ensure(r.Context(), tx, t.ID, alg)
		if err != nil || k == nil {
			return err
		}
		if err := s.audit(r, tx, change{category: "KeyManagement", activity: "Add signing key", operation: "Add",
			targetType: "Key", targetID: k.ID, name: k.Algorithm, after: signingKeyAudit{KID: k.ID, Alg: k.Algorithm}}); err != nil {
			return err
		}
	}
	return nil
}
