package web

// CacheTTL is cacheTTL for the tests of package web_test.
const CacheTTL = cacheTTL

// GraphExamples are the policy bodies of Graph's documentation and
// Entra's exports (capolicy_shape_internal_test.go), for the tests of
// package web_test.
var GraphExamples = map[string]string{
	"example1": graphExample1, "example2": graphExample2, "example3": graphExample3, "example4": graphExample4,
	"example4Response": graphExample4Response, "entraSeedPolicy": entraSeedPolicy, "entraPhishingResistant": entraPhishingResistant,
	"entraEveryTime": entraEveryTime, "entraBlockLegacy": entraBlockLegacy,
}
