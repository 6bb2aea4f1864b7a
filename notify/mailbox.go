package notify

import (
	"context"
	"crypto/rand"
	"sync"
	"time"
)

// DefaultMailboxSize is how many messages a Mailbox keeps by default.
const DefaultMailboxSize = 200

// Stored is a message kept by a Mailbox: an email, or a text message
// (SMS), which has a phone number for To and neither subject nor HTML.
type Stored struct {
	ID      string
	Time    time.Time
	SMS     bool
	To      string
	Subject string
	Text    string
	HTML    string
}

// Mailbox is a development Sender (and, through SMS, an SMSSender): it
// keeps the newest messages in memory instead of delivering them, for
// `gatehouse demo` and --dev-mailbox, where the web package lists them on
// a page marked as a development mailbox. It holds one-time codes in
// clear, so it must never be used in production. It is safe for
// concurrent use.
type Mailbox struct {
	size int
	now  func() time.Time

	mu   sync.Mutex
	msgs []Stored // oldest first
}

// NewMailbox returns a Mailbox that keeps the newest size messages
// (DefaultMailboxSize if size <= 0), stamped with now (time.Now if nil).
func NewMailbox(size int, now func() time.Time) *Mailbox {
	if size <= 0 {
		size = DefaultMailboxSize
	}
	if now == nil {
		now = time.Now
	}
	return &Mailbox{size: size, now: now}
}

// Send stores m, dropping the oldest message when the mailbox is full.
func (mb *Mailbox) Send(ctx context.Context, m Message) error {
	return mb.store(ctx, Stored{To: m.To, Subject: m.Subject, Text: m.Text, HTML: m.HTML})
}

// SMS returns a sender of text messages that keeps them in the mailbox,
// among the mail, for `gatehouse demo` and --dev-mailbox.
func (mb *Mailbox) SMS() SMSSender { return mailboxSMS{mb} }

type mailboxSMS struct{ mb *Mailbox }

// Send stores m as a text message.
func (s mailboxSMS) Send(ctx context.Context, m SMS) error {
	return s.mb.store(ctx, Stored{SMS: true, To: m.To, Text: m.Text})
}

// store keeps s under a new ID, dropping the oldest message when the
// mailbox is full.
func (mb *Mailbox) store(ctx context.Context, s Stored) error {
	if err := ctx.Err(); err != nil {
		e := &sendError{kind: ErrUnavailable, text: "notify: development mailbox: " + err.Error(), cause: err}
		if s.SMS {
			e = smsError(ErrUnavailable, e.text, err)
		}
		return e
	}
	s.ID = rand.Text()
	mb.mu.Lock()
	defer mb.mu.Unlock()
	s.Time = mb.now() // under the lock, so that times follow the order kept
	if len(mb.msgs) >= mb.size {
		n := copy(mb.msgs, mb.msgs[len(mb.msgs)-mb.size+1:])
		clear(mb.msgs[n:])
		mb.msgs = mb.msgs[:n]
	}
	mb.msgs = append(mb.msgs, s)
	return nil
}

// Messages returns the stored messages, newest first.
func (mb *Mailbox) Messages() []Stored {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	out := make([]Stored, len(mb.msgs))
	for i, m := range mb.msgs {
		out[len(out)-1-i] = m
	}
	return out
}

// Message returns the stored message with the given ID.
func (mb *Mailbox) Message(id string) (Stored, bool) {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	for _, m := range mb.msgs {
		if m.ID == id {
			return m, true
		}
	}
	return Stored{}, false
}
