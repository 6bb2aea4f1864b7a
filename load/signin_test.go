package load

import (
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPasswordForm(t *testing.T) {
	for _, tc := range []struct {
		name, page string
		action     string
		vals       url.Values // with "ada@example.com" and "pw"
	}{
		{
			name: "Gatehouse's form",
			page: `<form method="get" action="/search"><input type="password" name="q"></form>
<form method="post" action="/acme/login" novalidate>
<input type="hidden" name="tx" value="t1">
<input type="hidden" name="csrf" value="c&amp;1">
<input type="email" id="email" name="email" value="old@example.com" autocomplete="username" required>
<input type="password" id="password" name="password" required>
<input type="checkbox" name="remember" value="true">
<button type="submit">Sign in</button></form>`,
			action: "/acme/login",
			vals:   url.Values{"tx": {"t1"}, "csrf": {"c&1"}, "email": {"ada@example.com"}, "password": {"pw"}},
		},
		{
			name:   "single quotes, upper case, text username",
			page:   `<FORM METHOD='POST' ACTION='/x'><INPUT TYPE='text' NAME='username'><input name="pass" type="password"><input type="hidden" name="k" value='v'></FORM>`,
			action: "/x",
			vals:   url.Values{"username": {"ada@example.com"}, "pass": {"pw"}, "k": {"v"}},
		},
		{name: "no password input", page: `<form method="post" action="/login/email"><input type="email" name="email"></form>`},
		{name: "no form", page: `<h1>Something went wrong</h1>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := passwordForm(tc.page)
			if tc.vals == nil {
				if err == nil {
					t.Fatalf("passwordForm = %+v, want an error", f)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.action != tc.action {
				t.Errorf("action = %q, want %q", f.action, tc.action)
			}
			if diff := cmp.Diff(tc.vals, f.values("ada@example.com", "pw")); diff != "" {
				t.Errorf("values (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPageMessage(t *testing.T) {
	for page, want := range map[string]string{
		`<h1>Sign in</h1><div class="alert" role="alert" id="form-error">The email address or password is <b>incorrect</b>.</div>`: "The email address or password is incorrect.",
		`<main><h1>Something went
  wrong &amp; more</h1></main>`: "Something went wrong & more",
		`<p>nothing</p>`: "",
	} {
		if got := pageMessage(page); got != want {
			t.Errorf("pageMessage(%q) = %q, want %q", page, got, want)
		}
	}
}

func TestAccountsMail(t *testing.T) {
	for _, tc := range []struct {
		n, workers int
		want       [][]string // per worker, the users of its first iterations
	}{
		{n: 5, workers: 2, want: [][]string{{"u1", "u3", "u5", "u1"}, {"u2", "u4", "u2", "u4"}}},
		{n: 2, workers: 2, want: [][]string{{"u1", "u1"}, {"u2", "u2"}}},
		{n: 2, workers: 3, want: [][]string{{"u1", "u1"}, {"u2", "u2"}, {"u1", "u1"}}},
	} {
		a := Accounts{Prefix: "u", N: tc.n}
		for w, want := range tc.want {
			for k, mail := range want {
				if got := a.mail(w, tc.workers, k); got != mail+"@example.com" {
					t.Errorf("%d users, %d workers: worker %d iteration %d signs in %s, want %s@example.com", tc.n, tc.workers, w, k, got, mail)
				}
			}
		}
	}
}
