package signin_test

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/signin"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var (
	now = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	ada = &gatehouse.User{ID: "ada", Mail: "ada@example.com", AccountEnabled: true}
	off = &gatehouse.User{ID: "off", Mail: "off@example.com", AccountEnabled: false}
)

func use(method string, ago time.Duration) gatehouse.MethodUse {
	return gatehouse.MethodUse{Method: method, At: now.Add(-ago)}
}

func passkey(ago time.Duration, uv bool) gatehouse.MethodUse {
	return gatehouse.MethodUse{Method: gatehouse.MethodFido2, MethodID: "pk", At: now.Add(-ago), UserVerified: uv}
}

var (
	pwd      = use(gatehouse.MethodPassword, time.Minute)
	oldPwd   = use(gatehouse.MethodPassword, 3*time.Hour)
	emailOTP = use(gatehouse.MethodEmail, 30*time.Second)
	totp     = use(gatehouse.MethodSoftwareOath, 20*time.Second)
	oldTOTP  = use(gatehouse.MethodSoftwareOath, 3*time.Hour)
)

func mfa(source string) signin.Requirement {
	return signin.Requirement{Source: source, Level: gatehouse.LevelMultiFactor, Essential: true}
}

func TestNext(t *testing.T) {
	all := []string{gatehouse.MethodEmail, gatehouse.MethodSMS, gatehouse.MethodSoftwareOath, gatehouse.MethodFido2, gatehouse.MethodRecoveryCode}
	for _, tt := range []struct {
		name string
		in   signin.Input
		want signin.Decision
	}{
		{
			name: "no user yet: first factor",
			in:   signin.Input{Interactive: true},
			want: signin.Decision{Step: signin.FirstFactor},
		},
		{
			name: "no user and prompt=none: login_required",
			in:   signin.Input{},
			want: signin.Decision{Step: signin.Refuse, Error: signin.ErrLoginRequired},
		},
		{
			name: "a password and no requirement: issue at level 1",
			in:   signin.Input{User: ada, Methods: []gatehouse.MethodUse{pwd}, Interactive: true},
			want: signin.Decision{Step: signin.Issue, Level: gatehouse.LevelSingleFactor, Counted: []gatehouse.MethodUse{pwd}, ACR: "1", AMR: []string{"pwd"}},
		},
		{
			name: "a disabled account is refused, even with methods",
			in:   signin.Input{User: off, Methods: []gatehouse.MethodUse{pwd, totp}, Interactive: true},
			want: signin.Decision{Step: signin.Refuse, Error: signin.ErrAccessDenied},
		},
		{
			name: "a block wins over everything",
			in: signin.Input{User: ada, Methods: []gatehouse.MethodUse{pwd, totp}, Interactive: true,
				Requirements: []signin.Requirement{mfa("acr_values"), {Source: "Block Shop", Block: true, Reason: "Shop is closed."}}},
			want: signin.Decision{Step: signin.Refuse, Error: signin.ErrAccessDenied, Reason: "Shop is closed."},
		},
		{
			name: "MFA required after a password: a second factor from what is available",
			in: signin.Input{User: ada, Methods: []gatehouse.MethodUse{pwd}, Interactive: true,
				Requirements: []signin.Requirement{mfa("acr_values")}, Available: []string{gatehouse.MethodEmail, gatehouse.MethodSoftwareOath}},
			want: signin.Decision{Step: signin.SecondFactor, Methods: []string{gatehouse.MethodEmail, gatehouse.MethodSoftwareOath}, Level: gatehouse.LevelMultiFactor},
		},
		{
			name: "MFA required with prompt=none: interaction_required",
			in: signin.Input{User: ada, Methods: []gatehouse.MethodUse{pwd},
				Requirements: []signin.Requirement{mfa("acr_values")}, Available: []string{gatehouse.MethodEmail}},
			want: signin.Decision{Step: signin.Refuse, Error: signin.ErrInteractionRequired},
		},
		{
			name: "an email code is never the second factor of an email code sign-in (EO-0)",
			in: signin.Input{User: ada, Methods: []gatehouse.MethodUse{emailOTP}, Interactive: true,
				Requirements: []signin.Requirement{mfa("policy")}, Available: []string{gatehouse.MethodEmail, gatehouse.MethodSMS}},
			want: signin.Decision{Step: signin.SecondFactor, Methods: []string{gatehouse.MethodSMS}, Level: gatehouse.LevelMultiFactor},
		},
		{
			name: "an email code sign-in with only email available: register, if registration is open",
			in: signin.Input{User: ada, Methods: []gatehouse.MethodUse{emailOTP}, Interactive: true,
				Requirements: []signin.Requirement{mfa("policy")}, Available: []string{gatehouse.MethodEmail},
				Registrable: []string{gatehouse.MethodSoftwareOath, gatehouse.MethodRecoveryCode}},
			want: signin.Decision{Step: signin.Register, Methods: []string{gatehouse.MethodSoftwareOath}, Level: gatehouse.LevelMultiFactor},
		},
		{
			name: "an essential requirement nobody can meet: unmet_authentication_requirements",
			in: signin.Input{User: ada, Methods: []gatehouse.MethodUse{emailOTP}, Interactive: true,
				Requirements: []signin.Requirement{mfa("claims")}, Available: []string{gatehouse.MethodEmail},
				Registrable: []string{gatehouse.MethodRecoveryCode}},
			want: signin.Decision{Step: signin.Refuse, Error: signin.ErrUnmet},
		},
		{
			name: "a voluntary requirement nobody can meet is dropped",
			in: signin.Input{User: ada, Methods: []gatehouse.MethodUse{pwd}, Interactive: true,
				Requirements: []signin.Requirement{{Source: "acr_values", Level: gatehouse.LevelMultiFactor}}},
			want: signin.Decision{Step: signin.Issue, Level: gatehouse.LevelSingleFactor, Counted: []gatehouse.MethodUse{pwd}, ACR: "1", AMR: []string{"pwd"},
				Dropped: []signin.Requirement{{Source: "acr_values", Level: gatehouse.LevelMultiFactor}}},
		},
		{
			name: "acr_values in order of preference: the first one the user can reach",
			in: signin.Input{User: ada, Methods: []gatehouse.MethodUse{pwd}, Interactive: true,
				Requirements: []signin.Requirement{{Source: "acr_values", Level: gatehouse.LevelPhishingResistant,
					Fallbacks: []gatehouse.Level{gatehouse.LevelMultiFactor}}},
				Available: []string{gatehouse.MethodEmail}},
			want: signin.Decision{Step: signin.SecondFactor, Methods: []string{gatehouse.MethodEmail}, Level: gatehouse.LevelMultiFactor},
		},
		{
			name: "acr_values whose fallback is met already: issue",
			in: signin.Input{User: ada, Methods: []gatehouse.MethodUse{pwd}, Interactive: true,
				Requirements: []signin.Requirement{{Source: "acr_values", Level: gatehouse.LevelMultiFactor,
					Fallbacks: []gatehouse.Level{gatehouse.LevelSingleFactor}}}},
			want: signin.Decision{Step: signin.Issue, Level: gatehouse.LevelSingleFactor, Counted: []gatehouse.MethodUse{pwd}, ACR: "1", AMR: []string{"pwd"}},
		},
		{
			name: "no second factor at all: register one just in time",
			in: signin.Input{User: ada, Methods: []gatehouse.MethodUse{pwd}, Interactive: true,
				Requirements: []signin.Requirement{mfa("policy")}, Registrable: []string{gatehouse.MethodSoftwareOath, gatehouse.MethodFido2}},
			want: signin.Decision{Step: signin.Register, Methods: []string{gatehouse.MethodSoftwareOath, gatehouse.MethodFido2}, Level: gatehouse.LevelMultiFactor},
		},
		{
			name: "no second factor and a first factor from an old session: sign in again before registering (LC-1)",
			in: signin.Input{User: ada, Methods: gatehouse.CarriedOver([]gatehouse.MethodUse{oldPwd}), Interactive: true,
				Requirements: []signin.Requirement{mfa("policy")}, Registrable: []string{gatehouse.MethodSoftwareOath}},
			want: signin.Decision{Step: signin.FirstFactor},
		},
		{
			name: "no second factor and a recent first factor from the session: register",
			in: signin.Input{User: ada, Methods: gatehouse.CarriedOver([]gatehouse.MethodUse{pwd}), Interactive: true,
				Requirements: []signin.Requirement{mfa("policy")}, Registrable: []string{gatehouse.MethodSoftwareOath}},
			want: signin.Decision{Step: signin.Register, Methods: []string{gatehouse.MethodSoftwareOath}, Level: gatehouse.LevelMultiFactor},
		},
		{
			name: "a user who has a second factor registers nothing before using it",
			in: signin.Input{User: ada, Methods: []gatehouse.MethodUse{pwd}, Interactive: true,
				Requirements: []signin.Requirement{mfa("policy")}, Available: []string{gatehouse.MethodSoftwareOath},
				Registrable: []string{gatehouse.MethodFido2}},
			want: signin.Decision{Step: signin.SecondFactor, Methods: []string{gatehouse.MethodSoftwareOath}, Level: gatehouse.LevelMultiFactor},
		},
		{
			name: "password and TOTP: issue at level 2 with mfa",
			in: signin.Input{User: ada, Methods: []gatehouse.MethodUse{pwd, totp}, Interactive: true,
				Requirements: []signin.Requirement{mfa("policy")}},
			want: signin.Decision{Step: signin.Issue, Level: gatehouse.LevelMultiFactor, Counted: []gatehouse.MethodUse{pwd, totp},
				ACR: "2", AMR: []string{"pwd", "otp", "mfa"}},
		},
		{
			name: "a sign-in's first authentication must be a first factor",
			in:   signin.Input{User: ada, Methods: []gatehouse.MethodUse{totp, pwd}, Interactive: true},
			want: signin.Decision{Step: signin.FirstFactor},
		},
		{
			name: "a fresh email code after a stale password is no fresh sign-in",
			in: signin.Input{User: ada, Methods: []gatehouse.MethodUse{oldPwd, emailOTP}, Interactive: true,
				Requirements: []signin.Requirement{{Source: "max_age", MaxAge: time.Hour}}},
			want: signin.Decision{Step: signin.FirstFactor},
		},
		{
			name: "a second factor alone is no sign-in",
			in:   signin.Input{User: ada, Methods: []gatehouse.MethodUse{totp}, Interactive: true},
			want: signin.Decision{Step: signin.FirstFactor},
		},
		{
			name: "phishing-resistant required, password and TOTP done, passkey registered: the passkey",
			in: signin.Input{User: ada, Methods: []gatehouse.MethodUse{pwd, totp}, Interactive: true,
				Requirements: []signin.Requirement{{Source: "policy", Level: gatehouse.LevelPhishingResistant, Essential: true}},
				Available:    []string{gatehouse.MethodEmail, gatehouse.MethodSoftwareOath, gatehouse.MethodFido2}},
			want: signin.Decision{Step: signin.SecondFactor, Methods: []string{gatehouse.MethodFido2}, Level: gatehouse.LevelPhishingResistant},
		},
		{
			name: "phishing-resistant required, no passkey: the second factor first, then registration",
			in: signin.Input{User: ada, Methods: []gatehouse.MethodUse{pwd}, Interactive: true,
				Requirements: []signin.Requirement{{Source: "policy", Level: gatehouse.LevelPhishingResistant, Essential: true}},
				Available:    []string{gatehouse.MethodSoftwareOath}, Registrable: []string{gatehouse.MethodFido2}},
			want: signin.Decision{Step: signin.SecondFactor, Methods: []string{gatehouse.MethodSoftwareOath}, Level: gatehouse.LevelMultiFactor},
		},
		{
			name: "phishing-resistant required after MFA, no passkey: register one",
			in: signin.Input{User: ada, Methods: []gatehouse.MethodUse{pwd, totp}, Interactive: true,
				Requirements: []signin.Requirement{{Source: "policy", Level: gatehouse.LevelPhishingResistant, Essential: true}},
				Available:    []string{gatehouse.MethodSoftwareOath}, Registrable: []string{gatehouse.MethodSMS, gatehouse.MethodFido2}},
			want: signin.Decision{Step: signin.Register, Methods: []string{gatehouse.MethodFido2}, Level: gatehouse.LevelPhishingResistant},
		},
		{
			name: "phishing-resistant required and no passkey possible: refused (EO-0: email never reaches it)",
			in: signin.Input{User: ada, Methods: []gatehouse.MethodUse{pwd}, Interactive: true,
				Requirements: []signin.Requirement{{Source: "policy", Level: gatehouse.LevelPhishingResistant, Essential: true}},
				Available:    []string{gatehouse.MethodEmail, gatehouse.MethodSMS}, Registrable: []string{gatehouse.MethodSoftwareOath}},
			want: signin.Decision{Step: signin.Refuse, Error: signin.ErrUnmet},
		},
		{
			name: "a passkey with user verification is multifactor on its own (WA-5)",
			in:   signin.Input{User: ada, Methods: []gatehouse.MethodUse{passkey(time.Minute, true)}, Interactive: true, Requirements: []signin.Requirement{mfa("policy")}},
			want: signin.Decision{Step: signin.Issue, Level: gatehouse.LevelPhishingResistant, Counted: []gatehouse.MethodUse{passkey(time.Minute, true)},
				ACR: "3", AMR: []string{"hwk", "mfa"}},
		},
		{
			name: "a passkey without user verification is one factor",
			in: signin.Input{User: ada, Methods: []gatehouse.MethodUse{passkey(time.Minute, false)}, Interactive: true,
				Requirements: []signin.Requirement{mfa("policy")}, Available: []string{gatehouse.MethodFido2, gatehouse.MethodEmail}},
			want: signin.Decision{Step: signin.SecondFactor, Methods: []string{gatehouse.MethodEmail}, Level: gatehouse.LevelMultiFactor},
		},
		{
			name: "max_age: a session's old password does not count: sign in again",
			in: signin.Input{User: ada, Methods: []gatehouse.MethodUse{oldPwd, totp}, Interactive: true,
				Requirements: []signin.Requirement{{Source: "max_age", MaxAge: time.Hour}}},
			want: signin.Decision{Step: signin.FirstFactor},
		},
		{
			name: "sign-in frequency: a fresh password but an old TOTP: the second factor again",
			in: signin.Input{User: ada, Methods: []gatehouse.MethodUse{pwd, oldTOTP}, Interactive: true,
				Requirements: []signin.Requirement{{Source: "policy", Level: gatehouse.LevelMultiFactor, Essential: true, MaxAge: time.Hour}},
				Available:    []string{gatehouse.MethodSoftwareOath}},
			want: signin.Decision{Step: signin.SecondFactor, Methods: []string{gatehouse.MethodSoftwareOath}, Level: gatehouse.LevelMultiFactor},
		},
		{
			name: "prompt=login: only this request's authentications count",
			in: signin.Input{User: ada, Methods: gatehouse.CarriedOver([]gatehouse.MethodUse{pwd}), Interactive: true,
				Requirements: []signin.Requirement{{Source: "prompt=login", Fresh: true}}},
			want: signin.Decision{Step: signin.FirstFactor},
		},
		{
			name: "prompt=login after the new password: issue",
			in: signin.Input{User: ada, Methods: append([]gatehouse.MethodUse{pwd}, gatehouse.CarriedOver([]gatehouse.MethodUse{totp})...), Interactive: true,
				Requirements: []signin.Requirement{{Source: "prompt=login", Fresh: true}}},
			want: signin.Decision{Step: signin.Issue, Level: gatehouse.LevelSingleFactor, Counted: []gatehouse.MethodUse{pwd}, ACR: "1", AMR: []string{"pwd"}},
		},
		{
			name: "an authentication from the future does not count",
			in:   signin.Input{User: ada, Methods: []gatehouse.MethodUse{use(gatehouse.MethodPassword, -time.Hour)}, Interactive: true},
			want: signin.Decision{Step: signin.FirstFactor},
		},
		{
			name: "an essential acr with values names the strongest value reached",
			in: signin.Input{User: ada, Methods: []gatehouse.MethodUse{pwd, totp}, Interactive: true,
				Requirements: []signin.Requirement{{Source: "claims", Level: gatehouse.LevelSingleFactor, Essential: true, ACRs: []string{"1", "2"}}}},
			want: signin.Decision{Step: signin.Issue, Level: gatehouse.LevelMultiFactor, Counted: []gatehouse.MethodUse{pwd, totp},
				ACR: "2", AMR: []string{"pwd", "otp", "mfa"}},
		},
		{
			name: "an essential acr that accepts only 1 gets 1 from a multifactor sign-in",
			in: signin.Input{User: ada, Methods: []gatehouse.MethodUse{pwd, totp}, Interactive: true,
				Requirements: []signin.Requirement{{Source: "claims", Level: gatehouse.LevelSingleFactor, Essential: true, ACRs: []string{"1"}}}},
			want: signin.Decision{Step: signin.Issue, Level: gatehouse.LevelMultiFactor, Counted: []gatehouse.MethodUse{pwd, totp},
				ACR: "1", AMR: []string{"pwd", "otp", "mfa"}},
		},
		{
			name: "the strongest requirement decides the level",
			in: signin.Input{User: ada, Methods: []gatehouse.MethodUse{pwd}, Interactive: true,
				Requirements: []signin.Requirement{mfa("policy A"), {Source: "policy B", Level: gatehouse.LevelPhishingResistant, Essential: true}},
				Available:    all},
			want: signin.Decision{Step: signin.SecondFactor, Methods: []string{gatehouse.MethodFido2}, Level: gatehouse.LevelPhishingResistant},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.Now = now
			got := signin.Next(tt.in)
			opts := cmp.Options{cmpopts.EquateEmpty()}
			if tt.want.Reason == "" {
				opts = append(opts, cmpopts.IgnoreFields(signin.Decision{}, "Reason"))
			}
			if diff := cmp.Diff(tt.want, got, opts); diff != "" {
				t.Errorf("Next mismatch (-want +got):\n%s", diff)
			}
			if got.Step == signin.Refuse && got.Reason == "" {
				t.Error("a refusal without a reason")
			}
		})
	}
}

// TestSE5NeverClaimsMore checks for many combinations that an issued
// sign-in never claims a level above what its counted methods reach, and
// that every essential requirement it passed is met.
func TestSE5NeverClaimsMore(t *testing.T) {
	methods := []gatehouse.MethodUse{pwd, emailOTP, totp, passkey(10*time.Second, false), passkey(5*time.Second, true), oldPwd, oldTOTP}
	levels := []gatehouse.Level{gatehouse.LevelSingleFactor, gatehouse.LevelMultiFactor, gatehouse.LevelPhishingResistant}
	for mask := range 1 << len(methods) {
		var ms []gatehouse.MethodUse
		for i, m := range methods {
			if mask&(1<<i) != 0 {
				ms = append(ms, m)
			}
		}
		for _, l := range levels {
			for _, maxAge := range []time.Duration{0, time.Hour} {
				in := signin.Input{Now: now, User: ada, Methods: ms, Interactive: true,
					Requirements: []signin.Requirement{{Source: "t", Level: l, Essential: true, MaxAge: maxAge}},
					Available:    []string{gatehouse.MethodEmail, gatehouse.MethodSoftwareOath}}
				d := signin.Next(in)
				if d.Step != signin.Issue {
					continue
				}
				if got := gatehouse.LevelOf(d.Counted); got != d.Level || d.Level < l {
					t.Errorf("%v at level %v (max_age %v): issued at %v with counted level %v", ms, l, maxAge, d.Level, got)
				}
				for _, c := range d.Counted {
					if maxAge > 0 && now.Sub(c.At) > maxAge {
						t.Errorf("%v: counted %v older than max_age %v", ms, c, maxAge)
					}
				}
			}
		}
	}
}

// TestMeets checks whether authentications meet one requirement on
// their own: level, freshness, first factor first, and never a block.
func TestMeets(t *testing.T) {
	carried := pwd
	carried.Carried = true
	for _, tc := range []struct {
		name    string
		r       signin.Requirement
		methods []gatehouse.MethodUse
		want    bool
	}{
		{"Nothing", signin.Requirement{}, nil, false},
		{"SingleFactor", signin.Requirement{}, []gatehouse.MethodUse{pwd}, true},
		{"MFAWithOneFactor", mfa("p"), []gatehouse.MethodUse{pwd}, false},
		{"MFAWithTwo", mfa("p"), []gatehouse.MethodUse{pwd, totp}, true},
		{"SecondFactorAloneIsNoSignIn", mfa("p"), []gatehouse.MethodUse{totp, emailOTP}, false},
		{"PhishingResistantNotByCodes", signin.Requirement{Level: gatehouse.LevelPhishingResistant}, []gatehouse.MethodUse{pwd, emailOTP}, false},
		{"PhishingResistantByPasskey", signin.Requirement{Level: gatehouse.LevelPhishingResistant}, []gatehouse.MethodUse{passkey(0, true)}, true},
		{"TooOld", signin.Requirement{Level: gatehouse.LevelMultiFactor, MaxAge: time.Hour}, []gatehouse.MethodUse{oldPwd, totp}, false},
		{"OldSecondFactor", signin.Requirement{Level: gatehouse.LevelMultiFactor, MaxAge: time.Hour}, []gatehouse.MethodUse{pwd, oldTOTP}, false},
		{"RecentEnough", signin.Requirement{Level: gatehouse.LevelMultiFactor, MaxAge: time.Hour}, []gatehouse.MethodUse{pwd, totp}, true},
		{"FreshRefusesCarried", signin.Requirement{Fresh: true}, []gatehouse.MethodUse{carried}, false},
		{"FreshTakesThisRequest", signin.Requirement{Fresh: true}, []gatehouse.MethodUse{pwd}, true},
		{"BlockNeverMet", signin.Requirement{Block: true}, []gatehouse.MethodUse{pwd, totp}, false},
		{"PasswordChangeIsTheCallers", signin.Requirement{PasswordChange: true}, []gatehouse.MethodUse{pwd}, true},
	} {
		if got := signin.Meets(tc.r, now, tc.methods); got != tc.want {
			t.Errorf("%s: Meets = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestNextPasswordChange: a policy's passwordChange is asked for once
// every level is reached, is met by a change in this sign-in, refuses a
// non-interactive path and an account without a password.
func TestNextPasswordChange(t *testing.T) {
	withPassword := &gatehouse.User{ID: "pat", Mail: "pat@example.com", AccountEnabled: true, PasswordHash: "$argon2id$..."}
	risky := signin.Requirement{Source: "risky users", Level: gatehouse.LevelMultiFactor, Essential: true, PasswordChange: true}
	email := []string{gatehouse.MethodEmail}
	for _, tt := range []struct {
		name string
		in   signin.Input
		want signin.Step
		err  string
	}{
		{"the second factor comes first", signin.Input{Now: now, User: withPassword, Methods: []gatehouse.MethodUse{pwd}, Available: email, Interactive: true,
			Requirements: []signin.Requirement{risky}}, signin.SecondFactor, ""},
		{"then the password change", signin.Input{Now: now, User: withPassword, Methods: []gatehouse.MethodUse{pwd, totp}, Interactive: true,
			Requirements: []signin.Requirement{risky}}, signin.ChangePassword, ""},
		{"changed: issue", signin.Input{Now: now, User: withPassword, Methods: []gatehouse.MethodUse{pwd, totp}, Interactive: true, PasswordChanged: true,
			Requirements: []signin.Requirement{risky}}, signin.Issue, ""},
		{"not interactive: interaction_required", signin.Input{Now: now, User: withPassword, Methods: []gatehouse.MethodUse{pwd, totp},
			Requirements: []signin.Requirement{risky}}, signin.Refuse, signin.ErrInteractionRequired},
		{"no password to change: unmet", signin.Input{Now: now, User: ada, Methods: []gatehouse.MethodUse{emailOTP, totp}, Interactive: true,
			Requirements: []signin.Requirement{risky}}, signin.Refuse, signin.ErrUnmet},
		{"no demand: issue", signin.Input{Now: now, User: withPassword, Methods: []gatehouse.MethodUse{pwd}, Interactive: true}, signin.Issue, ""},
	} {
		d := signin.Next(tt.in)
		if d.Step != tt.want || d.Error != tt.err {
			t.Errorf("%s: step %v error %q, want %v %q (reason %q)", tt.name, d.Step, d.Error, tt.want, tt.err, d.Reason)
		}
	}
}
