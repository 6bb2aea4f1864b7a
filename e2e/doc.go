// Package e2e holds Gatehouse's end-to-end tests: a real server, a real
// SMTP server, the sample app, and headless Chromium walking the pages as
// a customer would.
package e2e
