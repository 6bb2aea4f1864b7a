package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/notify"
	"github.com/gatehouse/gatehouse/password"
)

// config is the configuration of one command, from its flags and the
// environment. This file is the only code that reads either.
type config struct {
	Addr              string
	PublicURL         string // without a trailing slash; "" until derived
	DataDir           string
	DatabaseURL       string
	EncryptionKey     string
	EncryptionKeyFile string
	SMTPURL           string
	MailFrom          string
	LogLevel          slog.Level
	LogFormat         string
	AdminEmail        string
	JSON              bool
	// DevMailbox keeps outgoing mail in memory, shown on /dev/mailbox.
	DevMailbox bool
	// SMSWebhookURL and SMSWebhookSecret configure the SMS gateway.
	SMSWebhookURL, SMSWebhookSecret string
	// HashWorkers is how many password hashes run at once (0: the default,
	// one fewer than the cores, at least one).
	HashWorkers int
	// SignInRetentionDays is how many days the sign-in log keeps its
	// entries (0: sqlstore's default, 30).
	SignInRetentionDays int
	// HashProcesses runs the password hashes in worker processes.
	HashProcesses bool
	// HashNice is the nice value of the hash worker processes (0 to 19).
	HashNice int
	// PasswordMinLength is the shortest new password (0: the default, 8).
	PasswordMinLength int
	// TrustedProxies are the reverse proxies whose X-Forwarded-For header
	// the server believes (web.Options.TrustedProxies).
	TrustedProxies []netip.Prefix
	// GeoIPDB is the path of a MaxMind-format GeoIP database, "" for none.
	GeoIPDB string
	// SampleAddr is where gatehouse demo runs the sample app.
	SampleAddr string
	// Issuer, ClientID and ClientSecret are the sample app's client
	// registration.
	Issuer       string
	ClientID     string
	ClientSecret string
	// Args are the positional arguments.
	Args []string

	// warnings are problems worth logging but not refusing.
	warnings []string
	// fromEnv holds the names of the options set by their environment
	// variable rather than their flag.
	fromEnv map[string]bool
	// given holds the names of the options set on the command line or in
	// the environment rather than by their default.
	given map[string]bool
}

// origin names where the option's value came from, for messages:
// "--name" or "environment variable NAME".
func (c *config) origin(o option) string {
	if c.fromEnv[o.name] {
		return "environment variable " + o.env
	}
	return "--" + o.name
}

// Defaults.
const (
	defaultAddr        = "localhost:8080"
	defaultDataDir     = "./gatehouse-data"
	defaultDemoDataDir = "./gatehouse-demo"
	defaultSampleAddr  = "localhost:8081"
	defaultDemoAdmin   = "admin@demo.gatehouse.test"
)

// option is one flag and the environment variable it may also be set with.
type option struct {
	name  string // the flag name, used as --name
	env   string // "" for a flag with no environment variable
	arg   string // the value's placeholder in help; "" for a boolean flag
	def   string // the default, as shown in help
	usage string
	// set stores a value in c; it is called for the default too.
	set func(c *config, v string) error
}

var (
	optAddr = option{
		name: "addr", env: "GATEHOUSE_ADDR", arg: "HOST:PORT", def: defaultAddr,
		usage: "Address to listen on. The default answers on this machine only; use :8080 to listen on every interface. Port 0 picks a free port.",
		set:   func(c *config, v string) error { return checkAddr("addr", v, &c.Addr) },
	}
	optPublicURL = option{
		name: "public-url", env: "GATEHOUSE_PUBLIC_URL", arg: "URL", def: "http://localhost:PORT, from --addr",
		usage: "The URL at which clients and browsers reach this server, e.g. https://id.example.com. Issuers, endpoints and links are built from it, never from a request's Host header. https, or http on localhost; no path: Gatehouse serves from the root of its host (terminate TLS in a proxy).",
		set:   setPublicURL,
	}
	optDataDir = option{
		name: "data-dir", env: "GATEHOUSE_DATA_DIR", arg: "DIR", def: defaultDataDir,
		usage: "Directory for the SQLite database (gatehouse.db) and, unless a key is given, the encryption key (encryption.key). Created with mode 0700. Not used with --database-url.",
		set:   func(c *config, v string) error { c.DataDir = v; return nil },
	}
	optDatabaseURL = option{
		name: "database-url", env: "GATEHOUSE_DATABASE_URL", arg: "URL",
		usage: "PostgreSQL connection URL (postgres://user:pass@host:5432/db?sslmode=verify-full). When set, PostgreSQL is used instead of SQLite, and --encryption-key or --encryption-key-file is required.",
		set: func(c *config, v string) error {
			if v == "" {
				return nil
			}
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
				// Never echo the URL: it may hold a password.
				return errors.New("--database-url must be a postgres:// or postgresql:// URL")
			}
			c.DatabaseURL = v
			return nil
		},
	}
	optEncryptionKey = option{
		name: "encryption-key", env: "GATEHOUSE_ENCRYPTION_KEY", arg: "BASE64",
		usage: "The key that encrypts the tenants' signing keys at rest: 32 random bytes in base64 (openssl rand -base64 32). Every server of one database must use the same key: the database keeps a check of the key it was set up with (not the key) and every command refuses another. Prefer the environment variable or --encryption-key-file: other users of the machine can see command-line arguments.",
		set:   func(c *config, v string) error { c.EncryptionKey = v; return nil },
	}
	optEncryptionKeyFile = option{
		name: "encryption-key-file", env: "GATEHOUSE_ENCRYPTION_KEY_FILE", arg: "FILE",
		usage: "A file holding the encryption key in base64, readable by its owner only (chmod 600). With SQLite and no key given, DIR/encryption.key is used and created on first start.",
		set:   func(c *config, v string) error { c.EncryptionKeyFile = v; return nil },
	}
	optSMTPURL = option{
		name: "smtp-url", env: "GATEHOUSE_SMTP_URL", arg: "URL",
		usage: "Mail server for one-time codes, as smtp://user:pass@host:587 (STARTTLS) or smtps://user:pass@host:465. Percent-encode special characters of the password. ?starttls=off is for a relay on this machine; ?insecure_skip_verify=1 accepts any certificate (development only).",
		set: func(c *config, v string) error {
			if v == "" {
				return nil
			}
			// The parser's errors never repeat the URL: it may hold a
			// password.
			if _, err := notify.ParseSMTPURL(v); err != nil {
				return fmt.Errorf("--smtp-url must look like smtp://user:pass@host:587 or smtps://user:pass@host:465: %w", err)
			}
			c.SMTPURL = v
			return nil
		},
	}
	optMailFrom = option{
		name: "mail-from", env: "GATEHOUSE_MAIL_FROM", arg: "ADDRESS",
		usage: `Sender of outgoing email, e.g. "Acme sign-in <no-reply@acme.example>". Required with --smtp-url.`,
		set: func(c *config, v string) error {
			if v == "" {
				return nil
			}
			if _, err := mail.ParseAddress(v); err != nil {
				return fmt.Errorf("--mail-from %q is not an email address: %w", v, err)
			}
			c.MailFrom = v
			return nil
		},
	}
	optSMSWebhookURL = option{
		name: "sms-webhook-url", env: "GATEHOUSE_SMS_WEBHOOK_URL", arg: "URL",
		usage: "SMS gateway for text message codes: each message is a JSON POST to this URL (https, or http on this machine), signed with --sms-webhook-secret in the Gatehouse-Signature header. Without it text messages are not offered as a second factor.",
		set: func(c *config, v string) error {
			if v == "" {
				return nil
			}
			// The errors never repeat the URL: its path may hold a token.
			if err := notify.CheckWebhookURL(v); err != nil {
				return fmt.Errorf("--sms-webhook-url: %w", err)
			}
			c.SMSWebhookURL = v
			return nil
		},
	}
	optSMSWebhookSecret = option{
		name: "sms-webhook-secret", env: "GATEHOUSE_SMS_WEBHOOK_SECRET", arg: "SECRET",
		usage: "The secret shared with the SMS gateway, which signs each request (HMAC-SHA256 over the timestamp and the body): at least 32 characters, e.g. from openssl rand -base64 32. Required with --sms-webhook-url. Prefer the environment variable: other users of the machine can see command-line arguments.",
		set: func(c *config, v string) error {
			if v == "" {
				return nil
			}
			if err := notify.CheckWebhookSecret(v); err != nil {
				return fmt.Errorf("--sms-webhook-secret: %w", err)
			}
			c.SMSWebhookSecret = v
			return nil
		},
	}
	optLogLevel = option{
		name: "log-level", env: "GATEHOUSE_LOG_LEVEL", arg: "LEVEL", def: "info",
		usage: "Least severe log level written to stderr: debug, info, warn or error.",
		set: func(c *config, v string) error {
			switch v {
			case "debug":
				c.LogLevel = slog.LevelDebug
			case "info":
				c.LogLevel = slog.LevelInfo
			case "warn":
				c.LogLevel = slog.LevelWarn
			case "error":
				c.LogLevel = slog.LevelError
			default:
				return fmt.Errorf("--log-level %q is not one of debug, info, warn, error", v)
			}
			return nil
		},
	}
	optLogFormat = option{
		name: "log-format", env: "GATEHOUSE_LOG_FORMAT", arg: "FORMAT", def: "text",
		usage: "Log format: text (logfmt) or json.",
		set: func(c *config, v string) error {
			if v != "text" && v != "json" {
				return fmt.Errorf("--log-format %q is not one of text, json", v)
			}
			c.LogFormat = v
			return nil
		},
	}
	optAdminEmail = option{
		name: "admin-email", arg: "EMAIL",
		usage: "Email address of the tenant's first administrator (required).",
		set:   func(c *config, v string) error { c.AdminEmail = v; return nil },
	}
	optJSON = option{
		name:  "json",
		usage: "Print the result as JSON.",
		set:   func(c *config, v string) error { c.JSON = v == "true"; return nil },
	}
	optSignInRetention = option{
		name: "sign-in-log-retention", env: "GATEHOUSE_SIGN_IN_LOG_RETENTION", arg: "DAYS",
		usage: "How many days the sign-in log (GET /auditLogs/signIns) keeps its entries, from 1 to 3650. Default: 30, as Entra keeps them. Sign-in risk looks back as far as the log does. Older entries are removed every few minutes by the server.",
		set: func(c *config, v string) error {
			if v == "" {
				c.SignInRetentionDays = 0 // the default
				return nil
			}
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 3650 {
				return fmt.Errorf("--sign-in-log-retention %q is not a whole number of days from 1 to 3650", v)
			}
			c.SignInRetentionDays = n
			return nil
		},
	}
	optHashWorkers = option{
		name: "hash-workers", env: "GATEHOUSE_HASH_WORKERS", arg: "N",
		usage: "How many argon2id password hashes run at once (each holds 19 MiB). Default: with --hash-processes, the CPU cores; in the server's own process, one fewer than the cores, at least 1, so that token, JWKS and admin requests keep a core while sign-ins are hashing.",
		set: func(c *config, v string) error {
			if v == "" {
				c.HashWorkers = 0 // the default
				return nil
			}
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 1024 {
				return fmt.Errorf("--hash-workers %q is not a whole number from 1 to 1024", v)
			}
			c.HashWorkers = n
			return nil
		},
	}
	optHashProcesses = option{
		name: "hash-processes", env: "GATEHOUSE_HASH_PROCESSES", def: "true",
		usage: "Run the argon2id password hashes in worker processes of this binary (one per --hash-workers, which then defaults to the CPU cores), at the lower priority of --hash-nice, instead of in the server's own: the operating system then runs a token, JWKS or page request as soon as it arrives, while sign-ins keep every core hashing. --hash-processes=false hashes in the server's process. If the workers cannot be started and this option was not given, the server hashes in its own process and says so in its log.",
		set: func(c *config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("--hash-processes %q is not true or false", v)
			}
			c.HashProcesses = b
			return nil
		},
	}
	optHashNice = option{
		name: "hash-nice", env: "GATEHOUSE_HASH_NICE", arg: "N", def: "10",
		usage: "With --hash-processes, the nice value (0 to 19; Linux) of the worker processes: the higher, the more the operating system runs the server's other work first, so that token, JWKS and page requests are answered at once while sign-ins hash; the hashes get the time left over. Use 0 on a machine shared with other busy services.",
		set: func(c *config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 19 {
				return fmt.Errorf("--hash-nice %q is not a whole number from 0 to 19", v)
			}
			c.HashNice = n
			return nil
		},
	}
	optPasswordMinLength = option{
		name: "password-min-length", env: "GATEHOUSE_PASSWORD_MIN_LENGTH", arg: "N",
		usage: "The shortest password, in characters, that sign-up, password reset and the admin API accept. Default 8, the least allowed; at most 64. Longer passwords, not composition rules, make them strong.",
		set: func(c *config, v string) error {
			if v == "" {
				c.PasswordMinLength = 0 // the default
				return nil
			}
			n, err := strconv.Atoi(v)
			if err != nil || n < password.DefaultMinLength || n > 64 {
				return fmt.Errorf("--password-min-length %q is not a whole number from %d to 64", v, password.DefaultMinLength)
			}
			c.PasswordMinLength = n
			return nil
		},
	}
	optDevMailbox = option{
		name: "dev-mailbox", env: "GATEHOUSE_DEV_MAILBOX",
		usage: "Development only: keep outgoing email and text messages (one-time codes) in memory and show them on the page /dev/mailbox instead of sending them. Anyone who can open that page can read every code, so never use it where real people sign in. Excludes --smtp-url and --sms-webhook-url.",
		set: func(c *config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("--dev-mailbox %q is not true or false", v)
			}
			c.DevMailbox = b
			return nil
		},
	}
	optTrustedProxies = option{
		name: "trusted-proxies", env: "GATEHOUSE_TRUSTED_PROXIES", arg: "LIST",
		usage: trustedProxiesUsage,
		set:   setTrustedProxies,
	}
	optGeoIPDB = option{
		name: "geoip-db", env: "GATEHOUSE_GEOIP_DB", arg: "FILE",
		usage: geoIPUsage,
		set:   func(c *config, v string) error { c.GeoIPDB = v; return nil },
	}

	// Options of gatehouse sample-app.
	optSampleIssuer = option{
		name: "issuer", env: "GATEHOUSE_SAMPLE_ISSUER", arg: "URL",
		usage: "The issuer of the Gatehouse tenant to sign in with, e.g. http://localhost:8080/acme/v2.0 (required). Its discovery document is read from ISSUER/.well-known/openid-configuration.",
		set:   func(c *config, v string) error { c.Issuer = v; return nil },
	}
	optSampleClientID = option{
		name: "client-id", env: "GATEHOUSE_SAMPLE_CLIENT_ID", arg: "ID",
		usage: "The application's client ID (appId) in the tenant (required).",
		set:   func(c *config, v string) error { c.ClientID = v; return nil },
	}
	optSampleClientSecret = option{
		name: "client-secret", env: "GATEHOUSE_SAMPLE_CLIENT_SECRET", arg: "SECRET",
		usage: "The application's client secret. Prefer the environment variable: other users of the machine can see command-line arguments. Without a secret the app signs in as a public client (PKCE only).",
		set:   func(c *config, v string) error { c.ClientSecret = v; return nil },
	}
	optSampleAddr = option{
		name: "addr", env: "GATEHOUSE_SAMPLE_ADDR", arg: "HOST:PORT", def: defaultSampleAddr,
		usage: "Address the sample app listens on. Port 0 picks a free port.",
		set:   func(c *config, v string) error { return checkAddr("addr", v, &c.Addr) },
	}
	optSamplePublicURL = option{
		name: "public-url", env: "GATEHOUSE_SAMPLE_PUBLIC_URL", arg: "URL", def: "http://localhost:PORT, from --addr",
		usage: "The URL at which browsers reach the sample app. Register PUBLIC_URL/callback as a web redirect URI of the application and PUBLIC_URL/ as a post-logout redirect URI.",
		set:   setPublicURL,
	}

	// Options of gatehouse demo: flags only, so that the environment of a
	// real server never leaks into the demo.
	optDemoDataDir = option{
		name: "data-dir", arg: "DIR", def: defaultDemoDataDir,
		usage: "Directory for the demo's SQLite database and encryption key. Delete it to start over.",
		set:   func(c *config, v string) error { c.DataDir = v; return nil },
	}
	optDemoAddr = option{
		name: "addr", arg: "HOST:PORT", def: defaultAddr,
		usage: "Address Gatehouse listens on. Port 0 picks a free port.",
		set:   func(c *config, v string) error { return checkAddr("addr", v, &c.Addr) },
	}
	optDemoSampleAddr = option{
		name: "sample-addr", arg: "HOST:PORT", def: defaultSampleAddr,
		usage: "Address the sample app listens on. Port 0 picks a free port.",
		set:   func(c *config, v string) error { return checkAddr("sample-addr", v, &c.SampleAddr) },
	}
	optDemoTrustedProxies = option{
		name: "trusted-proxies", arg: "LIST",
		usage: trustedProxiesUsage,
		set:   setTrustedProxies,
	}
	optDemoGeoIPDB = option{
		name: "geoip-db", arg: "FILE",
		usage: geoIPUsage,
		set:   func(c *config, v string) error { c.GeoIPDB = v; return nil },
	}
	optDemoAdminEmail = option{
		name: "admin-email", arg: "EMAIL", def: defaultDemoAdmin,
		usage: "Email address of the demo tenant's administrator, used when the tenant is created (the first run).",
		set:   func(c *config, v string) error { c.AdminEmail = v; return nil },
	}
)

const geoIPUsage = "A MaxMind-format GeoIP database (GeoLite2 or GeoIP2 Country or City, .mmdb) that tells the country of client addresses, for Conditional Access country named locations, sign-in risk (impossible travel needs a City database) and the sign-in log. " +
	"Read once at start. Without it, every sign-in's country is unknown: country named locations match only when they include unknown countries and regions."

const trustedProxiesUsage = "The reverse proxies whose X-Forwarded-For header Gatehouse believes: IP addresses and CIDR ranges separated by commas, e.g. 10.0.0.0/8,127.0.0.1. " +
	"For a request from one of them, the client address (for the per-address limits and the logs) is the right-most X-Forwarded-For address that is not itself a trusted proxy; " +
	"whatever the client wrote to the left of it is ignored, and so is the Forwarded header. List only proxies that append the address they received the request from to X-Forwarded-For. " +
	"Without this option nobody is trusted: the client address is the connection's, and behind a proxy all clients share the proxy's limits."

// setTrustedProxies parses the comma-separated list of trusted proxies:
// IP addresses (a range of one) and CIDR ranges, IPv4-mapped IPv6 written
// as IPv4. An empty list trusts nobody. It refuses empty entries, zones
// and ranges with bits set past their length (10.0.0.1/8: is 10.0.0.0/8
// or 10.0.0.1 meant?), and warns about a range that holds every address.
func setTrustedProxies(c *config, v string) error {
	c.TrustedProxies = nil
	if strings.TrimSpace(v) == "" {
		return nil
	}
	for _, entry := range strings.Split(v, ",") {
		entry = strings.TrimSpace(entry)
		p, err := parseTrustedProxy(entry)
		if err != nil {
			return fmt.Errorf("--trusted-proxies: %w; give IP addresses and CIDR ranges separated by commas, e.g. 10.0.0.0/8,127.0.0.1", err)
		}
		if p.Bits() == 0 {
			c.warnings = append(c.warnings, fmt.Sprintf("--trusted-proxies %s trusts every address of its kind: any client that reaches Gatehouse directly can choose its address with X-Forwarded-For, and so escape the per-address limits; list only your proxies", entry))
		}
		c.TrustedProxies = append(c.TrustedProxies, p)
	}
	return nil
}

// parseTrustedProxy parses one entry of --trusted-proxies.
func parseTrustedProxy(entry string) (netip.Prefix, error) {
	if entry == "" {
		return netip.Prefix{}, errors.New("the list has an empty entry")
	}
	if strings.Contains(entry, "%") {
		return netip.Prefix{}, fmt.Errorf("%q has an IPv6 zone; give the address without it", entry)
	}
	var p netip.Prefix
	if strings.Contains(entry, "/") {
		var err error
		if p, err = netip.ParsePrefix(entry); err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not a CIDR range such as 10.0.0.0/8 or 2001:db8::/32", entry)
		}
		if p != p.Masked() {
			return netip.Prefix{}, fmt.Errorf("%q has bits set past its prefix length: give the range as %s, or the one address as %s", entry, p.Masked(), p.Addr())
		}
	} else {
		a, err := netip.ParseAddr(entry)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR range", entry)
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	// Peers and forwarded IPv4 addresses are compared as IPv4.
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p, nil
}

// checkAddr checks that v is HOST:PORT and stores it in dst.
func checkAddr(flag, v string, dst *string) error {
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		return fmt.Errorf("--%s %q is not HOST:PORT", flag, v)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("--%s %q has no valid port number", flag, v)
	}
	*dst = v
	return nil
}

// Option groups shared by several commands.
var (
	storageOptions = []option{optDataDir, optDatabaseURL, optEncryptionKey, optEncryptionKeyFile}
	logOptions     = []option{optLogLevel, optLogFormat}
)

// has reports whether cmd takes the option o.
func (cmd *command) has(o option) bool {
	for _, x := range cmd.options {
		if x.name == o.name {
			return true
		}
	}
	return false
}

func join(groups ...[]option) []option {
	var out []option
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

// errHelp is returned by parse when help was asked for and printed.
var errHelp = errors.New("help requested")

// parse reads cmd's options from args (flags may come before, between and
// after positional arguments) and, for each flag not given, from its
// environment variable: a flag wins over the environment, which wins over
// the default. It prints cmd's help to stderr and returns errHelp for -h.
func parse(cmd *command, args []string, getenv func(string) string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("gatehouse "+cmd.name, flag.ContinueOnError)
	// Errors are returned, not printed: main prints each once.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	values := map[string]*string{}
	bools := map[string]*bool{}
	for _, o := range cmd.options {
		if o.arg == "" {
			bools[o.name] = fs.Bool(o.name, o.def == "true", o.usage)
		} else {
			values[o.name] = fs.String(o.name, o.def, o.usage)
		}
	}

	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				printCommandHelp(stderr, cmd)
				return nil, errHelp
			}
			return nil, fmt.Errorf("%s: %v (run 'gatehouse %s -h' for help)", cmd.name, err, cmd.name)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			positional = append(positional, rest...)
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}

	onCommandLine := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { onCommandLine[f.Name] = true })
	given := map[string]bool{} // on the command line or in the environment
	c := &config{LogLevel: slog.LevelInfo, LogFormat: "text", Args: positional, fromEnv: map[string]bool{}, given: given}
	for _, o := range cmd.options {
		var v string
		fromEnv := false
		switch {
		case o.arg == "" && !onCommandLine[o.name] && o.env != "" && getenv(o.env) != "":
			v = getenv(o.env)
			given[o.name] = true
			fromEnv = true
		case o.arg == "":
			v = strconv.FormatBool(*bools[o.name])
			given[o.name] = onCommandLine[o.name]
		case onCommandLine[o.name]:
			v = *values[o.name]
			given[o.name] = true
		case o.env != "" && getenv(o.env) != "":
			v = getenv(o.env)
			given[o.name] = true
			fromEnv = true
		case o.name == optPublicURL.name:
			continue // derived from --addr when the server knows its port
		default:
			v = o.def
		}
		c.fromEnv[o.name] = fromEnv
		if err := o.set(c, v); err != nil {
			if fromEnv {
				return nil, fmt.Errorf("%s: environment variable %s: %w", cmd.name, o.env, err)
			}
			return nil, fmt.Errorf("%s: %w", cmd.name, err)
		}
	}
	if err := c.check(cmd, given); err != nil {
		return nil, fmt.Errorf("%s: %w", cmd.name, err)
	}
	return c, nil
}

// check validates what no single option can: combinations.
func (c *config) check(cmd *command, given map[string]bool) error {
	if c.DatabaseURL != "" {
		if given[optDataDir.name] {
			return errors.New("--data-dir and --database-url exclude each other: with --database-url everything is stored in PostgreSQL")
		}
		if cmd.has(optEncryptionKey) && c.EncryptionKey == "" && c.EncryptionKeyFile == "" {
			return errors.New("--encryption-key or --encryption-key-file is required with --database-url: every node must use the same key; generate one with `openssl rand -base64 32`")
		}
	}
	if c.EncryptionKey != "" && c.EncryptionKeyFile != "" {
		return errors.New("--encryption-key and --encryption-key-file exclude each other; give one")
	}
	if c.SMTPURL != "" && c.MailFrom == "" {
		return errors.New("--mail-from is required with --smtp-url")
	}
	if c.SMTPURL != "" && c.DevMailbox {
		return errors.New("--smtp-url and --dev-mailbox exclude each other: mail is either sent or kept in the development mailbox")
	}
	switch {
	case c.SMSWebhookURL != "" && c.SMSWebhookSecret == "":
		return errors.New("--sms-webhook-secret is required with --sms-webhook-url: the gateway checks each request's signature with it")
	case c.SMSWebhookSecret != "" && c.SMSWebhookURL == "":
		return errors.New("--sms-webhook-secret was given without --sms-webhook-url; give both, or neither")
	case c.SMSWebhookURL != "" && c.DevMailbox:
		return errors.New("--sms-webhook-url and --dev-mailbox exclude each other: text messages are either sent or kept in the development mailbox")
	}
	return nil
}

// parsePublicURL validates a public base URL and returns it without a
// trailing slash, with a warning for plain http on a non-loopback host.
func parsePublicURL(v string) (string, string, error) {
	u, err := url.Parse(v)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return "", "", fmt.Errorf("--public-url %q is not an absolute URL such as https://id.example.com", v)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return "", "", fmt.Errorf("--public-url %q must use https (or http on localhost)", v)
	}
	if u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(v, "#") {
		return "", "", fmt.Errorf("--public-url %q must not have user info, a query or a fragment", v)
	}
	if u.Path != "" && u.Path != "/" {
		return "", "", fmt.Errorf("--public-url %q has a path; Gatehouse serves from the root of its host, so give only scheme, host and port", v)
	}
	if u.Port() != "" {
		if _, err := strconv.ParseUint(u.Port(), 10, 16); err != nil {
			return "", "", fmt.Errorf("--public-url %q has an invalid port", v)
		}
	}
	var warn string
	if u.Scheme == "http" && !gatehouse.IsLoopbackHost(u.Hostname()) {
		warn = fmt.Sprintf("--public-url %s uses plain http on a host other than localhost: passwords, codes and tokens cross the network unencrypted; use https (terminate TLS in a reverse proxy)", v)
	}
	return u.Scheme + "://" + u.Host, warn, nil
}

// derivePublicURL returns the public URL of a server listening on addr
// when none was configured: http on localhost at addr's port.
func derivePublicURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://localhost"
	}
	switch host {
	case "", "0.0.0.0", "::", "localhost":
		host = "localhost"
	default:
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
	}
	return "http://" + host + ":" + port
}

// printCommandHelp writes the help of cmd: usage, description, and each
// option with its environment variable and default.
func printCommandHelp(w io.Writer, cmd *command) {
	fmt.Fprintf(w, "Usage: gatehouse %s\n\n%s\n", cmd.usage, cmd.help)
	if len(cmd.options) == 0 {
		return
	}
	fmt.Fprintf(w, "\nFlags:\n")
	anyEnv := false
	for _, o := range cmd.options {
		head := "  --" + o.name
		if o.arg != "" {
			head += " " + o.arg
		}
		fmt.Fprintln(w, head)
		fmt.Fprintf(w, "%s\n", wrap(o.usage, "      ", 78))
		if o.env != "" {
			anyEnv = true
			fmt.Fprintf(w, "      Environment: %s\n", o.env)
		}
		if o.def != "" {
			fmt.Fprintf(w, "      Default: %s\n", o.def)
		}
	}
	if anyEnv {
		fmt.Fprintf(w, "\nEach flag with an environment variable may be set with either; the flag wins.\n")
	}
}

// wrap breaks s into lines of at most width characters, each prefixed with
// indent.
func wrap(s, indent string, width int) string {
	var b strings.Builder
	line := indent
	for _, word := range strings.Fields(s) {
		if len(line) > len(indent) && len(line)+1+len(word) > width {
			b.WriteString(line + "\n")
			line = indent
		}
		if len(line) > len(indent) {
			line += " "
		}
		line += word
	}
	b.WriteString(line)
	return b.String()
}

// setPublicURL sets the public URL of the server or of the sample app,
// keeping the warning parsePublicURL may have.
func setPublicURL(c *config, v string) error {
	u, warn, err := parsePublicURL(v)
	if err != nil {
		return err
	}
	if warn != "" {
		c.warnings = append(c.warnings, warn)
	}
	c.PublicURL = u
	return nil
}
