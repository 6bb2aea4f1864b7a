package policy

import (
	"strings"

	"github.com/gatehouse/gatehouse"
)

// platformMarks are the User-Agent tokens that tell each platform, in the
// order they are tried: ChromeOS (X11, but no platform of Entra's) first,
// Windows Phone before Windows and Android before
// Linux, whose tokens their User-Agents also carry; iPadOS, which asks
// for desktop pages as a Mac, is macOS, as in Entra.
var platformMarks = []struct {
	platform string
	tokens   []string
}{
	{gatehouse.PlatformUnknown, []string{"CrOS"}}, // ChromeOS, which Entra does not name
	{gatehouse.PlatformWindowsPhone, []string{"Windows Phone"}},
	{gatehouse.PlatformAndroid, []string{"Android"}},
	{gatehouse.PlatformIOS, []string{"iPhone", "iPad", "iPod", "iOS"}},
	{gatehouse.PlatformWindows, []string{"Windows NT", "Windows"}},
	{gatehouse.PlatformMacOS, []string{"Macintosh", "Mac OS X", "macOS"}},
	{gatehouse.PlatformLinux, []string{"Linux", "X11"}},
}

// ParsePlatform tells the device platform of a sign-in from its
// User-Agent header: one of gatehouse's Platform values, PlatformUnknown
// when no platform's token is there (ChromeOS and other systems, bots,
// an empty header). As in Entra, the User-Agent is the client's word: a
// platform condition is no security boundary.
func ParsePlatform(userAgent string) string {
	for _, m := range platformMarks {
		for _, t := range m.tokens {
			if strings.Contains(userAgent, t) {
				return m.platform
			}
		}
	}
	return gatehouse.PlatformUnknown
}
