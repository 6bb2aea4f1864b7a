package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/policy"
	"github.com/gatehouse/gatehouse/signin"
)

// The lockout guard. A change to the Conditional Access policies (or to a
// named location they use) that would leave no Global Administrator able
// to sign in to the admin portal, with the methods they have registered or
// could register there, is refused with 409 and the reasons, unless the
// request confirms it with the query parameter confirmLockout=true or the
// header Gatehouse-Confirm-Lockout: true.

// Ways to confirm a change the lockout guard would refuse.
const (
	confirmLockoutParam  = "confirmLockout"
	confirmLockoutHeader = "Gatehouse-Confirm-Lockout"
)

// lockoutReason is the detail code of the guard's refusal.
const lockoutReason = "conditionalAccessLockout"

// lockoutConfirmed reports whether the request confirms a change the
// lockout guard would refuse; a value other than true or false is an
// EINVALID error naming it.
func lockoutConfirmed(r *http.Request) (bool, error) {
	confirmed := false
	for _, c := range []struct {
		name  string
		value []string
	}{
		{confirmLockoutParam, r.URL.Query()[confirmLockoutParam]},
		{confirmLockoutHeader, r.Header.Values(confirmLockoutHeader)},
	} {
		for _, v := range c.value {
			b, err := strconv.ParseBool(v)
			if err != nil || (v != "true" && v != "false") {
				return false, gatehouse.FieldErrorf(c.name, "%s %q is not true or false.", c.name, v)
			}
			confirmed = confirmed || b
		}
	}
	return confirmed, nil
}

// guardLockout returns an ECONFLICT error when the tenant's policies, as
// tx holds them now (the change made), keep every enabled Global
// Administrator out of the admin portal, unless confirmed; a confirmed
// change that the guard would have refused returns the refusal as the
// audit entry's resultReason, so that the log tells who overrode it.
func (s *server) guardLockout(r *http.Request, tx gatehouse.Tx, confirmed bool) (string, error) {
	ctx, t := r.Context(), tenantFrom(r.Context())
	set, err := caPolicySet(ctx, tx, t.ID)
	if err != nil {
		return "", err
	}
	admins, err := s.globalAdmins(ctx, tx, t.ID)
	if err != nil {
		return "", err
	}
	actor := ""
	if p := principalFrom(ctx); p != nil && p.User != nil {
		actor = p.User.ID
	}
	refusal := lockoutRefusal(set, admins, s.GeoIP != nil, actor)
	switch {
	case refusal == nil:
		return "", nil
	case !confirmed:
		return "", refusal
	}
	return "Confirmed (" + confirmLockoutParam + "): " + gatehouse.ErrorMessage(refusal), nil
}

// lockoutRefusal returns the guard's ECONFLICT error when the set keeps
// every one of the admins out (none when there are no admins: then no
// policy is what keeps them out), naming each with the reasons, and
// saying so when actorID, the acting user, is among them.
func lockoutRefusal(set *policy.Set, admins []policy.Admin, geoIP bool, actorID string) error {
	if len(admins) == 0 {
		return nil
	}
	locked := set.Lockouts(admins, geoIP)
	if len(locked) < len(admins) {
		return nil
	}
	var b strings.Builder
	b.WriteString("This change would lock every Global Administrator out of the admin portal. ")
	you := false
	for _, l := range locked {
		b.WriteString(l.Sentence())
		b.WriteByte(' ')
		you = you || (actorID != "" && l.UserID == actorID)
	}
	if you {
		b.WriteString("You are one of them: after this change you could not sign in to the admin portal yourself. ")
	}
	b.WriteString("Exclude a break-glass account or group from the policy, or, to make the change anyway, repeat the request with the query parameter " +
		confirmLockoutParam + "=true or the header " + confirmLockoutHeader + ": true.")
	return &gatehouse.Error{Code: gatehouse.ECONFLICT, Reason: lockoutReason, Message: b.String()}
}

// globalAdmins returns the tenant's enabled Global Administrators as the
// lockout guard sees them: their groups and roles, and what their
// methods can reach in a sign-in to the admin portal.
func (s *server) globalAdmins(ctx context.Context, rd gatehouse.Reader, tenantID string) ([]policy.Admin, error) {
	var out []policy.Admin
	opt := gatehouse.ListOptions{Top: gatehouse.MaxPageSize, Filter: map[string]string{"roleDefinitionId": gatehouse.RoleGlobalAdministrator}}
	for {
		as, next, err := rd.ListRoleAssignments(ctx, tenantID, opt)
		if err != nil {
			return nil, err
		}
		for _, a := range as {
			u, err := rd.User(ctx, tenantID, a.PrincipalID)
			if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
				continue
			}
			if err != nil {
				return nil, err
			}
			if !u.AccountEnabled {
				continue // no policy is what keeps them out
			}
			admin, err := s.lockoutAdmin(ctx, rd, tenantID, u)
			if err != nil {
				return nil, err
			}
			out = append(out, admin)
		}
		if next == "" {
			return out, nil
		}
		opt.After = next
	}
}

// lockoutAdmin describes one administrator for the lockout guard. The
// level their methods reach is what the sign-in dispatcher (signin.Next)
// would let them reach after their first factor (their password, or an
// email code when they have none), with the second factors the methods
// policy offers them and those they could register on the way.
func (s *server) lockoutAdmin(ctx context.Context, rd gatehouse.Reader, tenantID string, u *gatehouse.User) (policy.Admin, error) {
	groups, err := rd.UserGroupIDs(ctx, tenantID, u.ID)
	if err != nil {
		return policy.Admin{}, err
	}
	roles, err := userRoles(ctx, rd, tenantID, u.ID)
	if err != nil {
		return policy.Admin{}, err
	}
	v, err := loadMethods(ctx, rd, tenantID, u)
	if err != nil {
		return policy.Admin{}, err
	}
	name := u.DisplayName
	if name == "" {
		name = u.Mail
	} else if u.Mail != "" {
		name += " (" + u.Mail + ")"
	}
	a := policy.Admin{UserID: u.ID, Name: name, GroupIDs: groups, RoleIDs: roles, Password: u.PasswordHash != "",
		Passkey: len(v.registrations(gatehouse.MethodFido2)) > 0, Level: gatehouse.LevelSingleFactor}
	first := gatehouse.MethodUse{Method: gatehouse.MethodPassword, At: s.Now()}
	if !a.Password {
		first.Method = gatehouse.MethodEmail
	}
	for _, level := range []gatehouse.Level{gatehouse.LevelPhishingResistant, gatehouse.LevelMultiFactor} {
		d := signin.Next(signin.Input{Now: s.Now(), User: u, Methods: []gatehouse.MethodUse{first},
			Requirements: []signin.Requirement{{Source: "lockout guard", Level: level, Essential: true}},
			Available:    s.available(v), Registrable: s.registrable(v), Interactive: true})
		if d.Step != signin.Refuse {
			a.Level = level
			break
		}
	}
	return a, nil
}
