package portal

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// recorder is the http.ResponseWriter of an in-process call.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (rec *recorder) Header() http.Header { return rec.header }
func (rec *recorder) WriteHeader(status int) {
	if rec.status == 0 {
		rec.status = status
	}
}
func (rec *recorder) Write(b []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return rec.body.Write(b)
}

// call sends a request to the server's own handler, in process: the
// request carries the browser's address (and forwarded-for header), so
// the server's limits, logs and audit entries see the administrator, not
// the portal.
func (p *Portal) call(r *http.Request, method, target, contentType string, body io.Reader, token string) *recorder {
	req, err := http.NewRequestWithContext(r.Context(), method, target, body)
	rec := &recorder{header: http.Header{}}
	if err != nil {
		rec.status = http.StatusBadRequest
		return rec
	}
	req.RemoteAddr = r.RemoteAddr
	req.Host = r.Host
	if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
		req.Header["X-Forwarded-For"] = xff
	}
	if ua := r.UserAgent(); ua != "" {
		req.Header.Set("User-Agent", ua)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	p.opt.API.ServeHTTP(rec, req)
	return rec
}

// tokenResponse is the token endpoint's answer.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	IDToken     string `json:"id_token"`
	ExpiresIn   int    `json:"expires_in"`
	Scope       string `json:"scope"`
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// redeem exchanges the authorization code at the tenant's token endpoint.
func (p *Portal) redeem(r *http.Request, code, verifier string) (*tokenResponse, error) {
	tenant := r.PathValue("tenant")
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier},
		"client_id": {gatehouse.AdminPortalAppID}, "redirect_uri": {gatehouse.PortalRedirectURI(p.opt.PublicURL, tenant)}}
	rec := p.call(r, http.MethodPost, "/"+tenant+"/oauth2/v2.0/token", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()), "")
	var tok tokenResponse
	if err := json.Unmarshal(rec.body.Bytes(), &tok); err != nil {
		return nil, errors.New("The token endpoint's answer could not be read.")
	}
	if rec.status != http.StatusOK || tok.AccessToken == "" {
		if tok.Description != "" {
			return nil, errors.New(tok.Description)
		}
		return nil, errors.New("The token endpoint refused the sign-in (" + tok.Error + ").")
	}
	if tok.ExpiresIn <= 0 {
		tok.ExpiresIn = 3600
	}
	return &tok, nil
}

// revoke revokes the access token, and with it its grant, at the tenant's
// revocation endpoint.
func (p *Portal) revoke(r *http.Request, token string) {
	tenant := r.PathValue("tenant")
	form := url.Values{"token": {token}, "client_id": {gatehouse.AdminPortalAppID}}
	rec := p.call(r, http.MethodPost, "/"+tenant+"/oauth2/v2.0/revoke", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()), "")
	if rec.status != http.StatusOK {
		p.opt.Logger.WarnContext(r.Context(), "portal: token revocation failed", "tenant", tenant, "status", rec.status)
	}
}

// idClaims are the ID token claims the portal uses. The token comes
// straight from the token endpoint in process, not over a network, so its
// signature is not checked again; its nonce and audience are.
type idClaims struct {
	Subject string          `json:"sub"`
	Name    string          `json:"name"`
	Email   string          `json:"email"`
	Nonce   string          `json:"nonce"`
	Aud     json.RawMessage `json:"aud"`
}

// Audience returns the token's one audience, or "".
func (c *idClaims) Audience() string {
	var one string
	if json.Unmarshal(c.Aud, &one) == nil {
		return one
	}
	var many []string
	if json.Unmarshal(c.Aud, &many) == nil && len(many) == 1 {
		return many[0]
	}
	return ""
}

func idTokenClaims(tok string) (*idClaims, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a JWS")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, err
	}
	var c idClaims
	return &c, json.Unmarshal(b, &c)
}

// apiError is a refusal of the admin API, in Graph's error shape.
type apiError struct {
	Status  int
	Code    string
	Message string
	Target  string
	// Reason is the code of the error's first detail (the lockout guard's
	// conditionalAccessLockout), or "".
	Reason string
}

func (e *apiError) Error() string { return e.Message }

func apiStatus(err error) int {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

// client calls the admin API as the signed-in administrator.
type client struct {
	p     *Portal
	r     *http.Request
	token string
}

func (p *Portal) api(r *http.Request, s *session) *client {
	return &client{p: p, r: r, token: s.AccessToken}
}

// do sends a request to the admin API path (relative to the tenant's
// admin API base) with body as JSON and decodes the answer into out.
func (c *client) do(method, rel string, body, out any) error {
	var rd io.Reader
	ct := ""
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd, ct = bytes.NewReader(b), "application/json"
	}
	rec := c.p.call(c.r, method, "/"+c.r.PathValue("tenant")+"/graph/v1.0"+rel, ct, rd, c.token)
	if rec.status >= 400 {
		var e struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
				Target  string `json:"target"`
				Details []struct {
					Code string `json:"code"`
				} `json:"details"`
			} `json:"error"`
		}
		_ = json.Unmarshal(rec.body.Bytes(), &e)
		if e.Error.Message == "" {
			e.Error.Message = http.StatusText(rec.status)
		}
		ae := &apiError{Status: rec.status, Code: e.Error.Code, Message: e.Error.Message, Target: e.Error.Target}
		if len(e.Error.Details) > 0 {
			ae.Reason = e.Error.Details[0].Code
		}
		return ae
	}
	if out != nil && rec.body.Len() > 0 {
		return json.Unmarshal(rec.body.Bytes(), out)
	}
	return nil
}

func (c *client) get(rel string, out any) error        { return c.do(http.MethodGet, rel, nil, out) }
func (c *client) post(rel string, body, out any) error { return c.do(http.MethodPost, rel, body, out) }
func (c *client) patch(rel string, body any) error     { return c.do(http.MethodPatch, rel, body, nil) }
func (c *client) delete(rel string) error              { return c.do(http.MethodDelete, rel, nil, nil) }
func escape(id string) string                          { return url.PathEscape(id) }
func filterEq(prop, v string) string {
	return "$filter=" + url.QueryEscape(prop+" eq '"+strings.ReplaceAll(v, "'", "''")+"'")
}
func (c *client) list(rel string, out any) error          { return c.get(rel, out) }
func (c *client) getOK(rel string, out any) (bool, error) { return okOrForbidden(c.get(rel, out)) }

// okOrForbidden turns a 403 into false: the page then says why the
// section is not shown.
func okOrForbidden(err error) (bool, error) {
	if apiStatus(err) == http.StatusForbidden {
		return false, nil
	}
	return err == nil, err
}

// sentence turns an API refusal into what the page says.
func sentence(err error) string {
	var ae *apiError
	if !errors.As(err, &ae) {
		return "Something went wrong and nothing was changed. Try again."
	}
	switch ae.Status {
	case http.StatusForbidden:
		return "Your roles don't allow this, so nothing was changed. " + ae.Message
	case http.StatusNotFound:
		return "That no longer exists: someone may have deleted it. " + ae.Message
	case http.StatusConflict:
		return "That conflicts with what is already there. " + ae.Message
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return "The server is busy; nothing was changed. Try again in a moment."
	}
	return ae.Message
}

// fieldError puts an API validation error next to the field it names
// (its target, as the admin API sends it) when the page has that field,
// and otherwise at the top of the page.
func (pg *page) fieldError(err error, fields map[string]string) {
	var ae *apiError
	if errors.As(err, &ae) && ae.Status == http.StatusBadRequest && ae.Target != "" {
		for target, field := range fields {
			if ae.Target == target || strings.HasPrefix(ae.Target, target+".") || strings.HasPrefix(ae.Target, target+"[") {
				pg.Errors[field] = ae.Message
				pg.Alert = "Check the field marked below."
				return
			}
		}
	}
	pg.Alert = sentence(err)
}

// renderAPIError shows a page saying why a page could not be loaded.
func (p *Portal) renderAPIError(w http.ResponseWriter, r *http.Request, s *session, err error) {
	status := apiStatus(err)
	if status == 0 {
		status = http.StatusInternalServerError
		p.opt.Logger.ErrorContext(r.Context(), "portal: admin API call failed", "error", err)
	}
	title := "This page could not be loaded"
	if status == http.StatusForbidden {
		title = "You don't have access to this page"
	}
	pg := p.newPage(r, s, title, "")
	pg.Data = sentence(err)
	p.render(w, r, status, "message", pg)
}
