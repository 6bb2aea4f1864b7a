// Package inbox keeps the messages a test server received, in order, and
// lets a test wait for one, or take the new messages to one recipient in
// turn. It serves the test servers notify/smtptest and notify/smstest.
package inbox

import (
	"fmt"
	"regexp"
	"sync"
	"time"
)

// Inbox holds messages of type T. The zero value is empty and ready; it is
// safe for concurrent use.
type Inbox[T any] struct {
	mu      sync.Mutex
	msgs    []T
	changed chan struct{}  // closed and replaced when a message arrives
	seen    map[string]int // per recipient: messages before this index were returned by Next
}

// Add keeps m and wakes the waiters.
func (b *Inbox[T]) Add(m T) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.msgs = append(b.msgs, m)
	if b.changed != nil {
		close(b.changed)
	}
	b.changed = make(chan struct{})
}

// All returns the messages, oldest first.
func (b *Inbox[T]) All() []T {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]T(nil), b.msgs...)
}

// Wait returns the newest message for which pred is true, waiting up to
// timeout for one to arrive. With a timeout of 0 it only looks at the
// messages already received.
func (b *Inbox[T]) Wait(pred func(T) bool, timeout time.Duration) (T, bool) {
	m, _, ok := b.wait(pred, 0, timeout)
	return m, ok
}

// Next returns the newest message for which pred is true among those that
// arrived after the one the last Next for key returned, waiting up to
// timeout for one; those before it count as returned. Calling it once
// per message expected reads each in turn.
func (b *Inbox[T]) Next(key string, pred func(T) bool, timeout time.Duration) (T, bool) {
	b.mu.Lock()
	from := b.seen[key]
	b.mu.Unlock()
	m, i, ok := b.wait(pred, from, timeout)
	if ok {
		b.mu.Lock()
		if b.seen == nil {
			b.seen = map[string]int{}
		}
		b.seen[key] = max(b.seen[key], i+1)
		b.mu.Unlock()
	}
	return m, ok
}

func (b *Inbox[T]) wait(pred func(T) bool, from int, timeout time.Duration) (T, int, bool) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		b.mu.Lock()
		if b.changed == nil {
			b.changed = make(chan struct{})
		}
		msgs, changed := b.msgs, b.changed
		b.mu.Unlock()
		for i := len(msgs) - 1; i >= from; i-- {
			if pred(msgs[i]) {
				return msgs[i], i, true
			}
		}
		select {
		case <-changed:
		case <-deadline.C:
			var zero T
			return zero, 0, false
		}
	}
}

// Code returns the code that re finds in text, which may hold it more
// than once but no other; its error says what is wrong, naming what re
// looks for (such as "8-digit code").
func Code(re *regexp.Regexp, what, text string) (string, error) {
	codes := re.FindAllString(text, -1)
	if len(codes) == 0 {
		return "", fmt.Errorf("has no %s", what)
	}
	for _, c := range codes[1:] {
		if c != codes[0] {
			return "", fmt.Errorf("has more than one %s: %q", what, codes)
		}
	}
	return codes[0], nil
}
