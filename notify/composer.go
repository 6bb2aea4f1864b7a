package notify

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	texttemplate "text/template"
	"time"
	"unicode"

	"github.com/gatehouse/gatehouse"
)

//go:embed templates
var templateFS embed.FS

// Purposes of a one-time code.
const (
	PurposeSignUp = "signup" // verify the email address of a new account
	PurposeSignIn = "signin" // passwordless sign-in or the email OTP second factor
	PurposeReset  = "reset"  // self-service password reset
)

// DefaultAccentColor is the accent of mail whose tenant has none, or none
// that is a valid #rrggbb colour.
const DefaultAccentColor = "#2563eb"

// Branding is how a tenant's mail looks.
type Branding struct {
	TenantName  string // the tenant's URL name; shown when DisplayName is empty
	DisplayName string
	LogoURL     string // used only when https, or http on a loopback host
	AccentColor string // #rrggbb; DefaultAccentColor otherwise
}

// TenantBranding returns the branding of t's mail.
func TenantBranding(t *gatehouse.Tenant) Branding {
	return Branding{
		TenantName:  t.Name,
		DisplayName: t.DisplayName,
		LogoURL:     t.Branding.LogoURL,
		AccentColor: t.Branding.AccentColor,
	}
}

// CodeMail is an email that carries a one-time code.
type CodeMail struct {
	Branding  Branding
	To        string
	Code      string
	Purpose   string        // PurposeSignUp, PurposeSignIn or PurposeReset
	ExpiresIn time.Duration // how long the code is valid, e.g. 10 * time.Minute
	RequestIP string        // the IP address the code was requested from; optional
}

// purposes holds the subject (with the tenant's name as its one argument)
// and the opening sentence of each kind of code mail.
var purposes = map[string]struct{ subject, intro string }{
	PurposeSignUp: {"Your %s verification code", "Use this code to verify your email address and finish signing up for %s:"},
	PurposeSignIn: {"Your %s sign-in code", "Use this code to sign in to %s:"},
	PurposeReset:  {"Your %s password reset code", "Use this code to reset your %s password:"},
}

// Composer renders Gatehouse's mail from templates embedded in the binary,
// parsed once by NewComposer. It is safe for concurrent use.
type Composer struct {
	codeHTML, noticeHTML *htmltemplate.Template
	codeText, noticeText *texttemplate.Template
}

// NewComposer parses the mail templates.
func NewComposer() (*Composer, error) {
	var c Composer
	var err error
	if c.codeHTML, err = htmltemplate.ParseFS(templateFS, "templates/layout.html", "templates/code.html"); err != nil {
		return nil, fmt.Errorf("notify: parse code mail template: %w", err)
	}
	if c.noticeHTML, err = htmltemplate.ParseFS(templateFS, "templates/layout.html", "templates/notice.html"); err != nil {
		return nil, fmt.Errorf("notify: parse notice mail template: %w", err)
	}
	if c.codeText, err = texttemplate.ParseFS(templateFS, "templates/code.txt"); err != nil {
		return nil, fmt.Errorf("notify: parse code mail template: %w", err)
	}
	if c.noticeText, err = texttemplate.ParseFS(templateFS, "templates/notice.txt"); err != nil {
		return nil, fmt.Errorf("notify: parse notice mail template: %w", err)
	}
	return &c, nil
}

// frame is what the layout of every mail shows.
type frame struct {
	Subject string
	Name    string // the tenant's display name
	LogoURL string
	Accent  string
}

type codeData struct {
	frame
	Intro     string
	Code      string
	Expires   string
	RequestIP string
}

type noticeData struct {
	frame
	Text       string
	Paragraphs [][]string // of lines
}

var codeRE = regexp.MustCompile(`^[0-9A-Za-z-]{4,64}$`)

// Code returns the message that sends m.Code to m.To. The subject names the
// tenant and the purpose but never holds the code, which subjects would show
// on lock screens.
func (c *Composer) Code(m CodeMail) (Message, error) {
	p, ok := purposes[m.Purpose]
	if !ok {
		return Message{}, fmt.Errorf("notify: unknown code purpose %q", m.Purpose)
	}
	if !codeRE.MatchString(m.Code) {
		return Message{}, errors.New("notify: a code must be 4 to 64 letters, digits or hyphens")
	}
	if m.ExpiresIn < time.Second {
		return Message{}, fmt.Errorf("notify: code lifetime %v is too short", m.ExpiresIn)
	}
	if err := checkRecipient(m.To); err != nil {
		return Message{}, err
	}
	var ip string
	if m.RequestIP != "" {
		a, err := netip.ParseAddr(m.RequestIP)
		if err != nil {
			return Message{}, fmt.Errorf("notify: request IP %q is not an IP address", m.RequestIP)
		}
		ip = a.Unmap().String()
	}
	f, err := newFrame(m.Branding)
	if err != nil {
		return Message{}, err
	}
	f.Subject = fmt.Sprintf(p.subject, f.Name)
	d := codeData{
		frame:     f,
		Intro:     fmt.Sprintf(p.intro, f.Name),
		Code:      m.Code,
		Expires:   formatDuration(m.ExpiresIn),
		RequestIP: ip,
	}
	return render(m.To, f.Subject, c.codeText, c.codeHTML, d)
}

// Notice returns a security notice (a factor added or removed, a password
// or an email address changed: RL-5) with the given subject and text. Blank
// lines in text separate paragraphs.
func (c *Composer) Notice(b Branding, to, subject, text string) (Message, error) {
	subject = strings.TrimSpace(subject)
	if subject == "" || strings.ContainsFunc(subject, unicode.IsControl) {
		return Message{}, errors.New("notify: a notice needs a one-line subject")
	}
	text = strings.TrimSpace(strings.ReplaceAll(text, "\r\n", "\n"))
	if text == "" {
		return Message{}, errors.New("notify: a notice needs text")
	}
	if err := checkRecipient(to); err != nil {
		return Message{}, err
	}
	f, err := newFrame(b)
	if err != nil {
		return Message{}, err
	}
	f.Subject = subject
	d := noticeData{frame: f, Text: text}
	for _, para := range regexp.MustCompile(`\n\s*\n`).Split(text, -1) {
		var lines []string
		for _, l := range strings.Split(para, "\n") {
			lines = append(lines, strings.TrimSpace(l))
		}
		d.Paragraphs = append(d.Paragraphs, lines)
	}
	return render(to, subject, c.noticeText, c.noticeHTML, d)
}

func render(to, subject string, text *texttemplate.Template, html *htmltemplate.Template, data any) (Message, error) {
	var tb, hb bytes.Buffer
	if err := text.Execute(&tb, data); err != nil {
		return Message{}, fmt.Errorf("notify: render text mail: %w", err)
	}
	if err := html.ExecuteTemplate(&hb, "layout", data); err != nil {
		return Message{}, fmt.Errorf("notify: render HTML mail: %w", err)
	}
	return Message{To: to, Subject: subject, Text: tb.String(), HTML: hb.String()}, nil
}

func checkRecipient(to string) error {
	if to == "" || strings.ContainsFunc(to, unicode.IsControl) {
		return errors.New("notify: a message needs one recipient address")
	}
	return nil
}

var accentRE = regexp.MustCompile(`^#[0-9A-Fa-f]{6}$`)

func newFrame(b Branding) (frame, error) {
	f := frame{Name: cleanName(b.DisplayName), Accent: DefaultAccentColor, LogoURL: logoURL(b.LogoURL)}
	if f.Name == "" {
		f.Name = cleanName(b.TenantName)
	}
	if f.Name == "" {
		return frame{}, errors.New("notify: branding has no tenant name")
	}
	if accentRE.MatchString(b.AccentColor) {
		f.Accent = strings.ToLower(b.AccentColor)
	}
	return f, nil
}

const maxNameRunes = 80

// cleanName makes a display name fit for a subject line and a mail body:
// control and bidirectional-override characters become spaces, runs of
// space collapse, and the result is cut at maxNameRunes.
func cleanName(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == unicode.ReplacementChar {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > maxNameRunes {
		s = strings.TrimSpace(string(r[:maxNameRunes])) + "…"
	}
	return s
}

// logoURL returns raw if it is an https URL, or an http URL on a loopback
// host (for development), and "" otherwise.
func logoURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User != nil || u.Host == "" {
		return ""
	}
	switch {
	case u.Scheme == "https", u.Scheme == "http" && isLoopback(u.Hostname()):
		return u.String()
	}
	return ""
}

// isLoopback reports whether host is localhost or a loopback IP address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// formatDuration writes d for people: "10 minutes", "1 hour", "45 seconds".
func formatDuration(d time.Duration) string {
	unit := func(n int64, name string) string {
		if n == 1 {
			return "1 " + name
		}
		return strconv.FormatInt(n, 10) + " " + name + "s"
	}
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return unit(int64(d/time.Hour), "hour")
	case d >= time.Minute:
		return unit(int64(d.Round(time.Minute)/time.Minute), "minute")
	}
	return unit(int64(d.Round(time.Second)/time.Second), "second")
}
