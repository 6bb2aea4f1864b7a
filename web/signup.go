package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/password"
)

// Sign-up of email and password flows: the address, then a code that
// proves it, then a password and the flow's attributes. Passwordless flows
// reach the same details page (without the password) from their code page.
// An address that already has an account gets a notice instead of a code,
// and the pages say the same as for a new address (RL-4).

// handleSignUpPage asks for the new account's address and sends it a code.
func (s *server) handleSignUpPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.startFlowPage(w, r)
		if !ok {
			return
		}
		if !p.passwordFlow() {
			s.redirectTo(w, r, p, "/login/email")
			return
		}
		back := s.link(p, "", "Back to sign in", "/login")
		if !p.flow.SignUpAllowed {
			s.showError(w, r, p, http.StatusNotFound, msgSignUpOff, back)
			return
		}
		if s.Mail == nil {
			s.showError(w, r, p, http.StatusServiceUnavailable, msgNoMail, back)
			return
		}
		if r.Method == http.MethodGet {
			s.showSignUp(w, r, p, http.StatusOK, prefillMail(p.ar), "", "")
			return
		}
		mail := strings.TrimSpace(r.PostForm.Get("email"))
		if msg := checkMailInput(mail); msg != "" {
			s.showSignUp(w, r, p, http.StatusBadRequest, mail, msg, "")
			return
		}
		err := s.sendEmailCode(r, p, codeRequest{purpose: gatehouse.CodeSignUp, mail: mail, step: stepSignUpCode})
		if ue := asUserError(err); ue != nil {
			s.showSignUp(w, r, p, ue.status, mail, "", ue.message)
			return
		} else if err != nil {
			s.renderInternalError(w, r, err)
			return
		}
		s.redirectTo(w, r, p, "/signup/code")
	})
}

func (s *server) showSignUp(w http.ResponseWriter, r *http.Request, p *flowPage, status int, mail, mailErr, alert string) {
	ef := emailField(mail, "email")
	ef.Error = mailErr
	ef.AlertLinked = alert != ""
	s.show(w, r, p, status, &pageView{
		Title: "Create your account",
		Lead:  []string{"Enter your email address. We'll send you a code to confirm it."},
		Alert: alert,
		Form:  s.form(p, "/signup", "Send code", ef),
		Links: []pageLink{s.link(p, "Already have an account?", "Sign in", "/login")},
	})
}

// signUpCodePage is where the sign-up code of an email and password flow
// is entered.
var signUpCodePage = codePage{
	path:     "/signup/code",
	restart:  "/signup",
	title:    "Check your email",
	purposes: map[string]string{stepSignUpCode: gatehouse.CodeSignUp},
	flowOK:   func(p *flowPage) bool { return p.passwordFlow() && p.flow.SignUpAllowed },
	advance: func(s *server, a *gatehouse.AuthRequest, _ string) {
		a.Verified, a.Step = true, stepSignUpDetails
		a.Methods = []gatehouse.MethodUse{{Method: gatehouse.MethodEmail, At: s.Now()}}
	},
	next: func(s *server, w http.ResponseWriter, r *http.Request, p *flowPage, _ string) {
		s.redirectTo(w, r, p, "/signup/details")
	},
}

// handleSignUpDetailsPage creates the account of a verified address: with
// a password in email and password flows, and with the flow's attributes.
func (s *server) handleSignUpDetailsPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.startFlowPage(w, r)
		if !ok {
			return
		}
		if !p.flow.SignUpAllowed {
			s.showError(w, r, p, http.StatusNotFound, msgSignUpOff, s.link(p, "", "Back to sign in", startPage(p)))
			return
		}
		if p.ar.Step != stepSignUpDetails || !p.ar.Verified || p.ar.Mail == "" {
			s.redirectTo(w, r, p, startPage(p))
			return
		}
		if r.Method == http.MethodGet {
			s.showSignUpDetails(w, r, p, http.StatusOK, "", s.attributeFields(p.flow, nil), "")
			return
		}
		pw := r.PostForm.Get("password")
		pwErr := ""
		if p.passwordFlow() {
			pwErr = s.newPasswordError(pw)
		}
		fields, values, attrsOK := s.readAttributes(p.flow, r.PostForm)
		if pwErr != "" || !attrsOK {
			s.showSignUpDetails(w, r, p, http.StatusBadRequest, pwErr, fields, "")
			return
		}
		u := &gatehouse.User{TenantID: p.t.ID, Mail: p.ar.Mail, AccountEnabled: true}
		setAttributes(u, p.flow, values)
		if err := u.Validate(); err != nil {
			s.showSignUpDetails(w, r, p, http.StatusBadRequest, "", fields, gatehouse.ErrorMessage(err))
			return
		}
		if p.passwordFlow() {
			hash, err := s.Passwords.Hash(r.Context(), pw)
			if err != nil {
				s.renderInternalError(w, r, err)
				return
			}
			u.PasswordHash = hash
		}
		err := s.Store.Update(r.Context(), func(tx gatehouse.Tx) error {
			// The address was verified in this request; an account made for
			// it meanwhile wins, and this request learns nothing about it.
			if _, err := tx.UserByMail(r.Context(), p.t.ID, gatehouse.NormalizeMail(u.Mail)); err == nil {
				return &userError{http.StatusConflict, msgAccountFailed}
			} else if gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
				return err
			}
			if err := tx.CreateUser(r.Context(), u); err != nil {
				if gatehouse.ErrorCode(err) == gatehouse.ECONFLICT {
					return &userError{http.StatusConflict, msgAccountFailed}
				}
				return err
			}
			return nil
		})
		if ue := asUserError(err); ue != nil {
			s.Logger.InfoContext(r.Context(), "sign-up failed", "tenant", p.t.Name, "reason", "address taken meanwhile", "correlation_id", correlationID(r.Context()))
			s.showError(w, r, p, ue.status, ue.message, s.link(p, "", "Sign in", startPage(p)))
			return
		} else if err != nil {
			s.renderInternalError(w, r, err)
			return
		}
		s.Logger.InfoContext(r.Context(), "sign-up", "tenant", p.t.Name, "user_id", u.ID, "client_id", p.ar.ClientID, "correlation_id", correlationID(r.Context()))
		// The sign-up proved the address with a code in this request and,
		// in password flows, set the password: those are its factors.
		verified := gatehouse.MethodUse{Method: gatehouse.MethodEmail, At: s.Now()}
		if len(p.ar.Methods) > 0 && p.ar.Methods[0].Method == gatehouse.MethodEmail {
			verified = p.ar.Methods[0]
		}
		p.ar.UserID, p.ar.Methods = u.ID, []gatehouse.MethodUse{verified}
		if p.passwordFlow() {
			p.ar.Methods = []gatehouse.MethodUse{{Method: gatehouse.MethodPassword, At: s.Now()}, verified}
		}
		s.advance(w, r, p, u, nil)
	})
}

func (s *server) showSignUpDetails(w http.ResponseWriter, r *http.Request, p *flowPage, status int, pwErr string, attrs []pageField, alert string) {
	var fields []pageField
	lead := "Your email address " + p.ar.Mail + " is confirmed."
	if p.passwordFlow() {
		f := s.newPasswordField()
		f.Error = pwErr
		fields = append(fields, f)
		lead += " Choose a password"
		if len(attrs) > 0 {
			lead += " and tell us a little about yourself"
		}
		lead += "."
	} else if len(attrs) > 0 {
		lead += " Tell us a little about yourself."
	}
	fields = append(fields, attrs...)
	s.show(w, r, p, status, &pageView{
		Title: "Create your account",
		Lead:  []string{lead},
		Alert: alert,
		Form:  s.form(p, "/signup/details", "Create account", fields...),
	})
}

// passwordPolicy is the policy of new passwords (PW-1 to PW-3).
func (s *server) passwordPolicy() password.Policy {
	return password.Policy{MinLength: s.PasswordMinLength}
}

// newPasswordError checks a new password against the policy and returns
// the sentence for the field, or "".
func (s *server) newPasswordError(pw string) string {
	if pw == "" {
		return "Choose a password."
	}
	err := s.passwordPolicy().Check(pw)
	if err == nil {
		return ""
	}
	var reason string
	if e, ok := err.(*gatehouse.Error); ok {
		reason = e.Reason
	}
	switch reason {
	case password.ReasonTooCommon:
		return "That password is too common, so it's easy to guess. Choose another."
	case password.ReasonTooShort, password.ReasonTooLong, password.ReasonInvalid:
		return gatehouse.ErrorMessage(err) // "Use at least 8 characters." and the like
	}
	return "Choose another password."
}

// attributeAutocomplete are the autocomplete tokens of the built-in
// attributes.
var attributeAutocomplete = map[string]string{
	"displayName":   "name",
	"givenName":     "given-name",
	"surname":       "family-name",
	"city":          "address-level2",
	"country":       "country-name",
	"postalCode":    "postal-code",
	"state":         "address-level1",
	"streetAddress": "street-address",
	"jobTitle":      "organization-title",
}

// attributeField returns the input of a flow attribute.
func attributeField(a gatehouse.FlowAttribute) pageField {
	label := a.Label
	if label == "" {
		if b, ok := gatehouse.BuiltInAttribute(a.Name); ok && !a.Custom {
			label = b.Label
		} else {
			label = a.Name
		}
	}
	f := pageField{ID: "attr-" + a.Name, Name: "attr." + a.Name, Label: label, Type: "text",
		Required: a.Required, MaxLength: attributeMaxLength(a)}
	if !a.Custom {
		f.Autocomplete = attributeAutocomplete[a.Name]
	}
	switch a.DataType {
	case "boolean":
		f.Type, f.MaxLength = "checkbox", 0
	case "int64":
		f.InputMode, f.Pattern, f.MaxLength = "numeric", "-?[0-9]*", 20
	}
	return f
}

func attributeMaxLength(a gatehouse.FlowAttribute) int {
	if a.Custom {
		return 1024
	}
	return 256
}

// attributeFields returns the inputs of the flow's attributes, filled from
// values.
func (s *server) attributeFields(flow *gatehouse.UserFlow, values map[string]string) []pageField {
	var out []pageField
	for _, a := range flow.Attributes {
		f := attributeField(a)
		if a.DataType == "boolean" {
			f.Checked = values[a.Name] == "true"
		} else {
			f.Value = values[a.Name]
		}
		out = append(out, f)
	}
	return out
}

// readAttributes reads and checks the flow's attributes from a form. It
// returns the inputs with their errors, the values by attribute name, and
// whether all are valid.
func (s *server) readAttributes(flow *gatehouse.UserFlow, form url.Values) ([]pageField, map[string]string, bool) {
	values := map[string]string{}
	var fields []pageField
	ok := true
	for _, a := range flow.Attributes {
		f := attributeField(a)
		raw := strings.TrimSpace(form.Get(f.Name))
		switch a.DataType {
		case "boolean":
			f.Checked = raw == "true"
			values[a.Name] = strconv.FormatBool(f.Checked)
			if a.Required && !f.Checked {
				f.Error = "Check this box to continue."
			}
		case "int64":
			f.Value = raw
			if raw != "" {
				if n, err := strconv.ParseInt(raw, 10, 64); err != nil {
					f.Error = "Enter a whole number, like 42."
				} else {
					values[a.Name] = strconv.FormatInt(n, 10)
				}
			}
		default:
			f.Value = raw
			if max := attributeMaxLength(a); utf8.RuneCountInString(raw) > max {
				f.Error = "Use at most " + strconv.Itoa(max) + " characters."
			} else if gatehouse.ValidateText(a.Name, raw, max) != nil {
				f.Error = "Remove line breaks and other special characters."
			} else if raw != "" {
				values[a.Name] = raw
			}
		}
		if f.Error == "" && a.Required && raw == "" && a.DataType != "boolean" {
			f.Error = f.Label + " is required."
		}
		if f.Error != "" {
			ok = false
		}
		fields = append(fields, f)
	}
	return fields, values, ok
}

// setAttributes puts the values of the flow's attributes on u: built-in
// ones on the user's fields, custom ones in its custom attributes.
func setAttributes(u *gatehouse.User, flow *gatehouse.UserFlow, values map[string]string) {
	for _, a := range flow.Attributes {
		v, ok := values[a.Name]
		if !ok {
			continue
		}
		if a.Custom {
			if u.CustomAttributes == nil {
				u.CustomAttributes = map[string]string{}
			}
			u.CustomAttributes[a.Name] = v
			continue
		}
		switch a.Name {
		case "displayName":
			u.DisplayName = v
		case "givenName":
			u.GivenName = v
		case "surname":
			u.Surname = v
		case "city":
			u.City = v
		case "country":
			u.Country = v
		case "postalCode":
			u.PostalCode = v
		case "state":
			u.State = v
		case "streetAddress":
			u.StreetAddress = v
		case "jobTitle":
			u.JobTitle = v
		}
	}
}
