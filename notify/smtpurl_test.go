package notify_test

import (
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/notify"
	"github.com/google/go-cmp/cmp"
)

func TestParseSMTPURL(t *testing.T) {
	tests := []struct {
		raw  string
		want notify.SMTPServer
	}{
		{"smtp://mail.example.com", notify.SMTPServer{Host: "mail.example.com", Port: 587, TLS: notify.TLSOpportunistic}},
		{"smtp://mail.example.com/", notify.SMTPServer{Host: "mail.example.com", Port: 587, TLS: notify.TLSOpportunistic}},
		{"SMTP://mail.example.com:25", notify.SMTPServer{Host: "mail.example.com", Port: 25, TLS: notify.TLSOpportunistic}},
		{"smtps://mail.example.com", notify.SMTPServer{Host: "mail.example.com", Port: 465, TLS: notify.TLSImplicit}},
		{"smtps://mail.example.com:2465", notify.SMTPServer{Host: "mail.example.com", Port: 2465, TLS: notify.TLSImplicit}},
		{
			"smtp://apikey:s%40cr%3At%2F%23@smtp.example.net:587",
			notify.SMTPServer{Host: "smtp.example.net", Port: 587, Username: "apikey", Password: "s@cr:t/#", TLS: notify.TLSStartTLS},
		},
		{
			"smtp://user%40example.com:pw@[2001:db8::25]",
			notify.SMTPServer{Host: "2001:db8::25", Port: 587, Username: "user@example.com", Password: "pw", TLS: notify.TLSStartTLS},
		},
		{
			"smtps://user:pw@mail.example.com?insecure_skip_verify=1",
			notify.SMTPServer{Host: "mail.example.com", Port: 465, Username: "user", Password: "pw", TLS: notify.TLSImplicit, InsecureSkipVerify: true},
		},
		{"smtp://relay.internal?starttls=off", notify.SMTPServer{Host: "relay.internal", Port: 587, TLS: notify.TLSNone}},
		{"smtp://relay.internal?starttls=auto", notify.SMTPServer{Host: "relay.internal", Port: 587, TLS: notify.TLSOpportunistic}},
		{"smtp://relay.internal?starttls=required", notify.SMTPServer{Host: "relay.internal", Port: 587, TLS: notify.TLSStartTLS}},
		{"smtp://u:pw-secret@relay.internal?starttls=auto", notify.SMTPServer{Host: "relay.internal", Port: 587, Username: "u", Password: "pw-secret", TLS: notify.TLSStartTLS}},
		{"smtp://u:pw-secret@localhost:1025?starttls=off", notify.SMTPServer{Host: "localhost", Port: 1025, Username: "u", Password: "pw-secret", TLS: notify.TLSNone}},
		{"smtp://u:pw-secret@127.0.0.1:1025?starttls=off", notify.SMTPServer{Host: "127.0.0.1", Port: 1025, Username: "u", Password: "pw-secret", TLS: notify.TLSNone}},
		{"smtp://u:pw-secret@[::1]:1025?starttls=off", notify.SMTPServer{Host: "::1", Port: 1025, Username: "u", Password: "pw-secret", TLS: notify.TLSNone}},
		{"smtp://mail.example.com?insecure_skip_verify=0", notify.SMTPServer{Host: "mail.example.com", Port: 587, TLS: notify.TLSOpportunistic}},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, err := notify.ParseSMTPURL(tt.raw)
			if err != nil {
				t.Fatalf("ParseSMTPURL: %v", err)
			}
			if diff := cmp.Diff(tt.want, *got); diff != "" {
				t.Errorf("ParseSMTPURL (-want +got):\n%s", diff)
			}
			// String never shows the password, and parses back to the
			// same server without it.
			s := got.String()
			if got.Password != "" && strings.Contains(s, got.Password) {
				t.Errorf("String() = %q shows the password", s)
			}
			back, err := notify.ParseSMTPURL(strings.Replace(s, "@", ":x@", 1))
			if got.Username == "" {
				back, err = notify.ParseSMTPURL(s)
			}
			if err != nil {
				t.Fatalf("ParseSMTPURL(String()): %v", err)
			}
			back.Password = got.Password
			if diff := cmp.Diff(*got, *back); diff != "" {
				t.Errorf("String() = %q parses to another server (-want +got):\n%s", s, diff)
			}
		})
	}
}

func TestParseSMTPURLErrors(t *testing.T) {
	const password = "hunter2"
	tests := []struct {
		raw  string
		want string
	}{
		{"", "no scheme"},
		{"mail.example.com:587", "smtp or smtps"},
		{"http://mail.example.com", `scheme must be smtp or smtps, not "http"`},
		{"submission://mail.example.com", `not "submission"`},
		{"smtp:mail.example.com", "no host"},
		{"smtp://", "no host"},
		{"smtp://:587", "no host"},
		{"smtp://u:hunter2@", "no host"},
		{"smtp://mail.example.com:0", `port "0" is not a port number`},
		{"smtp://mail.example.com:70000", `port "70000" is not a port number`},
		{"smtp://mail.example.com:", "empty port"},
		{"smtp://mail.example.com:smtp", "not a valid URL"},
		{"smtp://mail.example.com/relay", "must not have a path"},
		{"smtp://user:hun/ter2@mail.example.com", "not a valid URL"},
		{"smtp://user:hunter2@mail.example.com#frag", "must not have a fragment"},
		{"smtp://user:hunter2#x@mail.example.com", "%23"},
		{"smtp://user:hunter2%zz@mail.example.com", "not a valid URL"},
		{"smtp://:hunter2@mail.example.com", "password but no user name"},
		{"smtp://user@mail.example.com", "user name but no password"},
		{"smtp://user:@mail.example.com", "user name but no password"},
		{"smtp://mail.example.com?tls=none", `option "tls" is unknown`},
		{"smtp://mail.example.com?starttls=maybe", `starttls must be auto, required or off, not "maybe"`},
		{"smtp://mail.example.com?starttls=off&starttls=auto", `"starttls" is given 2 times`},
		{"smtps://mail.example.com?starttls=required", "starttls does not apply to smtps"},
		{"smtp://mail.example.com?insecure_skip_verify=yes", `insecure_skip_verify must be 1 or 0, not "yes"`},
		{"smtp://mail.example.com?starttls=off&insecure_skip_verify=1", "no effect with starttls=off"},
		{"smtp://user:hunter2@mail.example.com?starttls=off", "password in clear only to a server on this machine"},
		{"smtp://user:hunter2@10.0.0.25:25?starttls=off", "password in clear only to a server on this machine"},
		{"smtp://mail.example.com?a=%zz", "malformed query"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			_, err := notify.ParseSMTPURL(tt.raw)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseSMTPURL: %v, want an error containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter") || strings.Contains(err.Error(), "ter2") {
				t.Errorf("the error repeats the password: %v", err)
			}
		})
	}
}
