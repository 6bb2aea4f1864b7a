package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// maxAPIBody is the largest admin API request body accepted.
const maxAPIBody = 1 << 20

// encode writes v as JSON with the status.
func encode(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if v == nil {
		return
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v) // the status is sent; a failed write has no one left to tell
}

// decoded is a strictly decoded request body: the object and the set of
// top-level properties the caller sent (so PATCH can tell "absent" from
// "null").
type decoded struct {
	present map[string]bool
	null    map[string]bool
}

// decode reads a JSON object from r's body into dst, a pointer to a struct
// whose json tags name the accepted properties. It returns an EINVALID error
// that names the problem for malformed JSON, a property dst does not have
// (at any depth, with its path), a property of the wrong type, or trailing
// data; ETOOLARGE for a body over maxAPIBody. OData annotations
// ("@odata.type" and the like) are accepted and ignored, as Graph does.
func decode(w http.ResponseWriter, r *http.Request, dst any) (*decoded, error) {
	body, err := readBody(w, r)
	if err != nil {
		return nil, err
	}
	return decodeBytes(body, dst)
}

// readBody reads a JSON request body of at most maxAPIBody bytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return nil, gatehouse.Errorf(gatehouse.EINVALID, "The Content-Type %q is not supported; send application/json.", ct)
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAPIBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, gatehouse.Errorf(gatehouse.ETOOLARGE, "The request body is larger than the limit of %d bytes.", mbe.Limit)
		}
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "The request body could not be read.")
	}
	return body, nil
}

// decodeRefBytes decodes a Graph reference body, {"@odata.id": "…"}, whose
// only property is the reference.
func decodeRefBytes(body []byte, dst **string) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return gatehouse.Errorf(gatehouse.EINVALID, "The request body is empty; send {\"@odata.id\": \"…\"}.")
	}
	if !json.Valid(body) {
		return syntaxError(body)
	}
	if err := checkNUL(body); err != nil {
		return err
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return gatehouse.Errorf(gatehouse.EINVALID, "The request body must be a JSON object.")
	}
	for k, v := range top {
		if k != "@odata.id" {
			return gatehouse.FieldErrorf(k, "Property '%s' is not supported here; send only @odata.id.", k)
		}
		if err := json.Unmarshal(v, dst); err != nil {
			return gatehouse.FieldErrorf(k, "Property '@odata.id' has the wrong type: expected string.")
		}
	}
	return nil
}

func decodeBytes(body []byte, dst any) (*decoded, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "The request body is empty; send a JSON object.")
	}
	if !json.Valid(body) {
		return nil, syntaxError(body)
	}
	if err := checkNUL(body); err != nil {
		return nil, err
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "The request body must be a JSON object.")
	}
	if err := checkProperties(top, reflect.TypeOf(dst).Elem(), ""); err != nil {
		return nil, err
	}
	d := &decoded{present: map[string]bool{}, null: map[string]bool{}}
	clean := map[string]json.RawMessage{}
	for k, v := range top {
		if isAnnotation(k) {
			continue
		}
		d.present[k] = true
		if string(bytes.TrimSpace(v)) == "null" {
			d.null[k] = true
		}
		clean[k] = v
	}
	cleaned, _ := json.Marshal(clean)
	if err := json.Unmarshal(cleaned, dst); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, &gatehouse.Error{Code: gatehouse.EINVALID, Field: te.Field,
				Message: fmt.Sprintf("Property '%s' has the wrong type: expected %s, got %s.", te.Field, jsonTypeName(te.Type), te.Value)}
		}
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "The request body could not be decoded: %v.", err)
	}
	return d, nil
}

func isAnnotation(k string) bool {
	return strings.HasPrefix(k, "@odata.") || strings.Contains(k, "@odata.")
}

// checkProperties rejects any property of obj that t (a struct type) has
// no json tag for, recursing into nested objects and arrays of objects.
func checkProperties(obj map[string]json.RawMessage, t reflect.Type, path string) error {
	fields := jsonFields(t)
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if isAnnotation(k) {
			continue
		}
		name := path + k
		ft, ok := fields[k]
		if !ok {
			if ro, isRO := readOnlyProperties[k]; isRO && path == "" {
				return &gatehouse.Error{Code: gatehouse.EINVALID, Field: name, Message: fmt.Sprintf("Property '%s' is read-only%s.", name, ro)}
			}
			return &gatehouse.Error{Code: gatehouse.EINVALID, Field: name, Message: fmt.Sprintf("Property '%s' is not supported here; Gatehouse does not accept it.", name)}
		}
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		raw := bytes.TrimSpace(obj[k])
		switch {
		case ft.Kind() == reflect.Struct && len(raw) > 0 && raw[0] == '{':
			var sub map[string]json.RawMessage
			if err := json.Unmarshal(raw, &sub); err == nil {
				if err := checkProperties(sub, ft, name+"."); err != nil {
					return err
				}
			}
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct && len(raw) > 0 && raw[0] == '[':
			var subs []map[string]json.RawMessage
			if err := json.Unmarshal(raw, &subs); err == nil {
				for _, sub := range subs {
					if err := checkProperties(sub, ft.Elem(), name+"."); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// readOnlyProperties are Graph properties a caller may have read and sent
// back; rejecting them with "read-only" explains the problem better.
var readOnlyProperties = map[string]string{
	"id":                         "",
	"createdDateTime":            "",
	"appId":                      " (Gatehouse assigns the client ID)",
	"passwordCredentials":        " (use addPassword and removePassword to manage client secrets)",
	"userPrincipalName":          " (in Gatehouse a user's sign-in name is its mail)",
	"deletedDateTime":            "",
	"activityDateTime":           "",
	"lastPasswordChangeDateTime": "",
}

func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

func jsonTypeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool:
		return "boolean"
	case reflect.String:
		return "string"
	case reflect.Int, reflect.Int32, reflect.Int64, reflect.Float64, reflect.Uint32:
		return "number"
	case reflect.Slice:
		return "array"
	case reflect.Struct, reflect.Map:
		return "object"
	}
	return t.String()
}

// syntaxError describes where body stops being JSON.
func syntaxError(body []byte) error {
	var v any
	err := json.Unmarshal(body, &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := 1, 1
		for _, b := range body[:min(int(se.Offset), len(body))] {
			if b == '\n' {
				line, col = line+1, 1
			} else {
				col++
			}
		}
		return gatehouse.Errorf(gatehouse.EINVALID, "The request body is not valid JSON: %s (line %d, column %d).", se.Error(), line, col)
	}
	return gatehouse.Errorf(gatehouse.EINVALID, "The request body is not valid JSON.")
}

// nulEscapeRE finds a JSON-escaped NUL character.
var nulEscapeRE = regexp.MustCompile(`(?i)\\u0000`)

// checkNUL refuses a JSON body with a NUL character in a string: no
// property may hold one, and PostgreSQL cannot store it.
func checkNUL(body []byte) error {
	if nulEscapeRE.Match(body) {
		return gatehouse.Errorf(gatehouse.EINVALID, "The request body contains a NUL character (\\u0000); no property may hold one.")
	}
	return nil
}
