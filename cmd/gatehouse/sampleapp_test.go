package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/notify/smtptest"
	"golang.org/x/oauth2/clientcredentials"
)

// freeAddr returns a loopback address with a port that was free a moment
// ago: the sample app's redirect URI must be registered before it starts.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// apiCall sends a JSON request to the admin API and decodes the response,
// failing the test unless its status is want.
func apiCall(t *testing.T, c *http.Client, method, u string, in any, want int) map[string]any {
	t.Helper()
	var body io.Reader
	if in != nil {
		raw, _ := json.Marshal(in)
		body = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, u, body)
	req.Header.Set("Content-Type", "application/json")
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, u, res.StatusCode, want, raw)
	}
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return out
}

// TestSampleAppCommand runs gatehouse serve with a real SMTP server and
// gatehouse sample-app against it, set up as the sample app's help says:
// an application with the redirect URIs and a client secret (given in the
// environment), and a user flow. A newcomer signs up with the code that
// arrives by SMTP, sees the claims, and signs out.
func TestSampleAppCommand(t *testing.T) {
	mail := smtptest.Start(t)
	dir := t.TempDir()
	base, serveLogs, _ := startServe(t, nil, "--data-dir", dir, "--smtp-url", mail.URL(), "--mail-from", "Acme sign-in <no-reply@acme.example>")
	r := runCLI(t, nil, "tenant", "create", "acme", "--admin-email", "admin@acme.example", "--json", "--data-dir", dir, "--public-url", base)
	if r.err != nil {
		t.Fatalf("tenant create: %v\n%s", r.err, r.stderr)
	}
	var tn tenantJSON
	if err := json.Unmarshal([]byte(r.stdout), &tn); err != nil {
		t.Fatal(err)
	}

	addr := freeAddr(t)
	sampleURL := "http://" + addr
	api := (&clientcredentials.Config{ClientID: tn.AutomationClient.ClientID, ClientSecret: tn.AutomationClient.ClientSecret,
		TokenURL: base + "/acme/oauth2/v2.0/token", Scopes: []string{tn.AutomationClient.Scope}}).Client(context.Background())
	app := apiCall(t, api, "POST", tn.AdminAPI+"/applications", map[string]any{
		"displayName": "Sample app",
		"web":         map[string]any{"redirectUris": []string{sampleURL + "/callback"}},
		"gatehouse":   map[string]any{"postLogoutRedirectUris": []string{sampleURL + "/"}, "requirePkce": true},
	}, 201)
	secret := apiCall(t, api, "POST", tn.AdminAPI+"/applications/"+app["id"].(string)+"/addPassword", nil, 200)["secretText"].(string)
	clientID := app["appId"].(string)
	apiCall(t, api, "POST", tn.AdminAPI+"/identity/authenticationEventsFlows", map[string]any{
		"@odata.type": "#microsoft.graph.externalUsersSelfServiceSignUpEventsFlow",
		"displayName": "Sign up and sign in",
		"conditions":  map[string]any{"applications": map[string]any{"includeApplications": []any{map[string]any{"appId": clientID}}}},
		"onInteractiveAuthFlowStart": map[string]any{
			"@odata.type":     "#microsoft.graph.onInteractiveAuthFlowStartExternalUsersSelfServiceSignUp",
			"isSignUpAllowed": true,
		},
		"onAuthenticationMethodLoadStart": map[string]any{
			"@odata.type":       "#microsoft.graph.onAuthenticationMethodLoadStartExternalUsersSelfServiceSignUp",
			"identityProviders": []any{map[string]any{"id": "EmailPassword-OAUTH"}},
		},
	}, 201)

	// The secret comes from the environment, everything else from flags.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout, logs := &syncBuffer{}, &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"gatehouse", "sample-app", "--issuer", tn.Issuer, "--client-id", clientID, "--addr", addr, "--log-format", "json"},
			mapenv(map[string]string{"GATEHOUSE_SAMPLE_CLIENT_SECRET": secret}), strings.NewReader(""), stdout, logs)
	}()
	waitHealthy(t, sampleURL+"/healthz", done, logs)

	b := newWebBrowser(t)
	back := b.signUpAt(sampleURL, base, "lin@example.com", "", func() string { return mail.CodeFor(t, "lin@example.com") })
	out := b.submit(back, "post", "Sign out", nil)
	if !strings.HasPrefix(out.url.String(), sampleURL+"/?") || !strings.Contains(out.body, "You have signed out") {
		t.Errorf("after Sign out the browser is at %s:\n%s", out.url, out.body)
	}
	got := mail.Messages()
	if len(got) != 1 || !strings.Contains(got[0].From, "no-reply@acme.example") {
		t.Errorf("mail sent through SMTP: %+v, want one sign-up code from no-reply@acme.example", got)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("sample-app: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("sample-app did not stop within 20 s of cancellation")
	}
	if want := "The sample app is running at " + sampleURL; !strings.Contains(stdout.String(), want) {
		t.Errorf("sample-app output lacks %q:\n%s", want, stdout.String())
	}
	if _, err := http.Get(sampleURL + "/healthz"); err == nil {
		t.Errorf("the sample app still answers after it stopped")
	}
	if !strings.Contains(serveLogs.String(), "email is sent through a mail server") {
		t.Errorf("serve does not log its mail server:\n%s", serveLogs.String())
	}
}

// waitHealthy polls u until it answers 200, failing the test if the
// command returns first or 30 seconds pass.
func waitHealthy(t *testing.T, u string, done <-chan error, logs *syncBuffer) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get(u)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case err := <-done:
			t.Fatalf("the command returned early: %v\nlogs:\n%s", err, logs.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer 200 within 30 s (last: %v)\nlogs:\n%s", u, err, logs.String())
		}
	}
}

func TestSampleAppIssuerDown(t *testing.T) {
	// Nothing listens at the issuer: the app starts anyway and says so on
	// its pages until the issuer answers.
	issuer, addr := "", freeAddr(t)
	for issuer == "" || strings.Contains(issuer, addr+"/") { // two different ports
		issuer = "http://" + freeAddr(t) + "/acme/v2.0"
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"gatehouse", "sample-app", "--issuer", issuer, "--client-id", "c", "--addr", addr},
			mapenv(nil), strings.NewReader(""), io.Discard, logs)
	}()
	waitHealthy(t, "http://"+addr+"/healthz", done, logs)
	res, err := http.Get("http://" + addr + "/login")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "Gatehouse is not reachable") || !strings.Contains(string(body), issuer) {
		t.Errorf("/login with the issuer down: %d\n%s", res.StatusCode, body)
	}
	for _, want := range []string{"the issuer is not reachable yet", "no --client-secret"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %q:\n%s", want, logs.String())
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("sample-app: %v", err)
	}
}

func TestSampleAppUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"sample-app"}, nil, "--issuer is required"},
		{[]string{"sample-app", "--issuer", "http://localhost:8080/acme/v2.0"}, nil, "--client-id is required"},
		{[]string{"sample-app", "--client-id", "c"}, map[string]string{"GATEHOUSE_SAMPLE_ISSUER": "ftp://x"}, "not an http(s) URL"},
		{[]string{"sample-app", "--issuer", "http://localhost:8080/acme/v2.0", "--client-id", "c", "--addr", "8081"}, nil, "--addr \"8081\" is not HOST:PORT"},
		{[]string{"sample-app", "--issuer", "http://localhost:8080/acme/v2.0", "--client-id", "c"}, map[string]string{"GATEHOUSE_SAMPLE_ADDR": "x"}, "environment variable GATEHOUSE_SAMPLE_ADDR"},
		{[]string{"sample-app", "--issuer", "http://localhost:8080/acme/v2.0", "--client-id", "c", "--public-url", "http://localhost:8081/app"}, nil, "has a path"},
		{[]string{"demo", "--sample-addr", "nope"}, nil, "--sample-addr \"nope\" is not HOST:PORT"},
		{[]string{"demo", "--admin-email", "not-an-address"}, nil, "not a valid email address"},
		{[]string{"serve", "--dev-mailbox", "--smtp-url", "smtp://mail.example.com", "--mail-from", "a@example.com"}, nil, "exclude each other"},
		{[]string{"serve"}, map[string]string{"GATEHOUSE_DEV_MAILBOX": "sometimes"}, "GATEHOUSE_DEV_MAILBOX"},
	} {
		r := runCLI(t, tc.env, tc.args...)
		if r.err == nil || !strings.Contains(r.err.Error(), tc.want) {
			t.Errorf("%v %v: err = %v, want it to contain %q", tc.args, tc.env, r.err, tc.want)
		}
	}
}

// TestServeDevMailbox checks that --dev-mailbox (or its variable) turns on
// the development mailbox with a loud warning, and that without it there
// is no mailbox page.
func TestServeDevMailbox(t *testing.T) {
	for _, tc := range []struct {
		name   string
		env    map[string]string
		args   []string
		status int
		log    string
	}{
		{"flag", nil, []string{"--dev-mailbox"}, 200, "DEVELOPMENT MAILBOX"},
		{"environment", map[string]string{"GATEHOUSE_DEV_MAILBOX": "true"}, nil, 200, "DEVELOPMENT MAILBOX"},
		{"neither", nil, nil, 404, "email delivery is not configured"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base, logs, stop := startServe(t, tc.env, append([]string{"--data-dir", t.TempDir()}, tc.args...)...)
			res, err := http.Get(base + "/dev/mailbox")
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tc.status {
				t.Errorf("/dev/mailbox = %d, want %d", res.StatusCode, tc.status)
			}
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(logs.String(), tc.log) {
				t.Errorf("logs lack %q:\n%s", tc.log, logs.String())
			}
		})
	}
}

// TestServeMailServerDown checks that a mail server that does not answer
// is reported at start, not at the first sign-up, and does not stop the
// server.
func TestServeMailServerDown(t *testing.T) {
	base, logs, stop := startServe(t, nil, "--data-dir", t.TempDir(), "--smtp-url", smtptest.ClosedURL(t), "--mail-from", "a@example.com")
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(logs.String(), "the mail server does not answer") {
		if time.Now().After(deadline) {
			t.Fatalf("no warning about the mail server:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if res, err := http.Get(base + "/healthz"); err != nil || res.StatusCode != 200 {
		t.Errorf("/healthz with the mail server down: %v %v", res, err)
	}
	// Readiness is not lost, but it says that mail fails.
	res, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), "failing: the last attempt to send mail") {
		t.Errorf("/readyz with the mail server down: %d %s", res.StatusCode, body)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// createTenantAPI creates the tenant acme in the data directory of the
// server at base and returns it with an admin API client of its
// automation client.
func createTenantAPI(t *testing.T, dir, base string) (tenantJSON, *http.Client) {
	t.Helper()
	r := runCLI(t, nil, "tenant", "create", "acme", "--admin-email", "admin@acme.example", "--json", "--data-dir", dir, "--public-url", base)
	if r.err != nil {
		t.Fatalf("tenant create: %v\n%s", r.err, r.stderr)
	}
	var tn tenantJSON
	if err := json.Unmarshal([]byte(r.stdout), &tn); err != nil {
		t.Fatal(err)
	}
	return tn, (&clientcredentials.Config{ClientID: tn.AutomationClient.ClientID, ClientSecret: tn.AutomationClient.ClientSecret,
		TokenURL: base + "/acme/oauth2/v2.0/token", Scopes: []string{tn.AutomationClient.Scope}}).Client(context.Background())
}

// TestServePasswordMinLength: --password-min-length reaches the server.
func TestServePasswordMinLength(t *testing.T) {
	dir := t.TempDir()
	base, _, _ := startServe(t, map[string]string{"GATEHOUSE_PASSWORD_MIN_LENGTH": "12"}, "--data-dir", dir)
	tn, api := createTenantAPI(t, dir, base)
	refused := apiCall(t, api, "POST", tn.AdminAPI+"/users", map[string]any{"displayName": "Ada", "mail": "ada@example.com", "passwordProfile": map[string]any{"password": "zebra mango"}}, 400)
	if msg, _ := refused["error"].(map[string]any)["message"].(string); !strings.Contains(msg, "12") {
		t.Errorf("an 11-character password with a minimum of 12: %v", refused)
	}
	apiCall(t, api, "POST", tn.AdminAPI+"/users", map[string]any{"displayName": "Ada", "mail": "ada@example.com", "passwordProfile": map[string]any{"password": "zebra mangos"}}, 201)
}
