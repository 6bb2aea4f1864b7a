package web

import "time"

// CacheTTL is cacheTTL for the tests of package web_test.
const CacheTTL = cacheTTL

// The tests of package web_test write Conditional Access policies to the
// store directly as well as through the admin API: the server reads the
// policies version at every sign-in. The cache itself is tested in
// package web.
func init() { policyRecheck = 0 }

// SetPolicyRecheck sets how long a node uses its compiled policies before
// it reads the policies version again, until the test ends.
func SetPolicyRecheck(t interface{ Cleanup(func()) }, d time.Duration) {
	old := policyRecheck
	policyRecheck = d
	t.Cleanup(func() { policyRecheck = old })
}
