package web

import (
	"bytes"
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// The OData system query options the admin API implements: $select on
// every GET, and $top, $skiptoken and $filter on the GET of a collection.
// Any other option ($expand, $orderby, $count, $search, …), and any option
// on another method, is refused by name rather than ignored; query
// parameters without a "$" are ignored, as Graph does.
var (
	entityOptions     = []string{"$select"}
	collectionOptions = []string{"$select", "$top", "$skiptoken", "$filter"}
)

// checkQueryOptions refuses, with 400, a request with a system query option
// that its route does not implement: allowed lists those it does. Of
// several bad options it names the first in byte order, so that the same
// request always gets the same answer.
func (s *server) checkQueryOptions(allowed []string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		for _, k := range slices.Sorted(maps.Keys(q)) {
			vs := q[k]
			if !strings.HasPrefix(k, "$") {
				continue
			}
			if !slices.Contains(allowed, k) {
				msg := "The query option " + k + " is not supported here"
				if len(allowed) == 0 {
					msg += "; " + r.Method + " takes no query options."
				} else {
					msg += "; Gatehouse supports " + orList(allowed) + " on this request."
				}
				s.writeAPIError(w, r, gatehouse.FieldErrorf(k, "%s", msg))
				return
			}
			if len(vs) > 1 {
				s.writeAPIError(w, r, gatehouse.FieldErrorf(k, "The query option %s is given %d times; give it once.", k, len(vs)))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// orList joins names as "a, b or c".
func orList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// listQuery parses the OData query options of a collection request:
// $top (1 to 999), $skiptoken (from a previous @odata.nextLink) and $filter
// on the properties the collection allows (see parseFilter).
// checkQueryOptions has refused the options Gatehouse does not implement.
func (s *server) listQuery(r *http.Request, filterable ...string) (gatehouse.ListOptions, error) {
	var opt gatehouse.ListOptions
	q := r.URL.Query()
	if v, ok := q["$top"]; ok {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 1 || n > gatehouse.MaxPageSize {
			return opt, gatehouse.FieldErrorf("$top", "Invalid value %q for $top: use a whole number from 1 to %d.", v[0], gatehouse.MaxPageSize)
		}
		opt.Top = n
	}
	if v, ok := q["$skiptoken"]; ok {
		after, err := s.parseSkipToken(r, v[0])
		if err != nil {
			return opt, err
		}
		opt.After = after
	}
	if v, ok := q["$filter"]; ok {
		field, value, err := parseFilter(v[0], filterable)
		if err != nil {
			return opt, err
		}
		opt.Filter = map[string]string{field: value}
	}
	return opt, nil
}

// The cursor of a page is the ID of the previous page's last item. As a
// $skiptoken it is opaque: the ID and a MAC that binds it to the tenant
// and the collection's path, so that a token mangled, made up or taken
// from another collection is refused instead of quietly listing from
// somewhere else.
const skipTokenMACLen = 16

func (s *server) skipTokenMAC(r *http.Request, after string) []byte {
	data := tenantFrom(r.Context()).ID + "\x00" + r.URL.EscapedPath() + "\x00" + after
	return s.Vault.MAC("skiptoken", []byte(data))[:skipTokenMACLen]
}

// skipToken returns the $skiptoken of the page after the item with ID after.
func (s *server) skipToken(r *http.Request, after string) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(after)) + "." + enc.EncodeToString(s.skipTokenMAC(r, after))
}

// parseSkipToken returns the cursor of a $skiptoken skipToken made for
// this collection, or an EINVALID error naming $skiptoken.
func (s *server) parseSkipToken(r *http.Request, tok string) (string, error) {
	bad := gatehouse.FieldErrorf("$skiptoken", "The $skiptoken is not valid for this collection; use the @odata.nextLink of the previous page as it is, or leave $skiptoken out to start from the first page.")
	enc := base64.RawURLEncoding
	id, mac, ok := strings.Cut(tok, ".")
	if !ok {
		return "", bad
	}
	after, err1 := enc.DecodeString(id)
	sum, err2 := enc.DecodeString(mac)
	if err1 != nil || err2 != nil || len(after) == 0 || !hmac.Equal(sum, s.skipTokenMAC(r, string(after))) {
		return "", bad
	}
	return string(after), nil
}

// page returns the page of items opt asks for, in the items' order, and
// the cursor of the next page ("" when there is none): the same paging as
// the store's listings, for collections held in memory. A cursor whose
// item has left the list since is an EINVALID error.
func page[T any](items []T, id func(T) string, opt gatehouse.ListOptions) ([]T, string, error) {
	start := 0
	if opt.After != "" {
		i := slices.IndexFunc(items, func(it T) bool { return id(it) == opt.After })
		if i < 0 {
			return nil, "", gatehouse.FieldErrorf("$skiptoken", "The list changed since the $skiptoken was issued (its last item is gone); start again from the first page.")
		}
		start = i + 1
	}
	end := min(start+opt.PageSize(), len(items))
	next := ""
	if end < len(items) {
		next = id(items[end-1])
	}
	return items[start:end], next, nil
}

var (
	eqFilterRE  = regexp.MustCompile(`^\s*([A-Za-z][A-Za-z0-9]*)\s+eq\s+'((?:[^']|'')*)'\s*$`)
	anyFilterRE = regexp.MustCompile(`^\s*targetResources/any\(\s*(\w+)\s*:\s*(\w+)/id\s+eq\s+'((?:[^']|'')*)'\s*\)\s*$`)
)

// targetFilter is the filterable name of the audit log's
// "targetResources/any(t: t/id eq 'id')": the ID of one of an entry's
// targets. It is not a Graph property, so "targetId eq 'id'" is refused.
const targetFilter = "targetId"

// filterSyntax is how a caller writes a filter on the filterable name f.
func filterSyntax(f string) string {
	if f == targetFilter {
		return "targetResources/any(t: t/id eq '…')"
	}
	return f + " eq '…'"
}

// parseFilter understands "property eq 'value'" (a quote in the value
// doubled) on the filterable properties and, when targetFilter is one of
// them, "targetResources/any(t: t/id eq 'id')". It returns the filterable
// name and the value.
func parseFilter(f string, filterable []string) (field, value string, err error) {
	if len(filterable) == 0 {
		return "", "", gatehouse.FieldErrorf("$filter", "This collection cannot be filtered; leave $filter out.")
	}
	var forms []string
	for _, name := range filterable {
		forms = append(forms, filterSyntax(name))
	}
	supported := orList(forms)
	display := ""
	if m := anyFilterRE.FindStringSubmatch(f); m != nil && m[1] == m[2] {
		field, value, display = targetFilter, strings.ReplaceAll(m[3], "''", "'"), "targetResources"
	} else if m := eqFilterRE.FindStringSubmatch(f); m != nil && m[1] != targetFilter {
		field, value, display = m[1], strings.ReplaceAll(m[2], "''", "'"), m[1]
	} else {
		return "", "", gatehouse.FieldErrorf("$filter", "Invalid $filter %q: Gatehouse supports %s here.", f, supported)
	}
	if slices.Contains(filterable, field) {
		return field, value, nil
	}
	return "", "", gatehouse.FieldErrorf("$filter", "Filtering on %q is not supported here; use %s.", display, supported)
}

// collection is a Graph collection response.
type collection struct {
	Context  string `json:"@odata.context"`
	NextLink string `json:"@odata.nextLink,omitempty"`
	Value    any    `json:"value"`
}

// writeCollection writes items, a slice, with the properties $select
// names, and an @odata.nextLink when there is a next page (next is the
// cursor of the store or of page). Links are built from the configured
// public URL.
func (s *server) writeCollection(w http.ResponseWriter, r *http.Request, entitySet string, items any, next string) {
	t := tenantFrom(r.Context())
	sel, err := selection(r, reflect.TypeOf(items).Elem())
	if err != nil {
		s.writeAPIError(w, r, err)
		return
	}
	c := collection{Context: gatehouse.AdminAPIURL(s.PublicURL, t.Name) + "/$metadata#" + entitySet + sel.context(), Value: items}
	if sel != nil {
		v := reflect.ValueOf(items)
		out := make([]json.RawMessage, v.Len())
		for i := range out {
			out[i] = sel.project(v.Index(i).Interface())
		}
		c.Value = out
	}
	if next != "" {
		q := r.URL.Query()
		q.Set("$skiptoken", s.skipToken(r, next))
		c.NextLink = strings.TrimSuffix(s.PublicURL, "/") + r.URL.EscapedPath() + "?" + encodeQuery(q)
	}
	encode(w, http.StatusOK, c)
}

// writeEntity writes v, one object of entitySet, with the properties
// $select names; with $select, its @odata.context says which.
func (s *server) writeEntity(w http.ResponseWriter, r *http.Request, entitySet string, v any) {
	sel, err := selection(r, reflect.TypeOf(v))
	if err != nil {
		s.writeAPIError(w, r, err)
		return
	}
	if sel == nil {
		encode(w, http.StatusOK, v)
		return
	}
	t := tenantFrom(r.Context())
	ctx, _ := json.Marshal(gatehouse.AdminAPIURL(s.PublicURL, t.Name) + "/$metadata#" + entitySet + sel.context() + "/$entity")
	body := sel.project(v)
	out := append([]byte(`{"@odata.context":`), ctx...)
	if len(body) > 2 {
		out = append(append(out, ','), body[1:]...)
	} else {
		out = append(out, '}')
	}
	encode(w, http.StatusOK, json.RawMessage(out))
}

// selected is a parsed $select: the properties to keep, in the order
// they were named. A nil *selected keeps every property.
type selected struct {
	names []string
	keep  map[string]bool
}

// selection parses the request's $select against t, the type of the
// objects written: nil when there is no $select or it is "*", an EINVALID
// error naming $select for an empty item, a path, or a property t does
// not have. Names match case-insensitively, as in Graph, and are kept as t
// spells them.
func selection(r *http.Request, t reflect.Type) (*selected, error) {
	v, ok := r.URL.Query()["$select"]
	if !ok || strings.TrimSpace(v[0]) == "*" {
		return nil, nil
	}
	props := properties(t)
	byLower := map[string]string{}
	for _, p := range props {
		byLower[strings.ToLower(p)] = p
	}
	sel := &selected{keep: map[string]bool{}}
	for _, item := range strings.Split(v[0], ",") {
		item = strings.TrimSpace(item)
		name, ok := byLower[strings.ToLower(item)]
		switch {
		case item == "":
			return nil, gatehouse.FieldErrorf("$select", "Invalid $select %q: it lists an empty property name; separate names with single commas.", v[0])
		case strings.ContainsAny(item, "/("):
			return nil, gatehouse.FieldErrorf("$select", "Invalid $select item %q: Gatehouse selects top-level properties only (such as %s).", item, props[0])
		case !ok:
			return nil, gatehouse.FieldErrorf("$select", "Could not find a property named %q to $select here; the properties are %s.", item, strings.Join(props, ", "))
		}
		if !sel.keep[name] {
			sel.keep[name] = true
			sel.names = append(sel.names, name)
		}
	}
	return sel, nil
}

// properties returns the top-level properties of objects of type t as
// they are written, annotations aside, in order.
func properties(t reflect.Type) []string {
	var out []string
	for _, k := range orderedKeys(mustMarshal(reflect.Zero(t).Interface())) {
		if !isAnnotation(k) {
			out = append(out, k)
		}
	}
	return out
}

// context is the $select part of an @odata.context: "(a,b)".
func (s *selected) context() string {
	if s == nil {
		return ""
	}
	return "(" + strings.Join(s.names, ",") + ")"
}

// project returns v as JSON with only the selected properties and the
// annotations, in the order v has them.
func (s *selected) project(v any) json.RawMessage {
	raw := mustMarshal(v)
	var obj map[string]json.RawMessage
	_ = json.Unmarshal(raw, &obj)
	var b bytes.Buffer
	b.WriteByte('{')
	for _, k := range orderedKeys(raw) {
		if !s.keep[k] && !isAnnotation(k) {
			continue
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		b.Write(mustMarshal(k))
		b.WriteByte(':')
		b.Write(obj[k])
	}
	b.WriteByte('}')
	return b.Bytes()
}

// orderedKeys returns the keys of the JSON object raw in order.
func orderedKeys(raw []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return keys
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return keys
		}
		keys = append(keys, tok.(string))
	}
	return keys
}

// mustMarshal marshals the admin API's own representations, which always
// marshal.
func mustMarshal(v any) []byte {
	raw, err := json.Marshal(v)
	if err != nil {
		panic("web: marshal: " + err.Error())
	}
	return raw
}

// encodeQuery is url.Values.Encode keeping "$" readable in option names.
func encodeQuery(q url.Values) string {
	return strings.ReplaceAll(q.Encode(), "%24", "$")
}
