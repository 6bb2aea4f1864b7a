package load

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"

	"github.com/coreos/go-oidc/v3/oidc"
)

// SetupConfig says what Setup creates and with which client.
type SetupConfig struct {
	// Issuer, ClientID and ClientSecret are the tenant and a client
	// allowed to create users, applications and user flows through the
	// admin API: the automation client `gatehouse tenant create` prints.
	Issuer       string
	ClientID     string
	ClientSecret string
	// Scope is the scope of the admin API token; AdminAPIScope(Issuer)
	// when empty.
	Scope string
	// Users is the number of users to create, each with Password.
	Users    int
	Password string
	// UserPrefix starts the users' addresses (see UserMail); a random
	// "load-xxxxxxxx-" when empty, so that runs of Setup do not collide.
	UserPrefix string
	// RedirectURI is the web redirect URI of the application;
	// DefaultRedirectURI when empty.
	RedirectURI string
	// EmailMFA enables email one-time passcodes for all users in the
	// tenant's authentication methods policy, so that sign-ins asking for
	// multifactor authentication get a code by email after the password.
	EmailMFA bool
}

// Setup is what Setup created: the application's credentials and the
// users, in the terms of the sign-in load.
type Setup struct {
	Issuer        string `json:"issuer"`
	ClientID      string `json:"client_id"`
	ClientSecret  string `json:"client_secret"`
	RedirectURI   string `json:"redirect_uri"`
	Users         int    `json:"users"`
	UserPrefix    string `json:"user_prefix"`
	Password      string `json:"password"`
	AppObjectID   string `json:"app_object_id"`
	UserFlowID    string `json:"user_flow_id"`
	FirstUserMail string `json:"first_user_mail"`
	EmailMFA      bool   `json:"email_mfa"`
}

// UserMail is the address of the i-th (from 1) user of a load: prefix, i,
// "@example.com" (a domain that never receives mail).
func UserMail(prefix string, i int) string {
	return prefix + strconv.Itoa(i) + "@example.com"
}

// setupWorkers is how many users Setup creates at once (each costs the
// server one password hash).
const setupWorkers = 4

// RunSetup prepares a tenant for the sign-in load through its admin API:
// cfg.Users users with cfg.Password, a confidential web application with
// cfg.RedirectURI and a client secret, and an email-and-password user
// flow without sign-up that the application uses; with cfg.EmailMFA it
// also enables email codes as a second factor for all users. It stops at
// the first error; what it created until then stays.
func RunSetup(ctx context.Context, cfg SetupConfig) (*Setup, error) {
	if cfg.Users < 1 {
		return nil, fmt.Errorf("load: setup needs at least one user")
	}
	if cfg.Password == "" {
		return nil, fmt.Errorf("load: setup needs a password for the users")
	}
	if cfg.Scope == "" {
		cfg.Scope = AdminAPIScope(cfg.Issuer)
	}
	if cfg.UserPrefix == "" {
		var b [4]byte
		_, _ = rand.Read(b[:])
		cfg.UserPrefix = "load-" + hex.EncodeToString(b[:]) + "-"
	}
	if cfg.RedirectURI == "" {
		cfg.RedirectURI = DefaultRedirectURI
	}
	c, err := New(ctx, Config{Issuer: cfg.Issuer, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Scopes: []string{oidc.ScopeOpenID}})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	tok, err := c.ClientCredentials(ctx, cfg.Scope, nil)
	if err != nil {
		return nil, fmt.Errorf("load: a token for the admin API: %w", err)
	}
	api := &adminAPI{client: c.app, base: AdminAPI(cfg.Issuer), token: tok.AccessToken}

	if err := createUsers(ctx, api, cfg); err != nil {
		return nil, err
	}
	var app struct{ ID, AppID string }
	if err := api.call(ctx, "POST", "/applications", map[string]any{
		"displayName": "Load test " + cfg.UserPrefix,
		"web":         map[string]any{"redirectUris": []string{cfg.RedirectURI}},
	}, &app); err != nil {
		return nil, err
	}
	var secret struct{ SecretText string }
	if err := api.call(ctx, "POST", "/applications/"+app.ID+"/addPassword", map[string]any{}, &secret); err != nil {
		return nil, err
	}
	var flow struct{ ID string }
	if err := api.call(ctx, "POST", "/identity/authenticationEventsFlows", map[string]any{
		"@odata.type": "#microsoft.graph.externalUsersSelfServiceSignUpEventsFlow",
		"displayName": "Load test " + cfg.UserPrefix,
		"conditions":  map[string]any{"applications": map[string]any{"includeApplications": []any{map[string]any{"appId": app.AppID}}}},
		"onInteractiveAuthFlowStart": map[string]any{
			"@odata.type":     "#microsoft.graph.onInteractiveAuthFlowStartExternalUsersSelfServiceSignUp",
			"isSignUpAllowed": false,
		},
		"onAuthenticationMethodLoadStart": map[string]any{
			"@odata.type":       "#microsoft.graph.onAuthenticationMethodLoadStartExternalUsersSelfServiceSignUp",
			"identityProviders": []any{map[string]any{"id": "EmailPassword-OAUTH"}},
		},
	}, &flow); err != nil {
		return nil, err
	}
	if cfg.EmailMFA {
		if err := api.call(ctx, "PATCH", "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/Email", map[string]any{
			"state":          "enabled",
			"includeTargets": []any{map[string]any{"targetType": "group", "id": "all_users"}},
		}, nil); err != nil {
			return nil, err
		}
	}
	return &Setup{Issuer: cfg.Issuer, ClientID: app.AppID, ClientSecret: secret.SecretText, RedirectURI: cfg.RedirectURI,
		Users: cfg.Users, UserPrefix: cfg.UserPrefix, Password: cfg.Password, AppObjectID: app.ID, UserFlowID: flow.ID,
		FirstUserMail: UserMail(cfg.UserPrefix, 1), EmailMFA: cfg.EmailMFA}, nil
}

// createUsers creates the users of cfg, setupWorkers at a time.
func createUsers(ctx context.Context, api *adminAPI, cfg SetupConfig) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan int)
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
	)
	for range min(setupWorkers, cfg.Users) {
		wg.Go(func() {
			for i := range next {
				err := api.call(ctx, "POST", "/users", map[string]any{
					"mail": UserMail(cfg.UserPrefix, i), "displayName": "Load user " + strconv.Itoa(i),
					"passwordProfile": map[string]any{"password": cfg.Password},
				}, nil)
				if err != nil {
					mu.Lock()
					if first == nil {
						first = fmt.Errorf("create user %s: %w", UserMail(cfg.UserPrefix, i), err)
					}
					mu.Unlock()
					cancel()
				}
			}
		})
	}
feed:
	for i := 1; i <= cfg.Users; i++ {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return first
}

// adminAPI calls a tenant's admin API with a bearer token.
type adminAPI struct {
	client *http.Client
	base   string
	token  string
}

// call sends body as JSON and decodes the response into out (when not
// nil). An error status is an error with the API's message.
func (a *adminAPI) call(ctx context.Context, method, path string, body, out any) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, bytes.NewReader(raw))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.client.Do(req)
	if err != nil {
		return fmt.Errorf("load: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("load: %s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error struct{ Code, Message string }
		}
		_ = json.Unmarshal(data, &e)
		return fmt.Errorf("load: %s %s: HTTP %d: %s %s", method, path, resp.StatusCode, e.Error.Code, e.Error.Message)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("load: %s %s: %w", method, path, err)
	}
	return nil
}
