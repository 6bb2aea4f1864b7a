package inbox_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/notify/internal/inbox"
)

type msg struct{ to, text string }

func TestInbox(t *testing.T) {
	var b inbox.Inbox[msg]
	to := func(who string) func(msg) bool { return func(m msg) bool { return m.to == who } }
	if _, ok := b.Wait(to("ada"), 0); ok {
		t.Fatal("an empty inbox has a message")
	}
	b.Add(msg{"ada", "1"})
	b.Add(msg{"ada", "2"})
	b.Add(msg{"bob", "3"})
	if m, ok := b.Next("ada", to("ada"), 0); !ok || m.text != "2" {
		t.Errorf("Next(ada) = %v, %v; want the newest, 2", m, ok)
	}
	if _, ok := b.Next("ada", to("ada"), 10*time.Millisecond); ok {
		t.Errorf("Next(ada) again returned a message it had passed")
	}
	if m, ok := b.Next("bob", to("bob"), 0); !ok || m.text != "3" {
		t.Errorf("Next(bob) = %v, %v", m, ok)
	}
	done := make(chan msg, 1)
	go func() { m, _ := b.Next("ada", to("ada"), 10*time.Second); done <- m }()
	b.Add(msg{"ada", "4"})
	if m := <-done; m.text != "4" {
		t.Errorf("a waiting Next got %v, want the new message", m)
	}
	if got := b.All(); len(got) != 4 || got[0].text != "1" {
		t.Errorf("All = %v", got)
	}
}

func TestCode(t *testing.T) {
	re := regexp.MustCompile(`\b[0-9]{6}\b`)
	for text, want := range map[string]string{"123456 is your code\n\n@x #123456": "123456", "code: 654321": "654321"} {
		if got, err := inbox.Code(re, "6-digit code", text); err != nil || got != want {
			t.Errorf("Code(%q) = %q, %v; want %q", text, got, err, want)
		}
	}
	for text, want := range map[string]string{"no code": "has no 6-digit code", "111111 or 222222": "has more than one 6-digit code"} {
		if _, err := inbox.Code(re, "6-digit code", text); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Code(%q): %v, want %q", text, err, want)
		}
	}
}
