package web

import (
	"context"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/notify"
)

// A user's authentication methods in Graph's shape:
// /users/{id}/authentication/methods (every kind) and the collections of
// each kind. Administrators see them and remove the registered ones, so
// that a user who lost their phone can be helped. The password and the
// email method (the sign-in address) are shown, not removed here.

// Graph's fixed IDs of the password and email methods, and of the mobile
// phone (Gatehouse keeps one phone per user, Graph's "mobile" one).
const (
	passwordMethodID = "28c10230-6103-485e-b985-444c60001490"
	emailMethodID    = "3ddfcfc8-9383-446f-83cc-3ab9be4be18f"
	mobilePhoneID    = "3179e48a-750b-4051-897c-87b9720928f7"
)

// graphAuthMethod is any of Graph's authenticationMethod types; the
// properties of one kind only are pointers, set for that kind.
type graphAuthMethod struct {
	ODataType       string  `json:"@odata.type"`
	ID              string  `json:"id"`
	CreatedDateTime *string `json:"createdDateTime"`
	// password: always null, as in Graph.
	Password *jsonNull `json:"password,omitempty"`
	// email
	EmailAddress *string `json:"emailAddress,omitempty"`
	// phone
	PhoneNumber    *string `json:"phoneNumber,omitempty"`
	PhoneType      *string `json:"phoneType,omitempty"`
	SMSSignInState *string `json:"smsSignInState,omitempty"`
	// softwareOath: secretKey is always null, as in Graph.
	SecretKey *jsonNull `json:"secretKey,omitempty"`
	// fido2
	DisplayName             *string   `json:"displayName,omitempty"`
	AAGUID                  *string   `json:"aaGuid,omitempty"`
	Model                   *string   `json:"model,omitempty"`
	AttestationLevel        *string   `json:"attestationLevel,omitempty"`
	AttestationCertificates *[]string `json:"attestationCertificates,omitempty"`
	// recoveryCode (Gatehouse): how many of the set's codes are unused.
	RemainingCodes *int `json:"remainingCodes,omitempty"`
}

// jsonNull is a property that is present and always null.
type jsonNull struct{}

func (jsonNull) MarshalJSON() ([]byte, error) { return []byte("null"), nil }

// methodKinds are the per-kind collections, with the method each holds
// and the @odata.type of its items.
var methodKinds = map[string]struct {
	method, odataType string
}{
	"passwordMethods":     {gatehouse.MethodPassword, "#microsoft.graph.passwordAuthenticationMethod"},
	"emailMethods":        {gatehouse.MethodEmail, "#microsoft.graph.emailAuthenticationMethod"},
	"phoneMethods":        {gatehouse.MethodSMS, "#microsoft.graph.phoneAuthenticationMethod"},
	"softwareOathMethods": {gatehouse.MethodSoftwareOath, "#microsoft.graph.softwareOathAuthenticationMethod"},
	"fido2Methods":        {gatehouse.MethodFido2, "#microsoft.graph.fido2AuthenticationMethod"},
	"recoveryCodeMethods": {gatehouse.MethodRecoveryCode, "#gatehouse.recoveryCodeAuthenticationMethod"},
}

// kindOf returns the collection name of a method.
func kindOf(method string) string {
	for k, v := range methodKinds {
		if v.method == method {
			return k
		}
	}
	return ""
}

// graphMethodsOf returns all of the user's methods, in the order Graph
// lists them: the password, the email address, then the registered ones.
func graphMethodsOf(u *gatehouse.User, registered []*gatehouse.UserMethod) []graphAuthMethod {
	var out []graphAuthMethod
	if u.PasswordHash != "" {
		out = append(out, graphAuthMethod{ODataType: methodKinds["passwordMethods"].odataType, ID: passwordMethodID, Password: &jsonNull{}})
	}
	mail := u.Mail
	out = append(out, graphAuthMethod{ODataType: methodKinds["emailMethods"].odataType, ID: emailMethodID, EmailAddress: &mail})
	for _, m := range registered {
		out = append(out, toGraphAuthMethod(m))
	}
	return out
}

// toGraphAuthMethod shows one registered method. Secrets never appear:
// an authenticator app's secretKey is always null, as in Graph.
func toGraphAuthMethod(m *gatehouse.UserMethod) graphAuthMethod {
	created := graphTime(m.CreatedAt)
	g := graphAuthMethod{ODataType: methodKinds[kindOf(m.Method)].odataType, ID: m.ID, CreatedDateTime: &created}
	switch m.Method {
	case gatehouse.MethodSMS:
		num, typ, state := m.Phone, "mobile", "notSupported"
		g.ID, g.PhoneNumber, g.PhoneType, g.SMSSignInState = mobilePhoneID, &num, &typ, &state
	case gatehouse.MethodSoftwareOath:
		g.SecretKey = &jsonNull{}
	case gatehouse.MethodFido2:
		name, level, certs := m.DisplayName, "notAttested", []string{}
		g.DisplayName, g.AttestationLevel, g.AttestationCertificates = &name, &level, &certs
		if m.Passkey != nil && len(m.Passkey.AAGUID) == 16 {
			a := formatAAGUID(m.Passkey.AAGUID)
			g.AAGUID = &a
		}
	case gatehouse.MethodRecoveryCode:
		n := m.RemainingRecoveryCodes()
		g.RemainingCodes = &n
	}
	return g
}

// formatAAGUID writes a 16-byte AAGUID as a GUID.
func formatAAGUID(b []byte) string {
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// methodGraphID is the ID a registered method has in Graph's shape.
func methodGraphID(m *gatehouse.UserMethod) string {
	if m.Method == gatehouse.MethodSMS {
		return mobilePhoneID
	}
	return m.ID
}

// userMethodsAllowed refuses an unprivileged Authentication Administrator
// the methods of a user who holds a directory role, as Entra does: those
// are the Privileged Authentication Administrator's (and the Global
// Administrator's).
func (s *server) userMethodsAllowed(ctx context.Context, rd gatehouse.Reader, p *principal, u *gatehouse.User) error {
	if p.App != nil || p.isGlobalAdmin() || p.hasRole(gatehouse.RolePrivilegedAuthenticationAdministrator) {
		return nil
	}
	roles, err := userRoles(ctx, rd, u.TenantID, u.ID)
	if err != nil {
		return err
	}
	if len(roles) > 0 {
		return gatehouse.Errorf(gatehouse.EFORBIDDEN, "Insufficient privileges: %s holds a directory role, so only a Privileged Authentication Administrator or a Global Administrator may see or change their authentication methods.", u.Mail)
	}
	return nil
}

// methodsUser loads the user of the path and checks that the principal
// may see their methods.
func (s *server) methodsUser(r *http.Request) (*gatehouse.User, []*gatehouse.UserMethod, error) {
	ctx, t := r.Context(), tenantFrom(r.Context())
	u, err := s.Store.User(ctx, t.ID, r.PathValue("id"))
	if err != nil {
		return nil, nil, err
	}
	if err := s.userMethodsAllowed(ctx, s.Store, principalFrom(ctx), u); err != nil {
		return nil, nil, err
	}
	ms, err := s.Store.UserMethods(ctx, t.ID, u.ID)
	return u, ms, err
}

// handleUserMethodList lists all of a user's methods (kind ""), or those
// of one kind's collection.
func (s *server) handleUserMethodList(kind string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		opt, err := s.listQuery(r)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		u, ms, err := s.methodsUser(r)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		all := graphMethodsOf(u, ms)
		if kind != "" {
			some := []graphAuthMethod{}
			for _, m := range all {
				if m.ODataType == methodKinds[kind].odataType {
					some = append(some, m)
				}
			}
			all = some
		}
		out, next, err := page(all, func(m graphAuthMethod) string { return m.ID }, opt)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		set := "users('" + u.ID + "')/authentication/methods"
		if kind != "" {
			set = "users('" + u.ID + "')/authentication/" + kind
		}
		s.writeCollection(w, r, set, out, next)
	})
}

// handleUserMethodGet shows one method, from all of a user's methods
// (kind "") or from one kind's collection.
func (s *server) handleUserMethodGet(kind string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, ms, err := s.methodsUser(r)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		id := r.PathValue("method")
		for _, m := range graphMethodsOf(u, ms) {
			if strings.EqualFold(m.ID, id) && (kind == "" || m.ODataType == methodKinds[kind].odataType) {
				set := "users('" + u.ID + "')/authentication/methods"
				if kind != "" {
					set = "users('" + u.ID + "')/authentication/" + kind
				}
				s.writeEntity(w, r, set, m)
				return
			}
		}
		s.writeAPIError(w, r, gatehouse.Errorf(gatehouse.ENOTFOUND, "The user has no authentication method %q here.", id))
	})
}

// handleUserMethodDelete removes one of a user's registered methods, at
// once (LC-2: sessions and refresh tokens stop counting it), audited
// (LC-3), and tells the user by email (RL-5).
func (s *server) handleUserMethodDelete(kind string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, t := r.Context(), tenantFrom(r.Context())
		id := r.PathValue("method")
		var (
			u       *gatehouse.User
			removed *gatehouse.UserMethod
		)
		err := s.Store.Update(ctx, func(tx gatehouse.Tx) error {
			var err error
			if u, err = tx.User(ctx, t.ID, r.PathValue("id")); err != nil {
				return err
			}
			if err := s.userMethodsAllowed(ctx, tx, principalFrom(ctx), u); err != nil {
				return err
			}
			ms, err := tx.UserMethods(ctx, t.ID, u.ID)
			if err != nil {
				return err
			}
			removed = nil
			for _, m := range ms {
				if m.Method == methodKinds[kind].method && strings.EqualFold(methodGraphID(m), id) {
					removed = m
					break
				}
			}
			if removed == nil {
				return gatehouse.Errorf(gatehouse.ENOTFOUND, "The user has no %s with id %q.", strings.TrimSuffix(kind, "s"), id)
			}
			if err := tx.DeleteUserMethod(ctx, t.ID, removed.ID); err != nil {
				return err
			}
			return s.audit(r, tx, change{category: "UserManagement", activity: "Admin deleted security info", operation: "Delete",
				targetType: "User", targetID: u.ID, name: u.Mail, before: map[string]string{"authenticationMethod": methodLabel(removed)}})
		})
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		s.notifyMethodChange(ctx, t, u, "removed", methodLabel(removed), "an administrator")
		w.WriteHeader(http.StatusNoContent)
	})
}

// handleUserMethodNotRemovable answers a DELETE of the password or email
// method: they are the account's sign-in, not security info.
func (s *server) handleUserMethodNotRemovable(kind string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		msg := "The email method is the user's sign-in address and cannot be removed; change the user's mail instead."
		if kind == "passwordMethods" {
			msg = "The password method cannot be removed; set a new password with PATCH /users/{id} (passwordProfile)."
		}
		s.writeAPIErrorStatus(w, r, http.StatusBadRequest, gatehouse.Errorf(gatehouse.EINVALID, "%s", msg))
	})
}

// methodLabel names a registered method for people and the audit log.
func methodLabel(m *gatehouse.UserMethod) string {
	switch m.Method {
	case gatehouse.MethodSoftwareOath:
		return "authenticator app"
	case gatehouse.MethodFido2:
		if m.DisplayName != "" {
			return "passkey (" + m.DisplayName + ")"
		}
		return "passkey"
	case gatehouse.MethodSMS:
		return "phone for text messages (" + maskPhone(m.Phone) + ")"
	case gatehouse.MethodRecoveryCode:
		return "recovery codes"
	}
	return m.Method
}

// maskPhone hides all but the last four digits of a number.
func maskPhone(e164 string) string {
	if len(e164) <= 4 {
		return "••••"
	}
	return "•••• " + e164[len(e164)-4:]
}

// notifyMethodChange tells the user by email that a method was added or
// removed (RL-5), by whom; a failed delivery is logged, not fatal.
func (s *server) notifyMethodChange(ctx context.Context, t *gatehouse.Tenant, u *gatehouse.User, what, label, by string) {
	if s.Mail == nil {
		return
	}
	name := tenantDisplayName(t)
	msg, err := s.composer.Notice(notify.TenantBranding(t), u.Mail, "Your "+name+" security info changed",
		"A "+label+" was "+what+" on your "+name+" account by "+by+".\n\n"+
			"If this was you, or someone you asked, there is nothing to do. If not, sign in and review your security info, and contact the site's administrator.")
	if err != nil {
		s.Logger.ErrorContext(ctx, "compose security info notice", "err", err)
		return
	}
	sendCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.MailTimeout)
	defer cancel()
	if err := s.Mail.Send(sendCtx, msg); err != nil {
		s.Logger.WarnContext(ctx, "security info notice not delivered", "tenant", t.Name, "user_id", u.ID, "err", err)
	}
}

// phoneMethodInput is what POST and PATCH of a user's phoneMethods accept
// (Graph's phoneAuthenticationMethod).
type phoneMethodInput struct {
	PhoneNumber *string `json:"phoneNumber" null:"refuse"`
	PhoneType   *string `json:"phoneType" null:"refuse"`
}

// check returns the E.164 number of the input; a PATCH (create false) may
// leave the number out.
func (in *phoneMethodInput) check(create bool) (string, error) {
	if in.PhoneType != nil && *in.PhoneType != "mobile" {
		return "", gatehouse.FieldErrorf("phoneType", "phoneType %q is not supported: Gatehouse keeps one phone per user, the mobile one (text messages).", *in.PhoneType)
	}
	if in.PhoneNumber == nil {
		if create {
			return "", gatehouse.FieldErrorf("phoneNumber", "phoneNumber is required, in international form such as +1 2065555555.")
		}
		return "", nil
	}
	return gatehouse.ParsePhone("phoneNumber", *in.PhoneNumber)
}

// handlePhoneMethodAdd lets an administrator add a user's phone for text
// messages (POST phoneMethods, as Graph has it), audited and notified like
// every registration; a user has at most one (409).
func (s *server) handlePhoneMethodAdd() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, t := r.Context(), tenantFrom(r.Context())
		var in phoneMethodInput
		if _, err := decode(w, r, &in); err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		number, err := in.check(true)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		var (
			u *gatehouse.User
			m = &gatehouse.UserMethod{TenantID: t.ID, Method: gatehouse.MethodSMS, DisplayName: "Mobile phone", Phone: number}
		)
		err = s.Store.Update(ctx, func(tx gatehouse.Tx) error {
			var err error
			if u, err = tx.User(ctx, t.ID, r.PathValue("id")); err != nil {
				return err
			}
			if err := s.userMethodsAllowed(ctx, tx, principalFrom(ctx), u); err != nil {
				return err
			}
			m.ID, m.UserID = "", u.ID
			if err := tx.CreateUserMethod(ctx, m); err != nil {
				return err
			}
			return s.audit(r, tx, change{category: "UserManagement", activity: "Admin registered security info", operation: "Add",
				targetType: "User", targetID: u.ID, name: u.Mail, after: map[string]string{"authenticationMethod": methodLabel(m)}})
		})
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		s.notifyMethodChange(ctx, t, u, "added", methodLabel(m), "an administrator")
		encode(w, http.StatusCreated, toGraphAuthMethod(m))
	})
}

// handlePhoneMethodUpdate changes the number of a user's phone (PATCH
// phoneMethods/{id}); the change is audited and the user told.
func (s *server) handlePhoneMethodUpdate() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, t := r.Context(), tenantFrom(r.Context())
		var in phoneMethodInput
		if _, err := decode(w, r, &in); err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		number, err := in.check(false)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		var (
			u       *gatehouse.User
			changed *gatehouse.UserMethod
		)
		err = s.Store.Update(ctx, func(tx gatehouse.Tx) error {
			var err error
			if u, err = tx.User(ctx, t.ID, r.PathValue("id")); err != nil {
				return err
			}
			if err := s.userMethodsAllowed(ctx, tx, principalFrom(ctx), u); err != nil {
				return err
			}
			phone, err := userPhone(ctx, tx, t.ID, u.ID)
			if err != nil {
				return err
			}
			if phone == nil || !strings.EqualFold(r.PathValue("method"), mobilePhoneID) {
				return gatehouse.Errorf(gatehouse.ENOTFOUND, "The user has no phone method with id %q.", r.PathValue("method"))
			}
			before := methodLabel(phone)
			if number == "" || number == phone.Phone {
				return errUnchanged
			}
			if changed, err = tx.UpdateUserMethod(ctx, t.ID, phone.ID, func(m *gatehouse.UserMethod) error {
				m.Phone = number
				return nil
			}); err != nil {
				return err
			}
			return s.audit(r, tx, change{category: "UserManagement", activity: "Admin updated security info", operation: "Update",
				targetType: "User", targetID: u.ID, name: u.Mail,
				before: map[string]string{"authenticationMethod": before}, after: map[string]string{"authenticationMethod": methodLabel(changed)}})
		})
		if err := noChange(err); err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		if changed != nil {
			s.notifyMethodChange(ctx, t, u, "changed", "phone for text messages", "an administrator")
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
