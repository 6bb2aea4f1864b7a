// Package smtptest runs real SMTP servers in-process for tests, so that a
// test reads the one-time code of a sign-up from mail that went through a
// real SMTP exchange (EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA), not from a
// fake.
//
//	srv := smtptest.Start(t, smtptest.WithAuth("gatehouse", "secret"), smtptest.WithTLS())
//	sender, _ := notify.NewSMTP(notify.SMTPConfig{URL: srv.URL(), From: "no-reply@example.com"}, nil)
//	// ... the code under test sends a sign-up code to ada@example.com ...
//	code := srv.CodeFor(t, "ada@example.com")
//
// Start's server listens on 127.0.0.1 and is closed, with all of its
// goroutines ended, when the test ends. Recipients in the reserved .invalid
// top-level domain are refused with 550 5.1.1, and FailNext refuses the next
// transactions with a chosen reply, so tests can exercise delivery failures.
// Blackhole (a server that accepts connections and never answers) and
// ClosedURL (nothing listening) stand for a slow and a down mail server.
package smtptest
