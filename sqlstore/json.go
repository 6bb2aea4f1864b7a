package sqlstore

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse"
)

// jsonText returns v as JSON for a TEXT column.
func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("sqlstore: encode %T: %w", v, err)
	}
	return string(b), nil
}

// jsonList returns s as JSON for a TEXT column, "" when s is empty (which
// reads back as nil).
func jsonList[T any](s []T) (string, error) {
	if len(s) == 0 {
		return "", nil
	}
	return jsonText(s)
}

// jsonMap returns m as JSON for a TEXT column, "" when m is empty (which
// reads back as nil).
func jsonMap(m map[string]string) (string, error) {
	if len(m) == 0 {
		return "", nil
	}
	return jsonText(m)
}

// fromJSON decodes the JSON text of a column into v, leaving v alone when
// the text is "".
func fromJSON(text string, v any) error {
	if text == "" {
		return nil
	}
	if err := json.Unmarshal([]byte(text), v); err != nil {
		return fmt.Errorf("sqlstore: decode %T: %w", v, err)
	}
	return nil
}

// legacyMethods returns the methods of a session or grant written before
// Gatehouse recorded them (migration 0007), from its amr: a sign-in had
// one factor then, a password ("pwd") or an email code ("otp").
func legacyMethods(amr []string, authTime time.Time) []gatehouse.MethodUse {
	for _, v := range amr {
		switch v {
		case "pwd":
			return []gatehouse.MethodUse{{Method: gatehouse.MethodPassword, At: authTime}}
		case "otp":
			return []gatehouse.MethodUse{{Method: gatehouse.MethodEmail, At: authTime}}
		}
	}
	return nil
}
