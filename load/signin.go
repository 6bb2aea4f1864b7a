package load

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Steps of a sign-in, in order, as Observer and StepError name them.
const (
	StepAuthorize = "authorize"  // GET the authorization endpoint: a redirect to the sign-in page
	StepLoginPage = "login page" // GET the hosted sign-in page
	StepPassword  = "password"   // POST the sign-in form: a redirect to the app with a code
	// StepSecondFactor is the email code after the password, when the
	// sign-in asks for one (SignInOptions.EmailCode).
	StepSecondFactor = "second factor"
	StepToken        = "token"    // exchange the code at the token endpoint
	StepIDToken      = "id token" // verify the ID token (no request)
	StepSignIn       = "sign-in"  // all of the above
)

// Observer receives the duration of each step that succeeded.
type Observer func(step string, d time.Duration)

func (o Observer) observe(step string, start time.Time) {
	if o != nil {
		o(step, time.Since(start))
	}
}

// maxPageHops bounds the redirects between the authorization endpoint and
// the sign-in form.
const maxPageHops = 5

// SignIn signs mail in with password, completely and from a new browser
// (see Client): the authorization request with PKCE (S256), state and a
// nonce, the hosted sign-in form, the code exchange, and the ID token's
// verification (signature, issuer, audience, expiry, nonce). It reports
// the duration of each step to obs, which may be nil, and returns the
// tokens. Its errors are *StepError.
func (c *Client) SignIn(ctx context.Context, mail, password string, obs Observer) (*oauth2.Token, error) {
	return c.SignInWith(ctx, mail, password, SignInOptions{}, obs)
}

// SignInOptions change what a sign-in asks for.
type SignInOptions struct {
	// ACRValues is sent as acr_values ("2" asks for multifactor
	// authentication).
	ACRValues string
	// EmailCode, when set, completes an email second factor the sign-in
	// asks for after the password: it returns the code sent to mail
	// (read from a test SMTP server, say).
	EmailCode func(ctx context.Context, mail string) (string, error)
}

// SignInWith is SignIn with options: acr_values, and the email second
// factor the sign-in then asks for (StepSecondFactor).
func (c *Client) SignInWith(ctx context.Context, mail, password string, o SignInOptions, obs Observer) (*oauth2.Token, error) {
	a, err := c.Authorize(ctx, mail, password, o, obs)
	if err != nil {
		return nil, err
	}
	return c.Redeem(ctx, a, obs)
}

// Authorization is a sign-in up to its code: what the application holds
// when the browser comes back to it, before it redeems the code.
type Authorization struct {
	Code     string
	Verifier string // the PKCE code verifier
	Nonce    string
	start    time.Time
}

// Authorize is the browser's part of SignInWith: from the authorization
// request to the redirect to the application, whose code it returns with
// the PKCE verifier and nonce that Redeem needs. The code is valid for a
// minute. Its errors are *StepError.
func (c *Client) Authorize(ctx context.Context, mail, password string, o SignInOptions, obs Observer) (*Authorization, error) {
	start := time.Now()
	b := c.newBrowser()
	defer b.close()
	verifier := oauth2.GenerateVerifier()
	state, nonce := randomString(), randomString()

	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce)}
	if o.ACRValues != "" {
		opts = append(opts, oauth2.SetAuthURLParam("acr_values", o.ACRValues))
	}
	form, target, err := c.loginForm(ctx, b, c.oauth.AuthCodeURL(state, opts...), obs)
	if err != nil {
		return nil, err
	}

	// The password, answered with a redirect to the app with a code, or
	// to the second factor's page.
	t := time.Now()
	resp, err := b.fetch(ctx, "POST", target, strings.NewReader(form.values(mail, password).Encode()), c.origin)
	if err != nil {
		return nil, stepErr(StepPassword, err)
	}
	step := StepPassword
	if o.EmailCode != nil && !c.toApp(resp) {
		obs.observe(StepPassword, t)
		t, step = time.Now(), StepSecondFactor
		if resp, err = c.emailSecondFactor(ctx, b, resp, mail, o.EmailCode); err != nil {
			return nil, err
		}
	}
	code, err := c.callback(resp, state)
	if err != nil {
		return nil, err
	}
	obs.observe(step, t)
	return &Authorization{Code: code, Verifier: verifier, Nonce: nonce, start: start}, nil
}

// Redeem is the application's part of SignInWith: it exchanges the code
// of a at the token endpoint and verifies the ID token. Its errors are
// *StepError.
func (c *Client) Redeem(ctx context.Context, a *Authorization, obs Observer) (*oauth2.Token, error) {
	t := time.Now()
	tok, err := c.oauth.Exchange(c.appContext(ctx), a.Code, oauth2.VerifierOption(a.Verifier))
	if err != nil {
		return nil, stepErr(StepToken, err)
	}
	obs.observe(StepToken, t)
	t = time.Now()
	if err := c.verifyID(ctx, tok, a.Nonce); err != nil {
		return nil, err
	}
	obs.observe(StepIDToken, t)
	if !a.start.IsZero() {
		obs.observe(StepSignIn, a.start)
	}
	return tok, nil
}

// loginForm takes browser b from the authorization request authURL to
// the hosted sign-in form, and returns the form and the URL it posts to.
// It reports the duration of the authorization request and of the sign-in
// page to obs, which may be nil.
func (c *Client) loginForm(ctx context.Context, b *browser, authURL string, obs Observer) (*signInForm, string, error) {
	page, err := c.loginPage(ctx, b, authURL, obs)
	if err != nil {
		return nil, "", err
	}
	form, err := passwordForm(page.body)
	if err != nil {
		return nil, "", failf(StepLoginPage, "no password form", "%s: %v", page.url.Path, err)
	}
	target, err := page.url.Parse(form.action)
	if err != nil || !c.sameOrigin(target.String()) {
		return nil, "", failf(StepLoginPage, "foreign form", "the sign-in form posts to %q", form.action)
	}
	return form, target.String(), nil
}

// loginPage takes browser b from the authorization request authURL to
// the hosted sign-in page, and returns it. It reports the duration of the
// authorization request and of the sign-in page to obs, which may be nil.
func (c *Client) loginPage(ctx context.Context, b *browser, authURL string, obs Observer) (*response, error) {
	// The authorization request, answered with a redirect to the sign-in
	// page (a fresh browser has no session).
	t := time.Now()
	resp, err := b.fetch(ctx, "GET", authURL, nil, "")
	if err != nil {
		return nil, stepErr(StepAuthorize, err)
	}
	next, err := c.nextHop(StepAuthorize, resp)
	if err != nil {
		return nil, err
	}
	obs.observe(StepAuthorize, t)

	// The sign-in page, after any further redirects of the hosted pages.
	t = time.Now()
	var page *response
	for hop := 0; page == nil; hop++ {
		if hop == maxPageHops {
			return nil, failf(StepLoginPage, "redirect loop", "more than %d redirects after the authorization request", maxPageHops)
		}
		resp, err := b.fetch(ctx, "GET", next.String(), nil, "")
		if err != nil {
			return nil, stepErr(StepLoginPage, err)
		}
		if resp.status == http.StatusOK {
			page = resp
		} else if next, err = c.nextHop(StepLoginPage, resp); err != nil {
			return nil, err
		}
	}
	obs.observe(StepLoginPage, t)
	return page, nil
}

// toApp reports whether r redirects to the app.
func (c *Client) toApp(r *response) bool {
	loc, err := r.url.Parse(r.location)
	return r.location != "" && err == nil && c.isRedirectURI(loc)
}

// emailSecondFactor follows the redirect r to the email second factor's
// page, asks for the code, enters what code returns, and returns the
// response to the code: the redirect to the app.
func (c *Client) emailSecondFactor(ctx context.Context, b *browser, r *response, mail string, code func(context.Context, string) (string, error)) (*response, error) {
	page, err := c.follow(ctx, b, StepSecondFactor, r)
	if err != nil {
		return nil, err
	}
	send, target, err := c.postForm(StepSecondFactor, page, func(v url.Values) bool { return v.Get("action") == "start" })
	if err != nil {
		return nil, err
	}
	if r, err = b.fetch(ctx, "POST", target, strings.NewReader(send.Encode()), c.origin); err != nil {
		return nil, stepErr(StepSecondFactor, err)
	}
	if page, err = c.follow(ctx, b, StepSecondFactor, r); err != nil {
		return nil, err
	}
	enter, target, err := c.postForm(StepSecondFactor, page, func(v url.Values) bool { return v.Has("code") })
	if err != nil {
		return nil, err
	}
	sent, err := code(ctx, mail)
	if err != nil {
		return nil, failf(StepSecondFactor, "no code", "%v", err)
	}
	enter.Set("code", sent)
	if r, err = b.fetch(ctx, "POST", target, strings.NewReader(enter.Encode()), c.origin); err != nil {
		return nil, stepErr(StepSecondFactor, err)
	}
	return r, nil
}

// follow takes the redirects of the hosted pages from r to a page.
func (c *Client) follow(ctx context.Context, b *browser, step string, r *response) (*response, error) {
	for hop := 0; r.status != http.StatusOK; hop++ {
		if hop == maxPageHops {
			return nil, failf(step, "redirect loop", "more than %d redirects", maxPageHops)
		}
		next, err := c.nextHop(step, r)
		if err != nil {
			return nil, err
		}
		if r, err = b.fetch(ctx, "GET", next.String(), nil, ""); err != nil {
			return nil, stepErr(step, err)
		}
	}
	return r, nil
}

// postForm returns the values and the target of the page's first POST
// form whose values match.
func (c *Client) postForm(step string, page *response, match func(url.Values) bool) (url.Values, string, error) {
	for _, f := range formRE.FindAllStringSubmatch(page.body, -1) {
		fa := attrs(f[1])
		if !strings.EqualFold(fa["method"], "post") {
			continue
		}
		vals := url.Values{}
		for _, in := range inputRE.FindAllStringSubmatch(f[2], -1) {
			if a := attrs(in[1]); a["name"] != "" {
				vals.Set(a["name"], a["value"])
			}
		}
		if !match(vals) {
			continue
		}
		target, err := page.url.Parse(fa["action"])
		if err != nil || !c.sameOrigin(target.String()) {
			return nil, "", failf(step, "foreign form", "the form posts to %q", fa["action"])
		}
		return vals, target.String(), nil
	}
	return nil, "", failf(step, "no form", "%s has no such form: %s", page.url.Path, pageMessage(page.body))
}

// verifyID verifies the ID token of tok with go-oidc and checks its nonce.
func (c *Client) verifyID(ctx context.Context, tok *oauth2.Token, nonce string) error {
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return failf(StepIDToken, "missing", "the token response has no id_token")
	}
	idt, err := c.verifier.Verify(c.appContext(ctx), raw)
	if err != nil {
		return failf(StepIDToken, "invalid", "%v", err)
	}
	if idt.Nonce != nonce {
		return failf(StepIDToken, "nonce mismatch", "nonce %q, want %q", idt.Nonce, nonce)
	}
	return nil
}

// response is a response read in full (up to maxBody).
type response struct {
	url      *url.URL
	status   int
	location string
	body     string
}

// fetch sends a request and reads the response. A POST carries a form and,
// as browsers send it, the Origin header origin.
func (b *browser) fetch(ctx context.Context, method, u string, form io.Reader, origin string) (*response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, form)
	if err != nil {
		return nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", origin)
	}
	req.Header.Set("Accept", "text/html")
	resp, err := b.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, err
	}
	return &response{url: req.URL, status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(raw)}, nil
}

// nextHop returns where a redirect of the hosted pages leads: a page on
// the issuer's origin. A redirect to the app carries the authorization
// error; anything else is an error of step.
func (c *Client) nextHop(step string, r *response) (*url.URL, error) {
	if r.location == "" || r.status < 300 || r.status > 399 {
		return nil, pageError(step, r)
	}
	loc, err := r.url.Parse(r.location)
	if err != nil {
		return nil, failf(step, "bad redirect", "Location %q: %v", r.location, err)
	}
	if c.isRedirectURI(loc) {
		q := loc.Query()
		return nil, failf(step, q.Get("error"), "redirected to the app: %s", q.Get("error_description"))
	}
	if !c.sameOrigin(loc.String()) {
		return nil, failf(step, "foreign redirect", "redirected to %s", loc.Redacted())
	}
	return loc, nil
}

// callback checks that the response to the sign-in form is the redirect to
// the app with a code, the state, and the issuer (RFC 9207), and returns
// the code.
func (c *Client) callback(r *response, state string) (string, error) {
	if r.location == "" || r.status < 300 || r.status > 399 {
		return "", pageError(StepPassword, r)
	}
	loc, err := r.url.Parse(r.location)
	if err != nil || !c.isRedirectURI(loc) {
		return "", failf(StepPassword, "not to the app", "redirected to %q, not to the redirect URI", r.location)
	}
	q := loc.Query()
	switch {
	case q.Get("error") != "":
		return "", failf(StepPassword, q.Get("error"), "%s", q.Get("error_description"))
	case q.Get("state") != state:
		return "", failf(StepPassword, "state mismatch", "state %q, want %q", q.Get("state"), state)
	case q.Get("iss") != c.cfg.Issuer:
		return "", failf(StepPassword, "iss mismatch", "iss %q, want %q", q.Get("iss"), c.cfg.Issuer)
	case q.Get("code") == "":
		return "", failf(StepPassword, "no code", "the redirect to the app has no code")
	}
	return q.Get("code"), nil
}

// pageError is the error of an unexpected page: its status, with the
// page's alert or heading as the message.
func pageError(step string, r *response) error {
	msg := pageMessage(r.body)
	if msg == "" {
		msg = "(no message on the page)"
	}
	return failf(step, fmt.Sprintf("HTTP %d", r.status), "%s %s", r.url.Path, msg)
}

var (
	formRE  = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	inputRE = regexp.MustCompile(`(?is)<input\b([^>]*)>`)
	attrRE  = regexp.MustCompile(`(?is)([a-z][a-z0-9-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')`)
	alertRE = regexp.MustCompile(`(?is)role="alert"[^>]*>(.*?)</(?:div|p)>`)
	h1RE    = regexp.MustCompile(`(?is)<h1\b[^>]*>(.*?)</h1>`)
	tagRE   = regexp.MustCompile(`(?s)<[^>]*>`)
)

// attrs returns the attributes of a tag's inside, names in lower case.
func attrs(s string) map[string]string {
	m := map[string]string{}
	for _, a := range attrRE.FindAllStringSubmatch(s, -1) {
		m[strings.ToLower(a[1])] = html.UnescapeString(a[2] + a[3])
	}
	return m
}

// signInForm is a sign-in form: where it posts, its inputs' values, and
// the names of its email and password inputs.
type signInForm struct {
	action         string
	vals           url.Values
	mail, password string
}

// passwordForm returns the page's first POST form with a password input.
func passwordForm(page string) (*signInForm, error) {
	for _, f := range formRE.FindAllStringSubmatch(page, -1) {
		fa := attrs(f[1])
		if !strings.EqualFold(fa["method"], "post") {
			continue
		}
		form := &signInForm{action: fa["action"], vals: url.Values{}}
		for _, in := range inputRE.FindAllStringSubmatch(f[2], -1) {
			a := attrs(in[1])
			name := a["name"]
			if name == "" {
				continue
			}
			switch typ := strings.ToLower(a["type"]); {
			case typ == "password" && form.password == "":
				form.password = name
			case typ == "email" || (typ == "text" || typ == "") && (name == "email" || name == "username"):
				form.mail = name
			case typ == "checkbox", typ == "radio", typ == "submit", typ == "button":
				continue
			}
			form.vals.Set(name, a["value"])
		}
		if form.password != "" && form.mail != "" {
			return form, nil
		}
	}
	return nil, fmt.Errorf("no POST form with an email and a password input")
}

// values returns the form's values with mail and password filled in.
func (f *signInForm) values(mail, password string) url.Values {
	v := make(url.Values, len(f.vals))
	for k, vs := range f.vals {
		v[k] = vs
	}
	v.Set(f.mail, mail)
	v.Set(f.password, password)
	return v
}

// pageMessage returns the text of a page's alert or, without one, of its
// heading.
func pageMessage(page string) string {
	m := alertRE.FindStringSubmatch(page)
	if m == nil {
		m = h1RE.FindStringSubmatch(page)
	}
	if m == nil {
		return ""
	}
	text := html.UnescapeString(tagRE.ReplaceAllString(m[1], ""))
	return strings.Join(strings.Fields(text), " ")
}

func randomString() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
