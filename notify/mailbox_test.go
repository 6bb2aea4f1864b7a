package notify_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/notify"
)

func TestMailbox(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { now = now.Add(time.Second); return now }
	mb := notify.NewMailbox(3, clock)
	var _ notify.Sender = mb

	for i := 1; i <= 5; i++ {
		m := notify.Message{To: fmt.Sprintf("user%d@example.com", i), Subject: fmt.Sprintf("subject %d", i), Text: "text", HTML: "<p>html</p>"}
		if err := mb.Send(context.Background(), m); err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
	}

	got := mb.Messages()
	if len(got) != 3 {
		t.Fatalf("Messages() has %d messages, want the newest 3", len(got))
	}
	for i, want := range []int{5, 4, 3} {
		m := got[i]
		if m.To != fmt.Sprintf("user%d@example.com", want) || m.Subject != fmt.Sprintf("subject %d", want) || m.Text != "text" || m.HTML != "<p>html</p>" {
			t.Errorf("Messages()[%d] = %+v, want message %d", i, m, want)
		}
		if wantTime := time.Date(2026, 3, 1, 12, 0, want, 0, time.UTC); !m.Time.Equal(wantTime) {
			t.Errorf("Messages()[%d].Time = %v, want %v", i, m.Time, wantTime)
		}
		byID, ok := mb.Message(m.ID)
		if !ok || byID != m {
			t.Errorf("Message(%q) = %+v, %v; want %+v", m.ID, byID, ok, m)
		}
	}
	if got[0].ID == got[1].ID || got[0].ID == "" {
		t.Errorf("IDs %q and %q are not distinct", got[0].ID, got[1].ID)
	}
	if _, ok := mb.Message("no-such-id"); ok {
		t.Error("Message of an unknown ID found one")
	}

	// Changing the returned slice does not change the mailbox.
	got[0].Subject = "changed"
	if mb.Messages()[0].Subject != "subject 5" {
		t.Error("Messages() returned the mailbox's own storage")
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := mb.Send(ctx, notify.Message{To: "x@example.com", Subject: "s", Text: "t"}); !errors.Is(err, context.Canceled) || !errors.Is(err, notify.ErrUnavailable) {
		t.Errorf("Send with a cancelled context: %v, want context.Canceled and ErrUnavailable", err)
	}
	if n := len(mb.Messages()); n != 3 {
		t.Errorf("a cancelled Send stored a message: %d messages", n)
	}
}

func TestMailboxDefaultsAndConcurrency(t *testing.T) {
	mb := notify.NewMailbox(0, nil)
	var wg sync.WaitGroup
	for i := range 300 {
		wg.Go(func() {
			if err := mb.Send(context.Background(), notify.Message{To: fmt.Sprintf("u%d@example.com", i), Subject: "s", Text: "t"}); err != nil {
				t.Errorf("Send: %v", err)
			}
			mb.Messages()
		})
	}
	wg.Wait()
	msgs := mb.Messages()
	if len(msgs) != notify.DefaultMailboxSize {
		t.Errorf("%d messages, want DefaultMailboxSize = %d", len(msgs), notify.DefaultMailboxSize)
	}
	if msgs[0].Time.IsZero() {
		t.Error("a message has no time")
	}
	for i := 1; i < len(msgs); i++ {
		if msgs[i].Time.After(msgs[i-1].Time) {
			t.Fatalf("message %d is newer than message %d: not newest first", i, i-1)
		}
	}
}

func TestMailboxKeepsTextMessages(t *testing.T) {
	mb := notify.NewMailbox(2, nil)
	var sms notify.SMSSender = mb.SMS()
	if err := mb.Send(context.Background(), notify.Message{To: "ada@example.com", Subject: "Mail", Text: "mail text"}); err != nil {
		t.Fatal(err)
	}
	if err := sms.Send(context.Background(), notify.SMS{To: "+41446681800", Text: "123456 is your code"}); err != nil {
		t.Fatal(err)
	}
	got := mb.Messages()
	if len(got) != 2 || !got[0].SMS || got[0].To != "+41446681800" || got[0].Text != "123456 is your code" || got[0].Subject != "" || got[0].HTML != "" {
		t.Fatalf("newest message %+v, want the text message", got)
	}
	if got[1].SMS || got[1].To != "ada@example.com" {
		t.Errorf("older message %+v, want the mail", got[1])
	}
	// Text messages and mail share the mailbox's size.
	if err := sms.Send(context.Background(), notify.SMS{To: "+41446681801", Text: "second"}); err != nil {
		t.Fatal(err)
	}
	if got := mb.Messages(); len(got) != 2 || got[1].To != "+41446681800" {
		t.Errorf("after a third message: %+v, want the two newest", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sms.Send(ctx, notify.SMS{To: "+41446681800", Text: "late"}); !errors.Is(err, notify.ErrUnavailable) ||
		!strings.Contains(gatehouse.ErrorMessage(err), "text message") {
		t.Errorf("SMS Send with a cancelled context: %v (%q), want ErrUnavailable about a text message", err, gatehouse.ErrorMessage(err))
	}
}
