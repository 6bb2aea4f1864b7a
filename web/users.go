package web

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/password"
)

// graphTime formats t as Graph does (UTC, RFC 3339); the zero time is "".
func graphTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// graphUser is Graph's user resource, as far as Gatehouse keeps it.
type graphUser struct {
	ID                string          `json:"id"`
	DisplayName       string          `json:"displayName"`
	GivenName         string          `json:"givenName"`
	Surname           string          `json:"surname"`
	Mail              string          `json:"mail"`
	UserPrincipalName string          `json:"userPrincipalName"`
	AccountEnabled    bool            `json:"accountEnabled"`
	City              string          `json:"city"`
	Country           string          `json:"country"`
	PostalCode        string          `json:"postalCode"`
	State             string          `json:"state"`
	StreetAddress     string          `json:"streetAddress"`
	JobTitle          string          `json:"jobTitle"`
	Identities        []graphIdentity `json:"identities"`
	CreatedDateTime   string          `json:"createdDateTime"`
	// LastPasswordChangeDateTime is null for a user without a password.
	LastPasswordChangeDateTime *string `json:"lastPasswordChangeDateTime"`
}

type graphIdentity struct {
	SignInType       string `json:"signInType"`
	Issuer           string `json:"issuer"`
	IssuerAssignedID string `json:"issuerAssignedId"`
}

func (s *server) toGraphUser(t *gatehouse.Tenant, u *gatehouse.User) graphUser {
	return graphUser{
		ID: u.ID, DisplayName: u.DisplayName, GivenName: u.GivenName, Surname: u.Surname,
		Mail: u.Mail, UserPrincipalName: u.Mail, AccountEnabled: u.AccountEnabled,
		City: u.City, Country: u.Country, PostalCode: u.PostalCode, State: u.State,
		StreetAddress: u.StreetAddress, JobTitle: u.JobTitle,
		Identities:                 []graphIdentity{{SignInType: "emailAddress", Issuer: t.Name, IssuerAssignedID: u.Mail}},
		CreatedDateTime:            graphTime(u.CreatedAt),
		LastPasswordChangeDateTime: optionalGraphTime(u.PasswordChangedAt),
	}
}

// optionalGraphTime is graphTime, or nil (null) for the zero time.
func optionalGraphTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	v := graphTime(t)
	return &v
}

// userInput is what POST and PATCH /users accept.
type userInput struct {
	DisplayName     *string          `json:"displayName" null:"refuse"`
	GivenName       *string          `json:"givenName"`
	Surname         *string          `json:"surname"`
	Mail            *string          `json:"mail" null:"refuse"`
	AccountEnabled  *bool            `json:"accountEnabled"`
	City            *string          `json:"city"`
	Country         *string          `json:"country"`
	PostalCode      *string          `json:"postalCode"`
	State           *string          `json:"state"`
	StreetAddress   *string          `json:"streetAddress"`
	JobTitle        *string          `json:"jobTitle"`
	Identities      []graphIdentity  `json:"identities" null:"refuse"`
	PasswordProfile *passwordProfile `json:"passwordProfile"`
}

type passwordProfile struct {
	Password                      *string `json:"password" null:"refuse"`
	ForceChangePasswordNextSignIn *bool   `json:"forceChangePasswordNextSignIn"`
}

// apply copies the sent properties onto u (decode turns a null into "",
// which clears a property).
func (in *userInput) apply(u *gatehouse.User) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&u.DisplayName, in.DisplayName)
	set(&u.GivenName, in.GivenName)
	set(&u.Surname, in.Surname)
	set(&u.City, in.City)
	set(&u.Country, in.Country)
	set(&u.PostalCode, in.PostalCode)
	set(&u.State, in.State)
	set(&u.StreetAddress, in.StreetAddress)
	set(&u.JobTitle, in.JobTitle)
	set(&u.Mail, in.Mail)
	if in.AccountEnabled != nil {
		u.AccountEnabled = *in.AccountEnabled
	}
}

// checkDisplayName applies Graph's rule for a user's displayName: POST
// must send one, and PATCH may change it but not blank it. A user who
// signed up through a flow that does not ask for a name has none until an
// administrator sets one.
func (in *userInput) checkDisplayName(create bool) error {
	switch {
	case in.DisplayName == nil && create:
		return gatehouse.FieldErrorf("displayName", "displayName is required: the name shown for the user, as Microsoft Graph requires when a user is created.")
	case in.DisplayName != nil && strings.TrimSpace(*in.DisplayName) == "":
		return gatehouse.FieldErrorf("displayName", "displayName must not be empty.")
	}
	return nil
}

// signInMail reconciles mail and identities: Graph clients for external
// tenants send an emailAddress identity, others send mail; both must agree.
func (in *userInput) signInMail(tenant string) (*string, error) {
	var fromIdentity *string
	for i, id := range in.Identities {
		if id.SignInType != "emailAddress" {
			return nil, gatehouse.FieldErrorf("identities", "identities[%d].signInType %q is not supported; Gatehouse users sign in with emailAddress.", i, id.SignInType)
		}
		if id.Issuer != "" && id.Issuer != tenant {
			return nil, gatehouse.FieldErrorf("identities", "identities[%d].issuer %q must be the tenant name %q.", i, id.Issuer, tenant)
		}
		if fromIdentity != nil {
			return nil, gatehouse.FieldErrorf("identities", "Only one emailAddress identity is supported.")
		}
		v := id.IssuerAssignedID
		fromIdentity = &v
	}
	switch {
	case fromIdentity == nil:
		return in.Mail, nil
	case in.Mail != nil && gatehouse.NormalizeMail(*in.Mail) != gatehouse.NormalizeMail(*fromIdentity):
		return nil, gatehouse.FieldErrorf("identities", "identities[0].issuerAssignedId %q differs from mail %q; they must be the same address.", *fromIdentity, *in.Mail)
	}
	return fromIdentity, nil
}

// canonicalMail sets in.Mail to the address mail and identities agree on
// (signInMail), as gatehouse.CanonicalMail writes it.
func (in *userInput) canonicalMail(tenant string) error {
	mail, err := in.signInMail(tenant)
	if err != nil || mail == nil {
		in.Mail = mail
		return err
	}
	c, err := gatehouse.CanonicalMail("mail", *mail)
	if err != nil {
		return err
	}
	in.Mail = &c
	return nil
}

// checkPassword applies the password policy to the password of a
// passwordProfile, without hashing it.
func (s *server) checkPassword(pp *passwordProfile) error {
	if pp == nil {
		return nil
	}
	if pp.ForceChangePasswordNextSignIn != nil && *pp.ForceChangePasswordNextSignIn {
		return gatehouse.FieldErrorf("passwordProfile.forceChangePasswordNextSignIn", "forceChangePasswordNextSignIn is not supported: customers choose their own password at sign-up or by reset.")
	}
	if pp.Password == nil {
		return nil
	}
	if len(*pp.Password) > password.MaxInputBytes {
		return &gatehouse.Error{Code: gatehouse.EINVALID, Field: "passwordProfile.password", Reason: "passwordTooLong", Message: "The password is longer than 1024 bytes."}
	}
	if err := s.passwordPolicy().Check(*pp.Password); err != nil {
		if e, ok := err.(*gatehouse.Error); ok {
			e.Field = "passwordProfile.password"
		}
		return err
	}
	return nil
}

// hashPassword hashes the password of a passwordProfile checkPassword
// accepted ("" when none was sent). Hashing uses the bounded pool (PW-12),
// so handlers call it last, once everything else that could refuse the
// request has been checked: a mistake must not use up the pool.
func (s *server) hashPassword(r *http.Request, pp *passwordProfile) (string, error) {
	if pp == nil || pp.Password == nil {
		return "", nil
	}
	return s.Passwords.Hash(r.Context(), *pp.Password)
}

// checkMailFree returns ECONFLICT, naming mail, if another user than id
// has the address; the store checks again when it writes.
func (s *server) checkMailFree(r *http.Request, tenantID, id, mail string) error {
	users, _, err := s.Store.ListUsers(r.Context(), tenantID, gatehouse.ListOptions{Top: 1, Filter: map[string]string{"mail": mail}})
	if err != nil {
		return err
	}
	if len(users) > 0 && users[0].ID != id {
		return &gatehouse.Error{Code: gatehouse.ECONFLICT, Field: "mail", Message: fmt.Sprintf("A user with mail %q already exists.", mail)}
	}
	return nil
}

func (s *server) handleUserList() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := tenantFrom(r.Context())
		opt, err := s.listQuery(r, "mail", "displayName")
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		users, next, err := s.Store.ListUsers(r.Context(), t.ID, opt)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		out := make([]graphUser, 0, len(users))
		for _, u := range users {
			out = append(out, s.toGraphUser(t, u))
		}
		s.writeCollection(w, r, "users", out, next)
	})
}

func (s *server) handleUserGet() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := tenantFrom(r.Context())
		u, err := s.Store.User(r.Context(), t.ID, r.PathValue("id"))
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		s.writeEntity(w, r, "users", s.toGraphUser(t, u))
	})
}

func (s *server) handleUserCreate() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := tenantFrom(r.Context())
		var in userInput
		if _, err := decode(w, r, &in); err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		if err := in.checkDisplayName(true); err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		if err := in.canonicalMail(t.Name); err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		u := &gatehouse.User{TenantID: t.ID, AccountEnabled: true}
		in.apply(u)
		err := u.Validate()
		if err == nil {
			err = s.checkPassword(in.PasswordProfile)
		}
		if err == nil {
			err = s.checkMailFree(r, t.ID, "", u.Mail)
		}
		if err == nil {
			u.PasswordHash, err = s.hashPassword(r, in.PasswordProfile)
		}
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		err = s.Store.Update(r.Context(), func(tx gatehouse.Tx) error {
			if err := tx.CreateUser(r.Context(), u); err != nil {
				return err
			}
			return s.audit(r, tx, change{category: "UserManagement", activity: "Add user", operation: "Add",
				targetType: "User", targetID: u.ID, name: u.Mail, after: s.toGraphUser(t, u)})
		})
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		w.Header().Set("Location", gatehouse.AdminAPIURL(s.PublicURL, t.Name)+"/users/"+u.ID)
		encode(w, http.StatusCreated, s.toGraphUser(t, u))
	})
}

// guardPrivileged refuses changes to a user who holds a directory role or
// is a member of a protected group (protectedGroup) unless the caller is a
// Global Administrator (as in Entra, a User Administrator cannot take over
// an administrator's account, nor a member of a role-assignable group).
func (s *server) guardPrivileged(r *http.Request, tx gatehouse.Reader, u *gatehouse.User) error {
	if principalFrom(r.Context()).isGlobalAdmin() {
		return nil
	}
	roles, err := userRoles(r.Context(), tx, u.TenantID, u.ID)
	if err != nil {
		return err
	}
	if len(roles) > 0 {
		return gatehouse.Errorf(gatehouse.EFORBIDDEN, "Insufficient privileges: %s holds an administrator role, and only a Global Administrator can change or delete such a user.", u.Mail)
	}
	groups, err := tx.UserGroupIDs(r.Context(), u.TenantID, u.ID)
	if err != nil {
		return err
	}
	for _, id := range groups {
		g, err := tx.Group(r.Context(), u.TenantID, id)
		if err != nil {
			return err
		}
		why, err := protectedGroup(r.Context(), tx, g)
		if err != nil {
			return err
		}
		if why != "" {
			return gatehouse.Errorf(gatehouse.EFORBIDDEN, "Insufficient privileges: %s is a member of the group %q, which is protected (%s), and only a Global Administrator can change or delete such a user. %s",
				u.Mail, g.DisplayName, why, rolesWrite.requirement())
		}
	}
	return nil
}

func (s *server) handleUserUpdate() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := tenantFrom(r.Context())
		var in userInput
		if _, err := decode(w, r, &in); err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		if err := in.canonicalMail(t.Name); err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		if err := s.checkUserUpdate(r, &in); err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		hash, err := s.hashPassword(r, in.PasswordProfile)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		var updated *gatehouse.User
		err = s.Store.Update(r.Context(), func(tx gatehouse.Tx) error {
			var before *gatehouse.User // the row the updater locked
			updated, err = tx.UpdateUser(r.Context(), t.ID, r.PathValue("id"), func(u *gatehouse.User) error {
				before = u.Clone()
				if err := s.guardPrivileged(r, tx, u); err != nil {
					return err
				}
				in.apply(u)
				if err := u.Validate(); err != nil {
					return err
				}
				if hash == "" && unchanged(s.toGraphUser(t, before), s.toGraphUser(t, u)) {
					return errUnchanged
				}
				if hash != "" {
					u.PasswordHash, u.PasswordChangedAt = hash, s.Now()
				}
				return nil
			})
			if err != nil {
				return err
			}
			if hash != "" { // a new password starts the address afresh (RL-2)
				for _, m := range []string{before.Mail, updated.Mail} {
					if err := tx.ClearStrikes(r.Context(), t.ID, signInStrikeKey(gatehouse.NormalizeMail(m))); err != nil {
						return err
					}
				}
			}
			if before.AccountEnabled && !updated.AccountEnabled {
				if err := s.guardLastGlobalAdmin(r, tx, updated.ID, ""); err != nil {
					return err
				}
				// A disabled user's sessions and refresh tokens end now (SE-6).
				if err := s.endSignIns(r, tx, updated); err != nil {
					return err
				}
			}
			c := change{category: "UserManagement", activity: "Update user", operation: "Update",
				targetType: "User", targetID: updated.ID, name: updated.Mail,
				before: s.toGraphUser(t, before), after: s.toGraphUser(t, updated)}
			if err := s.audit(r, tx, c); err != nil {
				return err
			}
			if hash != "" {
				return s.audit(r, tx, change{category: "UserManagement", activity: "Reset user password", operation: "Update",
					targetType: "User", targetID: updated.ID, name: updated.Mail})
			}
			return nil
		})
		if err := noChange(err); err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// checkUserUpdate runs, outside a transaction, every check of a user
// PATCH that could refuse it, so that the password is hashed only for a
// request that will succeed: the user exists, the caller may change it,
// the result is valid, its mail is free and the change does not disable
// the last Global Administrator. The transaction checks all of it again.
func (s *server) checkUserUpdate(r *http.Request, in *userInput) error {
	if err := in.checkDisplayName(false); err != nil {
		return err
	}
	if err := s.checkPassword(in.PasswordProfile); err != nil {
		return err
	}
	t := tenantFrom(r.Context())
	before, err := s.Store.User(r.Context(), t.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := s.guardPrivileged(r, s.Store, before); err != nil {
		return err
	}
	after := *before
	in.apply(&after)
	if err := after.Validate(); err != nil {
		return err
	}
	if gatehouse.NormalizeMail(after.Mail) != gatehouse.NormalizeMail(before.Mail) {
		if err := s.checkMailFree(r, t.ID, before.ID, after.Mail); err != nil {
			return err
		}
	}
	if before.AccountEnabled && !after.AccountEnabled {
		return s.guardLastGlobalAdmin(r, s.Store, before.ID, "")
	}
	return nil
}

func (s *server) handleUserDelete() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := tenantFrom(r.Context())
		err := s.Store.Update(r.Context(), func(tx gatehouse.Tx) error {
			u, err := tx.User(r.Context(), t.ID, r.PathValue("id"))
			if err != nil {
				return err
			}
			if err := s.guardPrivileged(r, tx, u); err != nil {
				return err
			}
			if err := s.guardLastGlobalAdmin(r, tx, u.ID, ""); err != nil {
				return err
			}
			if err := tx.DeleteUser(r.Context(), t.ID, u.ID); err != nil {
				return err
			}
			return s.audit(r, tx, change{category: "UserManagement", activity: "Delete user", operation: "Delete",
				targetType: "User", targetID: u.ID, name: u.Mail, before: s.toGraphUser(t, u)})
		})
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// handleUserMemberOf lists the groups a user is a direct member of.
func (s *server) handleUserMemberOf() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := tenantFrom(r.Context())
		opt, err := s.listQuery(r)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		u, err := s.Store.User(r.Context(), t.ID, r.PathValue("id"))
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		all, err := s.Store.UserGroupIDs(r.Context(), t.ID, u.ID)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		ids, next, err := page(all, func(id string) string { return id }, opt)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		out := make([]graphGroup, 0, len(ids))
		for _, id := range ids {
			g, err := s.Store.Group(r.Context(), t.ID, id)
			if err != nil {
				s.writeAPIError(w, r, err)
				return
			}
			out = append(out, toGraphGroup(g))
		}
		s.writeCollection(w, r, "directoryObjects", out, next)
	})
}

// endSignIns ends every browser session of the user and revokes every
// grant, and so every refresh token, issued to the user's sign-ins (SE-6).
func (s *server) endSignIns(r *http.Request, tx gatehouse.Tx, u *gatehouse.User) error {
	if err := tx.DeleteUserSessions(r.Context(), u.TenantID, u.ID); err != nil {
		return err
	}
	return tx.RevokeUserGrants(r.Context(), u.TenantID, u.ID, s.Now())
}

// handleUserRevokeSignInSessions is Graph's revokeSignInSessions: it ends
// the user's sessions and refresh tokens, so that the user must sign in
// again everywhere.
func (s *server) handleUserRevokeSignInSessions() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := tenantFrom(r.Context())
		err := s.Store.Update(r.Context(), func(tx gatehouse.Tx) error {
			u, err := tx.User(r.Context(), t.ID, r.PathValue("id"))
			if err != nil {
				return err
			}
			if err := s.guardPrivileged(r, tx, u); err != nil {
				return err
			}
			if err := s.endSignIns(r, tx, u); err != nil {
				return err
			}
			return s.audit(r, tx, change{category: "UserManagement", activity: "Revoke user sign-in sessions", operation: "Update",
				targetType: "User", targetID: u.ID, name: u.Mail})
		})
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		encode(w, http.StatusOK, map[string]any{"@odata.context": gatehouse.AdminAPIURL(s.PublicURL, t.Name) + "/$metadata#Edm.Boolean", "value": true})
	})
}
