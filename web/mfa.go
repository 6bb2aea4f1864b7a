package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/signin"
)

// Second factors in the sign-in: the page that lets the user choose among
// the methods the dispatcher offers, and each method's pages. A method
// the dispatcher offers has a page that verifies it (and, to be
// registered just in time, one that registers it); methodPages lists
// them.

// methodPage describes one method's pages in the sign-in.
type methodInfo struct {
	verify   string // the page that verifies the method, "" if none
	register string // the page that registers it, "" if none
	choose   string // the chooser's button for using it
	enroll   string // the chooser's button for registering it
	// ready, if set, reports whether the server can offer the method at
	// all (passkeys need a public URL that can be a relying party; text
	// messages an SMS gateway).
	ready func(s *server) bool
	// max is how many registrations of the method a user may have; 0
	// means maxMethodsPerKind.
	max int
}

var methodPages = map[string]methodInfo{
	gatehouse.MethodEmail: {verify: "/login/mfa/email", choose: "Email a code to my sign-in address"},
	gatehouse.MethodSMS: {verify: "/login/mfa/sms", register: "/login/register/sms", choose: "Text a code to my phone",
		enroll: "Get codes by text message", ready: (*server).smsConfigured, max: 1},
	gatehouse.MethodFido2: {verify: mfaPasskeyPath, register: registerPasskeyPath, choose: "Use a passkey", enroll: "Set up a passkey",
		ready: func(s *server) bool { return s.passkeys != nil }},
	gatehouse.MethodSoftwareOath: {verify: pathMFATOTP, register: pathRegisterTOTP,
		choose: "Use my authenticator app", enroll: "Set up an authenticator app"},
	gatehouse.MethodRecoveryCode: {verify: pathMFARecovery, choose: "Use a recovery code"},
}

// offerable reports whether the server can offer the method.
func (s *server) offerable(method string) bool {
	ready := methodPages[method].ready
	return ready == nil || ready(s)
}

// verifies reports whether the method has a page that verifies it.
func (s *server) verifies(method string) bool {
	return methodPages[method].verify != "" && s.offerable(method)
}

// registers reports whether the method can be registered in the sign-in.
func (s *server) registers(method string) bool {
	return methodPages[method].register != "" && s.offerable(method)
}

// maxRegistrations is how many registrations of the method a user may
// have.
func maxRegistrations(method string) int {
	if n := methodPages[method].max; n > 0 {
		return n
	}
	return maxMethodsPerKind
}

// methodPage returns the page of the method for a step.
func (s *server) methodPage(step signin.Step, method string) string {
	if step == signin.Register {
		return methodPages[method].register
	}
	return methodPages[method].verify
}

// maskMail hides most of an address's local part: j***@example.com.
func maskMail(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 {
		return "your email address"
	}
	local := []rune(addr[:at])
	return string(local[0]) + "***" + addr[at:]
}

// handleMFAPage is the chooser: the methods with which the user can
// complete the second factor, or register one, each a button that starts
// it on its own page.
func (s *server) handleMFAPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.startFlowPage(w, r)
		if !ok {
			return
		}
		u, ok := s.requestUser(w, r, p)
		if !ok {
			return
		}
		if u == nil {
			s.redirectTo(w, r, p, startPage(p))
			return
		}
		d, _, err := s.decide(r, p.t, p.ar, u, true)
		if err != nil {
			s.renderInternalError(w, r, err)
			return
		}
		if d.Step != signin.SecondFactor && d.Step != signin.Register {
			s.advance(w, r, p, u, nil)
			return
		}
		s.showChooser(w, r, p, u, d, http.StatusOK, "")
	})
}

// showChooser renders the chooser for the decision's methods.
func (s *server) showChooser(w http.ResponseWriter, r *http.Request, p *flowPage, u *gatehouse.User, d signin.Decision, status int, alert string) {
	v := &pageView{Title: "Verify it's you", Alert: alert}
	if d.Step == signin.Register {
		v.Title = "Add a way to verify it's you"
		v.Lead = []string{"This sign-in needs a second way to prove it's you. Choose one to set up now; you'll use it when you sign in from now on."}
	} else {
		v.Lead = []string{"This sign-in needs a second step for " + u.Mail + ". Choose how to verify it's you."}
	}
	for _, m := range d.Methods {
		info := methodPages[m]
		path, label := info.verify, info.choose
		if d.Step == signin.Register {
			path, label = info.register, info.enroll
		}
		f := s.form(p, path, label)
		f.Hidden = []pageHidden{{"action", "start"}}
		f.Class = "choice"
		v.Extra = append(v.Extra, f)
	}
	if d.Level >= gatehouse.LevelPhishingResistant {
		v.Lead = append(v.Lead, "This application needs a passkey: a code sent by email or text message, or from an authenticator app, won't do.")
	}
	s.show(w, r, p, status, v)
}

// secondFactorState checks that the request is at a step where the method
// may complete the second factor (step is signin.SecondFactor) or be
// registered, and returns the request's user. Otherwise it sends the
// browser on to where the sign-in stands and returns false.
func (s *server) secondFactorState(w http.ResponseWriter, r *http.Request, p *flowPage, method string, step signin.Step) (*gatehouse.User, bool) {
	u, ok := s.requestUser(w, r, p)
	if !ok {
		return nil, false
	}
	if u == nil {
		s.redirectTo(w, r, p, startPage(p))
		return nil, false
	}
	d, _, err := s.decide(r, p.t, p.ar, u, true)
	if err != nil {
		s.renderInternalError(w, r, err)
		return nil, false
	}
	if d.Step != step || !slices.Contains(d.Methods, method) {
		s.advance(w, r, p, u, nil)
		return nil, false
	}
	return u, true
}

// mfaEmailCodePage is where a user enters the code sent to their sign-in
// address as a second factor.
var mfaEmailCodePage = codePage{
	path:     "/login/mfa/email",
	logAs:    "Email OTP",
	restart:  "/login/mfa",
	title:    "Check your email",
	purposes: map[string]string{stepMFAEmail: gatehouse.CodeMFA},
	flowOK:   func(p *flowPage) bool { return true },
	masked:   true,
	advance: func(s *server, a *gatehouse.AuthRequest, purpose string) {
		recordSecondFactor(a, gatehouse.MethodUse{Method: gatehouse.MethodEmail, At: s.Now()})
	},
	next: func(s *server, w http.ResponseWriter, r *http.Request, p *flowPage, purpose string) {
		u, ok := s.requestUser(w, r, p)
		if !ok {
			return
		}
		s.advance(w, r, p, u, nil)
	},
}

// stepMFAEmail is the step of a request whose second-factor email code
// was sent.
const stepMFAEmail = "mfa-email"

// handleMFAEmailPage serves the email second factor: POST action=start
// sends a code to the user's sign-in address (EO-1 to EO-5; never after an
// email code first factor, EO-0), and the code page takes it from there.
func (s *server) handleMFAEmailPage() http.Handler {
	codes := s.handleCodePage(mfaEmailCodePage)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.startFlowPage(w, r)
		if !ok {
			return
		}
		u, ok := s.secondFactorState(w, r, p, gatehouse.MethodEmail, signin.SecondFactor)
		if !ok {
			return
		}
		start := r.Method == http.MethodPost && r.PostForm.Get("action") == "start"
		if !start && p.ar.Step == stepMFAEmail {
			codes.ServeHTTP(w, r)
			return
		}
		if !start {
			f := s.form(p, mfaEmailCodePage.path, "Send code")
			f.Hidden = []pageHidden{{"action", "start"}}
			s.show(w, r, p, http.StatusOK, &pageView{Title: "Verify it's you",
				Lead:  []string{"We'll send a code to " + maskMail(u.Mail) + "."},
				Form:  f,
				Links: []pageLink{s.link(p, "", "Use another way", "/login/mfa")}})
			return
		}
		err := s.sendEmailCode(r, p, codeRequest{purpose: gatehouse.CodeMFA, mail: u.Mail, step: stepMFAEmail})
		if ue := asUserError(err); ue != nil {
			d, _, derr := s.decide(r, p.t, p.ar, u, true)
			if derr != nil {
				s.renderInternalError(w, r, derr)
				return
			}
			s.showChooser(w, r, p, u, d, ue.status, ue.message)
			return
		} else if err != nil {
			s.renderInternalError(w, r, err)
			return
		}
		s.redirectTo(w, r, p, mfaEmailCodePage.path)
	})
}
