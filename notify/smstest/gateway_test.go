package smstest_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/notify"
	"github.com/gatehouse/gatehouse/notify/smstest"
)

func TestGatewayChecksRequests(t *testing.T) {
	gw := smstest.Start(t)
	post := func(body, sig, key string) int {
		t.Helper()
		req, _ := http.NewRequest("POST", gw.URL(), strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if sig != "" {
			req.Header.Set("Gatehouse-Signature", sig)
		}
		req.Header.Set("Idempotency-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	sign := func(body string, at time.Time) string { return notify.Sign([]byte(gw.Secret), at, []byte(body)) }
	good := `{"id":"m1","to":"+41446681800","text":"123456 is your code"}`
	for _, c := range []struct {
		name, body, sig, key string
		want                 int
	}{
		{"unsigned", good, "", "m1", http.StatusUnauthorized},
		{"signed for another body", good, sign(`{"id":"m2"}`, time.Now()), "m1", http.StatusUnauthorized},
		{"signed with another secret", good, notify.Sign([]byte("another secret of enough length!"), time.Now(), []byte(good)), "m1", http.StatusUnauthorized},
		{"signed an hour ago", good, sign(good, time.Now().Add(-time.Hour)), "m1", http.StatusUnauthorized},
		{"unknown field", `{"id":"m1","to":"+41446681800","text":"x","from":"y"}`, sign(`{"id":"m1","to":"+41446681800","text":"x","from":"y"}`, time.Now()), "m1", http.StatusBadRequest},
		{"key is not the id", good, sign(good, time.Now()), "m9", http.StatusBadRequest},
		{"number not E.164", `{"id":"m1","to":"0446681800","text":"x"}`, sign(`{"id":"m1","to":"0446681800","text":"x"}`, time.Now()), "m1", http.StatusBadRequest},
		{"good", good, sign(good, time.Now()), "m1", http.StatusAccepted},
		{"a repeat of a kept message", good, sign(good, time.Now()), "m1", http.StatusOK},
		{"two signatures, one good", good, sign(good, time.Now()) + ",v1=00ff", "m1", http.StatusOK},
	} {
		if got := post(c.body, c.sig, c.key); got != c.want {
			t.Errorf("%s: status %d, want %d", c.name, got, c.want)
		}
	}
	if msgs := gw.Messages(); len(msgs) != 1 || msgs[0].ID != "m1" {
		t.Errorf("kept %+v, want the one good message once", msgs)
	}
	if got := gw.CodeFor(t, "+41446681800"); got != "123456" {
		t.Errorf("CodeFor = %q", got)
	}
	if gw.BadSignatures() != 4 || gw.Requests() != 10 {
		t.Errorf("%d bad signatures of %d requests, want 4 of 10", gw.BadSignatures(), gw.Requests())
	}
}
