package web_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/storetest"
)

// TestRFC6750TokenMethods: userinfo takes the access token in the
// Authorization header (GET or POST) or in a form-encoded POST body, each
// alone; it refuses the token in the query string, in two places at once,
// twice in the body, and in a body that is not form-encoded; none of these
// reveals the user.
func TestRFC6750TokenMethods(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		o := newOP(t, eng)
		_, tok, _ := o.signIn(newBrowser(t, rpRedirect), authz{scope: "openid email"})
		endpoint := o.meta["userinfo_endpoint"].(string)
		at := tok.AccessToken
		form := "application/x-www-form-urlencoded"
		for _, c := range []struct {
			name, method, query, header, contentType, body string
			status                                         int
			says                                           string
		}{
			{"header, GET", "GET", "", "Bearer " + at, "", "", 200, ""},
			{"header, POST", "POST", "", "Bearer " + at, "", "", 200, ""},
			{"header in lower case", "GET", "", "bearer " + at, "", "", 200, ""},
			{"body", "POST", "", "", form, url.Values{"access_token": {at}, "other": {"x"}}.Encode(), 200, ""},
			{"header, and a form body without a token", "POST", "", "Bearer " + at, form, "other=x", 200, ""},
			{"nothing", "GET", "", "", "", "", 401, "Authorization: Bearer header"},
			{"query", "GET", "access_token=" + url.QueryEscape(at), "", "", "", 400, "not in the query string"},
			{"query and header", "GET", "access_token=" + url.QueryEscape(at), "Bearer " + at, "", "", 400, "not in the query string"},
			{"header and body", "POST", "", "Bearer " + at, form, "access_token=" + url.QueryEscape(at), 400, "both in the Authorization header and in the body"},
			{"twice in the body", "POST", "", "", form, "access_token=" + url.QueryEscape(at) + "&access_token=" + url.QueryEscape(at), 400, "more than once"},
			{"empty in the body", "POST", "", "", form, "access_token=", 400, "empty"},
			{"in a JSON body", "POST", "", "", "application/json", `{"access_token":"` + at + `"}`, 401, "form-encoded POST body"},
			{"in a GET body", "GET", "", "", form, "access_token=" + url.QueryEscape(at), 401, "Authorization: Bearer header"},
			{"Basic scheme", "GET", "", "Basic " + at, "", "", 401, "must be Bearer"},
		} {
			u := endpoint
			if c.query != "" {
				u += "?" + c.query
			}
			req, _ := http.NewRequest(c.method, u, strings.NewReader(c.body))
			if c.header != "" {
				req.Header.Set("Authorization", c.header)
			}
			if c.contentType != "" {
				req.Header.Set("Content-Type", c.contentType)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body := string(raw)
			switch {
			case resp.StatusCode != c.status:
				t.Errorf("%s: status %d %s, want %d", c.name, resp.StatusCode, body, c.status)
			case c.status == 200 && !strings.Contains(body, opMail):
				t.Errorf("%s: %s, want the user's claims", c.name, body)
			case c.status != 200 && (strings.Contains(body, opMail) || !strings.Contains(body, c.says) || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer ")):
				t.Errorf("%s: %s, WWW-Authenticate %q; want a Bearer challenge saying %q", c.name, body, resp.Header.Get("WWW-Authenticate"), c.says)
			}
		}
	})
}
