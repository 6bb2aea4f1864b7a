package policy

import (
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/signin"
)

// Outcome is how a sign-in ended, which decides whether each policy that
// applied was satisfied.
type Outcome struct {
	Now time.Time
	// Methods are the sign-in's authentications, first factor first,
	// those carried over from the browser's session marked Carried (as
	// signin.Input has them).
	Methods []gatehouse.MethodUse
	// PasswordChanged reports whether the user changed their password in
	// the sign-in.
	PasswordChanged bool
}

// Applied returns each policy's part in the sign-in for the sign-in log,
// in the decision's order:
//
//   - a disabled policy is notEnabled, one that does not apply notApplied
//     (reportOnlyNotApplied for a report-only one);
//   - an enabled policy that applies is success when the sign-in's
//     authentications meet what it demands (its level, within its sign-in
//     frequency, with a password change when it asks for one), failure
//     otherwise (always for a block);
//   - a report-only policy that applies is reportOnlySuccess when they
//     would have met it, reportOnlyFailure when it blocks (a control that
//     needs nothing of the user), and reportOnlyInterrupted when meeting
//     it would have needed the user (Entra's "Report-only: User action
//     required"): report-only policies never prompt.
//
// The policies that applied list their grant and session controls.
func (d *Decision) Applied(o Outcome) []gatehouse.AppliedPolicy {
	out := make([]gatehouse.AppliedPolicy, d.Len())
	for i := range out {
		r := d.Result(i)
		a := gatehouse.AppliedPolicy{ID: r.Policy.ID, DisplayName: r.Policy.DisplayName,
			EnforcedGrantControls: []string{}, EnforcedSessionControls: []string{}}
		reportOnly := r.Policy.State == gatehouse.PolicyReportOnly
		switch {
		case r.Policy.State == gatehouse.PolicyDisabled:
			a.Result = gatehouse.ResultNotEnabled
		case !r.Applies && reportOnly:
			a.Result = gatehouse.ResultReportOnlyNotApplied
		case !r.Applies:
			a.Result = gatehouse.ResultNotApplied
		default:
			a.EnforcedGrantControls, a.EnforcedSessionControls = r.c.grantNames, r.c.sessionNames
			met := meets(r.c.req, o)
			switch {
			case !reportOnly && met:
				a.Result = gatehouse.ResultSuccess
			case !reportOnly:
				a.Result = gatehouse.ResultFailure
			case met:
				a.Result = gatehouse.ResultReportOnlySuccess
			case r.c.block:
				a.Result = gatehouse.ResultReportOnlyFailure
			default:
				a.Result = gatehouse.ResultReportOnlyInterrupted
			}
		}
		out[i] = a
	}
	return out
}

// meets reports whether the outcome meets the requirement.
func meets(r signin.Requirement, o Outcome) bool {
	return signin.Meets(r, o.Now, o.Methods) && (!r.PasswordChange || o.PasswordChanged)
}

// Status returns the sign-in's conditionalAccessStatus from its applied
// policies: failure when an enabled policy failed, success when enabled
// policies applied and all succeeded, notApplied when none applied
// (report-only policies do not count).
func Status(applied []gatehouse.AppliedPolicy) string {
	status := gatehouse.CAStatusNotApplied
	for _, a := range applied {
		switch a.Result {
		case gatehouse.ResultFailure:
			return gatehouse.CAStatusFailure
		case gatehouse.ResultSuccess:
			status = gatehouse.CAStatusSuccess
		}
	}
	return status
}
