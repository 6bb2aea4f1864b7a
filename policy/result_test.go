package policy

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/google/go-cmp/cmp"
)

// TestApplied checks each policy's result for the sign-in log from how
// the sign-in ended, and the controls it lists.
func TestApplied(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	pwd := gatehouse.MethodUse{Method: gatehouse.MethodPassword, At: now.Add(-time.Minute)}
	email := gatehouse.MethodUse{Method: gatehouse.MethodEmail, At: now}
	passkey := gatehouse.MethodUse{Method: gatehouse.MethodFido2, At: now, UserVerified: true}
	oldPwd := gatehouse.MethodUse{Method: gatehouse.MethodPassword, At: now.Add(-3 * time.Hour), Carried: true}
	oldEmail := gatehouse.MethodUse{Method: gatehouse.MethodEmail, At: now.Add(-3 * time.Hour), Carried: true}
	carriedNow := gatehouse.MethodUse{Method: gatehouse.MethodPassword, At: now, Carried: true}
	single, multi := []gatehouse.MethodUse{pwd}, []gatehouse.MethodUse{pwd, email}
	reportOnly := state(gatehouse.PolicyReportOnly)
	hourly := session(&gatehouse.SessionControls{SignInFrequency: &gatehouse.SignInFrequency{Value: 1, Type: "hours"}})
	everyTime := session(&gatehouse.SessionControls{SignInFrequency: &gatehouse.SignInFrequency{EveryTime: true}})
	change := grant("AND", "", gatehouse.ControlMFA, gatehouse.ControlPasswordChange)
	for _, tc := range []struct {
		name     string
		policy   *gatehouse.Policy
		in       Input
		outcome  Outcome
		result   string
		grants   []string
		sessions []string
	}{
		{"MFAMet", policy("p"), signIn(), Outcome{Now: now, Methods: multi}, gatehouse.ResultSuccess, []string{GrantMFA}, []string{}},
		{"MFANotMet", policy("p"), signIn(), Outcome{Now: now, Methods: single}, gatehouse.ResultFailure, []string{GrantMFA}, []string{}},
		{"BlockFails", policy("p", blocks), signIn(), Outcome{Now: now, Methods: multi}, gatehouse.ResultFailure, []string{GrantBlock}, []string{}},
		{"NotApplied", policy("p", apps([]string{payrollID})), signIn(), Outcome{Now: now, Methods: single}, gatehouse.ResultNotApplied, []string{}, []string{}},
		{"NotEnabled", policy("p", state(gatehouse.PolicyDisabled)), signIn(), Outcome{Now: now, Methods: single}, gatehouse.ResultNotEnabled, []string{}, []string{}},
		{"ReportOnlySuccess", policy("p", reportOnly), signIn(), Outcome{Now: now, Methods: multi}, gatehouse.ResultReportOnlySuccess, []string{GrantMFA}, []string{}},
		{"ReportOnlyWouldAskTheUser", policy("p", reportOnly), signIn(), Outcome{Now: now, Methods: single}, gatehouse.ResultReportOnlyInterrupted, []string{GrantMFA}, []string{}},
		{"ReportOnlyBlockFails", policy("p", blocks, reportOnly), signIn(), Outcome{Now: now, Methods: multi}, gatehouse.ResultReportOnlyFailure, []string{GrantBlock}, []string{}},
		{"ReportOnlyNotApplied", policy("p", reportOnly, apps([]string{payrollID})), signIn(), Outcome{Now: now, Methods: single}, gatehouse.ResultReportOnlyNotApplied, []string{}, []string{}},
		{"FrequencyMet", policy("p", hourly), signIn(), Outcome{Now: now, Methods: multi}, gatehouse.ResultSuccess, []string{GrantMFA}, []string{SessionSignInFrequency}},
		{"FrequencyNotMet", policy("p", hourly), signIn(), Outcome{Now: now, Methods: []gatehouse.MethodUse{oldPwd, oldEmail}}, gatehouse.ResultFailure, []string{GrantMFA}, []string{SessionSignInFrequency}},
		{"EveryTimeCarriedFails", policy("p", noGrant, everyTime), signIn(), Outcome{Now: now, Methods: []gatehouse.MethodUse{carriedNow}}, gatehouse.ResultFailure, []string{}, []string{SessionSignInFrequency}},
		{"EveryTimeFreshSucceeds", policy("p", noGrant, everyTime), signIn(), Outcome{Now: now, Methods: single}, gatehouse.ResultSuccess, []string{}, []string{SessionSignInFrequency}},
		{"PersistentBrowserListed", policy("p", noGrant, session(&gatehouse.SessionControls{PersistentBrowser: gatehouse.PersistentNever})), signIn(),
			Outcome{Now: now, Methods: single}, gatehouse.ResultSuccess, []string{}, []string{SessionPersistentBrowser}},
		{"PasswordChangeMissing", policy("p", change, userRisk(gatehouse.RiskHigh)), signIn(func(in *Input) { in.UserRisk = gatehouse.RiskHigh }),
			Outcome{Now: now, Methods: multi}, gatehouse.ResultFailure, []string{GrantMFA, GrantPasswordChange}, []string{}},
		{"PasswordChanged", policy("p", change, userRisk(gatehouse.RiskHigh)), signIn(func(in *Input) { in.UserRisk = gatehouse.RiskHigh }),
			Outcome{Now: now, Methods: multi, PasswordChanged: true}, gatehouse.ResultSuccess, []string{GrantMFA, GrantPasswordChange}, []string{}},
		// EO-0: an email code never satisfies phishing resistance.
		{"PhishingResistantNotByEmail", policy("p", grant("OR", gatehouse.StrengthPhishingResistant)), signIn(), Outcome{Now: now, Methods: multi},
			gatehouse.ResultFailure, []string{GrantAuthenticationStrength}, []string{}},
		{"PhishingResistantByPasskey", policy("p", grant("OR", gatehouse.StrengthPhishingResistant)), signIn(), Outcome{Now: now, Methods: []gatehouse.MethodUse{passkey}},
			gatehouse.ResultSuccess, []string{GrantAuthenticationStrength}, []string{}},
		{"NoAuthenticationFails", policy("p", noGrant, hourly), signIn(), Outcome{Now: now}, gatehouse.ResultFailure, []string{}, []string{SessionSignInFrequency}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Evaluate([]*gatehouse.Policy{tc.policy}, locations, tc.in)
			got := d.Applied(tc.outcome)
			want := []gatehouse.AppliedPolicy{{ID: tc.policy.ID, DisplayName: tc.policy.DisplayName, Result: tc.result,
				EnforcedGrantControls: tc.grants, EnforcedSessionControls: tc.sessions}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Applied (-want +got):\n%s", diff)
			}
		})
	}
}

// TestStatus checks the sign-in's conditionalAccessStatus.
func TestStatus(t *testing.T) {
	r := func(results ...string) []gatehouse.AppliedPolicy {
		var out []gatehouse.AppliedPolicy
		for _, res := range results {
			out = append(out, gatehouse.AppliedPolicy{Result: res})
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		applied []gatehouse.AppliedPolicy
		want    string
	}{
		{"NoPolicies", nil, gatehouse.CAStatusNotApplied},
		{"NoneApplied", r(gatehouse.ResultNotApplied, gatehouse.ResultNotEnabled), gatehouse.CAStatusNotApplied},
		{"ReportOnlyDoesNotCount", r(gatehouse.ResultReportOnlyFailure, gatehouse.ResultReportOnlySuccess, gatehouse.ResultReportOnlyInterrupted), gatehouse.CAStatusNotApplied},
		{"Success", r(gatehouse.ResultNotApplied, gatehouse.ResultSuccess, gatehouse.ResultReportOnlyFailure), gatehouse.CAStatusSuccess},
		{"AnyFailure", r(gatehouse.ResultSuccess, gatehouse.ResultFailure, gatehouse.ResultSuccess), gatehouse.CAStatusFailure},
	} {
		if got := Status(tc.applied); got != tc.want {
			t.Errorf("%s: Status = %q, want %q", tc.name, got, tc.want)
		}
	}
}
