package notify

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// TLSMode is how a connection to the mail server is encrypted.
type TLSMode int

// TLS modes.
const (
	// TLSImplicit is TLS from the first byte (smtps://, RFC 8314).
	TLSImplicit TLSMode = iota + 1
	// TLSStartTLS upgrades the connection with STARTTLS and fails if the
	// server does not offer it. It is the mode of smtp:// with credentials,
	// so that a password never crosses the network in clear.
	TLSStartTLS
	// TLSOpportunistic upgrades with STARTTLS when the server offers it and
	// carries on in clear when it does not: smtp:// without credentials.
	TLSOpportunistic
	// TLSNone never upgrades (?starttls=off), for a relay on the same host
	// or network.
	TLSNone
)

func (m TLSMode) String() string {
	switch m {
	case TLSImplicit:
		return "implicit TLS"
	case TLSStartTLS:
		return "STARTTLS"
	case TLSOpportunistic:
		return "STARTTLS when offered"
	case TLSNone:
		return "no TLS"
	}
	return "TLSMode(" + strconv.Itoa(int(m)) + ")"
}

// SMTPServer is a mail server as an SMTP URL names it.
type SMTPServer struct {
	Host     string // name or IP address, without brackets
	Port     int
	Username string // empty when the server is used without AUTH
	Password string
	TLS      TLSMode
	// InsecureSkipVerify accepts any certificate (?insecure_skip_verify=1),
	// for development servers with self-signed certificates only.
	InsecureSkipVerify bool
}

// Addr returns host:port.
func (s *SMTPServer) Addr() string {
	return net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
}

// String returns the server's URL with the password left out.
func (s *SMTPServer) String() string {
	u := url.URL{Scheme: "smtp", Host: s.Addr()}
	if s.TLS == TLSImplicit {
		u.Scheme = "smtps"
	}
	if s.Username != "" {
		u.User = url.User(s.Username)
	}
	q := url.Values{}
	switch {
	case s.TLS == TLSNone:
		q.Set("starttls", "off")
	case s.TLS == TLSStartTLS && s.Username == "":
		q.Set("starttls", "required")
	}
	if s.InsecureSkipVerify {
		q.Set("insecure_skip_verify", "1")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

const smtpURLForm = "smtp://[user:password@]host[:port] or smtps://[user:password@]host[:port]"

// ParseSMTPURL parses the URL of a mail server:
//
//	smtp://[user:password@]host[:port][?starttls=auto|required|off]
//	smtps://[user:password@]host[:port]
//
// Either may end with ?insecure_skip_verify=1, which accepts any
// certificate: for development only. The user name and password are
// percent-decoded. smtp:// defaults to port 587 and uses STARTTLS when the
// server offers it (starttls=auto); with credentials, or with
// starttls=required, STARTTLS is mandatory, so credentials are never sent
// in clear. starttls=off never encrypts, for a relay that does not offer
// STARTTLS; it is refused with credentials unless the host is a loopback
// address. smtps:// defaults to port 465 and uses TLS from the first byte.
//
// Errors name the problem but never repeat the URL, which may hold a
// password.
func ParseSMTPURL(raw string) (*SMTPServer, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse's error repeats the URL, and an unescaped password may
		// confuse the parser into quoting part of it: say nothing of it.
		return nil, errors.New("SMTP URL is not a valid URL: it must be " + smtpURLForm + ", with special characters in the user name and password percent-encoded (@ as %40, : as %3A, / as %2F, # as %23)")
	}
	s := &SMTPServer{}
	switch u.Scheme {
	case "smtp":
		s.TLS, s.Port = TLSOpportunistic, 587
	case "smtps":
		s.TLS, s.Port = TLSImplicit, 465
	case "":
		return nil, errors.New("SMTP URL has no scheme: it must be " + smtpURLForm)
	default:
		return nil, fmt.Errorf("SMTP URL scheme must be smtp or smtps, not %q", u.Scheme)
	}
	if u.Opaque != "" || u.Host == "" {
		return nil, errors.New("SMTP URL has no host: it must be " + smtpURLForm)
	}
	s.Host = u.Hostname()
	if s.Host == "" {
		return nil, errors.New("SMTP URL has no host: it must be " + smtpURLForm)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("SMTP URL port %q is not a port number from 1 to 65535", p)
		}
		s.Port = n
	} else if strings.HasSuffix(u.Host, ":") {
		return nil, errors.New("SMTP URL has an empty port after the host")
	}
	if u.Path != "" && u.Path != "/" {
		return nil, errors.New("SMTP URL must not have a path (a / after the host); percent-encode / in the password as %2F")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return nil, errors.New("SMTP URL must not have a fragment; percent-encode # in the password as %23")
	}
	if u.User != nil {
		s.Username = u.User.Username()
		s.Password, _ = u.User.Password()
		switch {
		case s.Username == "":
			return nil, errors.New("SMTP URL has a password but no user name")
		case s.Password == "":
			return nil, errors.New("SMTP URL has a user name but no password: write smtp://user:password@host")
		}
	}

	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, errors.New("SMTP URL has a malformed query string")
	}
	starttls := "auto"
	for name, vs := range q {
		if len(vs) != 1 {
			return nil, fmt.Errorf("SMTP URL option %q is given %d times", name, len(vs))
		}
		v := vs[0]
		switch name {
		case "starttls":
			if s.TLS == TLSImplicit {
				return nil, errors.New("SMTP URL option starttls does not apply to smtps://, which uses TLS from the first byte")
			}
			if v != "auto" && v != "required" && v != "off" {
				return nil, fmt.Errorf("SMTP URL option starttls must be auto, required or off, not %q", v)
			}
			starttls = v
		case "insecure_skip_verify":
			switch v {
			case "1", "true":
				s.InsecureSkipVerify = true
			case "0", "false":
			default:
				return nil, fmt.Errorf("SMTP URL option insecure_skip_verify must be 1 or 0, not %q", v)
			}
		default:
			return nil, fmt.Errorf("SMTP URL option %q is unknown: the options are starttls and insecure_skip_verify", name)
		}
	}
	if s.TLS != TLSImplicit {
		switch {
		case starttls == "off":
			s.TLS = TLSNone
		case starttls == "required" || s.Username != "":
			s.TLS = TLSStartTLS
		}
	}
	if s.TLS == TLSNone {
		if s.Username != "" && !isLoopback(s.Host) {
			return nil, errors.New("SMTP URL has credentials and starttls=off: Gatehouse sends a password in clear only to a server on this machine (localhost); use STARTTLS or smtps://")
		}
		if s.InsecureSkipVerify {
			return nil, errors.New("SMTP URL option insecure_skip_verify has no effect with starttls=off; remove one of them")
		}
	}
	return s, nil
}
