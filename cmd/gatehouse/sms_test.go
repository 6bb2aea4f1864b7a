package main

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/notify/smstest"
)

// TestSMSWebhookOptionsErrors: the SMS gateway's options are checked at
// start, alone and together, without repeating a secret or a URL's path.
func TestSMSWebhookOptionsErrors(t *testing.T) {
	const secret = "0123456789abcdef0123456789abcdef"
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"serve", "--sms-webhook-url", "https://sms.example.com/tok3n"}, nil, "--sms-webhook-secret is required with --sms-webhook-url"},
		{[]string{"serve", "--sms-webhook-secret", secret}, nil, "--sms-webhook-secret was given without --sms-webhook-url"},
		{[]string{"serve", "--sms-webhook-url", "http://sms.example.com/tok3n", "--sms-webhook-secret", secret}, nil, "--sms-webhook-url: the SMS webhook URL must use https unless its host is localhost"},
		{[]string{"serve", "--sms-webhook-url", "https://sms.example.com/tok3n"}, map[string]string{"GATEHOUSE_SMS_WEBHOOK_SECRET": "sh0rt"},
			"environment variable GATEHOUSE_SMS_WEBHOOK_SECRET: --sms-webhook-secret: the SMS webhook secret is 5 bytes long; use at least 32"},
		{[]string{"serve", "--dev-mailbox"}, map[string]string{"GATEHOUSE_SMS_WEBHOOK_URL": "https://sms.example.com/tok3n", "GATEHOUSE_SMS_WEBHOOK_SECRET": secret},
			"--sms-webhook-url and --dev-mailbox exclude each other"},
	} {
		r := runCLI(t, tc.env, append(tc.args, "--data-dir", t.TempDir())...)
		if r.err == nil || !strings.Contains(r.err.Error(), tc.want) {
			t.Errorf("%q %v: err = %v, want it to contain %q", tc.args, tc.env, r.err, tc.want)
			continue
		}
		for _, s := range []string{"tok3n", "sh0rt", secret} {
			if strings.Contains(r.err.Error(), s) {
				t.Errorf("%q: the error %q repeats %q", tc.args, r.err, s)
			}
		}
	}
}

// TestServeSMSWebhook: serve reads the gateway from its variables and
// hands it to the server, which then lets the Sms method be enabled and
// reports the gateway on /readyz; the log names the gateway's origin
// only. Without a gateway the method cannot be enabled.
func TestServeSMSWebhook(t *testing.T) {
	gw := smstest.Start(t)
	for _, tc := range []struct {
		name   string
		env    map[string]string
		status int // of enabling Sms
		log    string
		ready  string
	}{
		{"webhook", map[string]string{"GATEHOUSE_SMS_WEBHOOK_URL": gw.URL(), "GATEHOUSE_SMS_WEBHOOK_SECRET": gw.Secret}, http.StatusNoContent,
			`"msg":"text messages are sent through an SMS webhook gateway","gateway":"http://127.0.0.1:`, `"sms":"configured: the SMS gateway has not been contacted yet"`},
		{"none", nil, http.StatusBadRequest, "text messages are not offered as a second factor", `"sms":"not configured`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			base, logs, stop := startServe(t, tc.env, "--data-dir", dir)
			tn, api := createTenantAPI(t, dir, base)
			apiCall(t, api, "PATCH", tn.AdminAPI+"/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/Sms",
				map[string]any{"state": "enabled"}, tc.status)
			res, err := http.Get(base + "/readyz")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if !strings.Contains(string(body), tc.ready) {
				t.Errorf("/readyz: %s, want %s", body, tc.ready)
			}
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(logs.String(), tc.log) {
				t.Errorf("logs lack %s:\n%s", tc.log, logs.String())
			}
			if strings.Contains(logs.String(), gw.Secret) || strings.Contains(logs.String(), "/sms\"") {
				t.Errorf("the logs hold the secret or the gateway's path:\n%s", logs.String())
			}
		})
	}
}
