package web

import "time"

// CacheTTL is cacheTTL for the tests of package web_test.
const CacheTTL = cacheTTL

// The tests of package web_test write Conditional Access policies to the
// store directly as well as through the admin API: the server reads the
// policies version at every sign-in. The cache itself is tested in
// package web.
func init() { policyRecheck = 0 }

// The tests of package web_test also change tenants and user flows in the
// store directly, and expect the pages to show the change at once: the
// pages read them uncached here. The cache of the pages is tested in
// package web (cache_test.go).
func init() { pageCache = false }

// SetPolicyRecheck sets how long a node uses its compiled policies before
// it reads the policies version again, until the test ends.
func SetPolicyRecheck(t interface{ Cleanup(func()) }, d time.Duration) {
	old := policyRecheck
	policyRecheck = d
	t.Cleanup(func() { policyRecheck = old })
}

// GraphExamples are the policy bodies of Graph's documentation and
// Entra's exports (capolicy_shape_internal_test.go), for the tests of
// package web_test.
var GraphExamples = map[string]string{
	"example1": graphExample1, "example2": graphExample2, "example3": graphExample3, "example4": graphExample4,
	"example4Response": graphExample4Response, "entraSeedPolicy": entraSeedPolicy, "entraPhishingResistant": entraPhishingResistant,
	"entraEveryTime": entraEveryTime, "entraBlockLegacy": entraBlockLegacy,
}

// SetPageCache turns the pages' use of the read cache on or off for the
// servers created until the test ends.
func SetPageCache(t interface{ Cleanup(func()) }, on bool) {
	old := pageCache
	pageCache = on
	t.Cleanup(func() { pageCache = old })
}
