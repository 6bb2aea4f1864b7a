package web

import "strings"

// oauthText makes s fit for an error_description (RFC 6749 sections
// 4.1.2.1 and 5.2, RFC 6750 section 3): printable ASCII without '"' and
// '\'. Double quotes become single quotes, backslashes slashes, and any
// other character outside the set (such as a client's non-ASCII scope
// value echoed back) a question mark.
func oauthText(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '"':
			return '\''
		case r == '\\':
			return '/'
		case r < 0x20 || r > 0x7e:
			return '?'
		}
		return r
	}, s)
}
