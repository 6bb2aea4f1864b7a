package load

import (
	"context"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Guesser is a browser on the hosted sign-in page that tries passwords
// over and over, as credential stuffing does (LD-7): each try costs the
// server one password hash, or a refusal when its hash pool is full.
type Guesser struct {
	c      *Client
	b      *browser
	form   *signInForm
	target string
}

// NewGuesser opens the sign-in page of an authorization request in a new
// browser and keeps its form.
func (c *Client) NewGuesser(ctx context.Context) (*Guesser, error) {
	b := c.newBrowser()
	authURL := c.oauth.AuthCodeURL(randomString(), oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oidc.Nonce(randomString()))
	form, target, err := c.loginForm(ctx, b, authURL, nil)
	if err != nil {
		b.close()
		return nil, err
	}
	return &Guesser{c: c, b: b, form: form, target: target}, nil
}

// Try posts mail and password on the sign-in form, from an address of its
// own when the Client spreads its browsers' addresses, and returns the
// response's status: 303 for a right password, 400 for a wrong one, 429
// when throttled, 503 when the server's password hash pool is full. It is
// not safe for concurrent use.
func (g *Guesser) Try(ctx context.Context, mail, password string) (int, error) {
	b := g.b
	if g.c.sources != nil {
		own := g.c.transport(g.c.sources.next(), 1)
		defer own.CloseIdleConnections()
		client := *g.b.client
		client.Transport = own
		b = &browser{client: &client}
	}
	resp, err := b.fetch(ctx, "POST", g.target, strings.NewReader(g.form.values(mail, password).Encode()), g.c.origin)
	if err != nil {
		return 0, stepErr(StepPassword, err)
	}
	return resp.status, nil
}

// Close closes the Guesser's connections.
func (g *Guesser) Close() { g.b.close() }
