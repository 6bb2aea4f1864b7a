package load

import (
	"context"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Steps of the token scenarios.
const (
	StepClientCredentials = "client credentials" // a token for the client itself
	StepRefresh           = "refresh"            // a refresh token redeemed
)

// ClientCredentials gets an access token for scope with the client
// credentials grant and reports its duration to obs, which may be nil. Its
// errors are *StepError.
func (c *Client) ClientCredentials(ctx context.Context, scope string, obs Observer) (*oauth2.Token, error) {
	cc := clientcredentials.Config{ClientID: c.cfg.ClientID, ClientSecret: c.cfg.ClientSecret,
		TokenURL: c.oauth.Endpoint.TokenURL, Scopes: strings.Fields(scope), AuthStyle: oauth2.AuthStyleInHeader}
	t := time.Now()
	tok, err := cc.Token(c.appContext(ctx))
	if err != nil {
		return nil, stepErr(StepClientCredentials, err)
	}
	obs.observe(StepClientCredentials, t)
	return tok, nil
}

// Refresh redeems a refresh token and reports the duration to obs, which
// may be nil. Gatehouse rotates refresh tokens: use the returned token's
// next time. Its errors are *StepError.
func (c *Client) Refresh(ctx context.Context, refreshToken string, obs Observer) (*oauth2.Token, error) {
	t := time.Now()
	tok, err := c.oauth.TokenSource(c.appContext(ctx), &oauth2.Token{RefreshToken: refreshToken}).Token()
	if err != nil {
		return nil, stepErr(StepRefresh, err)
	}
	obs.observe(StepRefresh, t)
	return tok, nil
}

// AdminAPIScope returns the scope of the admin API of the tenant of
// issuer: what `gatehouse tenant create` grants its automation client.
func AdminAPIScope(issuer string) string {
	return AdminAPI(issuer) + "/.default"
}

// AdminAPI returns the admin API's base URL of the tenant of issuer.
func AdminAPI(issuer string) string {
	return strings.TrimSuffix(strings.TrimSuffix(issuer, "/"), "/v2.0") + "/graph/v1.0"
}
