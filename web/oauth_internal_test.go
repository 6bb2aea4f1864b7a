package web

import (
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestWriteAccessToken checks that the token response written directly is
// the JSON encoding/json writes for tokenResponse, with its headers, and
// that a token that is not a compact JWS goes through encoding/json.
func TestWriteAccessToken(t *testing.T) {
	for _, c := range []struct{ token, scope string }{
		{"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.sig-_A9", "https://id.example.com/acme/graph/v1.0/.default"},
		{"eyJ.e30.x", `a "quoted" <scope> & more`},
		{"not a \"JWS\" <b>", "s"},
		{"eyJ.e30.x", ""},
	} {
		rec := httptest.NewRecorder()
		writeAccessToken(rec, c.token, 3600, c.scope)
		var got, want map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
			t.Fatalf("%q: not JSON: %s", c.token, rec.Body)
		}
		b, _ := json.Marshal(tokenResponse{AccessToken: c.token, TokenType: "Bearer", ExpiresIn: 3600, Scope: c.scope})
		json.Unmarshal(b, &want)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%q: response (-encoding/json +written):\n%s", c.token, diff)
		}
		if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json; charset=utf-8" {
			t.Errorf("%q: status %d, Content-Type %q", c.token, rec.Code, rec.Header().Get("Content-Type"))
		}
	}
}
