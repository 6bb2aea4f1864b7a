package signin

import (
	"slices"
	"time"

	"github.com/gatehouse/gatehouse"
)

// Requirement is one source's demand on a sign-in.
type Requirement struct {
	// Source names where the requirement comes from, for logs and
	// refusals: "acr_values", "claims", "max_age", "prompt=login", a
	// Conditional Access policy's name.
	Source string
	// Block refuses the sign-in; Reason says why, for people.
	Block  bool
	Reason string
	// Level is the level the sign-in must reach.
	Level gatehouse.Level
	// Essential requirements that cannot be met refuse the sign-in (OP-5:
	// never a downgraded token); a voluntary one (acr_values) that the
	// user cannot meet falls back to the first of Fallbacks they can
	// meet (acr_values in order of preference), or is dropped, and the
	// sign-in goes on without it.
	Essential bool
	Fallbacks []gatehouse.Level
	// ACRs, when set, are the acr values the source accepts (an essential
	// acr claim's values): the acr claim then names the strongest of them
	// the sign-in reached.
	ACRs []string
	// MaxAge, when positive, counts only authentications at most this old
	// (max_age, sign-in frequency).
	MaxAge time.Duration
	// Fresh counts only authentications of this request, not those
	// carried over (prompt=login, max_age=0, sign-in frequency "every
	// time").
	Fresh bool
	// PasswordChange demands that the user change their password in this
	// sign-in (Conditional Access's passwordChange grant control, for a
	// risky user), once Level is reached: Next answers ChangePassword
	// until Input.PasswordChanged, and refuses a user without a password.
	PasswordChange bool
}

// Input is what a path knows about a sign-in.
type Input struct {
	Now time.Time
	// User is the authenticated user; nil until a first factor names one.
	User *gatehouse.User
	// Methods are the authentications so far, the first factor first:
	// carried over from the browser's session or the grant, and those of
	// this request.
	Methods      []gatehouse.MethodUse
	Requirements []Requirement
	// Available are the second factors the user can complete now: the
	// methods the policy offers them that they have (email needs no
	// registration).
	Available []string
	// Registrable are the methods the policy lets them register now.
	Registrable []string
	// Interactive is false for prompt=none and the refresh grant: any step
	// that needs the user refuses the sign-in instead.
	Interactive bool
	// PasswordChanged reports whether the user changed their password in
	// this sign-in (a requirement's PasswordChange).
	PasswordChanged bool
}

// Step is what a sign-in needs next.
type Step int

const (
	// Issue: every requirement is met; issue tokens.
	Issue Step = iota
	// FirstFactor: the user must authenticate (again).
	FirstFactor
	// SecondFactor: the user must complete one of Decision.Methods.
	SecondFactor
	// Register: the user must register one of Decision.Methods, which
	// completes the second factor too.
	Register
	// Refuse: the sign-in cannot go on; Decision.Error and Reason say why.
	Refuse
	// ChangePassword: every level is reached, and a requirement demands
	// that the user change their password in this sign-in
	// (Requirement.PasswordChange).
	ChangePassword
)

func (s Step) String() string {
	return [...]string{"issue", "first factor", "second factor", "register", "refuse", "change password"}[s]
}

// Error codes of refusals, as OAuth 2.0 and OpenID Connect name them.
const (
	ErrLoginRequired       = "login_required"
	ErrInteractionRequired = "interaction_required"
	ErrAccessDenied        = "access_denied"
	// ErrUnmet is OpenID Connect's unmet_authentication_requirements: an
	// essential requirement the user has no way to meet.
	ErrUnmet = "unmet_authentication_requirements"
)

// Decision is Next's answer.
type Decision struct {
	Step Step
	// Methods are the methods the step offers (SecondFactor, Register),
	// in policy order.
	Methods []string
	// Level is the level to reach (SecondFactor, Register) or reached
	// (Issue).
	Level gatehouse.Level
	// Error and Reason explain a refusal: an OAuth error code, and a
	// sentence for people.
	Error, Reason string
	// Counted are the authentications the tokens claim (Issue): those that
	// every requirement's freshness lets count, first factor first.
	Counted []gatehouse.MethodUse
	// ACR and AMR are the claims of the tokens (Issue).
	ACR string
	AMR []string
	// Dropped are voluntary requirements the user had no way to meet.
	Dropped []Requirement
}

// Next decides what the sign-in described by in needs next.
func Next(in Input) Decision {
	if in.User == nil {
		return interactive(in, Decision{Step: FirstFactor}, ErrLoginRequired, "The user must sign in.")
	}
	if !in.User.AccountEnabled {
		return refuse(ErrAccessDenied, "The account is disabled.")
	}
	for _, r := range in.Requirements {
		if r.Block {
			reason := r.Reason
			if reason == "" {
				reason = "Access is blocked by " + r.Source + "."
			}
			return refuse(ErrAccessDenied, reason)
		}
	}
	counted := countable(in)
	if !hasFirstFactor(counted) {
		return interactive(in, Decision{Step: FirstFactor}, ErrLoginRequired, "The user must sign in again.")
	}
	level := gatehouse.LevelOf(counted)
	avail := without(in.Available, counted)
	regs := registrable(in.Registrable, avail, level)

	need := gatehouse.LevelSingleFactor
	var dropped []Requirement
	for _, r := range in.Requirements {
		if r.Level <= level {
			continue
		}
		target, ok := r.Level, reachable(r.Level, counted, avail, in.Registrable)
		for _, l := range r.Fallbacks {
			if ok || r.Essential {
				break
			}
			target, ok = l, l <= level || reachable(l, counted, avail, in.Registrable)
		}
		if !ok {
			if r.Essential {
				return refuse(ErrUnmet, "The sign-in requires "+r.Level.String()+" ("+r.Source+"), and the user has no method that provides it.")
			}
			dropped = append(dropped, r)
			continue
		}
		need = max(need, target)
	}
	if level >= need {
		if r, ok := passwordChange(in.Requirements); ok && !in.PasswordChanged {
			if in.User.PasswordHash == "" {
				return refuse(ErrUnmet, "The sign-in requires a password change ("+r.Source+"), and the account has no password.")
			}
			return interactive(in, Decision{Step: ChangePassword, Level: level, Dropped: dropped},
				ErrInteractionRequired, "The user must change their password ("+r.Source+").")
		}
		return Decision{Step: Issue, Level: level, Counted: counted, ACR: acrClaim(level, in.Requirements),
			AMR: gatehouse.AMR(counted), Dropped: dropped}
	}
	if ms := raising(avail, counted, need); len(ms) > 0 {
		return interactive(in, Decision{Step: SecondFactor, Methods: ms, Level: need, Dropped: dropped},
			ErrInteractionRequired, "The sign-in needs a second factor.")
	}
	if ms := raising(regs, counted, need); len(ms) > 0 {
		if stale(counted[0], in.Now) {
			// A new method is bound to the account on the strength of the
			// first factor: one carried over from an old session (someone
			// else at a signed-in browser) is asked for again (LC-1).
			return interactive(in, Decision{Step: FirstFactor}, ErrLoginRequired, "The user must sign in again to register a method.")
		}
		return interactive(in, Decision{Step: Register, Methods: ms, Level: need, Dropped: dropped},
			ErrInteractionRequired, "The user must register an authentication method.")
	}
	// Only a method the user may register once they have used a second
	// factor reaches the level (a passkey, for a user with only an
	// authenticator app): the second factor first.
	return interactive(in, Decision{Step: SecondFactor, Methods: raising(avail, counted, gatehouse.LevelMultiFactor),
		Level: gatehouse.LevelMultiFactor, Dropped: dropped}, ErrInteractionRequired, "The sign-in needs a second factor.")
}

// passwordChange returns the first requirement that demands a password
// change.
func passwordChange(reqs []Requirement) (Requirement, bool) {
	for _, r := range reqs {
		if r.PasswordChange {
			return r, true
		}
	}
	return Requirement{}, false
}

// RegistrationAuthAge is how recent a first factor carried over from the
// browser's session must be for a method to be registered on its strength.
const RegistrationAuthAge = 10 * time.Minute

// stale reports whether a first factor is carried over and older than
// RegistrationAuthAge.
func stale(first gatehouse.MethodUse, now time.Time) bool {
	return first.Carried && now.Sub(first.At) > RegistrationAuthAge
}

// Meets reports whether the authentications, first factor first, meet r
// on their own at now: its level, counting only what its MaxAge and Fresh
// let count. A Block is never met; PasswordChange is the caller's to
// check.
func Meets(r Requirement, now time.Time, methods []gatehouse.MethodUse) bool {
	if r.Block {
		return false
	}
	counted := countable(Input{Now: now, Methods: methods, Requirements: []Requirement{r}})
	return len(counted) > 0 && gatehouse.LevelOf(counted) >= max(r.Level, gatehouse.LevelSingleFactor)
}

// interactive returns d, or for a non-interactive sign-in a refusal with
// the error code.
func interactive(in Input, d Decision, code, reason string) Decision {
	if !in.Interactive {
		return refuse(code, reason)
	}
	return d
}

func refuse(code, reason string) Decision {
	return Decision{Step: Refuse, Error: code, Reason: reason}
}

// countable returns the authentications every requirement's freshness
// lets count: none from the future, none older than the strictest
// MaxAge, and none carried over where a requirement is Fresh. The
// first of in.Methods is the sign-in's first factor: when it does not
// count, nothing does (a fresh second factor is no sign-in of its own).
func countable(in Input) []gatehouse.MethodUse {
	var cutoff time.Time
	fresh := false
	for _, r := range in.Requirements {
		if r.MaxAge > 0 {
			if c := in.Now.Add(-r.MaxAge); c.After(cutoff) {
				cutoff = c
			}
		}
		fresh = fresh || r.Fresh
	}
	counts := func(m gatehouse.MethodUse) bool {
		return !m.At.Before(cutoff) && !m.At.After(in.Now) && !(fresh && m.Carried)
	}
	if len(in.Methods) == 0 || !gatehouse.IsFirstFactor(in.Methods[0].Method) || !counts(in.Methods[0]) {
		return nil
	}
	var out []gatehouse.MethodUse
	for _, m := range in.Methods {
		if counts(m) {
			out = append(out, m)
		}
	}
	return out
}

func hasFirstFactor(uses []gatehouse.MethodUse) bool { return len(uses) > 0 }

// without returns the methods not used yet: a method is never its own
// second factor (an email code after an email code sign-in, EO-0).
func without(methods []string, used []gatehouse.MethodUse) []string {
	var out []string
	for _, m := range methods {
		if !slices.ContainsFunc(used, func(u gatehouse.MethodUse) bool { return u.Method == m }) && !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}

// registrable returns the methods the user may register now: just in time
// only while they have no second factor to use, and otherwise once this
// sign-in has reached multifactor (a recent second factor vouches for
// the new one). Recovery codes complete no sign-in: they are made on the
// security info page.
func registrable(methods, avail []string, level gatehouse.Level) []string {
	if len(avail) > 0 && level < gatehouse.LevelMultiFactor {
		return nil
	}
	return slices.DeleteFunc(slices.Clone(methods), func(m string) bool { return m == gatehouse.MethodRecoveryCode })
}

// reachable reports whether some path of second factors and
// registrations takes the sign-in to the level.
func reachable(level gatehouse.Level, counted []gatehouse.MethodUse, avail, registrable []string) bool {
	if len(raising(avail, counted, level)) > 0 {
		return true
	}
	regs := slices.DeleteFunc(slices.Clone(registrable), func(m string) bool { return m == gatehouse.MethodRecoveryCode })
	if len(raising(regs, counted, level)) == 0 {
		return false
	}
	// A registration is open now (no second factor to use), or after a
	// second factor that reaches multifactor.
	return len(avail) == 0 || gatehouse.LevelOf(counted) >= gatehouse.LevelMultiFactor ||
		len(raising(avail, counted, gatehouse.LevelMultiFactor)) > 0
}

// raising returns the methods that, used next, bring the sign-in to the
// level (a passkey with user verification, as Gatehouse asks for it).
func raising(methods []string, counted []gatehouse.MethodUse, level gatehouse.Level) []string {
	var out []string
	for _, m := range methods {
		next := append(slices.Clone(counted), gatehouse.MethodUse{Method: m, UserVerified: m == gatehouse.MethodFido2})
		if gatehouse.LevelOf(next) >= level {
			out = append(out, m)
		}
	}
	return out
}

// acrClaim returns the acr claim of a sign-in at the level: the level's
// value, or, where a requirement lists the values it accepts, the
// strongest of them the level reaches.
func acrClaim(level gatehouse.Level, reqs []Requirement) string {
	for _, r := range reqs {
		if len(r.ACRs) == 0 {
			continue
		}
		best := ""
		for _, v := range r.ACRs {
			if l, ok := gatehouse.LevelForACR(v); ok && l <= level {
				if bl, _ := gatehouse.LevelForACR(best); best == "" || l > bl {
					best = v
				}
			}
		}
		if best != "" {
			return best
		}
	}
	return level.ACR()
}
