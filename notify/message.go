package notify

import "context"

// Message is one email to one recipient: a subject, a plain-text body and,
// optionally, an HTML alternative of the same content.
type Message struct {
	To      string // one address, e.g. "ada@example.com"
	Subject string
	Text    string
	HTML    string
}

// Sender delivers messages. Implementations are safe for concurrent use.
type Sender interface {
	// Send delivers m or returns an error that wraps ErrUnavailable or
	// ErrRejected. It returns when ctx is done, at the latest.
	Send(ctx context.Context, m Message) error
}
