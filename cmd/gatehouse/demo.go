package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"slices"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/notify"
	"github.com/gatehouse/gatehouse/oidc"
	"github.com/gatehouse/gatehouse/password"
	"github.com/gatehouse/gatehouse/provision"
	"github.com/gatehouse/gatehouse/sampleapp"
	"github.com/gatehouse/gatehouse/web"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// What gatehouse demo sets up.
const (
	demoTenant          = "demo"
	demoAppName         = "Gatehouse sample app"
	demoSecretName      = "demo"
	demoFlowName        = "Sign up and sign in"
	demoBreakGlassGroup = "Break-glass accounts"
	demoBreakGlassMail  = "breakglass@demo.gatehouse.test"
	demoBreakGlassName  = "Break-glass account"
	demoActor           = "gatehouse demo"
)

func demoCommand() *command {
	return &command{
		name:    "demo",
		usage:   "demo [flags]",
		summary: "Try Gatehouse: a demo tenant, the sample app and a development mailbox.",
		help: `Runs Gatehouse and the sample customer app in one process, with everything
a first sign-in needs, and prints every URL and credential:

  - SQLite in --data-dir (created if missing);
  - the tenant "demo", its administrator and automation client;
  - the sample app, registered as an application with a client secret, and
    connected to the user flow "Sign up and sign in" (email with password;
    sign-up collects a display name and a city);
  - a break-glass account in the group "Break-glass accounts", which is
    role-assignable: only a Global Administrator changes it or its members;
  - a development mailbox: no email or text message is sent; the codes of
    sign-up, password reset and second factors are shown on /dev/mailbox.

Open the sample app, select Sign in, sign up, and read the verification
code in the mailbox.

The first run creates all of this and shows the passwords and the
automation client's secret once. Later runs in the same --data-dir reuse
it and give the sample app a new client secret; delete the directory to
start over. Ctrl-C stops both servers gracefully.

For development and evaluation only: the mailbox shows every code to
anyone who can reach the server.`,
		options: join([]option{optDemoDataDir, optDemoAddr, optDemoSampleAddr, optDemoAdminEmail, optDemoTrustedProxies, optDemoGeoIPDB}, logOptions),
		args:    noArgs,
		run:     runDemo,
	}
}

// demoSetup is what the demo's setup created or reused, for the banner.
// Passwords and secrets are set only when they were created by this run.
type demoSetup struct {
	FirstRun      bool
	Issuer        string
	AdminAPI      string
	Portal        string
	AdminEmail    string
	AdminPassword string
	Automation    *provision.AutomationClient
	// AutomationID is the automation client's ID on a later run.
	AutomationID     string
	SampleClientID   string
	SampleSecret     string
	BreakGlassEmail  string
	BreakGlassPass   string
	BreakGlassGroup  string
	BreakGlassExists bool
	// PolicyName is the seed's Conditional Access policy, "" when an
	// administrator has changed the tenant's policies (it is then left
	// alone).
	PolicyName string
}

func runDemo(ctx context.Context, e *env, c *config) error {
	adminEmail, err := gatehouse.CanonicalMail("--admin-email", c.AdminEmail)
	if err != nil {
		return err
	}
	c.AdminEmail = adminEmail
	logger := newLogger(c, e.stderr)
	for _, w := range c.warnings {
		logger.Warn(w)
	}
	geo, err := openGeoIP(c, logger)
	if err != nil {
		return err
	}
	defer geo.Close()
	store, err := openStore(ctx, c, logger)
	if err != nil {
		return err
	}
	defer store.Close()
	v, err := openVault(ctx, c, store, logger)
	if err != nil {
		return err
	}

	// Listen first: the URLs registered and printed need the ports.
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("listen for Gatehouse: %w (is another Gatehouse running? pick another address with --addr)", err)
	}
	defer ln.Close()
	sln, err := net.Listen("tcp", c.SampleAddr)
	if err != nil {
		return fmt.Errorf("listen for the sample app: %w (pick another address with --sample-addr)", err)
	}
	defer sln.Close()
	publicURL := derivePublicURL(listenAddr(c.Addr, ln))
	sampleURL := derivePublicURL(listenAddr(c.SampleAddr, sln))

	hasher := password.NewHasher(password.DefaultParams, hashWorkers(0), hashQueue)
	keys := oidc.NewKeys(store, v, time.Now)
	keys.SetLogger(logger)
	setup, err := setUpDemo(ctx, provision.Deps{
		Store: store, Keys: keys, Vault: v, Passwords: hasher, PublicURL: publicURL, Now: time.Now,
	}, c.AdminEmail, sampleURL)
	if err != nil {
		return fmt.Errorf("set up the demo tenant: %w", err)
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mailbox := notify.NewMailbox(0, time.Now)
	opts := web.Options{
		Store:     store,
		Keys:      keys,
		Vault:     v,
		Passwords: hasher,
		PublicURL: publicURL,
		Logger:    logger,
		Registry:  reg,
		DBStats:   store.PoolStats,
		Now:       time.Now,
		Version:   versionString(),
		Mail:      mailbox,
		Mailbox:   mailbox,
		SMS:       mailbox.SMS(),
		RootLinks: demoRootLinks(setup, publicURL, sampleURL),

		TrustedProxies: c.TrustedProxies,
	}
	if geo != nil {
		opts.GeoIP = geo
	}
	h, err := web.NewServer(opts)
	if err != nil {
		return err
	}
	logger.Warn("DEVELOPMENT MAILBOX: gatehouse demo sends no email; messages, with their one-time codes, are kept in memory and shown on " + publicURL + "/dev/mailbox")

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer startSweeper(ctx, store, logger)()
	srv := newServers(ctx, logger)
	srv.start("gatehouse", ln, h)
	// Gatehouse is serving, so the sample app's discovery succeeds now.
	app, err := sampleapp.New(ctx, sampleapp.Config{
		Issuer:       setup.Issuer,
		ClientID:     setup.SampleClientID,
		ClientSecret: setup.SampleSecret,
		BaseURL:      sampleURL,
		Logger:       logger,
	})
	if err != nil {
		cancel()
		srv.wait(ctx)
		return err
	}
	srv.start("sample app", sln, app)
	logger.Info("listening", "addr", ln.Addr().String(), "public_url", publicURL, "sample_app", sampleURL, "version", versionString())
	logTrustedProxies(logger, c.TrustedProxies)
	printDemo(e.stdout, setup, publicURL, sampleURL, c.DataDir)

	err = srv.wait(ctx)
	if cerr := store.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("close the database: %w", cerr)
	}
	logger.Info("stopped")
	return err
}

// setUpDemo creates the demo tenant on the first run and, on every run,
// makes sure that the sample app's registration, its user flow and the
// break-glass account exist, creating what is missing, and gives the sample
// app a new client secret (replacing the previous run's). Every change is
// recorded in the tenant's audit log.
func setUpDemo(ctx context.Context, d provision.Deps, adminEmail, sampleURL string) (*demoSetup, error) {
	out := &demoSetup{
		Issuer:          gatehouse.IssuerURL(d.PublicURL, demoTenant),
		AdminAPI:        gatehouse.AdminAPIURL(d.PublicURL, demoTenant),
		Portal:          gatehouse.PortalURL(d.PublicURL, demoTenant),
		BreakGlassEmail: demoBreakGlassMail,
		BreakGlassGroup: demoBreakGlassGroup,
	}
	t, err := d.Store.TenantByName(ctx, demoTenant)
	switch {
	case gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND:
		res, err := provision.CreateTenant(ctx, d, demoTenant, adminEmail)
		if err != nil {
			return nil, err
		}
		out.FirstRun = true
		out.AdminEmail, out.AdminPassword = res.Admin.Email, res.Admin.Password
		out.Automation = &res.AutomationClient
		if t, err = d.Store.Tenant(ctx, res.TenantID); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	default:
		out.AdminEmail = demoAdminEmail(ctx, d.Store, t.ID)
		apps, _, err := d.Store.ListApplications(ctx, t.ID, gatehouse.ListOptions{Filter: map[string]string{"displayName": provision.AutomationAppName}})
		if err == nil && len(apps) == 1 {
			out.AutomationID = apps[0].AppID
		}
	}

	// The random and expensive parts come before the transaction, which
	// may run more than once.
	secret, hint, err := oidc.NewClientSecret()
	if err != nil {
		return nil, fmt.Errorf("generate the client secret: %w", err)
	}
	secretHash := oidc.HashClientSecret(d.Vault, secret)
	keyID, appID := uuid.NewString(), uuid.NewString()
	bgPassword, err := password.Generate()
	if err != nil {
		return nil, fmt.Errorf("generate the break-glass password: %w", err)
	}
	bgHash, err := d.Passwords.Hash(ctx, bgPassword)
	if err != nil {
		return nil, fmt.Errorf("hash the break-glass password: %w", err)
	}
	redirectURI := sampleapp.RedirectURI(sampleURL)
	logoutURI := sampleapp.PostLogoutRedirectURI(sampleURL)

	err = d.Store.Update(ctx, func(tx gatehouse.Tx) error {
		out.SampleClientID, out.BreakGlassExists = "", false
		a := provision.Auditor{Tx: tx, TenantID: t.ID, At: d.Now().UTC(), Actor: demoActor}
		cred := gatehouse.PasswordCredential{KeyID: keyID, DisplayName: demoSecretName, Hint: hint, Hash: secretHash, Start: a.At}

		// The sample app's registration, with a new secret.
		apps, _, err := tx.ListApplications(ctx, t.ID, gatehouse.ListOptions{Filter: map[string]string{"displayName": demoAppName}})
		if err != nil {
			return err
		}
		var app *gatehouse.Application
		if len(apps) == 0 {
			app = &gatehouse.Application{
				TenantID: t.ID, AppID: appID, DisplayName: demoAppName,
				WebRedirectURIs:        []string{redirectURI},
				PostLogoutRedirectURIs: []string{logoutURI},
				RequirePKCE:            true,
				PasswordCredentials:    []gatehouse.PasswordCredential{cred},
			}
			if err := app.Validate(); err != nil {
				return err
			}
			if err := tx.CreateApplication(ctx, app); err != nil {
				return fmt.Errorf("register the sample app: %w", err)
			}
			if err := a.Add(ctx, "ApplicationManagement", "Add application", "Add", gatehouse.AuditTarget{
				ID: app.ID, Type: "Application", DisplayName: app.DisplayName,
				ModifiedProperties: provision.Props("appId", app.AppID, "displayName", app.DisplayName,
					"web.redirectUris", app.WebRedirectURIs, "postLogoutRedirectUris", app.PostLogoutRedirectURIs, "requirePkce", true),
			}); err != nil {
				return err
			}
		} else {
			before := apps[0]
			var removed []gatehouse.PasswordCredential
			app, err = tx.UpdateApplication(ctx, t.ID, before.ID, func(x *gatehouse.Application) error {
				removed = nil
				x.PasswordCredentials = slices.DeleteFunc(x.PasswordCredentials, func(p gatehouse.PasswordCredential) bool {
					if p.DisplayName == demoSecretName {
						removed = append(removed, p)
						return true
					}
					return false
				})
				x.PasswordCredentials = append(x.PasswordCredentials, cred)
				// The ports may differ from the last run's.
				if !slices.Contains(x.WebRedirectURIs, redirectURI) {
					x.WebRedirectURIs = append(x.WebRedirectURIs, redirectURI)
				}
				if !slices.Contains(x.PostLogoutRedirectURIs, logoutURI) {
					x.PostLogoutRedirectURIs = append(x.PostLogoutRedirectURIs, logoutURI)
				}
				return x.Validate()
			})
			if err != nil {
				return fmt.Errorf("update the sample app's registration: %w", err)
			}
			for _, p := range removed {
				if err := a.Add(ctx, "ApplicationManagement", "Remove client secret", "Update", gatehouse.AuditTarget{
					ID: app.ID, Type: "Application", DisplayName: app.DisplayName,
					ModifiedProperties: []gatehouse.ModifiedProperty{{DisplayName: "keyId", OldValue: provision.JSONText(p.KeyID)}},
				}); err != nil {
					return err
				}
			}
			if !slices.Equal(before.WebRedirectURIs, app.WebRedirectURIs) || !slices.Equal(before.PostLogoutRedirectURIs, app.PostLogoutRedirectURIs) {
				if err := a.Add(ctx, "ApplicationManagement", "Update application", "Update", gatehouse.AuditTarget{
					ID: app.ID, Type: "Application", DisplayName: app.DisplayName,
					ModifiedProperties: []gatehouse.ModifiedProperty{
						{DisplayName: "web.redirectUris", OldValue: provision.JSONText(before.WebRedirectURIs), NewValue: provision.JSONText(app.WebRedirectURIs)},
						{DisplayName: "postLogoutRedirectUris", OldValue: provision.JSONText(before.PostLogoutRedirectURIs), NewValue: provision.JSONText(app.PostLogoutRedirectURIs)},
					},
				}); err != nil {
					return err
				}
			}
		}
		// The credential's record names it; never its secret, hint or hash.
		if err := a.Add(ctx, "ApplicationManagement", "Add client secret", "Update", gatehouse.AuditTarget{
			ID: app.ID, Type: "Application", DisplayName: app.DisplayName,
			ModifiedProperties: provision.Props("keyId", keyID, "displayName", demoSecretName, "startDateTime", a.At.Format(time.RFC3339)),
		}); err != nil {
			return err
		}
		out.SampleClientID = app.AppID

		// Its user flow, unless an administrator has moved it to another.
		if err := ensureDemoFlow(ctx, tx, a, app.AppID); err != nil {
			return err
		}
		// Email one-time passcodes for all users, the seed's second
		// factor, unless an administrator has changed the policy since.
		if err := ensureDemoEmailOTP(ctx, tx, a); err != nil {
			return err
		}

		// The break-glass account and its group.
		groups, _, err := tx.ListGroups(ctx, t.ID, gatehouse.ListOptions{Filter: map[string]string{"displayName": demoBreakGlassGroup}})
		if err != nil {
			return err
		}
		var group *gatehouse.Group
		if len(groups) > 0 {
			group = groups[0]
		} else {
			// Role-assignable, so that only a Global Administrator can
			// change who is in the group that policies exclude.
			group = &gatehouse.Group{TenantID: t.ID, DisplayName: demoBreakGlassGroup, IsAssignableToRole: true,
				Description: "Emergency access accounts: exclude this group from Conditional Access policies, so that a policy mistake cannot lock every administrator out."}
			if err := tx.CreateGroup(ctx, group); err != nil {
				return fmt.Errorf("create the break-glass group: %w", err)
			}
			if err := a.Add(ctx, "GroupManagement", "Add group", "Add", gatehouse.AuditTarget{
				ID: group.ID, Type: "Group", DisplayName: group.DisplayName,
				ModifiedProperties: provision.Props("displayName", group.DisplayName, "description", group.Description, "isAssignableToRole", true),
			}); err != nil {
				return err
			}
		}
		user, err := tx.UserByMail(ctx, t.ID, demoBreakGlassMail)
		switch {
		case err == nil:
			out.BreakGlassExists = true
		case gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND:
			user = &gatehouse.User{TenantID: t.ID, Mail: demoBreakGlassMail, DisplayName: demoBreakGlassName,
				AccountEnabled: true, PasswordHash: bgHash}
			if err := user.Validate(); err != nil {
				return err
			}
			if err := tx.CreateUser(ctx, user); err != nil {
				return fmt.Errorf("create the break-glass account: %w", err)
			}
			if err := a.Add(ctx, "UserManagement", "Add user", "Add", gatehouse.AuditTarget{
				ID: user.ID, Type: "User", DisplayName: user.DisplayName,
				ModifiedProperties: provision.Props("mail", user.Mail, "displayName", user.DisplayName, "accountEnabled", true),
			}); err != nil {
				return err
			}
		default:
			return err
		}
		// An emergency-access account is a Global Administrator, as in Entra:
		// it is how an administrator gets back in when a policy locks the
		// others out.
		roles, _, err := tx.ListRoleAssignments(ctx, t.ID, gatehouse.ListOptions{Filter: map[string]string{"principalId": user.ID}})
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(roles, func(r *gatehouse.RoleAssignment) bool { return r.RoleDefinitionID == gatehouse.RoleGlobalAdministrator }) {
			ra := &gatehouse.RoleAssignment{TenantID: t.ID, RoleDefinitionID: gatehouse.RoleGlobalAdministrator, PrincipalID: user.ID, DirectoryScopeID: "/"}
			if err := tx.CreateRoleAssignment(ctx, ra); err != nil {
				return fmt.Errorf("make the break-glass account a Global Administrator: %w", err)
			}
			if err := a.Add(ctx, "RoleManagement", "Add member to role", "Assign", gatehouse.AuditTarget{
				ID: user.ID, Type: "User", DisplayName: user.DisplayName,
				ModifiedProperties: provision.Props("role.templateId", gatehouse.RoleGlobalAdministrator, "role.displayName", "Global Administrator"),
			}); err != nil {
				return err
			}
		}
		// The seed's Conditional Access policy, excluding that group.
		if out.PolicyName, err = ensureDemoPolicy(ctx, tx, a, group.ID); err != nil {
			return err
		}
		member, err := tx.UserGroupIDs(ctx, t.ID, user.ID)
		if err != nil {
			return err
		}
		if !slices.Contains(member, group.ID) {
			if err := tx.AddGroupMember(ctx, t.ID, group.ID, user.ID); err != nil {
				return fmt.Errorf("add the break-glass account to its group: %w", err)
			}
			if err := a.Add(ctx, "GroupManagement", "Add member to group", "Assign", gatehouse.AuditTarget{
				ID: group.ID, Type: "Group", DisplayName: group.DisplayName,
				ModifiedProperties: provision.Props("memberId", user.ID, "memberMail", user.Mail),
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out.SampleSecret = secret
	if !out.BreakGlassExists {
		out.BreakGlassPass = bgPassword
	}
	return out, nil
}

// demoPolicyName is the display name of the seed's Conditional Access
// policy.
const demoPolicyName = "Require MFA for all users"

// ensureDemoPolicy creates the seed's Conditional Access policy (require
// multifactor authentication of all users, excluding the break-glass
// group, for all apps; on) in a tenant whose policies were never changed,
// and returns its name; "" when an administrator has changed the
// policies (a later run leaves them alone) and it is gone.
func ensureDemoPolicy(ctx context.Context, tx gatehouse.Tx, a provision.Auditor, breakGlass string) (string, error) {
	v, err := tx.PoliciesVersion(ctx, a.TenantID)
	if err != nil {
		return "", err
	}
	if v != 0 {
		ps, _, err := tx.ListPolicies(ctx, a.TenantID, gatehouse.ListOptions{Filter: map[string]string{"displayName": demoPolicyName}})
		if err != nil || len(ps) == 0 {
			return "", err
		}
		return demoPolicyName, nil
	}
	p := &gatehouse.Policy{TenantID: a.TenantID, DisplayName: demoPolicyName, State: gatehouse.PolicyEnabled,
		Description: "The seed's policy: every customer is asked for a second factor (an email one-time passcode) after the password; the break-glass accounts are not.",
		Conditions: gatehouse.PolicyConditions{
			Users:          gatehouse.UserConditions{IncludeUsers: []string{gatehouse.ConditionAll}, ExcludeGroups: []string{breakGlass}},
			Applications:   gatehouse.ApplicationConditions{Include: []string{gatehouse.ConditionAll}},
			ClientAppTypes: []string{gatehouse.ClientAll},
		},
		Grant: &gatehouse.GrantControls{Operator: "OR", BuiltIn: []string{gatehouse.ControlMFA}}}
	p.Normalize()
	if err := p.Validate(); err != nil {
		return "", err
	}
	if err := tx.CreatePolicy(ctx, p); err != nil {
		return "", fmt.Errorf("create the Conditional Access policy: %w", err)
	}
	return demoPolicyName, a.Add(ctx, "Policy", "Add conditional access policy", "Add", gatehouse.AuditTarget{
		ID: p.ID, Type: "Policy", DisplayName: p.DisplayName,
		ModifiedProperties: provision.Props("displayName", p.DisplayName, "state", string(p.State), "excludeGroups", breakGlass),
	})
}

// ensureDemoEmailOTP enables the email one-time passcode method for all
// users in a tenant whose authentication methods policy was never changed
// (a later run leaves an administrator's policy alone).
func ensureDemoEmailOTP(ctx context.Context, tx gatehouse.Tx, a provision.Auditor) error {
	p, err := tx.MethodsPolicy(ctx, a.TenantID)
	if err != nil || !p.UpdatedAt.IsZero() {
		return err
	}
	if _, err := tx.UpdateMethodsPolicy(ctx, a.TenantID, func(p *gatehouse.MethodsPolicy) error {
		c := p.Config(gatehouse.MethodEmail)
		c.Enabled, c.Include, c.Exclude = true, []string{gatehouse.AllUsers}, []string{}
		p.SetConfig(c)
		return nil
	}); err != nil {
		return fmt.Errorf("enable email one-time passcodes: %w", err)
	}
	return a.Add(ctx, "Policy", "Authentication Methods Policy Update", "Update", gatehouse.AuditTarget{
		ID: "Email", Type: "Policy", DisplayName: "Email authentication method configuration",
		ModifiedProperties: []gatehouse.ModifiedProperty{{DisplayName: "state", OldValue: provision.JSONText("disabled"), NewValue: provision.JSONText("enabled")}},
	})
}

// ensureDemoFlow makes sure the sample app uses a user flow: the demo's
// "Sign up and sign in", created if missing. An app already using another
// flow is left where an administrator put it.
func ensureDemoFlow(ctx context.Context, tx gatehouse.Tx, a provision.Auditor, appID string) error {
	if _, err := tx.UserFlowByAppID(ctx, a.TenantID, appID); err == nil {
		return nil
	} else if gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		return err
	}
	flows, _, err := tx.ListUserFlows(ctx, a.TenantID, gatehouse.ListOptions{Filter: map[string]string{"displayName": demoFlowName}})
	if err != nil {
		return err
	}
	if len(flows) > 0 {
		before := flows[0]
		after, err := tx.UpdateUserFlow(ctx, a.TenantID, before.ID, func(f *gatehouse.UserFlow) error {
			if !slices.Contains(f.AppIDs, appID) {
				f.AppIDs = append(f.AppIDs, appID)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("connect the sample app to the user flow: %w", err)
		}
		return a.Add(ctx, "Policy", "Add application to user flow", "Assign", gatehouse.AuditTarget{
			ID: after.ID, Type: "Policy", DisplayName: after.DisplayName,
			ModifiedProperties: []gatehouse.ModifiedProperty{{DisplayName: "appIds", OldValue: provision.JSONText(before.AppIDs), NewValue: provision.JSONText(after.AppIDs)}},
		})
	}
	displayName, _ := gatehouse.BuiltInAttribute("displayName")
	displayName.Required = true
	city, _ := gatehouse.BuiltInAttribute("city")
	f := &gatehouse.UserFlow{
		TenantID:         a.TenantID,
		DisplayName:      demoFlowName,
		Description:      "Customers of the sample app sign up and sign in with their email address and a password.",
		IdentityProvider: gatehouse.IdentityProviderEmailPassword,
		SignUpAllowed:    true,
		Attributes:       []gatehouse.FlowAttribute{displayName, city},
		AppIDs:           []string{appID},
	}
	if err := f.Validate(); err != nil {
		return err
	}
	if err := tx.CreateUserFlow(ctx, f); err != nil {
		return fmt.Errorf("create the user flow: %w", err)
	}
	return a.Add(ctx, "Policy", "Add user flow", "Add", gatehouse.AuditTarget{
		ID: f.ID, Type: "Policy", DisplayName: f.DisplayName,
		ModifiedProperties: provision.Props("displayName", f.DisplayName, "identityProvider", f.IdentityProvider,
			"signUpAllowed", f.SignUpAllowed, "attributes", []string{"displayName", "city"}, "appIds", f.AppIDs),
	})
}

// demoAdminEmail returns the address of the demo tenant's administrator
// for the banner of a later run: the oldest Global Administrator that is
// not the break-glass account.
func demoAdminEmail(ctx context.Context, store gatehouse.Reader, tenantID string) string {
	as, _, err := store.ListRoleAssignments(ctx, tenantID, gatehouse.ListOptions{Filter: map[string]string{"roleDefinitionId": gatehouse.RoleGlobalAdministrator}})
	if err != nil {
		return ""
	}
	var admin *gatehouse.User
	for _, a := range as {
		u, err := store.User(ctx, tenantID, a.PrincipalID)
		if err != nil || u.Mail == demoBreakGlassMail {
			continue
		}
		if admin == nil || u.CreatedAt.Before(admin.CreatedAt) {
			admin = u
		}
	}
	if admin == nil {
		return ""
	}
	return admin.Mail
}

// demoRootLinks are the links of the root page of the demo's Gatehouse:
// where a newcomer who opened the first URL of the banner goes next.
func demoRootLinks(s *demoSetup, publicURL, sampleURL string) []web.RootLink {
	return []web.RootLink{
		{Text: "Sample app", Href: sampleURL, Note: "Sign up and sign in as a customer of the demo tenant would."},
		{Text: "Admin portal", Href: s.Portal, Note: "Manage the demo tenant as its administrator: users, apps, user flows, methods."},
		{Text: "Development mailbox", Href: publicURL + "/dev/mailbox", Note: "The mail the demo would have sent, with its one-time codes."},
		{Text: "Discovery document of the tenant " + demoTenant, Href: s.Issuer + "/.well-known/openid-configuration", Note: "Its OpenID Connect configuration: issuer, endpoints and keys."},
	}
}

// policyHint names the seed's policy in the banner's steps.
func policyHint(s *demoSetup) string {
	if s.PolicyName == "" {
		return "of your tenant (the demo's own was removed)"
	}
	return s.PolicyName
}

// policyLine describes the seed's policy in the banner.
func policyLine(s *demoSetup) string {
	if s.PolicyName == "" {
		return "the demo's policy was changed by an administrator; left alone"
	}
	return "\"" + s.PolicyName + "\": all users but the break-glass group, all apps, MFA, on"
}

// printDemo writes the banner: every URL and credential a newcomer needs.
func printDemo(w io.Writer, s *demoSetup, publicURL, sampleURL, dataDir string) {
	shownBefore := "(shown on the first run; delete " + dataDir + " to start over)"
	orShown := func(v string) string {
		if v == "" {
			return shownBefore
		}
		return v + "    <- shown only this once"
	}
	tenantURL := gatehouse.TenantURL(publicURL, demoTenant)
	fmt.Fprintf(w, `
================================================================================
 Gatehouse demo is running. Press Ctrl-C to stop.
================================================================================

 Try the sign-in
   1. Open the sample app:   %s
   2. Select "Sign in", then "Sign up" (under "No account?"), and sign up
      with any email address.
   3. No email is sent: read the verification code in the development
      mailbox:               %s/dev/mailbox
   4. Back in the sample app: your ID token's claims ("Signed in with:
      pwd, otp, email, mfa": the sign-up code and the password) and the
      userinfo response. "Sign out" ends both sessions.
   5. Sign out and sign in again: after the password, the Conditional
      Access policy %q asks for a one-time code
      sent to your email address (read it in the mailbox). The sign-in log
      shows the policy's result for each attempt.

 Gatehouse                   %s
   Tenant                    %s
   Issuer                    %s
   Discovery                 %s/.well-known/openid-configuration
   Admin API                 %s
   Admin portal              %s
                             (sign in as the administrator below)

 Sample app (open this to sign up and sign in)
   URL                       %s
   Client ID                 %s
   Redirect URI              %s
   User flow                 %s (email with password;
                             sign-up asks for a display name and a city)
   Second factor             email one-time passcode, enabled for all users
                             (GET %s/policies/authenticationMethodsPolicy)
   Conditional Access        %s
                             (GET %s/identity/conditionalAccess/policies)
   Sign-in log               GET %s/auditLogs/signIns

 Development mailbox (DEVELOPMENT ONLY: no email leaves this machine; every
 one-time code is shown here to anyone who can open the page)
   URL                       %s/dev/mailbox

 Administrator (Global Administrator)
   Email                     %s
   Password                  %s
`, sampleURL, publicURL, policyHint(s), publicURL, demoTenant, s.Issuer, s.Issuer, s.AdminAPI, s.Portal,
		sampleURL, s.SampleClientID, sampleapp.RedirectURI(sampleURL), demoFlowName, s.AdminAPI,
		policyLine(s), s.AdminAPI, s.AdminAPI,
		publicURL, s.AdminEmail, orShown(s.AdminPassword))

	fmt.Fprintf(w, "\n Automation client (every admin API permission; client credentials)\n")
	if a := s.Automation; a != nil {
		fmt.Fprintf(w, `   Client ID                 %s
   Client secret             %s
   Scope                     %s
   Token endpoint            %s/oauth2/v2.0/token
`, a.ClientID, orShown(a.ClientSecret), a.Scope, tenantURL)
	} else if s.AutomationID != "" {
		fmt.Fprintf(w, "   Client ID                 %s\n   Client secret             %s\n", s.AutomationID, shownBefore)
	} else {
		fmt.Fprintf(w, "   Client ID and secret      %s\n", shownBefore)
	}
	fmt.Fprintf(w, `
 Break-glass account (Global Administrator, member of %q, a
 role-assignable group; exclude that group from Conditional Access policies)
   Email                     %s
   Password                  %s

 Data                        %s (SQLite; delete the directory to start over)
`, s.BreakGlassGroup, s.BreakGlassEmail, orShown(s.BreakGlassPass), dataDir)
	if s.FirstRun {
		fmt.Fprintf(w, "\n The passwords and the client secret above are shown only this once: store them now.\n")
	} else {
		fmt.Fprintf(w, "\n Reused the demo tenant from %s; the sample app got a new client secret.\n", dataDir)
	}
	fmt.Fprintln(w)
}
