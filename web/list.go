package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// listQuery parses the OData query options of a collection request:
// $top (1 to 999), $skiptoken (from a previous @odata.nextLink) and $filter
// with "property eq 'value'" on the properties the collection allows.
// Any other system query option is refused by name rather than ignored.
func listQuery(r *http.Request, filterable ...string) (gatehouse.ListOptions, error) {
	var opt gatehouse.ListOptions
	q := r.URL.Query()
	for k := range q {
		switch k {
		case "$top", "$skiptoken", "$filter":
		default:
			if strings.HasPrefix(k, "$") {
				return opt, gatehouse.FieldErrorf(k, "The query option %s is not supported; use $top, $filter or $skiptoken.", k)
			}
		}
	}
	if v := q.Get("$top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > gatehouse.MaxPageSize {
			return opt, gatehouse.FieldErrorf("$top", "Invalid value %q for $top: use a whole number from 1 to %d.", v, gatehouse.MaxPageSize)
		}
		opt.Top = n
	}
	opt.After = q.Get("$skiptoken")
	if f := q.Get("$filter"); f != "" {
		field, value, err := parseFilter(f, filterable)
		if err != nil {
			return opt, err
		}
		opt.Filter = map[string]string{field: value}
	}
	return opt, nil
}

var (
	eqFilterRE  = regexp.MustCompile(`^\s*([A-Za-z][A-Za-z0-9]*)\s+eq\s+'((?:[^']|'')*)'\s*$`)
	anyFilterRE = regexp.MustCompile(`^\s*targetResources/any\(\s*(\w+)\s*:\s*(\w+)/id\s+eq\s+'((?:[^']|'')*)'\s*\)\s*$`)
)

// parseFilter understands "property eq 'value'" (with ” for a quote in
// the value) and, for the audit log, "targetResources/any(t: t/id eq 'id')".
func parseFilter(f string, filterable []string) (field, value string, err error) {
	if m := anyFilterRE.FindStringSubmatch(f); m != nil && m[1] == m[2] {
		field, value = "targetId", strings.ReplaceAll(m[3], "''", "'")
	} else if m := eqFilterRE.FindStringSubmatch(f); m != nil {
		field, value = m[1], strings.ReplaceAll(m[2], "''", "'")
	} else {
		return "", "", gatehouse.FieldErrorf("$filter", "Invalid $filter %q: Gatehouse supports \"property eq 'value'\" on %s.", f, strings.Join(filterable, ", "))
	}
	for _, ok := range filterable {
		if field == ok {
			return field, value, nil
		}
	}
	return "", "", gatehouse.FieldErrorf("$filter", "Filtering on %q is not supported here; filter on %s.", field, strings.Join(filterable, ", "))
}

// collection is a Graph collection response.
type collection struct {
	Context  string `json:"@odata.context"`
	NextLink string `json:"@odata.nextLink,omitempty"`
	Value    any    `json:"value"`
}

// writeCollection writes items with an @odata.nextLink when there is a
// next page. Links are built from the configured public URL.
func (s *server) writeCollection(w http.ResponseWriter, r *http.Request, entitySet string, items any, next string) {
	t := tenantFrom(r.Context())
	c := collection{Context: gatehouse.AdminAPIURL(s.PublicURL, t.Name) + "/$metadata#" + entitySet, Value: items}
	if next != "" {
		q := r.URL.Query()
		q.Set("$skiptoken", next)
		c.NextLink = strings.TrimSuffix(s.PublicURL, "/") + r.URL.EscapedPath() + "?" + encodeQuery(q)
	}
	encode(w, http.StatusOK, c)
}

// encodeQuery is url.Values.Encode keeping "$" readable in option names.
func encodeQuery(q url.Values) string {
	return strings.ReplaceAll(q.Encode(), "%24", "$")
}
