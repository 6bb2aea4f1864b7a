package load

import (
	"context"
	"errors"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Outcomes of a request for an email code in the OTP send flood (LD-8),
// which its report counts and times as steps.
const (
	// StepCodeSent is a request the server answered by sending a code
	// (or the notice it sends instead to an address without an account).
	StepCodeSent = "code sent"
	// StepRefusedCooldown is a second request in one sign-in within the
	// cool-down between codes.
	StepRefusedCooldown = "refused: cool-down"
	// StepRefusedAddress is a request past the hourly limit of codes to
	// one address.
	StepRefusedAddress = "refused: per address"
	// StepRefusedNetwork is a request past the hourly limit of codes asked
	// for from one client address.
	StepRefusedNetwork = "refused: per client address"
	// StepRefusedAuthorize is a flood iteration whose authorization
	// request the server refused: too many from its client address.
	StepRefusedAuthorize = "refused: authorizations"
	// StepCodeRequest names the failures of a code request.
	StepCodeRequest = "code request"
)

// The beginnings of the messages the hosted pages show for each refusal.
var refusals = []struct{ prefix, step string }{
	{"Wait a few seconds before asking for another code", StepRefusedCooldown},
	{"We've sent several codes to this address", StepRefusedAddress},
	{"Too many codes were asked for from your network", StepRefusedNetwork},
}

// OTPFlood is the OTP send flood (LD-8): each iteration is a new browser
// that starts a sign-in, chooses "Forgot your password?", asks for a code
// for the next of the addresses a names (taken in turn over all workers),
// and, when the code is sent, at once asks for another. Each answer is
// recorded as a step: StepCodeSent or one of the refusals; anything else
// is an error. With Config.Sources, the browsers come from that many
// client addresses.
func OTPFlood(c *Client, a Accounts) Scenario {
	var next atomic.Int64
	return func(ctx context.Context, _ int, rec *Recorder) error {
		mail := UserMail(a.Prefix, int(next.Add(1)-1)%max(a.N, 1)+1)
		return c.floodOnce(ctx, mail, rec)
	}
}

func (c *Client) floodOnce(ctx context.Context, mail string, rec *Recorder) error {
	b := c.newBrowser()
	defer b.close()
	authURL := c.oauth.AuthCodeURL(randomString(), oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oidc.Nonce(randomString()))
	t := time.Now()
	page, err := c.loginPage(ctx, b, authURL, nil)
	var se *StepError
	if errors.As(err, &se) && se.Step == StepAuthorize && se.Kind == "HTTP 429" {
		rec.Observe(StepRefusedAuthorize, time.Since(t))
		return nil
	} else if err != nil {
		return err
	}
	reset, err := c.linkTo(page, "/reset")
	if err != nil {
		return err
	}
	resp, err := b.fetch(ctx, "GET", reset, nil, "")
	if err != nil {
		return stepErr(StepCodeRequest, err)
	}
	if page, err = c.follow(ctx, b, StepCodeRequest, resp); err != nil {
		return err
	}
	form, target, err := c.postForm(StepCodeRequest, page, func(v url.Values) bool { return v.Has("email") })
	if err != nil {
		return err
	}
	form.Set("email", mail)
	t = time.Now()
	if resp, err = b.fetch(ctx, "POST", target, strings.NewReader(form.Encode()), c.origin); err != nil {
		return stepErr(StepCodeRequest, err)
	}
	loc, _ := resp.url.Parse(resp.location)
	sent := resp.status == http.StatusSeeOther && loc != nil && strings.HasSuffix(loc.Path, "/code")
	if err := recordOutcome(rec, resp, sent, t); err != nil || !sent {
		return err
	}

	// Sent: ask again at once, from the code page, within the cool-down.
	if page, err = c.follow(ctx, b, StepCodeRequest, resp); err != nil {
		return err
	}
	form, target, err = c.postForm(StepCodeRequest, page, func(v url.Values) bool { return v.Get("action") == "resend" })
	if err != nil {
		return err
	}
	t = time.Now()
	if resp, err = b.fetch(ctx, "POST", target, strings.NewReader(form.Encode()), c.origin); err != nil {
		return stepErr(StepCodeRequest, err)
	}
	return recordOutcome(rec, resp, resp.status == http.StatusOK, t)
}

// recordOutcome records the answer to a code request asked at t: sent, a
// refusal by its page's message, or an error.
func recordOutcome(rec *Recorder, r *response, sent bool, t time.Time) error {
	if sent {
		rec.Observe(StepCodeSent, time.Since(t))
		return nil
	}
	if r.status == http.StatusTooManyRequests {
		msg := pageMessage(r.body)
		for _, ref := range refusals {
			if strings.HasPrefix(msg, ref.prefix) {
				rec.Observe(ref.step, time.Since(t))
				return nil
			}
		}
	}
	return pageError(StepCodeRequest, r)
}

var linkRE = regexp.MustCompile(`(?is)<a\b[^>]*\bhref\s*=\s*"([^"]*)"`)

// linkTo returns the absolute URL of the page's first link to a path
// ending in suffix, on the issuer's origin.
func (c *Client) linkTo(page *response, suffix string) (string, error) {
	for _, m := range linkRE.FindAllStringSubmatch(page.body, -1) {
		u, err := page.url.Parse(html.UnescapeString(m[1]))
		if err == nil && strings.HasSuffix(u.Path, suffix) && c.sameOrigin(u.String()) {
			return u.String(), nil
		}
	}
	return "", failf(StepLoginPage, "no link", "%s has no link to …%s (is email set up on the server, and the flow one with a password?)", page.url.Path, suffix)
}
