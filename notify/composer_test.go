package notify_test

import (
	"html"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/notify"
)

func newComposer(t *testing.T) *notify.Composer {
	t.Helper()
	c, err := notify.NewComposer()
	if err != nil {
		t.Fatalf("NewComposer: %v", err)
	}
	return c
}

// visible returns the text of an HTML document roughly as a reader sees it:
// tags removed and entities decoded.
func visible(doc string) string {
	var b strings.Builder
	inTag := false
	for _, r := range doc {
		switch {
		case r == '<':
			inTag = true
		case r == '>':
			inTag = false
			b.WriteByte(' ')
		case !inTag:
			b.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(html.UnescapeString(b.String())), " ")
}

func TestComposerCode(t *testing.T) {
	acme := notify.Branding{TenantName: "acme", DisplayName: "Acme Corp"}
	tests := []struct {
		purpose     string
		wantSubject string
		wantIntro   string
	}{
		{notify.PurposeSignUp, "Your Acme Corp verification code", "Use this code to verify your email address and finish signing up for Acme Corp:"},
		{notify.PurposeSignIn, "Your Acme Corp sign-in code", "Use this code to sign in to Acme Corp:"},
		{notify.PurposeReset, "Your Acme Corp password reset code", "Use this code to reset your Acme Corp password:"},
	}
	c := newComposer(t)
	for _, tt := range tests {
		t.Run(tt.purpose, func(t *testing.T) {
			m, err := c.Code(notify.CodeMail{
				Branding:  acme,
				To:        testTo,
				Code:      testCode,
				Purpose:   tt.purpose,
				ExpiresIn: 10 * time.Minute,
				RequestIP: "203.0.113.7",
			})
			if err != nil {
				t.Fatalf("Code: %v", err)
			}
			if m.To != testTo {
				t.Errorf("To = %q, want %q", m.To, testTo)
			}
			if m.Subject != tt.wantSubject {
				t.Errorf("Subject = %q, want %q", m.Subject, tt.wantSubject)
			}
			if strings.Contains(m.Subject, testCode) {
				t.Errorf("the subject %q holds the code", m.Subject)
			}
			for _, part := range []struct{ name, text string }{{"text", m.Text}, {"HTML", visible(m.HTML)}} {
				for _, want := range []string{
					tt.wantIntro,
					testCode,
					"This code expires in 10 minutes.",
					"Don't share it with anyone: Acme Corp will never ask you for it.",
					"It was requested from the IP address 203.0.113.7.",
					"If you didn't request this, you can ignore this email.",
				} {
					if !strings.Contains(part.text, want) {
						t.Errorf("the %s part lacks %q:\n%s", part.name, want, part.text)
					}
				}
			}
			if !strings.Contains(m.Text, "\n    "+testCode+"\n") {
				t.Errorf("the text part does not give the code on a line of its own:\n%s", m.Text)
			}
			if !strings.Contains(m.HTML, "monospace") || !strings.Contains(m.HTML, "font-size:32px") {
				t.Errorf("the HTML part does not show the code large in a monospace font")
			}
			if strings.Contains(m.HTML, "<style") || strings.Contains(m.HTML, "<script") {
				t.Errorf("the HTML part has a style or script element; mail clients want inline styles")
			}
		})
	}
}

func TestComposerEscapes(t *testing.T) {
	c := newComposer(t)
	const evil = `<script>alert("x")</script><img src=x onerror=alert(1)> & "Quotes" 'too'`
	b := notify.Branding{TenantName: "acme", DisplayName: evil, LogoURL: `https://cdn.example.com/logo.png?a=1&b="><script>`}
	code, err := c.Code(notify.CodeMail{Branding: b, To: testTo, Code: testCode, Purpose: notify.PurposeSignIn, ExpiresIn: 10 * time.Minute})
	if err != nil {
		t.Fatalf("Code: %v", err)
	}
	notice, err := c.Notice(b, testTo, "Your password was changed", "Your password was changed <b>today</b>.\n\nIf it wasn't you, reset it: <a href=\"https://evil.example\">here</a>")
	if err != nil {
		t.Fatalf("Notice: %v", err)
	}
	for name, m := range map[string]notify.Message{"code": code, "notice": notice} {
		for _, bad := range []string{"<script", "<img src=x", `"><`, "<b>today", `<a href="https://evil`} {
			if strings.Contains(m.HTML, bad) {
				t.Errorf("%s mail: the HTML holds %q unescaped:\n%s", name, bad, m.HTML)
			}
		}
		if !strings.Contains(m.HTML, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
			t.Errorf("%s mail: the HTML does not show the display name escaped:\n%s", name, m.HTML)
		}
		if !strings.Contains(visible(m.HTML), evil) {
			t.Errorf("%s mail: a reader does not see the display name as written", name)
		}
	}
	if !strings.Contains(visible(notice.HTML), `If it wasn't you, reset it: <a href="https://evil.example">here</a>`) {
		t.Errorf("the notice's text is not shown as text:\n%s", notice.HTML)
	}
}

func TestComposerSanitisesDisplayName(t *testing.T) {
	c := newComposer(t)
	tests := []struct {
		name     string
		branding notify.Branding
		want     string
	}{
		{"header injection", notify.Branding{TenantName: "acme", DisplayName: "Acme\r\nBcc: victim@example.com"}, "Acme Bcc: victim@example.com"},
		{"bidi override", notify.Branding{TenantName: "acme", DisplayName: "Acme\u202Egnp.exe"}, "Acme gnp.exe"},
		{"spaces", notify.Branding{TenantName: "acme", DisplayName: "  Acme \t Corp  "}, "Acme Corp"},
		{"empty display name", notify.Branding{TenantName: "acme"}, "acme"},
		{"blank display name", notify.Branding{TenantName: "acme", DisplayName: " \n "}, "acme"},
		{"long", notify.Branding{TenantName: "acme", DisplayName: strings.Repeat("A", 200)}, strings.Repeat("A", 80) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := c.Code(notify.CodeMail{Branding: tt.branding, To: testTo, Code: testCode, Purpose: notify.PurposeSignUp, ExpiresIn: 10 * time.Minute})
			if err != nil {
				t.Fatalf("Code: %v", err)
			}
			if want := "Your " + tt.want + " verification code"; m.Subject != want {
				t.Errorf("Subject = %q, want %q", m.Subject, want)
			}
		})
	}
}

func TestComposerBranding(t *testing.T) {
	c := newComposer(t)
	tests := []struct {
		name       string
		accent     string
		logo       string
		wantAccent string
		wantLogo   string // "" for no img element
	}{
		{"valid accent", "#AB12cd", "", "#ab12cd", ""},
		{"no accent", "", "", notify.DefaultAccentColor, ""},
		{"named colour", "red", "", notify.DefaultAccentColor, ""},
		{"short hex", "#fff", "", notify.DefaultAccentColor, ""},
		{"not hex", "#12345g", "", notify.DefaultAccentColor, ""},
		{"CSS injection", "#123456;background:url(https://evil.example/x)", "", notify.DefaultAccentColor, ""},
		{"https logo", "", "https://cdn.example.com/acme.png", notify.DefaultAccentColor, "https://cdn.example.com/acme.png"},
		{"localhost logo", "", "http://localhost:8080/static/logo.png", notify.DefaultAccentColor, "http://localhost:8080/static/logo.png"},
		{"loopback IP logo", "", "http://127.0.0.1:8080/logo.png", notify.DefaultAccentColor, "http://127.0.0.1:8080/logo.png"},
		{"http logo", "", "http://cdn.example.com/acme.png", notify.DefaultAccentColor, ""},
		{"javascript logo", "", "javascript:alert(1)", notify.DefaultAccentColor, ""},
		{"data logo", "", "data:image/png;base64,AAAA", notify.DefaultAccentColor, ""},
		{"logo with credentials", "", "https://user:pw@cdn.example.com/acme.png", notify.DefaultAccentColor, ""},
		{"relative logo", "", "/static/logo.png", notify.DefaultAccentColor, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := notify.Branding{TenantName: "acme", AccentColor: tt.accent, LogoURL: tt.logo}
			m, err := c.Code(notify.CodeMail{Branding: b, To: testTo, Code: testCode, Purpose: notify.PurposeSignUp, ExpiresIn: 10 * time.Minute})
			if err != nil {
				t.Fatalf("Code: %v", err)
			}
			if want := "border-top:4px solid " + tt.wantAccent + ";"; !strings.Contains(m.HTML, want) {
				t.Errorf("the HTML lacks %q", want)
			}
			if tt.accent != "" && tt.wantAccent == notify.DefaultAccentColor && strings.Contains(m.HTML, "solid "+tt.accent) {
				t.Errorf("the HTML holds the rejected accent %q", tt.accent)
			}
			hasImg := strings.Contains(m.HTML, "<img")
			switch {
			case tt.wantLogo == "" && hasImg:
				t.Errorf("the HTML shows the logo %q, want none", tt.logo)
			case tt.wantLogo != "" && !strings.Contains(m.HTML, `<img src="`+tt.wantLogo+`" alt="acme"`):
				t.Errorf("the HTML does not show the logo %q:\n%s", tt.wantLogo, m.HTML)
			}
		})
	}
}

func TestTenantBranding(t *testing.T) {
	tenant := &gatehouse.Tenant{Name: "acme", DisplayName: "Acme", Branding: gatehouse.Branding{LogoURL: "https://x.example/l.png", AccentColor: "#112233"}}
	got := notify.TenantBranding(tenant)
	want := notify.Branding{TenantName: "acme", DisplayName: "Acme", LogoURL: "https://x.example/l.png", AccentColor: "#112233"}
	if got != want {
		t.Errorf("TenantBranding = %+v, want %+v", got, want)
	}
}

func TestComposerExpiry(t *testing.T) {
	c := newComposer(t)
	tests := []struct {
		d    time.Duration
		want string
	}{
		{10 * time.Minute, "10 minutes"},
		{time.Minute, "1 minute"},
		{90 * time.Second, "2 minutes"},
		{30 * time.Second, "30 seconds"},
		{time.Hour, "1 hour"},
		{24 * time.Hour, "24 hours"},
		{90 * time.Minute, "90 minutes"},
	}
	for _, tt := range tests {
		m, err := c.Code(notify.CodeMail{Branding: notify.Branding{TenantName: "acme"}, To: testTo, Code: testCode, Purpose: notify.PurposeReset, ExpiresIn: tt.d})
		if err != nil {
			t.Fatalf("Code(ExpiresIn %v): %v", tt.d, err)
		}
		if want := "This code expires in " + tt.want + "."; !strings.Contains(m.Text, want) || !strings.Contains(visible(m.HTML), want) {
			t.Errorf("ExpiresIn %v: the mail does not say %q:\n%s", tt.d, want, m.Text)
		}
	}
}

func TestComposerCodeRequestIP(t *testing.T) {
	c := newComposer(t)
	base := notify.CodeMail{Branding: notify.Branding{TenantName: "acme"}, To: testTo, Code: testCode, Purpose: notify.PurposeSignIn, ExpiresIn: 10 * time.Minute}
	tests := []struct{ ip, want string }{
		{"", ""},
		{"2001:db8::1", "2001:db8::1"},
		{"::ffff:198.51.100.4", "198.51.100.4"},
	}
	for _, tt := range tests {
		m := base
		m.RequestIP = tt.ip
		got, err := c.Code(m)
		if err != nil {
			t.Fatalf("Code(RequestIP %q): %v", tt.ip, err)
		}
		has := strings.Contains(got.Text, "It was requested from")
		if tt.want == "" && has {
			t.Errorf("RequestIP %q: the mail names an IP address:\n%s", tt.ip, got.Text)
		}
		if tt.want != "" && !strings.Contains(got.Text, "It was requested from the IP address "+tt.want+".") {
			t.Errorf("RequestIP %q: the mail does not name %s:\n%s", tt.ip, tt.want, got.Text)
		}
	}
}

func TestComposerErrors(t *testing.T) {
	c := newComposer(t)
	ok := notify.CodeMail{Branding: notify.Branding{TenantName: "acme"}, To: testTo, Code: testCode, Purpose: notify.PurposeSignUp, ExpiresIn: 10 * time.Minute}
	tests := []struct {
		name string
		edit func(*notify.CodeMail)
		want string
	}{
		{"unknown purpose", func(m *notify.CodeMail) { m.Purpose = "welcome" }, `unknown code purpose "welcome"`},
		{"no purpose", func(m *notify.CodeMail) { m.Purpose = "" }, "unknown code purpose"},
		{"no code", func(m *notify.CodeMail) { m.Code = "" }, "code"},
		{"code with markup", func(m *notify.CodeMail) { m.Code = "<b>1234</b>" }, "code"},
		{"code with a newline", func(m *notify.CodeMail) { m.Code = "1234\n5678" }, "code"},
		{"no lifetime", func(m *notify.CodeMail) { m.ExpiresIn = 0 }, "too short"},
		{"no recipient", func(m *notify.CodeMail) { m.To = "" }, "recipient"},
		{"recipient with a newline", func(m *notify.CodeMail) { m.To = "a@example.com\r\nBcc: b@example.com" }, "recipient"},
		{"no tenant name", func(m *notify.CodeMail) { m.Branding = notify.Branding{} }, "no tenant name"},
		{"request IP with port", func(m *notify.CodeMail) { m.RequestIP = "203.0.113.7:5555" }, "not an IP address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := ok
			tt.edit(&m)
			_, err := c.Code(m)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Code: %v, want an error containing %q", err, tt.want)
			}
		})
	}
	if _, err := c.Code(ok); err != nil {
		t.Errorf("Code of the unedited mail: %v", err)
	}
}

func TestComposerNotice(t *testing.T) {
	c := newComposer(t)
	b := notify.Branding{TenantName: "acme", DisplayName: "Acme"}
	text := "A passkey was added to your account.\r\nDevice: Chrome on macOS\r\n\r\n\r\nIf this wasn't you, reset your password now."
	m, err := c.Notice(b, testTo, "A passkey was added to your Acme account", text)
	if err != nil {
		t.Fatalf("Notice: %v", err)
	}
	if m.Subject != "A passkey was added to your Acme account" || m.To != testTo {
		t.Errorf("Notice = subject %q to %q", m.Subject, m.To)
	}
	wantText := "A passkey was added to your account.\nDevice: Chrome on macOS\n\n\nIf this wasn't you, reset your password now.\n"
	if !strings.HasPrefix(m.Text, wantText) {
		t.Errorf("text part:\n%s\nwant it to start with:\n%s", m.Text, wantText)
	}
	wantHTML := `<p style="margin:0 0 16px 0;">A passkey was added to your account.<br>Device: Chrome on macOS</p>` + "\n" +
		`<p style="margin:0 0 16px 0;">If this wasn&#39;t you, reset your password now.</p>`
	if !strings.Contains(m.HTML, wantHTML) {
		t.Errorf("HTML part lacks the paragraphs:\n%s\nwant:\n%s", m.HTML, wantHTML)
	}

	for _, bad := range []struct{ subject, text, want string }{
		{"", "text", "subject"},
		{"Two\nlines", "text", "subject"},
		{"Subject", " \n ", "text"},
	} {
		if _, err := c.Notice(b, testTo, bad.subject, bad.text); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("Notice(%q, %q): %v, want an error about the %s", bad.subject, bad.text, err, bad.want)
		}
	}
}
