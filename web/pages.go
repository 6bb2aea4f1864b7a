package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"mime"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
)

// The hosted pages are server-rendered html/template pages that work
// without JavaScript. Their templates and their one stylesheet are
// embedded in the binary and parsed when the server starts.

//go:embed templates/*.html
var pageTemplateFS embed.FS

//go:embed static
var pageStaticFS embed.FS

// Messages the pages show in more than one place.
const (
	msgFormExpired   = "This form has expired. Go back and try again."
	msgInternal      = "Something went wrong on our side."
	msgBusy          = "We're very busy right now. Please try again in a moment."
	msgFormUnread    = "The form could not be read. Go back and try again."
	msgNoSuchPage    = "There is no sign-in page at this address. Check the link, or go back to the application and sign in again."
	msgFlowMissing   = "This application is not connected to a sign-up and sign-in user flow, so you can't sign in to it here. Its administrator can add it to a user flow."
	msgSignUpOff     = "You can't create an account for this application here. Ask the application's administrator for an account."
	msgResetOff      = "This application signs you in with a code sent by email, so there is no password to reset."
	msgAccountFailed = "We couldn't create your account. If you already have one, sign in instead."
)

// maxPageForm is the largest form body a hosted page accepts.
const maxPageForm = 64 << 10

// pageTemplates are the parsed page templates by name: each is the layout
// together with one content template.
type pageTemplates map[string]*template.Template

var pageTemplateNames = []string{"form", "message", "mailbox", "mailmessage", "home", "account", "mfasetup"}

// parsePageTemplates parses every page template; NewServer calls it once.
func parsePageTemplates() (pageTemplates, error) {
	layout, err := template.ParseFS(pageTemplateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("web: parse page layout: %w", err)
	}
	out := pageTemplates{}
	for _, name := range pageTemplateNames {
		t, err := layout.Clone()
		if err != nil {
			return nil, err
		}
		if _, err := t.ParseFS(pageTemplateFS, "templates/"+name+".html"); err != nil {
			return nil, fmt.Errorf("web: parse page template %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// staticFile is an embedded file served under /static/.
type staticFile struct {
	body        []byte
	contentType string
	version     string // a hash of body, for cache busting
}

// loadStaticFiles reads the embedded static files.
func loadStaticFiles() (map[string]staticFile, error) {
	out := map[string]staticFile{}
	err := fs.WalkDir(pageStaticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := pageStaticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ct := mime.TypeByExtension(path.Ext(p))
		if ct == "" {
			ct = "application/octet-stream"
		}
		out[strings.TrimPrefix(p, "static/")] = staticFile{body: body, contentType: ct, version: hex.EncodeToString(sum[:6])}
		return nil
	})
	return out, err
}

// pageRoutes registers the hosted pages of every tenant, their static
// files and, in development mode only, the development mailbox.
func (s *server) pageRoutes(mux *router) {
	// One exact pattern per file: a "/static/" prefix pattern would conflict
	// with the per-tenant patterns ("static" is a reserved tenant name).
	for name := range s.static {
		mux.Handle("GET /static/"+name, s.handleStatic(name))
	}
	page := func(pattern string, h http.Handler) { mux.Handle(pattern, s.withPageTenant(h)) }
	page("GET /{tenant}/branding.css", s.handleBrandingCSS())
	for _, m := range []string{"GET", "POST"} {
		page(m+" /{tenant}/login", s.handleLoginPage())
		page(m+" /{tenant}/login/email", s.handleEmailLoginPage())
		page(m+" /{tenant}/login/code", s.handleCodePage(loginCodePage))
		page(m+" /{tenant}/signup", s.handleSignUpPage())
		page(m+" /{tenant}/signup/code", s.handleCodePage(signUpCodePage))
		page(m+" /{tenant}/signup/details", s.handleSignUpDetailsPage())
		page(m+" /{tenant}/reset", s.handleResetPage())
		page(m+" /{tenant}/reset/code", s.handleCodePage(resetCodePage))
		page(m+" /{tenant}/reset/password", s.handleResetPasswordPage())
		page(m+" /{tenant}/login/mfa", s.handleMFAPage())
		page(m+" /{tenant}/login/mfa/email", s.handleMFAEmailPage())
		page(m+" /{tenant}/login/mfa/sms", s.handleMFASMSPage())
		page(m+" /{tenant}/login/register/sms", s.handleRegisterSMSPage())
		page(m+" /{tenant}/account/security", s.handleAccountPage())
		page(m+" /{tenant}"+mfaPasskeyPath, s.handleMFAPasskeyPage())
		page(m+" /{tenant}"+registerPasskeyPath, s.handleRegisterPasskeyPage())
		page(m+" /{tenant}"+passkeySignInPath, s.handlePasskeySignInPage())
		page(m+" /{tenant}"+pathMFATOTP, s.handleCodeMethodPage(totpMethod))
		page(m+" /{tenant}"+pathRegisterTOTP, s.handleRegisterTOTPPage())
		page(m+" /{tenant}"+pathMFARecovery, s.handleCodeMethodPage(recoveryMethod))
		page(m+" /{tenant}"+pathRecoveryCodes, s.handleRecoveryCodesPage())
		page(m+" /{tenant}"+pathChangePassword, s.handleChangePasswordPage())
	}
	page("GET /{tenant}/login/continue", s.handleContinuePage())
	page("GET /{tenant}/reset/done", s.handleResetDonePage())
	if s.Mailbox != nil {
		mux.Handle("GET /dev/mailbox", s.handleMailbox())
		mux.Handle("GET /dev/mailbox/{id}", s.handleMailboxMessage())
		mux.Handle("GET /dev/mailbox/{id}/html", s.handleMailboxHTML())
	}
}

// withPageTenant resolves the {tenant} path segment of a hosted page; an
// unknown tenant gets a page that reveals nothing else.
func (s *server) withPageTenant(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, err := s.cache.pageTenant(r.Context(), s.Store, r.PathValue("tenant"))
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			s.renderError(w, r, http.StatusNotFound, msgNoSuchPage)
			return
		} else if err != nil {
			s.renderInternalError(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxTenant, t)))
	})
}

// basePath is the path of the public URL ("" when Gatehouse is served at
// the root), which every link of the pages starts with.
func (s *server) basePath() string {
	u, err := url.Parse(s.PublicURL)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(u.Path, "/")
}

// tenantPath returns the path of one of the tenant's pages.
func (s *server) tenantPath(t *gatehouse.Tenant, p string) string {
	return s.basePath() + "/" + t.Name + p
}

// txPath returns the path of one of the tenant's pages for an
// authorization request in progress.
func (s *server) txPath(t *gatehouse.Tenant, p, tx string) string {
	return s.tenantPath(t, p) + "?tx=" + url.QueryEscape(tx)
}

func (s *server) staticURL(name string) string {
	f := s.static[name]
	return s.basePath() + "/static/" + name + "?v=" + f.version
}

// pageView is what the page templates show. Every page has a title and
// the tenant's branding; the rest depends on the page.
type pageView struct {
	Title string
	Lead  []string // paragraphs under the heading
	// Notice is a status message; Alert an error about the whole form,
	// which inputs it concerns point to with aria-describedby="form-error".
	Notice, Alert string
	Form          *pageForm
	Extra         []*pageForm // further forms, such as "Send a new code"
	Links         []pageLink
	Body          []string // paragraphs of a message page
	CorrelationID string

	Brand    pageBrand
	StyleURL string
	// Script is the URL of the page's one script (the WebAuthn pages'
	// webauthn.js), "" for the pages that have none.
	Script    string
	BodyClass string
	Wide      bool
	Dev       bool
	// FramesSelf lets the page frame pages of this server (the HTML part
	// of a message in the development mailbox).
	FramesSelf bool

	TOTP  *totpView // an authenticator app being set up
	Codes []string  // new recovery codes, shown once

	Mail    []mailRow // the development mailbox
	Message *mailView

	// The security info page: the user's methods, the form each removal
	// posts (with the method's ID), and the heading of the Extra forms.
	Methods      []accountRow
	MethodsForm  *pageForm
	ExtraHeading string
	Home         *homeView // the root pages
}

// pageBrand is how the page shows the tenant.
type pageBrand struct {
	Name     string
	LogoURL  string
	StyleURL string // the tenant's branding.css, when it has an accent colour
}

// pageForm is one POST form of a page. Every form carries the
// authorization request (tx) and its anti-forgery token (FE-1).
type pageForm struct {
	Action       string
	TX, CSRF     string
	Hidden       []pageHidden
	Fields       []pageField
	Submit       string
	Secondary    bool
	Class        string
	RequiredNote bool
	// WebAuthn, on the form of a passkey page, holds the options of its
	// ceremony (JSON) and Ceremony says which: "create" or "get".
	// webauthn.js runs the ceremony when the form is submitted and posts
	// its result in the hidden credential input.
	WebAuthn, Ceremony string
}

type pageHidden struct{ Name, Value string }

// pageField is one input with its visible label. Error is the message
// about this input; AlertLinked ties the input to the page's Alert. Marked
// (the "*" of a required input) is set by markRequired.
type pageField struct {
	ID, Name, Label, Type, Value  string
	Autocomplete, InputMode, Hint string
	Pattern                       string
	MaxLength                     int
	Required, Marked, Checked     bool
	NoSpell                       bool
	Error                         string
	AlertLinked                   bool
	Autofocus, Invalid            bool
	DescribedBy                   string
}

type pageLink struct{ Before, Text, Href string }

// focusFields finishes a form's inputs for assistive technology: each input
// names its hint and error with aria-describedby and is marked invalid when
// it has an error, and the first input with an error (or else the first
// input) gets the focus.
func focusFields(fields []pageField) {
	focus := -1
	for i := range fields {
		f := &fields[i]
		var ids []string
		if f.Hint != "" {
			ids = append(ids, f.ID+"-hint")
		}
		if f.Error != "" {
			ids = append(ids, f.ID+"-error")
		}
		if f.AlertLinked {
			ids = append(ids, "form-error")
		}
		f.DescribedBy = strings.Join(ids, " ")
		f.Invalid = f.Error != "" || f.AlertLinked
		f.Autofocus = false
		if f.Invalid && focus < 0 {
			focus = i
		}
	}
	if focus < 0 && len(fields) > 0 {
		focus = 0
	}
	if focus >= 0 {
		fields[focus].Autofocus = true
	}
}

// markRequired marks the required inputs of a form that also has optional
// ones with "*" and says so above them. A form whose inputs are all
// required (sign-in, a code, a new password) marks none: there is nothing
// to tell apart.
func markRequired(f *pageForm) {
	var required, optional bool
	for _, fd := range f.Fields {
		required = required || fd.Required
		optional = optional || !fd.Required
	}
	f.RequiredNote = required && optional
	for i := range f.Fields {
		f.Fields[i].Marked = f.RequiredNote && f.Fields[i].Required
	}
}

// Standard inputs. Their labels are stable: tests, password managers and
// browser automation find them by these names.
func emailField(value, autocomplete string) pageField {
	return pageField{ID: "email", Name: "email", Label: "Email address", Type: "email", Value: value,
		Autocomplete: autocomplete, MaxLength: 254, Required: true, NoSpell: true}
}

func passwordField() pageField {
	return pageField{ID: "password", Name: "password", Label: "Password", Type: "password",
		Autocomplete: "current-password", Required: true}
}

// newPasswordField is the field of a new password, whose hint gives the
// policy's minimum length.
func (s *server) newPasswordField() pageField {
	return pageField{ID: "password", Name: "password", Label: "New password", Type: "password",
		Autocomplete: "new-password", Required: true,
		Hint: fmt.Sprintf("Use at least %d characters. A few unrelated words make a strong password.", s.passwordPolicy().Min())}
}

func codeField() pageField {
	return pageField{ID: "code", Name: "code", Label: "Code", Type: "text", InputMode: "numeric",
		Autocomplete: "one-time-code", Pattern: "[0-9 ]*", MaxLength: 12, Required: true, NoSpell: true}
}

// renderPage writes a page with the Content-Security-Policy of the hosted
// pages; redirectTo are the addresses a form on the page may end up at (the
// application's redirect URI, after the 303 of a successful sign-in).
func (s *server) renderPage(w http.ResponseWriter, r *http.Request, status int, name string, v *pageView, redirectTo ...string) {
	if t := tenantFrom(r.Context()); t != nil && v.Brand.Name == "" {
		v.Brand = s.pageBrand(t)
	}
	v.StyleURL = s.staticURL("pages.css")
	for _, f := range append([]*pageForm{v.Form}, v.Extra...) {
		if f != nil {
			markRequired(f)
		}
	}
	if v.Form != nil {
		focusFields(v.Form.Fields)
	}
	var buf bytes.Buffer
	tmpl := s.pages[name]
	if tmpl == nil {
		s.Logger.ErrorContext(r.Context(), "page template missing", "template", name, "correlation_id", correlationID(r.Context()))
		http.Error(w, msgInternal, http.StatusInternalServerError)
		return
	}
	if err := tmpl.ExecuteTemplate(&buf, "layout", v); err != nil {
		s.Logger.ErrorContext(r.Context(), "render page", "template", name, "err", err, "correlation_id", correlationID(r.Context()))
		http.Error(w, msgInternal, http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	csp := pageCSP(v.Brand.LogoURL, redirectTo...)
	if v.FramesSelf {
		csp += "; frame-src 'self'"
	}
	h.Set("Content-Security-Policy", csp)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// errorTitles are the headings of error pages by status.
var errorTitles = map[int]string{
	http.StatusBadRequest:          "We can't continue",
	http.StatusForbidden:           "We can't continue",
	http.StatusNotFound:            "Page not available",
	http.StatusConflict:            "We can't continue",
	http.StatusTooManyRequests:     "Too many attempts",
	http.StatusInternalServerError: "Something went wrong",
	http.StatusServiceUnavailable:  "Please try again later",
}

func errorTitle(status int) string {
	if t := errorTitles[status]; t != "" {
		return t
	}
	return "We can't continue"
}

// renderError shows a page with a message for people, in the tenant's
// branding when the tenant is known, and the correlation ID for support.
func (s *server) renderError(w http.ResponseWriter, r *http.Request, status int, message string) {
	s.renderPage(w, r, status, "message", &pageView{Title: errorTitle(status), Body: []string{message}, CorrelationID: correlationID(r.Context())})
}

// renderInternalError logs err with the correlation ID and shows only that
// something went wrong; a saturated password hasher (EBUSY) asks the user
// to try again in a moment.
func (s *server) renderInternalError(w http.ResponseWriter, r *http.Request, err error) {
	if gatehouse.ErrorCode(err) == gatehouse.EBUSY {
		s.Logger.WarnContext(r.Context(), "busy", "err", err, "correlation_id", correlationID(r.Context()), "route", r.Pattern)
		w.Header().Set("Retry-After", retryAfterBusy)
		s.renderError(w, r, http.StatusServiceUnavailable, msgBusy)
		return
	}
	s.Logger.ErrorContext(r.Context(), "internal error", "err", err, "correlation_id", correlationID(r.Context()), "route", r.Pattern)
	s.renderError(w, r, http.StatusInternalServerError, msgInternal)
}

// pageAccentRE is a valid accent colour.
var pageAccentRE = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// pageBrand returns how the pages show t: its name, its logo (an https
// URL, or http on a loopback host for development, as the branding API
// accepts), and its accent colour.
func (s *server) pageBrand(t *gatehouse.Tenant) pageBrand {
	b := pageBrand{Name: tenantDisplayName(t)}
	if u, err := url.Parse(t.Branding.LogoURL); err == nil && u.Host != "" && u.User == nil &&
		(u.Scheme == "https" || u.Scheme == "http" && gatehouse.IsLoopbackHost(u.Hostname())) {
		b.LogoURL = u.String()
	}
	if c := t.Branding.AccentColor; pageAccentRE.MatchString(c) {
		b.StyleURL = s.tenantPath(t, "/branding.css") + "?v=" + strings.ToLower(c[1:])
	}
	return b
}

// handleBrandingCSS serves the tenant's accent colour as CSS variables: the
// pages' CSP allows styles from this server only, never inline.
func (s *server) handleBrandingCSS() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := tenantFrom(r.Context())
		var css string
		if c := t.Branding.AccentColor; pageAccentRE.MatchString(c) {
			c = strings.ToLower(c)
			css = fmt.Sprintf(":root { --accent: %s; --accent-ink: %s; }\n", c, inkFor(c))
		}
		h := w.Header()
		h.Set("Content-Type", "text/css; charset=utf-8")
		if r.URL.Query().Get("v") != "" {
			h.Set("Cache-Control", "public, max-age=86400")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		_, _ = w.Write([]byte(css))
	})
}

// inkFor returns the text colour, white or near-black, that contrasts more
// with the background colour bg (#rrggbb), by WCAG relative luminance.
func inkFor(bg string) string {
	lin := func(h string) float64 {
		v, _ := strconv.ParseUint(h, 16, 8)
		c := float64(v) / 255
		if c <= 0.04045 {
			return c / 12.92
		}
		return math.Pow((c+0.055)/1.055, 2.4)
	}
	l := 0.2126*lin(bg[1:3]) + 0.7152*lin(bg[3:5]) + 0.0722*lin(bg[5:7])
	onWhite := 1.05 / (l + 0.05)
	const darkL = 0.0080 // #111827
	onDark := (l + 0.05) / (darkL + 0.05)
	if onWhite >= onDark || onWhite >= 4.5 {
		return "#ffffff"
	}
	return "#111827"
}

// handleStatic serves one embedded static file; a request that names the
// file's current version may cache it for good.
func (s *server) handleStatic(name string) http.Handler {
	f := s.static[name]
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", f.contentType)
		h.Set("ETag", `"`+f.version+`"`)
		if r.URL.Query().Get("v") == f.version {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(f.body))
	})
}

// flowPage is the state every page of a sign-in in progress starts from:
// the tenant, the authorization request (checked to belong to this
// browser and not expired), the application's user flow and the
// anti-forgery token of the request's forms.
type flowPage struct {
	t    *gatehouse.Tenant
	ar   *gatehouse.AuthRequest
	flow *gatehouse.UserFlow
	csrf string
}

// startFlowPage loads the flowPage of the request named by the tx
// parameter. A POST must carry the request's anti-forgery token; it is
// checked before anything else. On failure it has written an error page
// and returns false.
func (s *server) startFlowPage(w http.ResponseWriter, r *http.Request) (*flowPage, bool) {
	t := tenantFrom(r.Context())
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxPageForm)
		if err := r.ParseForm(); err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				s.renderError(w, r, http.StatusRequestEntityTooLarge, msgFormUnread)
				return nil, false
			}
			s.renderError(w, r, http.StatusBadRequest, msgFormUnread)
			return nil, false
		}
		if !s.checkCSRF(r, t.Name, r.PostForm.Get("tx")) {
			s.Logger.InfoContext(r.Context(), "page form refused: anti-forgery token missing or wrong", "tenant", t.Name, "route", r.Pattern, "correlation_id", correlationID(r.Context()))
			s.renderError(w, r, http.StatusForbidden, msgFormExpired)
			return nil, false
		}
	}
	ar, err := s.loadAuthRequest(r)
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		s.renderError(w, r, http.StatusBadRequest, gatehouse.ErrorMessage(err))
		return nil, false
	} else if err != nil {
		s.renderInternalError(w, r, err)
		return nil, false
	}
	if ar.Purpose == gatehouse.PurposeAccount {
		var u *gatehouse.User
		if ar.UserID != "" {
			if u, err = s.Store.User(r.Context(), t.ID, ar.UserID); err != nil && gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
				s.renderInternalError(w, r, err)
				return nil, false
			}
		}
		return &flowPage{t: t, ar: ar, flow: accountFlow(t, u), csrf: s.csrfToken(s.existingBinding(r, t.Name), ar.ID)}, true
	}
	flow, err := s.userFlowFor(r.Context(), t, ar.ClientID)
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		s.renderError(w, r, http.StatusBadRequest, msgFlowMissing)
		return nil, false
	} else if err != nil {
		s.renderInternalError(w, r, err)
		return nil, false
	}
	return &flowPage{t: t, ar: ar, flow: flow, csrf: s.csrfToken(s.existingBinding(r, t.Name), ar.ID)}, true
}

// passwordFlow reports whether the flow signs users in with a password.
func (p *flowPage) passwordFlow() bool {
	return p.flow.IdentityProvider == gatehouse.IdentityProviderEmailPassword
}

// form returns a form that posts to the page at path.
func (s *server) form(p *flowPage, pagePath, submit string, fields ...pageField) *pageForm {
	return &pageForm{Action: s.tenantPath(p.t, pagePath), TX: p.ar.ID, CSRF: p.csrf, Fields: fields, Submit: submit}
}

// link returns a link to the page at path for the request in progress.
func (s *server) link(p *flowPage, before, text, pagePath string) pageLink {
	return pageLink{Before: before, Text: text, Href: s.txPath(p.t, pagePath, p.ar.ID)}
}

// show renders a page of the request in progress; its forms may lead to
// the application's redirect URI.
func (s *server) show(w http.ResponseWriter, r *http.Request, p *flowPage, status int, v *pageView) {
	s.renderPage(w, r, status, "form", v, p.ar.RedirectURI)
}

// showError renders an error page of the request in progress.
func (s *server) showError(w http.ResponseWriter, r *http.Request, p *flowPage, status int, message string, links ...pageLink) {
	s.renderPage(w, r, status, "message", &pageView{Title: errorTitle(status), Body: []string{message}, Links: links,
		CorrelationID: correlationID(r.Context())}, p.ar.RedirectURI)
}

// redirectTo sends the browser to another page of the request in
// progress, with 303 so that a POST is never replayed (AS-11).
func (s *server) redirectTo(w http.ResponseWriter, r *http.Request, p *flowPage, pagePath string) {
	http.Redirect(w, r, s.txPath(p.t, pagePath, p.ar.ID), http.StatusSeeOther)
}

// userError is a failure with a message for the person at the browser and
// the status of the page that shows it. Internal errors are never shown;
// they are logged and replaced by msgInternal.
type userError struct {
	status  int
	message string
}

func (e *userError) Error() string { return e.message }

// asUserError returns err's userError, or nil for other errors.
func asUserError(err error) *userError {
	var ue *userError
	if errors.As(err, &ue) {
		return ue
	}
	return nil
}

// mailDomain returns the domain of an address, for logs that must not name
// people.
func mailDomain(addr string) string {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return "?"
	}
	return strings.ToLower(addr[i+1:])
}

// checkMailInput validates an address typed into a page
// (gatehouse.CanonicalMail: fullwidth forms fold, lookalike and invisible
// characters are refused) and returns the message for the field, or "".
func checkMailInput(addr string) string {
	if addr == "" {
		return "Enter your email address."
	}
	_, err := gatehouse.CanonicalMail("mail", addr)
	var e *gatehouse.Error
	if err == nil || !errors.As(err, &e) {
		return ""
	}
	switch e.Reason {
	case gatehouse.ReasonMailInvisible:
		return "Your email address contains an invisible character. Type it again instead of pasting it."
	case gatehouse.ReasonMailNotASCII:
		return "Use only the letters a to z, digits and punctuation before the @ of your email address."
	case gatehouse.ReasonMailDomain:
		return "The part after the @ is not a domain name that can receive email."
	}
	return "Enter an email address like name@example.com."
}

// pageMail returns an address typed into a page as Gatehouse stores it;
// one checkMailInput refused comes back trimmed, as typed.
func pageMail(addr string) string {
	addr = strings.TrimSpace(addr)
	if c, err := gatehouse.CanonicalMail("mail", addr); err == nil {
		return c
	}
	return addr
}
