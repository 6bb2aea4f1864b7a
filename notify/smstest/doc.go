// Package smstest runs an SMS webhook gateway in-process for tests, so
// that a test reads the one-time code of a text message from a request
// that went through a real HTTP exchange and whose signature the gateway
// verified as a real gateway must (see notify.Webhook), not from a fake.
//
//	gw := smstest.Start(t)
//	sender, _ := notify.NewWebhook(notify.WebhookConfig{URL: gw.URL(), Secret: gw.Secret}, nil)
//	// ... the code under test texts a code to +41446681800 ...
//	code := gw.CodeFor(t, "+41446681800")
//
// The gateway listens on 127.0.0.1 and is closed when the test ends. It
// answers 401 to a request whose signature is missing, wrong or more than
// five minutes off its clock, 400 to a body that is not the webhook's
// JSON, and 422 to numbers of the unassigned country code +999, so tests
// can exercise a rejected number; FailNext answers the next requests with
// a chosen status and StallNext leaves them unanswered, for a gateway that
// is down or hangs. A repeated message ID (a retry whose answer was lost)
// is answered 200 and not kept twice.
package smstest
