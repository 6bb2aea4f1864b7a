package web

// CacheTTL is cacheTTL for the tests of package web_test.
const CacheTTL = cacheTTL
