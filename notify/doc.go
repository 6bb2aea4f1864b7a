// Package notify sends Gatehouse's outbound email and text messages: the
// one-time codes of sign-up, passwordless sign-in, password reset and the
// second factor, and security notices (SECURITY.md RL-5).
//
// A Composer turns a CodeMail or a notice into a Message with a subject, a
// plain-text body and an inline-styled HTML alternative in the tenant's
// branding. Its templates are embedded and parsed once, when the Composer is
// made; every value is escaped. A code never appears in a subject, because
// subjects show on lock screens.
//
// A Sender delivers a Message. SMTP delivers through a mail server named by
// an smtp:// or smtps:// URL (see ParseSMTPURL); each attempt is bounded by a
// timeout and by the caller's context, temporary failures are retried a few
// times with a short backoff, and no goroutine outlives a call (FT-3).
// Mailbox keeps messages in memory for `gatehouse demo` and --dev-mailbox,
// where the web package shows them on a development mailbox page.
//
// Delivery failures wrap ErrUnavailable or ErrRejected, both *gatehouse.Error
// values whose messages can be shown to users as they are. Message bodies
// hold codes, so they are never logged (EO-4, LOG-1), and logs and errors
// name the recipient's domain only.
//
// An SMSSender delivers an SMS (a text message), such as the one
// CodeSMS.Text composes. Webhook posts each message as JSON to an SMS
// gateway of the operator's own, signed with a shared secret (Sign: an
// HMAC-SHA256 of a timestamp and the body, as Stripe and GitHub sign their
// webhooks); it bounds and retries attempts as SMTP does, and logs the
// number as "+41…00", never the text or the secret. Its failures wrap
// ErrUnavailable or ErrRejected too, with messages that speak of a text
// message. Mailbox.SMS keeps text messages in the development mailbox
// beside the mail.
//
// Packages smtptest and smstest run a real SMTP server and an SMS webhook
// gateway in-process for tests across the repository.
package notify
