package sqlstore

import (
	"context"
	"fmt"
	"slices"

	"github.com/gatehouse/gatehouse"
	"github.com/google/uuid"
)

const auditEntryColumns = "tenant_id, id, activity_at, category, activity, operation_type, result, result_reason, " +
	"correlation_id, actor, targets"

func scanAuditEntry(row scanner) (*gatehouse.AuditEntry, error) {
	var e gatehouse.AuditEntry
	var at int64
	var actor, targets string
	if err := row.Scan(&e.TenantID, &e.ID, &at, &e.Category, &e.Activity, &e.OperationType, &e.Result,
		&e.ResultReason, &e.CorrelationID, &actor, &targets); err != nil {
		return nil, err
	}
	if err := fromJSON(actor, &e.Actor); err != nil {
		return nil, err
	}
	if err := fromJSON(targets, &e.Targets); err != nil {
		return nil, err
	}
	e.Time = fromMicros(at)
	return &e, nil
}

// ListAuditEntries returns a page of the tenant's audit entries, newest
// first (in descending ID order, which is time order for the UUIDv7 IDs
// CreateAuditEntry gives). It filters on "category", "activityDisplayName"
// and "targetId" (an entry matches if any of its targets has the ID);
// another filter is EINVALID.
func (r *reader) ListAuditEntries(ctx context.Context, tenantID string, opt gatehouse.ListOptions) ([]*gatehouse.AuditEntry, string, error) {
	return list(ctx, r, listing[*gatehouse.AuditEntry]{
		query: "SELECT " + auditEntryColumns + " FROM audit_entries WHERE tenant_id = ?",
		args:  []any{tenantID},
		filters: map[string]filter{
			"category":            eq("category"),
			"activityDisplayName": eq("activity"),
			"targetId": func(v string) (string, []any) {
				return "id IN (SELECT entry_id FROM audit_targets WHERE tenant_id = ? AND target_id = ?)", []any{tenantID, v}
			},
		},
		newestFirst: true,
		scan:        scanAuditEntry,
		id:          func(e *gatehouse.AuditEntry) string { return e.ID },
		what:        "list audit entries",
	}, opt)
}

// CreateAuditEntry stores e, filling in its ID (when empty) with a UUIDv7,
// so that entries sort by creation time, and its Time (when zero) with the
// store's clock. It returns ECONFLICT if the tenant has an entry with the ID
// and ENOTFOUND if there is no such tenant.
func (t *tx) CreateAuditEntry(ctx context.Context, e *gatehouse.AuditEntry) error {
	if e.ID == "" {
		id, err := uuid.NewV7()
		if err != nil {
			return fmt.Errorf("sqlstore: audit entry ID: %w", err)
		}
		e.ID = id.String()
	}
	if e.Time.IsZero() {
		e.Time = t.s.now()
	}
	actor, err := jsonText(e.Actor)
	if err != nil {
		return err
	}
	targets, err := jsonList(e.Targets)
	if err != nil {
		return err
	}
	conflictErr := func(string) *gatehouse.Error {
		return conflict("", "An audit entry with ID %q already exists.", e.ID)
	}
	ok, err := t.insert(ctx, "INSERT INTO audit_entries ("+auditEntryColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "+
		"ON CONFLICT DO NOTHING", e.TenantID, e.ID, micros(e.Time), e.Category, e.Activity, e.OperationType, e.Result,
		e.ResultReason, e.CorrelationID, actor, targets)
	if err != nil {
		return t.writeError(err, "create audit entry", conflictErr, notFound("Tenant", e.TenantID))
	}
	if !ok {
		return conflictErr("audit_entries_pkey")
	}
	var ids []string
	for _, target := range e.Targets {
		if target.ID != "" && !slices.Contains(ids, target.ID) {
			ids = append(ids, target.ID)
		}
	}
	for _, id := range ids {
		if _, err := t.exec(ctx, "INSERT INTO audit_targets (tenant_id, target_id, entry_id) VALUES (?, ?, ?)",
			e.TenantID, id, e.ID); err != nil {
			return internal("create audit entry", err)
		}
	}
	return nil
}
