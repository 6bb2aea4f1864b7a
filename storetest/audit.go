package storetest

import (
	"fmt"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/google/go-cmp/cmp"
)

func auditEntryID(e *gatehouse.AuditEntry) string { return e.ID }

func testAuditEntries(t *testing.T, s gatehouse.Store) {
	ctx := t.Context()
	tn := newTenant(t, s, "contoso")
	other := newTenant(t, s, "fabrikam")

	full := &gatehouse.AuditEntry{
		TenantID:      tn.ID,
		Time:          oddTime(10),
		Category:      "UserManagement",
		Activity:      "Update user",
		OperationType: "Update",
		Result:        "success",
		ResultReason:  "",
		CorrelationID: "c0ffee00-0000-4000-8000-000000000000",
		Actor:         gatehouse.Actor{UserID: "admin-1", UserMail: "admin@example.com", DisplayName: "Admin", IPAddress: "2001:db8::1"},
		Targets: []gatehouse.AuditTarget{
			{ID: "user-1", Type: "User", DisplayName: "Ada", ModifiedProperties: []gatehouse.ModifiedProperty{
				{DisplayName: "jobTitle", OldValue: `"Analyst"`, NewValue: `"Countess"`},
				{DisplayName: "accountEnabled", OldValue: "true", NewValue: "false"},
			}},
			{ID: "group-1", Type: "Group"},
			{ID: "user-1", Type: "User"}, // a target listed twice
		},
	}
	// Entries created one by one, oldest first, each touching one target.
	var entries []*gatehouse.AuditEntry
	mk := func(category, activity, target string) *gatehouse.AuditEntry {
		e := &gatehouse.AuditEntry{TenantID: tn.ID, Category: category, Activity: activity, OperationType: "Add", Result: "success",
			Actor: gatehouse.Actor{AppID: "app-1"}, Targets: []gatehouse.AuditTarget{{ID: target, Type: "User"}}}
		c := startClock()
		update(t, s, func(tx gatehouse.Tx) error { return tx.CreateAuditEntry(ctx, e) })
		if e.ID == "" {
			t.Fatal("CreateAuditEntry left ID empty")
		}
		c.check(t, "Time", e.Time)
		entries = append(entries, e)
		return e
	}
	e0 := mk("UserManagement", "Add user", "user-1")
	e1 := mk("GroupManagement", "Add group", "group-1")
	update(t, s, func(tx gatehouse.Tx) error { return tx.CreateAuditEntry(ctx, full) })
	entries = append(entries, full)
	e3 := mk("UserManagement", "Add user", "user-2")
	e4 := mk("ApplicationManagement", "Add application", "app-1")
	update(t, s, func(tx gatehouse.Tx) error {
		return tx.CreateAuditEntry(ctx, &gatehouse.AuditEntry{TenantID: other.ID, Category: "UserManagement", Activity: "Add user",
			Targets: []gatehouse.AuditTarget{{ID: "user-1", Type: "User"}}})
	})
	newestFirst := func(es ...*gatehouse.AuditEntry) []string {
		out := make([]string, len(es))
		for i, e := range es {
			out[len(es)-1-i] = e.ID
		}
		return out
	}

	t.Run("ReadBack", func(t *testing.T) {
		got, _, err := s.ListAuditEntries(ctx, tn.ID, gatehouse.ListOptions{Filter: map[string]string{"targetId": "group-1", "category": "UserManagement"}})
		if err != nil {
			t.Fatalf("ListAuditEntries: %v", err)
		}
		want := *full
		want.Time = micro(full.Time)
		if diff := cmp.Diff([]*gatehouse.AuditEntry{&want}, got); diff != "" {
			t.Errorf("ListAuditEntries (-want +got):\n%s", diff)
		}
		if len(got) == 1 {
			checkStoredTime(t, "Time", got[0].Time)
		}
	})

	t.Run("NewestFirst", func(t *testing.T) {
		got, sizes := allPages(t, 2, func(opt gatehouse.ListOptions) ([]*gatehouse.AuditEntry, string, error) {
			return s.ListAuditEntries(ctx, tn.ID, opt)
		})
		if diff := cmp.Diff(newestFirst(entries...), ids(got, auditEntryID)); diff != "" {
			t.Errorf("IDs over all pages (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]int{2, 2, 1}, sizes); diff != "" {
			t.Errorf("page sizes (-want +got):\n%s", diff)
		}
		one, _, err := s.ListAuditEntries(ctx, tn.ID, gatehouse.ListOptions{Top: 1})
		if err != nil {
			t.Fatalf("ListAuditEntries: %v", err)
		}
		if diff := cmp.Diff([]string{e4.ID}, ids(one, auditEntryID)); diff != "" {
			t.Errorf("first entry (-want +got):\n%s", diff)
		}
	})

	t.Run("Filters", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			filter map[string]string
			want   []string
		}{
			{"Category", map[string]string{"category": "UserManagement"}, newestFirst(e0, full, e3)},
			{"Activity", map[string]string{"activityDisplayName": "Add user"}, newestFirst(e0, e3)},
			{"TargetUser", map[string]string{"targetId": "user-1"}, newestFirst(e0, full)},
			{"TargetGroup", map[string]string{"targetId": "group-1"}, newestFirst(e1, full)},
			{"TargetAndActivity", map[string]string{"targetId": "user-1", "activityDisplayName": "Update user"}, newestFirst(full)},
			{"NoMatch", map[string]string{"category": "KeyManagement"}, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, next, err := s.ListAuditEntries(ctx, tn.ID, gatehouse.ListOptions{Filter: tc.filter})
				if err != nil {
					t.Fatalf("ListAuditEntries: %v", err)
				}
				if diff := cmp.Diff(tc.want, ids(got, auditEntryID), cmpEmpty); diff != "" || next != "" {
					t.Errorf("next %q, IDs (-want +got):\n%s", next, diff)
				}
			})
		}
		got, _ := allPages(t, 1, func(opt gatehouse.ListOptions) ([]*gatehouse.AuditEntry, string, error) {
			opt.Filter = map[string]string{"category": "UserManagement"}
			return s.ListAuditEntries(ctx, tn.ID, opt)
		})
		if diff := cmp.Diff(newestFirst(e0, full, e3), ids(got, auditEntryID)); diff != "" {
			t.Errorf("filtered pages (-want +got):\n%s", diff)
		}
		_, _, err := s.ListAuditEntries(ctx, tn.ID, gatehouse.ListOptions{Filter: map[string]string{"result": "success"}})
		wantCode(t, "ListAuditEntries filtered on result", err, gatehouse.EINVALID, "result")
	})

	t.Run("Isolation", func(t *testing.T) {
		got, _, err := s.ListAuditEntries(ctx, other.ID, gatehouse.ListOptions{Filter: map[string]string{"targetId": "user-1"}})
		if err != nil {
			t.Fatalf("ListAuditEntries: %v", err)
		}
		if len(got) != 1 || got[0].TenantID != other.ID {
			t.Errorf("ListAuditEntries(other tenant, user-1) = %v, want only its own entry", ids(got, auditEntryID))
		}
		err = updateErr(t, s, func(tx gatehouse.Tx) error {
			return tx.CreateAuditEntry(ctx, &gatehouse.AuditEntry{TenantID: "no-such-tenant", Category: "UserManagement"})
		})
		wantCode(t, "CreateAuditEntry in a missing tenant", err, gatehouse.ENOTFOUND)
		err = updateErr(t, s, func(tx gatehouse.Tx) error {
			return tx.CreateAuditEntry(ctx, &gatehouse.AuditEntry{ID: e1.ID, TenantID: tn.ID, Category: "UserManagement"})
		})
		wantCode(t, "CreateAuditEntry with a taken ID", err, gatehouse.ECONFLICT, e1.ID)
	})

	t.Run("ManyInOneTransaction", func(t *testing.T) {
		tn := newTenant(t, s, "many")
		var want []*gatehouse.AuditEntry
		update(t, s, func(tx gatehouse.Tx) error {
			for i := range 30 {
				e := &gatehouse.AuditEntry{TenantID: tn.ID, Category: "UserManagement", Activity: fmt.Sprint("step ", i)}
				if err := tx.CreateAuditEntry(ctx, e); err != nil {
					return err
				}
				want = append(want, e)
			}
			return nil
		})
		got, _ := allPages(t, 7, func(opt gatehouse.ListOptions) ([]*gatehouse.AuditEntry, string, error) {
			return s.ListAuditEntries(ctx, tn.ID, opt)
		})
		if diff := cmp.Diff(newestFirst(want...), ids(got, auditEntryID)); diff != "" {
			t.Errorf("entries created in one transaction, newest first (-want +got):\n%s", diff)
		}
	})
}
