package notify

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// SMS is one text message to one phone.
type SMS struct {
	To   string // E.164, e.g. "+41446681800"
	Text string
}

// SMSSender delivers text messages. Implementations are safe for
// concurrent use.
type SMSSender interface {
	// Send delivers m or returns an error that wraps ErrUnavailable or
	// ErrRejected (the gateway refused the number or the message), whose
	// gatehouse.ErrorMessage speaks of a text message. It returns when ctx
	// is done, at the latest.
	Send(ctx context.Context, m SMS) error
}

// CodeSMS is a text message that carries a one-time code.
type CodeSMS struct {
	Branding  Branding
	To        string // E.164
	Code      string
	ExpiresIn time.Duration
	// Domain is the host name of the server's public URL: the message ends
	// with an origin-bound code line ("@id.example.com #123456"), with
	// which phones offer the code for that site only.
	Domain string
}

// phoneRE is an E.164 phone number.
var phoneRE = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)

// maxSMSNameRunes bounds the tenant name in a text message, which should
// fit one message (160 characters of the GSM alphabet).
const maxSMSNameRunes = 30

// Text returns the text message of m: the code first, so that it shows in
// notifications; the tenant's name; how long it lasts; a warning never to
// share it; and the origin-bound code line (WICG "Origin-bound one-time
// codes delivered via SMS").
func (m CodeSMS) Text() (SMS, error) {
	if !codeRE.MatchString(m.Code) {
		return SMS{}, errors.New("notify: a code must be 4 to 64 letters, digits or hyphens")
	}
	if m.ExpiresIn < time.Second {
		return SMS{}, fmt.Errorf("notify: code lifetime %v is too short", m.ExpiresIn)
	}
	if !phoneRE.MatchString(m.To) {
		return SMS{}, errors.New("notify: a text message needs one E.164 phone number")
	}
	if m.Domain == "" || strings.ContainsAny(m.Domain, " #@/:\r\n") {
		return SMS{}, fmt.Errorf("notify: %q is not a host name for an origin-bound code", m.Domain)
	}
	f, err := newFrame(m.Branding)
	if err != nil {
		return SMS{}, err
	}
	name := f.Name
	if r := []rune(name); len(r) > maxSMSNameRunes {
		name = strings.TrimSpace(string(r[:maxSMSNameRunes])) + "…"
	}
	text := fmt.Sprintf("%s is your %s code. It expires in %s. Never share it.\n\n@%s #%s",
		m.Code, name, formatDuration(m.ExpiresIn), strings.ToLower(m.Domain), m.Code)
	return SMS{To: m.To, Text: text}, nil
}

// RedactPhone returns an E.164 phone number with all but its first three
// and last two characters hidden, "+41…00", for logs and errors.
func RedactPhone(p string) string {
	if !phoneRE.MatchString(p) {
		return "…"
	}
	return p[:3] + "…" + p[len(p)-2:]
}
