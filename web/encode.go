package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse"
)

// maxAPIBody is the largest admin API request body accepted.
const maxAPIBody = 1 << 20

// encode writes v as JSON with the status.
// jsonContentType is the Content-Type of JSON responses, shared as the
// headers of middleware.go are.
var jsonContentType = []string{"application/json; charset=utf-8"}

func encode(w http.ResponseWriter, status int, v any) {
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(status)
	if v == nil {
		return
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v) // the status is sent; a failed write has no one left to tell
}

// decoded is a strictly decoded request body: the properties the caller
// sent and those it sent as null, by path ("displayName",
// "web.redirectUris"), so that a handler can tell "absent" from "null".
type decoded struct {
	present map[string]bool
	null    map[string]bool
}

// decode reads a JSON object from r's body into dst, a pointer to a struct
// whose json tags name the accepted properties. It returns an EINVALID error
// that names the problem for malformed JSON, a body that is not an object,
// a property dst does not have (at any depth, with its path), a value of
// the wrong type (with its path, array indexes included), a null where the
// property cannot be null, text that is not UTF-8 (raw or as escaped lone
// surrogates) or holds a NUL character, or trailing data; ETOOLARGE for a
// body over maxAPIBody. OData annotations ("@odata.type" and the like) are
// accepted and ignored, as Graph does, unless dst declares them.
//
// A property sent as null is handled by its kind, unless the field's
// `null:"…"` tag says otherwise:
//   - a string is cleared: the field receives "", as if "" had been sent;
//   - a list is cleared: the field receives an empty list;
//   - a boolean, a number or an object is refused, naming the property;
//   - a json.RawMessage receives null as it is, for the handler to judge.
//
// null:"refuse" refuses null for a string or a list (a required property);
// null:"keep" leaves the field unset, for a handler that gives null its own
// meaning through decoded.null. Null elements of lists are refused.
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
	var body []byte
	tooLarge, err := readBounded(w, r, maxAPIBody, func() (err error) {
		body, err = io.ReadAll(r.Body)
		return err
	})
	switch {
	case tooLarge:
		return nil, gatehouse.Errorf(gatehouse.ETOOLARGE, "The request body is larger than the limit of %d bytes.", maxAPIBody)
	case err != nil:
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "The request body could not be read.")
	}
	return body, nil
}

// checkObjectBody returns an EINVALID error unless body is one well-formed
// JSON object.
func checkObjectBody(body []byte, example string) error {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return gatehouse.Errorf(gatehouse.EINVALID, "The request body is empty; send %s.", example)
	}
	if !json.Valid(trimmed) {
		return syntaxError(body)
	}
	if k := jsonKindOf(trimmed); k != "object" {
		return gatehouse.Errorf(gatehouse.EINVALID, "The request body must be a JSON object, not %s; send %s.", article(k), example)
	}
	return nil
}

// article returns a JSON kind with its article ("an array", "null").
func article(kind string) string {
	switch kind {
	case "null":
		return "null"
	case "array", "object":
		return "an " + kind
	}
	return "a " + kind
}

// decodeRefBytes decodes a Graph reference body, {"@odata.id": "…"}, whose
// only property is the reference.
func decodeRefBytes(body []byte, dst **string) error {
	if err := checkObjectBody(body, `{"@odata.id": "…"}`); err != nil {
		return err
	}
	if err := checkText(body, ""); err != nil {
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
		if jsonKindOf(bytes.TrimSpace(v)) != "string" {
			return gatehouse.FieldErrorf(k, "Property '@odata.id' has the wrong type: expected string, got %s.", jsonKindOf(bytes.TrimSpace(v)))
		}
		if err := json.Unmarshal(v, dst); err != nil {
			return gatehouse.FieldErrorf(k, "Property '@odata.id' has the wrong type: expected string.")
		}
	}
	return nil
}

func decodeBytes(body []byte, dst any) (*decoded, error) {
	if err := checkObjectBody(body, "a JSON object"); err != nil {
		return nil, err
	}
	d := &decoded{present: map[string]bool{}, null: map[string]bool{}}
	cleaned, err := (&bodyWalker{d: d}).walk(bytes.TrimSpace(body), reflect.TypeOf(dst).Elem(), "")
	if err != nil {
		return nil, err
	}
	// The walk checked the text of every value; property names remain.
	if err := checkText(body, ""); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(cleaned, dst); err != nil {
		// The walk checked every type; this is a safety net.
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, &gatehouse.Error{Code: gatehouse.EINVALID, Field: te.Field,
				Message: fmt.Sprintf("Property '%s' has the wrong type: expected %s, got %s.", te.Field, jsonTypeName(te.Type), te.Value)}
		}
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "The request body could not be decoded: %v.", err)
	}
	return d, nil
}

// isAnnotation reports whether k names an instance or property
// annotation: OData's, or Gatehouse's own (@gatehouse.warning), which
// responses carry and which a body copied from a response may repeat.
func isAnnotation(k string) bool {
	return strings.Contains(k, "@odata.") || strings.Contains(k, "@gatehouse.")
}

// bodyWalker checks a request body against the input type it is decoded
// into and rewrites accepted nulls as the null rules of decode say.
type bodyWalker struct {
	d *decoded
}

var rawMessageType = reflect.TypeFor[json.RawMessage]()

// passesNull reports whether t receives JSON as it is, null included.
func passesNull(t reflect.Type) bool {
	return t == rawMessageType || t.Kind() == reflect.Interface
}

// walk checks raw, a well-formed JSON value, against t, the type it is
// decoded into, and returns it with accepted nulls rewritten. path names
// raw in errors ("" for the body itself).
func (w *bodyWalker) walk(raw json.RawMessage, t reflect.Type, path string) (json.RawMessage, error) {
	if passesNull(t) {
		return raw, checkText(raw, path)
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	kind := jsonKindOf(raw)
	wrong := func(want string) error {
		if path == "" {
			return gatehouse.Errorf(gatehouse.EINVALID, "The request body must be a JSON object, not %s.", article(kind))
		}
		return &gatehouse.Error{Code: gatehouse.EINVALID, Field: path,
			Message: fmt.Sprintf("Property '%s' has the wrong type: expected %s, got %s.", path, want, kind)}
	}
	switch t.Kind() {
	case reflect.Struct:
		if kind != "object" {
			return nil, wrong("object")
		}
		return w.object(raw, t, path)
	case reflect.Map:
		if kind != "object" {
			return nil, wrong("object")
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil {
			return nil, wrong("object")
		}
		out := make(map[string]json.RawMessage, len(obj))
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			v, err := w.walk(bytes.TrimSpace(obj[k]), t.Elem(), join(path, k))
			if err != nil {
				return nil, err
			}
			out[k] = v
		}
		return json.Marshal(out)
	case reflect.Slice:
		if kind != "array" {
			return nil, wrong("array")
		}
		var elems []json.RawMessage
		if err := json.Unmarshal(raw, &elems); err != nil {
			return nil, wrong("array")
		}
		out := make([]json.RawMessage, len(elems))
		for i, e := range elems {
			e = bytes.TrimSpace(e)
			p := fmt.Sprintf("%s[%d]", path, i)
			if jsonKindOf(e) == "null" && !passesNull(t.Elem()) {
				return nil, &gatehouse.Error{Code: gatehouse.EINVALID, Field: p,
					Message: fmt.Sprintf("Property '%s' cannot be null; leave it out of the list.", p)}
			}
			v, err := w.walk(e, t.Elem(), p)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return json.Marshal(out)
	case reflect.String:
		if kind != "string" {
			return nil, wrong("string")
		}
		return raw, checkText(raw, path)
	case reflect.Bool:
		if kind != "boolean" {
			return nil, wrong("boolean")
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if kind != "number" {
			return nil, wrong("number")
		}
		if _, err := strconv.ParseInt(string(raw), 10, t.Bits()); err != nil {
			return nil, &gatehouse.Error{Code: gatehouse.EINVALID, Field: path,
				Message: fmt.Sprintf("Property '%s' must be a whole number within range, not %s.", path, raw)}
		}
	case reflect.Float32, reflect.Float64:
		if kind != "number" {
			return nil, wrong("number")
		}
	}
	return raw, nil
}

// object checks a JSON object against the struct type t.
func (w *bodyWalker) object(raw json.RawMessage, t reflect.Type, path string) (json.RawMessage, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "The request body must be a JSON object.")
	}
	fields := jsonFields(t)
	out := make(map[string]json.RawMessage, len(obj))
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		if strings.ContainsRune(k, 0) || strings.ContainsRune(k, utf8.RuneError) {
			// A bad property name: decoding replaced or unescaped it.
			if err := checkText(raw, path); err != nil {
				return nil, err
			}
		}
		name := join(path, k)
		v := bytes.TrimSpace(obj[k])
		f, ok := fields[k]
		switch {
		case !ok && isAnnotation(k):
			if err := checkText(v, name); err != nil {
				return nil, err
			}
			continue
		case !ok:
			if ro, isRO := readOnlyProperties[k]; isRO && path == "" {
				return nil, &gatehouse.Error{Code: gatehouse.EINVALID, Field: name, Message: fmt.Sprintf("Property '%s' is read-only%s.", name, ro)}
			}
			return nil, &gatehouse.Error{Code: gatehouse.EINVALID, Field: name, Message: fmt.Sprintf("Property '%s' is not supported here; Gatehouse does not accept it.", name)}
		}
		w.d.present[name] = true
		if jsonKindOf(v) == "null" {
			w.d.null[name] = true
			rep, err := nullValue(f, name)
			if err != nil {
				return nil, err
			}
			if rep != nil {
				out[k] = rep
			}
			continue
		}
		v, err := w.walk(v, f.Type, name)
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	return json.Marshal(out)
}

// nullValue returns what a field receives for a null (nil to leave it
// unset), or the EINVALID error refusing the null, by the rules of decode.
func nullValue(f reflect.StructField, name string) (json.RawMessage, error) {
	if passesNull(f.Type) {
		return json.RawMessage("null"), nil
	}
	t := f.Type
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch mode := f.Tag.Get("null"); mode {
	case "keep":
		return nil, nil
	case "refuse":
	case "":
		switch t.Kind() {
		case reflect.String:
			return json.RawMessage(`""`), nil
		case reflect.Slice:
			return json.RawMessage(`[]`), nil
		}
	default:
		panic("web: unknown null tag " + strconv.Quote(mode) + " on " + f.Name)
	}
	send := map[string]string{"boolean": "true or false", "number": "a number", "string": "a string",
		"array": "a list", "object": "an object, or leave the property out"}[jsonTypeName(t)]
	return nil, &gatehouse.Error{Code: gatehouse.EINVALID, Field: name,
		Message: fmt.Sprintf("Property '%s' cannot be null; send %s.", name, send)}
}

// join returns the path of property k of the object at path.
func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

// jsonKindOf names the kind of a well-formed JSON value as Graph's errors
// do: object, array, string, number, boolean or null.
func jsonKindOf(raw []byte) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
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

// jsonFields returns the fields of the struct type t by JSON name.
func jsonFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
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
		out[name] = f
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
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
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

// checkText returns an EINVALID error, naming path ("" for the whole
// body), if a string of raw, a well-formed JSON value, holds a NUL
// character or text that is not UTF-8: invalid bytes, or an escaped
// surrogate (\ud800) that is not half of a pair. encoding/json would
// silently turn the latter two into U+FFFD, and no stored value may hold
// a NUL (PostgreSQL cannot store one). It reads escapes as JSON does, so
// "\\u0000" (a backslash, then the text u0000) is no NUL.
func checkText(raw []byte, path string) error {
	problem := textProblem(raw)
	if problem == "" {
		return nil
	}
	advice := "send UTF-8 text"
	if problem == textNUL {
		advice = "no property may hold one"
	}
	if path == "" {
		return gatehouse.Errorf(gatehouse.EINVALID, "The request body contains %s; %s.", problem, advice)
	}
	return &gatehouse.Error{Code: gatehouse.EINVALID, Field: path,
		Message: fmt.Sprintf("Property '%s' contains %s; %s.", path, problem, advice)}
}

const textNUL = "a NUL character (\\u0000)"

// textProblem describes the first bad text in the strings of raw, or "".
func textProblem(raw []byte) string {
	const (
		nul       = textNUL
		badUTF8   = "text that is not valid UTF-8"
		surrogate = "an unpaired surrogate escape (\\u%s), which is not valid UTF-8"
	)
	hex4 := func(i int) (rune, bool) {
		if i+4 > len(raw) {
			return 0, false
		}
		v, err := strconv.ParseUint(string(raw[i:i+4]), 16, 16)
		return rune(v), err == nil
	}
	inString := false
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case !inString:
			inString = c == '"'
		case c == '"':
			inString = false
		case c == '\\' && i+1 < len(raw) && raw[i+1] == 'u':
			r, ok := hex4(i + 2)
			if !ok {
				return badUTF8
			}
			switch {
			case r == 0:
				return nul
			case utf16.IsSurrogate(r) && r < 0xdc00: // a high surrogate needs a low one next
				if i+7 < len(raw) && raw[i+6] == '\\' && raw[i+7] == 'u' {
					if lo, ok := hex4(i + 8); ok && lo >= 0xdc00 && lo <= 0xdfff {
						i += 11
						continue
					}
				}
				return fmt.Sprintf(surrogate, raw[i+2:i+6])
			case utf16.IsSurrogate(r):
				return fmt.Sprintf(surrogate, raw[i+2:i+6])
			}
			i += 5
		case c == '\\':
			i++ // the escaped character
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && size == 1 {
				return badUTF8
			}
			i += size - 1
		}
	}
	return ""
}
