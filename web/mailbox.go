package web

import (
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/gatehouse/gatehouse/notify"
)

// The development mailbox shows the mail and text messages a server in
// development mode (gatehouse demo, --dev-mailbox) would have sent, codes
// included. Its
// routes exist only when Options.Mailbox is set; `gatehouse serve` without
// --dev-mailbox never has them.

// mailRow is one message in the mailbox list.
type mailRow struct {
	Time, To, Subject, Href, Code string
}

// mailView is one message: its text, and its HTML part both rendered in a
// sandboxed frame (HTMLHref, handleMailboxHTML) and as escaped source.
type mailView struct {
	Time, To, Subject, Text, HTML, Code string
	HTMLHref                            string
}

// mailHTMLCSP is the Content-Security-Policy of a message's HTML part: a
// sandbox (an opaque origin, no scripts, no forms, no navigation of the
// page around it), inline styles and images as mail uses them, nothing
// else, and only the mailbox's own page may frame it: the one exception to
// frame-ancestors 'none' (AS-10), on a route only development mode has.
const mailHTMLCSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; frame-ancestors 'self'; base-uri 'none'; form-action 'none'"

var (
	mailCodeRE = regexp.MustCompile(`\b[0-9]{8}\b`)
	smsCodeRE  = regexp.MustCompile(`\b[0-9]{6}\b`)
)

// storedView returns what the mailbox shows of a message: text messages
// have no subject, and six-digit codes.
func storedView(m notify.Stored) (subject, code string) {
	if m.SMS {
		return "Text message", smsCodeRE.FindString(m.Text)
	}
	return m.Subject, mailCodeRE.FindString(m.Text)
}

func mailTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

// handleMailbox lists the received mail, newest first.
func (s *server) handleMailbox() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := &pageView{Title: "Development mailbox", Dev: true, Wide: true,
			Lead: []string{"What this server would have mailed or texted: codes and notices."}}
		for _, m := range s.Mailbox.Messages() {
			subject, code := storedView(m)
			v.Mail = append(v.Mail, mailRow{Time: mailTime(m.Time), To: m.To, Subject: subject,
				Href: s.basePath() + "/dev/mailbox/" + url.PathEscape(m.ID), Code: code})
		}
		s.renderPage(w, r, http.StatusOK, "mailbox", v)
	})
}

// handleMailboxMessage shows one received message.
func (s *server) handleMailboxMessage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m, ok := s.Mailbox.Message(r.PathValue("id"))
		if !ok {
			s.renderError(w, r, http.StatusNotFound, "That message is no longer in the development mailbox: it keeps only the newest messages, in memory.")
			return
		}
		subject, code := storedView(m)
		v := &mailView{Time: mailTime(m.Time), To: m.To, Subject: subject, Text: m.Text, HTML: m.HTML, Code: code}
		if m.HTML != "" {
			v.HTMLHref = s.basePath() + "/dev/mailbox/" + url.PathEscape(m.ID) + "/html"
		}
		s.renderPage(w, r, http.StatusOK, "mailmessage", &pageView{
			Title: subject, Dev: true, Wide: true, FramesSelf: v.HTMLHref != "",
			Message: v,
			Links:   []pageLink{{Text: "All mail", Href: s.basePath() + "/dev/mailbox"}},
		})
	})
}

// handleMailboxHTML serves the HTML part of one received message, for the
// frame of its page, under mailHTMLCSP.
func (s *server) handleMailboxHTML() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m, ok := s.Mailbox.Message(r.PathValue("id"))
		if !ok || m.HTML == "" {
			s.renderError(w, r, http.StatusNotFound, "That message has no HTML part, or is no longer in the development mailbox.")
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", mailHTMLCSP)
		h.Set("X-Frame-Options", "SAMEORIGIN")
		h.Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte(m.HTML))
	})
}
