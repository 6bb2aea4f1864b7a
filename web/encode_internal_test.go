package web

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// decodeTestInput has a property of every kind decode treats differently.
type decodeTestInput struct {
	Name     *string           `json:"name" null:"refuse"`
	Note     *string           `json:"note"`
	Enabled  *bool             `json:"enabled"`
	Count    *int32            `json:"count"`
	Tags     []string          `json:"tags"`
	Required []string          `json:"required" null:"refuse"`
	Nested   *decodeTestNested `json:"nested"`
	Kept     *decodeTestNested `json:"kept" null:"keep"`
	Items    []decodeTestItem  `json:"items"`
	Raw      json.RawMessage   `json:"raw"`
}

type decodeTestNested struct {
	URIs []string `json:"uris"`
	Flag *bool    `json:"flag"`
	Alg  *string  `json:"alg"`
}

type decodeTestItem struct {
	ID *string `json:"id"`
}

func TestDecodeRefusals(t *testing.T) {
	for _, c := range []struct {
		name, body string
		field      string // the error's target, "" for the body
		want       string // in the message
	}{
		{"empty", ``, "", "empty"},
		{"null body", `null`, "", "must be a JSON object, not null"},
		{"array body", `[{"name":"a"}]`, "", "not an array"},
		{"string body", `"name"`, "", "not a string"},
		{"number body", `42`, "", "not a number"},
		{"boolean body", `true`, "", "not a boolean"},
		{"malformed", `{"name":"a",`, "", "not valid JSON"},
		{"trailing data", `{"name":"a"} {}`, "", "not valid JSON"},
		{"unknown property", `{"colour":"blue"}`, "colour", "colour"},
		{"unknown nested property", `{"nested":{"colour":1}}`, "nested.colour", "nested.colour"},
		{"unknown property in a list element", `{"items":[{"id":"a"},{"colour":1}]}`, "items[1].colour", "items[1].colour"},
		{"read-only", `{"id":"x"}`, "id", "read-only"},
		{"wrong type", `{"enabled":"yes"}`, "enabled", "expected boolean, got string"},
		{"wrong element type", `{"nested":{"uris":["https://a.example/",2]}}`, "nested.uris[1]", "'nested.uris[1]' has the wrong type: expected string, got number"},
		{"wrong element type in an object list", `{"items":[{"id":"a"},{"id":true}]}`, "items[1].id", "items[1].id"},
		{"fraction for an integer", `{"count":1.5}`, "count", "whole number"},
		{"integer out of range", `{"count":99999999999}`, "count", "whole number"},
		{"null boolean", `{"enabled":null}`, "enabled", "'enabled' cannot be null; send true or false"},
		{"null nested boolean", `{"nested":{"flag":null}}`, "nested.flag", "'nested.flag' cannot be null"},
		{"null number", `{"count":null}`, "count", "cannot be null"},
		{"null object", `{"nested":null}`, "nested", "'nested' cannot be null"},
		{"null required string", `{"name":null}`, "name", "'name' cannot be null"},
		{"null required list", `{"required":null}`, "required", "'required' cannot be null"},
		{"null list element", `{"tags":["a",null]}`, "tags[1]", "'tags[1]' cannot be null"},
		{"escaped NUL", `{"name":"a\u0000b"}`, "name", "NUL"},
		{"escaped NUL, upper case", `{"name":"a\U0000b"}`, "", "not valid JSON"},
		{"escaped NUL in a list", `{"tags":["ok","\u0000"]}`, "tags[1]", "NUL"},
		{"escaped NUL in a property name", `{"na\u0000me":"a"}`, "", "NUL"},
		{"escaped NUL in an annotation", `{"@odata.type":"\u0000"}`, "@odata.type", "NUL"},
		{"escaped NUL in raw JSON", `{"raw":{"x":"\u0000"}}`, "raw", "NUL"},
		{"invalid UTF-8", "{\"name\":\"a\xffb\"}", "name", "not valid UTF-8"},
		{"invalid UTF-8 in a property name", "{\"n\xffme\":\"a\"}", "", "not valid UTF-8"},
		{"encoded surrogate", "{\"note\":\"a\xed\xa0\x80b\"}", "note", "not valid UTF-8"},
		{"lone high surrogate", `{"note":"a\ud800b"}`, "note", `unpaired surrogate escape (\ud800)`},
		{"lone high surrogate at the end", `{"note":"a\uD83D"}`, "note", "unpaired surrogate"},
		{"high surrogate and no low one", `{"note":"\ud83d\u0041"}`, "note", "unpaired surrogate"},
		{"two high surrogates", `{"note":"\ud83d\ud83d"}`, "note", "unpaired surrogate"},
		{"lone low surrogate", `{"note":"\ude00"}`, "note", `unpaired surrogate escape (\ude00)`},
	} {
		t.Run(c.name, func(t *testing.T) {
			var in decodeTestInput
			_, err := decodeBytes([]byte(c.body), &in)
			e, ok := err.(*gatehouse.Error)
			if !ok || e.Code != gatehouse.EINVALID {
				t.Fatalf("decode(%s) = %v; want an EINVALID error", c.body, err)
			}
			if e.Field != c.field || !strings.Contains(e.Message, c.want) {
				t.Errorf("decode(%s): field %q, message %q; want field %q and a message with %q", c.body, e.Field, e.Message, c.field, c.want)
			}
		})
	}
}

func TestDecodeAccepts(t *testing.T) {
	str := func(s string) *string { return &s }
	yes := true
	for _, c := range []struct {
		name, body string
		want       decodeTestInput
		null       []string
	}{
		{"values", `{"name":"a","enabled":true,"count":-3,"tags":["x"],"nested":{"uris":["u"]}}`,
			decodeTestInput{Name: str("a"), Enabled: &yes, Count: func() *int32 { n := int32(-3); return &n }(), Tags: []string{"x"}, Nested: &decodeTestNested{URIs: []string{"u"}}}, nil},
		// A backslash, then the text u0000: no NUL.
		{"escaped backslash before u0000", `{"name":"a\\u0000b"}`, decodeTestInput{Name: str(`a\u0000b`)}, nil},
		{"escaped backslashes before an escaped NUL-like text", `{"name":"\\\\u0000"}`, decodeTestInput{Name: str(`\\u0000`)}, nil},
		{"surrogate pair", `{"name":"\ud83d\ude00"}`, decodeTestInput{Name: str("😀")}, nil},
		{"raw UTF-8", `{"name":"Zoë 😀"}`, decodeTestInput{Name: str("Zoë 😀")}, nil},
		{"a replacement character sent as such", `{"name":"\ufffd"}`, decodeTestInput{Name: str("\ufffd")}, nil},
		{"other escapes", `{"name":"\"\/\b\f\n\r\t\u00e9"}`, decodeTestInput{Name: str("\"/\b\f\n\r\t\u00e9")}, nil},
		{"null string clears", `{"note":null}`, decodeTestInput{Note: str("")}, []string{"note"}},
		{"null list clears", `{"tags":null}`, decodeTestInput{Tags: []string{}}, []string{"tags"}},
		{"null nested list and string clear", `{"nested":{"uris":null,"alg":null}}`,
			decodeTestInput{Nested: &decodeTestNested{URIs: []string{}, Alg: str("")}}, []string{"nested.alg", "nested.uris"}},
		{"null kept for the handler", `{"kept":null}`, decodeTestInput{}, []string{"kept"}},
		{"null raw JSON", `{"raw":null}`, decodeTestInput{Raw: json.RawMessage("null")}, []string{"raw"}},
		{"annotations", `{"@odata.type":"#x","nested":{"@odata.type":"#y"},"name@odata.bind":"z"}`, decodeTestInput{Nested: &decodeTestNested{}}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			var in decodeTestInput
			d, err := decodeBytes([]byte(c.body), &in)
			if err != nil {
				t.Fatalf("decode(%s): %v", c.body, err)
			}
			if diff := cmp.Diff(c.want, in); diff != "" {
				t.Errorf("decode(%s) (-want +got):\n%s", c.body, diff)
			}
			if diff := cmp.Diff(c.null, slices.Sorted(maps.Keys(d.null)), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("decode(%s) nulls (-want +got):\n%s", c.body, diff)
			}
		})
	}
}

func TestDecodeRef(t *testing.T) {
	for _, c := range []struct{ body, want string }{
		{`null`, "must be a JSON object"},
		{`["x"]`, "must be a JSON object"},
		{`{"@odata.id":5}`, "wrong type"},
		{`{"@odata.id":"a\u0000"}`, "NUL"},
		{"{\"@odata.id\":\"\xff\"}", "UTF-8"},
		{`{"@odata.id":"x","other":1}`, "other"},
	} {
		var ref *string
		err := decodeRefBytes([]byte(c.body), &ref)
		if gatehouse.ErrorCode(err) != gatehouse.EINVALID || !strings.Contains(gatehouse.ErrorMessage(err), c.want) {
			t.Errorf("decodeRefBytes(%s) = %v; want EINVALID mentioning %q", c.body, err, c.want)
		}
	}
}
