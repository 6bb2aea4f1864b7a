package web

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/oidc"
	"github.com/google/uuid"
)

// graphApplication is Graph's application resource, as far as Gatehouse
// keeps it. Gatehouse-only settings live under "gatehouse".
type graphApplication struct {
	ID                     string                    `json:"id"`
	AppID                  string                    `json:"appId"`
	DisplayName            string                    `json:"displayName"`
	SignInAudience         string                    `json:"signInAudience"`
	IsFallbackPublicClient bool                      `json:"isFallbackPublicClient"`
	Web                    graphWeb                  `json:"web"`
	SPA                    graphRedirects            `json:"spa"`
	PublicClient           graphRedirects            `json:"publicClient"`
	PasswordCredentials    []graphPasswordCredential `json:"passwordCredentials"`
	RequiredResourceAccess []requiredResourceAccess  `json:"requiredResourceAccess"`
	Gatehouse              appSettings               `json:"gatehouse"`
	CreatedDateTime        string                    `json:"createdDateTime"`
}

// requiredResourceAccess is Graph's requiredResourceAccess: the delegated
// permissions (scopes) an app has on an API. Gatehouse's one API is the
// admin API, in Graph's place, with one delegated permission,
// Directory.AccessAsUser.All. Unlike in Entra, listing it here is also
// the administrator's consent, so only those who may grant permissions may
// add or remove it.
type requiredResourceAccess struct {
	ResourceAppID  string           `json:"resourceAppId"`
	ResourceAccess []resourceAccess `json:"resourceAccess"`
}

type resourceAccess struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

// delegatedAccess is the requiredResourceAccess of an app that holds
// Directory.AccessAsUser.All.
func delegatedAccess(delegated bool) []requiredResourceAccess {
	if !delegated {
		return []requiredResourceAccess{}
	}
	return []requiredResourceAccess{{ResourceAppID: gatehouse.GraphResourceAppID,
		ResourceAccess: []resourceAccess{{ID: gatehouse.DirectoryAccessAsUser.ID, Type: "Scope"}}}}
}

// parseRequiredResourceAccess reports whether the list grants
// Directory.AccessAsUser.All, or names the entry Gatehouse cannot honour.
func parseRequiredResourceAccess(list []requiredResourceAccess) (bool, error) {
	delegated := false
	for i, ra := range list {
		field := fmt.Sprintf("requiredResourceAccess[%d]", i)
		if !strings.EqualFold(ra.ResourceAppID, gatehouse.GraphResourceAppID) {
			return false, gatehouse.FieldErrorf(field+".resourceAppId", "%s.resourceAppId %q is not an API of this tenant; the admin API takes Microsoft Graph's place, resourceAppId %q.",
				field, ra.ResourceAppID, gatehouse.GraphResourceAppID)
		}
		for j, acc := range ra.ResourceAccess {
			f := fmt.Sprintf("%s.resourceAccess[%d]", field, j)
			switch {
			case acc.Type == "Scope" && strings.EqualFold(acc.ID, gatehouse.DirectoryAccessAsUser.ID):
				delegated = true
			case acc.Type == "Scope":
				return false, gatehouse.FieldErrorf(f+".id", "%s.id %q is not a delegated permission of the admin API; its one delegated permission is %s (%s), which allows what the signed-in user's directory roles allow.",
					f, acc.ID, gatehouse.DirectoryAccessAsUser.Value, gatehouse.DirectoryAccessAsUser.ID)
			case acc.Type == "Role":
				return false, gatehouse.FieldErrorf(f+".type", "%s: application permissions (type Role) are granted with POST /applications/{id}/appRoleAssignments, not requested here; requiredResourceAccess holds only the delegated permission %s (type Scope).",
					f, gatehouse.DirectoryAccessAsUser.Value)
			default:
				return false, gatehouse.FieldErrorf(f+".type", "%s.type %q is not valid; use Scope.", f, acc.Type)
			}
		}
	}
	return delegated, nil
}

type graphWeb struct {
	RedirectURIs          []string       `json:"redirectUris"`
	ImplicitGrantSettings implicitGrants `json:"implicitGrantSettings"`
}

type implicitGrants struct {
	EnableIDTokenIssuance     bool `json:"enableIdTokenIssuance"`
	EnableAccessTokenIssuance bool `json:"enableAccessTokenIssuance"`
}

type graphRedirects struct {
	RedirectURIs []string `json:"redirectUris"`
}

// appSettings are Gatehouse's own application settings. A signing
// algorithm is null when the app follows the tenant's default.
type appSettings struct {
	PostLogoutRedirectURIs []string `json:"postLogoutRedirectUris"`
	RequirePKCE            bool     `json:"requirePkce"`
	IDTokenSigningAlg      *string  `json:"idTokenSigningAlg"`
	AccessTokenSigningAlg  *string  `json:"accessTokenSigningAlg"`
}

// graphPasswordCredential is Graph's passwordCredential; SecretText is set
// only in the addPassword response.
type graphPasswordCredential struct {
	CustomKeyIdentifier *string `json:"customKeyIdentifier"`
	DisplayName         string  `json:"displayName"`
	EndDateTime         *string `json:"endDateTime"`
	Hint                string  `json:"hint"`
	KeyID               string  `json:"keyId"`
	SecretText          *string `json:"secretText"`
	StartDateTime       string  `json:"startDateTime"`
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func toGraphPasswordCredential(c gatehouse.PasswordCredential) graphPasswordCredential {
	out := graphPasswordCredential{DisplayName: c.DisplayName, Hint: c.Hint, KeyID: c.KeyID, StartDateTime: graphTime(c.Start)}
	if !c.End.IsZero() {
		end := graphTime(c.End)
		out.EndDateTime = &end
	}
	return out
}

func toGraphApplication(a *gatehouse.Application) graphApplication {
	out := graphApplication{
		ID: a.ID, AppID: a.AppID, DisplayName: a.DisplayName, SignInAudience: "AzureADMyOrg",
		IsFallbackPublicClient: a.IsFallbackPublicClient,
		Web:                    graphWeb{RedirectURIs: nonNil(a.WebRedirectURIs)},
		SPA:                    graphRedirects{RedirectURIs: nonNil(a.SPARedirectURIs)},
		PublicClient:           graphRedirects{RedirectURIs: nonNil(a.PublicClientRedirectURIs)},
		PasswordCredentials:    []graphPasswordCredential{},
		RequiredResourceAccess: delegatedAccess(a.AdminAPIDelegated),
		Gatehouse: appSettings{PostLogoutRedirectURIs: nonNil(a.PostLogoutRedirectURIs),
			RequirePKCE: a.RequirePKCE, IDTokenSigningAlg: algOrNull(a.IDTokenSigningAlg), AccessTokenSigningAlg: algOrNull(a.AccessTokenSigningAlg)},
		CreatedDateTime: graphTime(a.CreatedAt),
	}
	for _, c := range a.PasswordCredentials {
		out.PasswordCredentials = append(out.PasswordCredentials, toGraphPasswordCredential(c))
	}
	return out
}

// applicationInput is what POST and PATCH /applications accept. Redirect
// URI lists replace the current list when sent; decode turns a null list
// into an empty one, and a null idTokenSigningAlg or accessTokenSigningAlg
// into "" (the tenant's default), and refuses null for the other
// properties.
type applicationInput struct {
	DisplayName            *string                   `json:"displayName" null:"refuse"`
	SignInAudience         *string                   `json:"signInAudience" null:"refuse"`
	IsFallbackPublicClient *bool                     `json:"isFallbackPublicClient"`
	Web                    *webInput                 `json:"web"`
	SPA                    *redirectsInput           `json:"spa"`
	PublicClient           *redirectsInput           `json:"publicClient"`
	RequiredResourceAccess *[]requiredResourceAccess `json:"requiredResourceAccess"`
	Gatehouse              *appSettingsInput         `json:"gatehouse"`

	delegated bool // what RequiredResourceAccess grants, set by check
}

type webInput struct {
	RedirectURIs          []string             `json:"redirectUris"`
	ImplicitGrantSettings *implicitGrantsInput `json:"implicitGrantSettings"`
}

type implicitGrantsInput struct {
	EnableIDTokenIssuance     *bool `json:"enableIdTokenIssuance"`
	EnableAccessTokenIssuance *bool `json:"enableAccessTokenIssuance"`
}

type redirectsInput struct {
	RedirectURIs []string `json:"redirectUris"`
}

type appSettingsInput struct {
	PostLogoutRedirectURIs []string `json:"postLogoutRedirectUris"`
	RequirePKCE            *bool    `json:"requirePkce"`
	IDTokenSigningAlg      *string  `json:"idTokenSigningAlg"`
	AccessTokenSigningAlg  *string  `json:"accessTokenSigningAlg"`
}

func (in *applicationInput) check() error {
	if in.SignInAudience != nil && *in.SignInAudience != "AzureADMyOrg" {
		return gatehouse.FieldErrorf("signInAudience", "signInAudience %q is not supported; an application signs in the users of its own tenant (AzureADMyOrg).", *in.SignInAudience)
	}
	if in.Web != nil && in.Web.ImplicitGrantSettings != nil {
		ig := in.Web.ImplicitGrantSettings
		if ig.EnableIDTokenIssuance != nil && *ig.EnableIDTokenIssuance {
			return gatehouse.FieldErrorf("web.implicitGrantSettings.enableIdTokenIssuance", "The implicit grant is not supported (OAuth 2.0 Security BCP); use the authorization code flow with PKCE.")
		}
		if ig.EnableAccessTokenIssuance != nil && *ig.EnableAccessTokenIssuance {
			return gatehouse.FieldErrorf("web.implicitGrantSettings.enableAccessTokenIssuance", "The implicit grant is not supported (OAuth 2.0 Security BCP); use the authorization code flow with PKCE.")
		}
	}
	if in.RequiredResourceAccess != nil {
		var err error
		if in.delegated, err = parseRequiredResourceAccess(*in.RequiredResourceAccess); err != nil {
			return err
		}
	}
	return nil
}

// checkConsent refuses a change of an app's delegated admin API permission
// by a principal who may not grant permissions: that change is a consent.
func checkConsent(p *principal, before, after bool) error {
	if before == after || permissionGrantsWrite.allows(p) {
		return nil
	}
	return &gatehouse.Error{Code: gatehouse.EFORBIDDEN, Field: "requiredResourceAccess",
		Message: "Insufficient privileges to grant or remove the delegated permission " + gatehouse.DirectoryAccessAsUser.Value +
			" (requiredResourceAccess). " + permissionGrantsWrite.requirement()}
}

// noteDelegation records when the app was granted the delegated
// permission, had it not had it before; a removal clears the time.
func noteDelegation(had bool, a *gatehouse.Application, now time.Time) {
	switch {
	case !a.AdminAPIDelegated:
		a.AdminAPIDelegatedSince = time.Time{}
	case !had:
		a.AdminAPIDelegatedSince = now.UTC()
	}
}

// checkPrivilegedApp refuses p an action on an app that holds admin API
// permissions — a change to how it gets its tokens (its client secrets,
// redirect URIs, post-logout redirect URIs and public client setting) or
// its deletion — unless p may grant permissions itself or (for changes)
// is the app: whoever controls how it gets tokens controls its
// permissions, so an Application Administrator could otherwise take the
// bootstrap client's permissions, send an administrator's sign-in (or
// sign-out) to an address of their own, or delete the automation that
// holds permissions they could not have granted. action says what was
// refused ("change the client secrets of", "delete").
func checkPrivilegedApp(p *principal, a *gatehouse.Application, action string) error {
	if !a.AdminAPIDelegated && len(a.Permissions) == 0 || permissionGrantsWrite.allows(p) || p.App != nil && p.App.ID == a.ID {
		return nil
	}
	held := a.PermissionValues()
	if a.AdminAPIDelegated {
		held = append(held, gatehouse.DirectoryAccessAsUser.Value+" (delegated)")
	}
	return gatehouse.Errorf(gatehouse.EFORBIDDEN, "Insufficient privileges to %s %q: it holds admin API permissions (%s), so that needs the same rights as granting them. %s",
		action, a.DisplayName, strings.Join(held, ", "), permissionGrantsWrite.requirement())
}

// tokenPathChange says what of where or how an app gets or hands back
// user tokens an update changes: its redirect URIs, post-logout redirect
// URIs or whether it is a public client ("" when none of them).
func tokenPathChange(before, after *gatehouse.Application) string {
	switch {
	case !slices.Equal(before.WebRedirectURIs, after.WebRedirectURIs) ||
		!slices.Equal(before.SPARedirectURIs, after.SPARedirectURIs) ||
		!slices.Equal(before.PublicClientRedirectURIs, after.PublicClientRedirectURIs):
		return "the redirect URIs"
	case !slices.Equal(before.PostLogoutRedirectURIs, after.PostLogoutRedirectURIs):
		return "the post-logout redirect URIs"
	case before.IsFallbackPublicClient != after.IsFallbackPublicClient:
		return "the public client setting"
	}
	return ""
}

func (in *applicationInput) apply(a *gatehouse.Application) {
	if in.DisplayName != nil {
		a.DisplayName = *in.DisplayName
	}
	if in.IsFallbackPublicClient != nil {
		a.IsFallbackPublicClient = *in.IsFallbackPublicClient
	}
	if in.Web != nil && in.Web.RedirectURIs != nil {
		a.WebRedirectURIs = in.Web.RedirectURIs
	}
	if in.SPA != nil && in.SPA.RedirectURIs != nil {
		a.SPARedirectURIs = in.SPA.RedirectURIs
	}
	if in.PublicClient != nil && in.PublicClient.RedirectURIs != nil {
		a.PublicClientRedirectURIs = in.PublicClient.RedirectURIs
	}
	if in.RequiredResourceAccess != nil {
		a.AdminAPIDelegated = in.delegated
	}
	if g := in.Gatehouse; g != nil {
		if g.PostLogoutRedirectURIs != nil {
			a.PostLogoutRedirectURIs = g.PostLogoutRedirectURIs
		}
		if g.RequirePKCE != nil {
			a.RequirePKCE = *g.RequirePKCE
		}
		if g.IDTokenSigningAlg != nil {
			a.IDTokenSigningAlg = *g.IDTokenSigningAlg
		}
		if g.AccessTokenSigningAlg != nil {
			a.AccessTokenSigningAlg = *g.AccessTokenSigningAlg
		}
	}
}

func (s *server) handleApplicationList() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		opt, err := s.listQuery(r, "appId", "displayName")
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		apps, next, err := s.Store.ListApplications(r.Context(), tenantFrom(r.Context()).ID, opt)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		out := make([]graphApplication, 0, len(apps))
		for _, a := range apps {
			out = append(out, toGraphApplication(a))
		}
		s.writeCollection(w, r, "applications", out, next)
	})
}

func (s *server) handleApplicationGet() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := s.Store.Application(r.Context(), tenantFrom(r.Context()).ID, r.PathValue("id"))
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		s.writeEntity(w, r, "applications", toGraphApplication(a))
	})
}

func (s *server) handleApplicationCreate() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := tenantFrom(r.Context())
		var in applicationInput
		_, err := decode(w, r, &in)
		if err == nil {
			err = in.check()
		}
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		a := &gatehouse.Application{TenantID: t.ID, AppID: newUUID()}
		in.apply(a)
		noteDelegation(false, a, s.Now())
		err = a.Validate()
		if err == nil {
			err = checkConsent(principalFrom(r.Context()), false, a.AdminAPIDelegated)
		}
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		err = s.Store.Update(r.Context(), func(tx gatehouse.Tx) error {
			if err := tx.CreateApplication(r.Context(), a); err != nil {
				return err
			}
			if err := s.ensureSigningKeys(r, tx, a.IDTokenSigningAlg, a.AccessTokenSigningAlg); err != nil {
				return err
			}
			return s.audit(r, tx, change{category: "ApplicationManagement", activity: "Add application", operation: "Add",
				targetType: "Application", targetID: a.ID, name: a.DisplayName, after: toGraphApplication(a)})
		})
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		w.Header().Set("Location", gatehouse.AdminAPIURL(s.PublicURL, t.Name)+"/applications/"+a.ID)
		encode(w, http.StatusCreated, toGraphApplication(a))
	})
}

func (s *server) handleApplicationUpdate() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := tenantFrom(r.Context())
		var in applicationInput
		_, err := decode(w, r, &in)
		if err == nil {
			err = in.check()
		}
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		err = s.Store.Update(r.Context(), func(tx gatehouse.Tx) error {
			// before is the row the updater locked, not an earlier read
			// that another transaction may have overtaken.
			var before *gatehouse.Application
			after, err := tx.UpdateApplication(r.Context(), t.ID, r.PathValue("id"), func(a *gatehouse.Application) error {
				before = a.Clone()
				in.apply(a)
				noteDelegation(before.AdminAPIDelegated, a, s.Now())
				if err := a.Validate(); err != nil {
					return err
				}
				if err := checkBuiltInApp(before, a); err != nil {
					return err
				}
				p := principalFrom(r.Context())
				if err := checkConsent(p, before.AdminAPIDelegated, a.AdminAPIDelegated); err != nil {
					return err
				}
				if what := tokenPathChange(before, a); what != "" {
					if err := checkPrivilegedApp(p, before, "change "+what+" of"); err != nil {
						return err
					}
				}
				if unchanged(toGraphApplication(before), toGraphApplication(a)) {
					return errUnchanged
				}
				return nil
			})
			if err != nil {
				return err
			}
			if err := s.ensureSigningKeys(r, tx, after.IDTokenSigningAlg, after.AccessTokenSigningAlg); err != nil {
				return err
			}
			return s.audit(r, tx, change{category: "ApplicationManagement", activity: "Update application", operation: "Update",
				targetType: "Application", targetID: after.ID, name: after.DisplayName,
				before: toGraphApplication(before), after: toGraphApplication(after)})
		})
		if err := noChange(err); err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func (s *server) handleApplicationDelete() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := tenantFrom(r.Context())
		err := s.Store.Update(r.Context(), func(tx gatehouse.Tx) error {
			a, err := tx.Application(r.Context(), t.ID, r.PathValue("id"))
			if err != nil {
				return err
			}
			p := principalFrom(r.Context())
			if p.App != nil && p.App.ID == a.ID {
				return gatehouse.Errorf(gatehouse.ECONFLICT, "An application cannot delete itself; use another client or an administrator.")
			}
			if a.AppID == gatehouse.AdminPortalAppID {
				return gatehouse.Errorf(gatehouse.EFORBIDDEN, "The admin portal is built into every tenant and cannot be deleted.")
			}
			if err := checkPrivilegedApp(p, a, "delete"); err != nil {
				return err
			}
			if err := tx.DeleteApplication(r.Context(), t.ID, a.ID); err != nil {
				return err
			}
			return s.audit(r, tx, change{category: "ApplicationManagement", activity: "Delete application", operation: "Delete",
				targetType: "Application", targetID: a.ID, name: a.DisplayName, before: toGraphApplication(a)})
		})
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// maxSecretsPerApp bounds an application's client secrets.
const maxSecretsPerApp = 16

// defaultSecretLifetime is how long a client secret lives when the caller
// gives no endDateTime (as in Entra: two years).
const defaultSecretLifetime = 2 * 365 * 24 * time.Hour

type addPasswordInput struct {
	PasswordCredential *struct {
		DisplayName   *string `json:"displayName"`
		StartDateTime *string `json:"startDateTime"`
		EndDateTime   *string `json:"endDateTime"`
	} `json:"passwordCredential"`
}

// handleApplicationAddPassword creates a client secret and returns it once,
// in secretText. Only its keyed hash is stored.
func (s *server) handleApplicationAddPassword() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := tenantFrom(r.Context())
		var in addPasswordInput
		body, err := readBody(w, r)
		if err == nil && len(body) > 0 {
			_, err = decodeBytes(body, &in)
		}
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		now := s.Now().UTC()
		cred := gatehouse.PasswordCredential{KeyID: newUUID(), Start: now, End: now.Add(defaultSecretLifetime)}
		if pc := in.PasswordCredential; pc != nil {
			if pc.DisplayName != nil {
				if err := gatehouse.ValidateText("passwordCredential.displayName", *pc.DisplayName, 256); err != nil {
					s.writeAPIError(w, r, err)
					return
				}
				cred.DisplayName = *pc.DisplayName
			}
			if cred.Start, err = parseGraphTime("passwordCredential.startDateTime", pc.StartDateTime, cred.Start); err == nil {
				cred.End, err = parseGraphTime("passwordCredential.endDateTime", pc.EndDateTime, cred.Start.Add(defaultSecretLifetime))
			}
			if err == nil && !cred.End.After(cred.Start) {
				err = gatehouse.FieldErrorf("passwordCredential.endDateTime", "endDateTime must be after startDateTime.")
			}
			if err == nil && !cred.End.After(now) {
				err = gatehouse.FieldErrorf("passwordCredential.endDateTime", "endDateTime %s is in the past.", graphTime(cred.End))
			}
			if err != nil {
				s.writeAPIError(w, r, err)
				return
			}
		}
		secret, hint, err := oidc.NewClientSecret()
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		cred.Hint, cred.Hash = hint, oidc.HashClientSecret(s.Vault, secret)
		err = s.Store.Update(r.Context(), func(tx gatehouse.Tx) error {
			a, err := tx.UpdateApplication(r.Context(), t.ID, r.PathValue("id"), func(a *gatehouse.Application) error {
				if err := checkPrivilegedApp(principalFrom(r.Context()), a, "change the client secrets of"); err != nil {
					return err
				}
				if len(a.PasswordCredentials) >= maxSecretsPerApp {
					return gatehouse.Errorf(gatehouse.EINVALID, "The application already has %d client secrets, the limit; remove one first.", maxSecretsPerApp)
				}
				a.PasswordCredentials = append(a.PasswordCredentials, cred)
				return nil
			})
			if err != nil {
				return err
			}
			return s.audit(r, tx, change{category: "ApplicationManagement", activity: "Add client secret", operation: "Update",
				targetType: "Application", targetID: a.ID, name: a.DisplayName, after: toGraphPasswordCredential(cred)})
		})
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		out := toGraphPasswordCredential(cred)
		out.SecretText = &secret
		encode(w, http.StatusOK, out)
	})
}

type removePasswordInput struct {
	KeyID *string `json:"keyId"`
}

func (s *server) handleApplicationRemovePassword() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := tenantFrom(r.Context())
		var in removePasswordInput
		if _, err := decode(w, r, &in); err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		if in.KeyID == nil || *in.KeyID == "" {
			s.writeAPIError(w, r, gatehouse.FieldErrorf("keyId", "keyId is required."))
			return
		}
		err := s.Store.Update(r.Context(), func(tx gatehouse.Tx) error {
			var removed gatehouse.PasswordCredential
			a, err := tx.UpdateApplication(r.Context(), t.ID, r.PathValue("id"), func(a *gatehouse.Application) error {
				if err := checkPrivilegedApp(principalFrom(r.Context()), a, "change the client secrets of"); err != nil {
					return err
				}
				for i, c := range a.PasswordCredentials {
					if c.KeyID == *in.KeyID {
						removed = c
						a.PasswordCredentials = append(a.PasswordCredentials[:i:i], a.PasswordCredentials[i+1:]...)
						return nil
					}
				}
				return &gatehouse.Error{Code: gatehouse.ENOTFOUND, Field: "keyId", Message: "The application has no client secret with keyId " + quote(*in.KeyID) + "."}
			})
			if err != nil {
				return err
			}
			return s.audit(r, tx, change{category: "ApplicationManagement", activity: "Remove client secret", operation: "Update",
				targetType: "Application", targetID: a.ID, name: a.DisplayName, before: toGraphPasswordCredential(removed)})
		})
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// parseGraphTime parses an optional RFC 3339 time property.
func parseGraphTime(field string, v *string, def time.Time) (time.Time, error) {
	if v == nil || *v == "" {
		return def, nil
	}
	t, err := time.Parse(time.RFC3339, *v)
	if err != nil {
		return time.Time{}, gatehouse.FieldErrorf(field, "%s %q is not an RFC 3339 date and time (e.g. 2030-01-31T00:00:00Z).", field, *v)
	}
	return t.UTC(), nil
}

// newUUID returns a random (version 4) UUID.
func newUUID() string { return uuid.NewString() }
