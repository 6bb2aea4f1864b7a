package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/oidc"
	"github.com/gatehouse/gatehouse/password"
	"github.com/gatehouse/gatehouse/provision"
)

func tenantCreateCommand() *command {
	return &command{
		name:    "tenant create",
		usage:   "tenant create NAME --admin-email EMAIL [flags]",
		summary: "Create a tenant with an administrator and an automation client.",
		help: `Creates the tenant NAME (3 to 63 lowercase letters, digits and hyphens; it
becomes the first path segment of all of the tenant's URLs) with:

  - its token signing keys (RS256, ES256 and EdDSA); it signs access
    tokens with ES256 and ID tokens with RS256 until told otherwise
    (PATCH /organization/{id} and the applications' gatehouse settings);
  - an administrator EMAIL holding the Global Administrator role, with a
    generated password;
  - "Gatehouse automation", a confidential client granted every admin API
    permission, with a generated client secret.

It prints the issuer, the admin API URL, the administrator's password, and
the client ID, secret and scope for a client-credentials token. The password
and the secret are stored only as hashes: this is the one time they are
shown. Nothing is created if any part fails.

--public-url (or --addr) only shapes the URLs printed; use the same value as
the server's.`,
		options: join([]option{optAdminEmail, optJSON, optPublicURL, optAddr}, storageOptions, logOptions),
		args: func(args []string) error {
			switch len(args) {
			case 0:
				return errors.New("the tenant NAME is required")
			case 1:
				return nil
			}
			return fmt.Errorf("unexpected argument %q; give one tenant NAME", args[1])
		},
		run: tenantCreate,
	}
}

func tenantCreate(ctx context.Context, e *env, c *config) error {
	name := c.Args[0]
	if c.AdminEmail == "" {
		return errors.New("--admin-email is required: the tenant's first administrator signs in with it")
	}
	// Refuse bad input before touching the database.
	if err := gatehouse.ValidateTenantName(name); err != nil {
		return err
	}
	adminEmail, err := gatehouse.CanonicalMail("--admin-email", c.AdminEmail)
	if err != nil {
		return err
	}
	c.AdminEmail = adminEmail
	logger := newLogger(c, e.stderr)
	for _, w := range c.warnings {
		logger.Warn(w)
	}
	store, err := openStore(ctx, c, logger)
	if err != nil {
		return err
	}
	defer store.Close()
	v, err := openVault(ctx, c, store, logger)
	if err != nil {
		return err
	}
	publicURL := c.PublicURL
	if publicURL == "" {
		publicURL = derivePublicURL(c.Addr)
	}
	res, err := provision.CreateTenant(ctx, provision.Deps{
		Store:     store,
		Keys:      oidc.NewKeys(store, v, time.Now),
		Vault:     v,
		Passwords: password.NewHasher(password.DefaultParams, 1, 1),
		PublicURL: publicURL,
	}, name, c.AdminEmail)
	if err != nil {
		return err
	}
	if err := store.Close(); err != nil {
		return fmt.Errorf("close the database: %w", err)
	}

	if c.JSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	fmt.Fprintf(e.stdout, `Created tenant %s.

  Issuer           %s
  Discovery        %s/.well-known/openid-configuration
  Admin API        %s
  Admin portal     %s

Administrator (Global Administrator)
  Email            %s
  Password         %s

Automation client (every admin API permission; client credentials)
  Client ID        %s
  Client secret    %s
  Scope            %s
  Token endpoint   %s

The password and the client secret are shown only this once: store them now.
`, res.Tenant, res.Issuer, res.Issuer, res.AdminAPI, res.Portal,
		res.Admin.Email, res.Admin.Password,
		res.AutomationClient.ClientID, res.AutomationClient.ClientSecret, res.AutomationClient.Scope,
		gatehouse.TenantURL(publicURL, res.Tenant)+"/oauth2/v2.0/token")
	return nil
}

func tenantRotateKeysCommand() *command {
	return &command{
		name:    "tenant rotate-keys",
		usage:   "tenant rotate-keys NAME [flags]",
		summary: "Rotate a tenant's token signing keys.",
		help: `Creates new signing keys (RS256, ES256 and EdDSA) for the tenant NAME and retires
the current ones. Running servers see the new keys within 10 seconds and
sign with them from about 80 seconds after the rotation, once every copy of
the JWKS that relying parties may have cached (for up to a minute) holds
them; until then the old keys go on signing. Retired keys stay published in the tenant's JWKS until
the tokens they signed have expired, so relying parties notice nothing. The
rotation is recorded in the tenant's audit log.`,
		options: join(storageOptions, logOptions),
		args: func(args []string) error {
			switch len(args) {
			case 0:
				return errors.New("the tenant NAME is required")
			case 1:
				return nil
			}
			return fmt.Errorf("unexpected argument %q; give one tenant NAME", args[1])
		},
		run: tenantRotateKeys,
	}
}

func tenantRotateKeys(ctx context.Context, e *env, c *config) error {
	name := c.Args[0]
	logger := newLogger(c, e.stderr)
	store, err := openStore(ctx, c, logger)
	if err != nil {
		return err
	}
	defer store.Close()
	t, err := store.TenantByName(ctx, name)
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return fmt.Errorf("tenant %q does not exist", name)
	} else if err != nil {
		return err
	}
	v, err := openVault(ctx, c, store, logger)
	if err != nil {
		return err
	}
	if err := oidc.NewKeys(store, v, time.Now).Rotate(ctx, t.ID); err != nil {
		return err
	}
	if err := auditRotation(ctx, store, t.ID); err != nil {
		return fmt.Errorf("the keys were rotated, but recording it in the audit log failed: %w", err)
	}
	fmt.Fprintf(e.stdout, "Rotated the signing keys of tenant %s. New tokens are signed with the new keys\nonce every server and relying party has seen them (within about 80 seconds); the old keys stay\npublished until the tokens they signed have expired.\n", name)
	return nil
}

// auditRotation records a key rotation in the tenant's audit log, naming
// the keys now active. Keys.Rotate commits on its own, so this is a
// transaction of its own, right after it.
func auditRotation(ctx context.Context, store gatehouse.Store, tenantID string) error {
	return store.Update(ctx, func(tx gatehouse.Tx) error {
		keys, err := tx.SigningKeys(ctx, tenantID)
		if err != nil {
			return err
		}
		var targets []gatehouse.AuditTarget
		for _, k := range keys {
			if k.Active() {
				targets = append(targets, gatehouse.AuditTarget{ID: k.ID, Type: "Key", DisplayName: k.Algorithm})
			}
		}
		return tx.CreateAuditEntry(ctx, &gatehouse.AuditEntry{
			TenantID:      tenantID,
			Time:          time.Now().UTC(),
			Category:      "KeyManagement",
			Activity:      "Rotate signing keys",
			OperationType: "Update",
			Result:        "success",
			Actor:         gatehouse.Actor{DisplayName: "gatehouse tenant rotate-keys"},
			Targets:       targets,
		})
	})
}
