package web_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/password"
	"github.com/gatehouse/gatehouse/storetest"
	"golang.org/x/crypto/argon2"
)

// hashesComputed reads gatehouse_password_hashes_total from /metrics.
func (h *hostedEnv) hashesComputed() int {
	h.t.Helper()
	resp, err := http.Get(h.url + "/metrics")
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "gatehouse_password_hashes_total "); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				h.t.Fatalf("gatehouse_password_hashes_total %q: %v", v, err)
			}
			return int(n)
		}
	}
	h.t.Fatalf("/metrics has no gatehouse_password_hashes_total")
	return 0
}

// TestRL4OneHashForEveryAccount: a password sign-in runs argon2id exactly
// once, whether the address has an account with that password, a wrong
// one, no password, a disabled account, or no account at all, so that the
// time taken does not tell them apart. The count is the server's own
// metric of argon2id runs.
func TestRL4OneHashForEveryAccount(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newHostedEnv(t, eng, hostedOptions{passwords: password.NewHasher(password.DefaultParams, 0, 8)})
		h.addUser("ada@example.com", "correct horse battery")
		h.addUser("nopw@example.com", "")
		off := h.addUser("off@example.com", "correct horse battery")
		h.must(204, "PATCH", h.tenant.AdminAPI+"/users/"+off, h.tok, map[string]any{"accountEnabled": false})
		b := newBrowser(t, rpRedirect)
		login := h.begin(b)
		for _, c := range []struct {
			name, mail, pw string
			status         int
		}{
			{"unknown account", "nobody@example.com", "correct horse battery", http.StatusBadRequest},
			{"wrong password", "ada@example.com", "wrong horse battery", http.StatusBadRequest},
			{"account without a password", "nopw@example.com", "correct horse battery", http.StatusBadRequest},
			{"disabled account", "off@example.com", "correct horse battery", http.StatusBadRequest},
			{"right password", "ada@example.com", "correct horse battery", http.StatusSeeOther},
		} {
			before := h.hashesComputed()
			r := tryLogin(b, login, c.mail, c.pw)
			if r.status != c.status {
				t.Errorf("%s: status %d, want %d", c.name, r.status, c.status)
			}
			if n := h.hashesComputed() - before; n != 1 {
				t.Errorf("%s: %d password hashes computed, want exactly 1", c.name, n)
			}
		}
	})
}

// weakHash returns the PHC string of argon2id over pw with parameters
// below Gatehouse's (m=8192 KiB, t=1), computed here without the password
// package, as an older release might have stored it.
func weakHash(t *testing.T, pw string) string {
	t.Helper()
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=8192,t=1,p=1$%s$%s", argon2.Version, b64.EncodeToString(salt),
		b64.EncodeToString(argon2.IDKey([]byte(pw), salt, 1, 8192, 1, 32)))
}

// TestPW10RehashAtSignIn: a stored hash with weaker parameters than the
// server's is replaced by one with the server's at the next successful
// sign-in, and only then.
func TestPW10RehashAtSignIn(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		ctx := context.Background()
		h := newHostedEnv(t, eng, hostedOptions{})
		id := h.addUser("ada@example.com", "correct horse battery")
		weak := weakHash(t, "correct horse battery")
		err := h.store.Update(ctx, func(tx gatehouse.Tx) error {
			_, err := tx.UpdateUser(ctx, h.tenant.TenantID, id, func(u *gatehouse.User) error {
				u.PasswordHash = weak
				return nil
			})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}

		b := newBrowser(t, rpRedirect)
		login := h.begin(b)
		if r := tryLogin(b, login, "ada@example.com", "wrong horse battery"); r.status != http.StatusBadRequest {
			t.Fatalf("wrong password: status %d", r.status)
		}
		if got := h.user("ada@example.com").PasswordHash; got != weak {
			t.Errorf("a failed sign-in rewrote the hash: %s", got)
		}
		h.signedIn(h.step(b, login, map[string]string{"email": "ada@example.com", "password": "correct horse battery"}))
		rehashed := h.user("ada@example.com").PasswordHash
		if !strings.HasPrefix(rehashed, "$argon2id$v=19$m=19456,t=2,p=1$") {
			t.Fatalf("after a sign-in with a weak hash the stored hash is %q, want one with m=19456,t=2,p=1", rehashed)
		}
		// The new hash is of the same password, and is not rewritten again.
		b = newBrowser(t, rpRedirect)
		h.signedIn(h.step(b, h.begin(b), map[string]string{"email": "ada@example.com", "password": "correct horse battery"}))
		if got := h.user("ada@example.com").PasswordHash; got != rehashed {
			t.Errorf("a current hash was rewritten at sign-in")
		}
	})
}

// slowHash is a well-formed PHC string whose verification takes a long
// argon2id run (t=100, the most a stored hash may ask for), to keep a
// pool's only worker busy.
var slowHash = "$argon2id$v=19$m=19456,t=100,p=1$" + base64.RawStdEncoding.EncodeToString(make([]byte, 16)) + "$" +
	base64.RawStdEncoding.EncodeToString(make([]byte, 32))

// TestPW12BusyHasherAtSignIn: with the hash pool full, a sign-in is
// answered at once with 503, a Retry-After and a page for people, and
// works again when the pool has room. The pool is the subject, not the
// store: one engine is enough.
func TestPW12BusyHasherAtSignIn(t *testing.T) {
	hasher := password.NewHasher(password.DefaultParams, 1, 0) // one worker, no queue
	h := newHostedEnv(t, storetest.Engines(t)[0], hostedOptions{passwords: hasher})
	h.addUser("ada@example.com", "correct horse battery")
	b := newBrowser(t, rpRedirect)
	login := h.begin(b)
	vals := formValues(t, login, "email", "ada@example.com")
	vals.Set("password", "correct horse battery")

	// The pool is full while a slow verification runs. If it ends before
	// the sign-in's answer arrives, the pool may have had room: try again.
	for attempt := 1; ; attempt++ {
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, _, _ = hasher.Verify(context.Background(), slowHash, "x")
		}()
		deadline := time.Now().Add(10 * time.Second)
		for busy, _ := hasher.Stats(); busy == 0; busy, _ = hasher.Stats() {
			if time.Now().After(deadline) {
				t.Fatal("the slow hash did not start within 10 s")
			}
			runtime.Gosched()
		}
		req, _ := http.NewRequest("POST", h.url+"/acme/login", strings.NewReader(vals.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := noFollow(b).client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		select {
		case <-done:
			if attempt < 3 {
				continue
			}
			t.Fatalf("the slow hash ended before the sign-in was answered, %d times", attempt)
		default:
		}
		body := text(string(raw))
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" ||
			!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
			!strings.Contains(body, "We're very busy right now. Please try again in a moment.") || !strings.Contains(body, "Correlation ID") {
			t.Errorf("sign-in with the hash pool full: status %d, Retry-After %q, Content-Type %q, body %.300s; want 503, Retry-After and a page",
				resp.StatusCode, resp.Header.Get("Retry-After"), resp.Header.Get("Content-Type"), body)
		}
		<-done
		break
	}
	h.signedIn(h.step(b, login, map[string]string{"email": "ada@example.com", "password": "correct horse battery"}))
}

// TestRL6CodeMailsPerClientAddress: one client address may have 30 email
// codes sent per hour, whatever the addresses and purposes; the 31st
// request sends nothing, and an hour later codes go out again.
func TestRL6CodeMailsPerClientAddress(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newHostedEnv(t, eng, hostedOptions{})
		h.addUser("ada@example.com", "correct horse battery")
		for i := 1; i <= 30; i++ {
			h.signUpCodePage(newBrowser(t, rpRedirect), fmt.Sprintf("user%02d@example.com", i))
		}
		sent := h.smtp.Transactions()
		const limited = "Too many codes were asked for from your network."
		b := newBrowser(t, rpRedirect)
		if r := noFollow(b).submit(h.follow(b, h.begin(b), "Sign up"), map[string]string{"email": "user31@example.com"}); r.status != http.StatusTooManyRequests || !strings.Contains(text(r.body), limited) {
			t.Errorf("31st sign-up code from one address: status %d, %.300s", r.status, text(r.body))
		}
		b = newBrowser(t, rpRedirect)
		if r := noFollow(b).submit(h.follow(b, h.begin(b), "Forgot your password?"), map[string]string{"email": "ada@example.com"}); r.status != http.StatusTooManyRequests || !strings.Contains(text(r.body), limited) {
			t.Errorf("a reset code after 30 sign-up codes from one address: status %d, %.300s", r.status, text(r.body))
		}
		if n := h.smtp.Transactions(); n != sent || sent != 30 {
			t.Errorf("%d mails for 30 codes, then %d more past the limit; want 30 and none", sent, n-sent)
		}
		h.clk.Advance(time.Hour)
		h.signUpCodePage(newBrowser(t, rpRedirect), "user31@example.com")
		h.smtp.CodeFor(t, "user31@example.com")
	})
}
