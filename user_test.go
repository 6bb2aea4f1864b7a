package gatehouse_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
)

// TestCanonicalMail checks the address rule: ASCII addresses are taken as
// they are; fullwidth forms and decomposed accents fold; lookalike and
// invisible characters before the @ are refused by name; domains are
// stored as IDNA A-labels, so that two addresses that look alike are one
// address (or visibly two).
func TestCanonicalMail(t *testing.T) {
	for _, c := range []struct {
		name, in string
		want     string // the canonical address, when accepted
		reason   string // the refusal's Reason, when refused
		says     string // a part of the refusal's message
	}{
		// ASCII: as before, case kept (the key is lowercase).
		{"ascii", "Grace.Hopper+navy@Example.COM", "Grace.Hopper+navy@Example.COM", "", ""},
		{"localhost", "dev@localhost", "dev@localhost", "", ""},
		{"quoted local part", `"a b"@example.com`, "", "", "not a valid email address"},
		{"no dot in the domain", "a@example", "", "", "not a valid email address"},
		{"display name", "Ada <ada@example.com>", "", "", "not a valid email address"},
		{"no at", "ada.example.com", "", "", "not a valid email address"},
		{"empty", "", "", "", "is required"},
		{"too long", strings.Repeat("a", 250) + "@x.io", "", "", "longer than 254"},

		// Folded: width forms (the at sign and dot too) and NFC.
		{"fullwidth letters", "ａｌｉｃｅ@example.com", "alice@example.com", "", ""},
		{"fullwidth at and dot", "alice＠example．com", "alice@example.com", "", ""},
		{"fullwidth domain", "alice@ＥＸＡＭＰＬＥ.com", "alice@EXAMPLE.com", "", ""},
		{"ideographic full stop", "alice@example。com", "alice@example.com", "", ""},
		{"kelvin sign", "\u212Aate@example.com", "Kate@example.com", "", ""},

		// Refused before the @, naming the character.
		{"dotless i", "admın@example.com", "", gatehouse.ReasonMailNotASCII, "U+0131 LATIN SMALL LETTER DOTLESS I"},
		{"cyrillic a", "\u0430dmin@example.com", "", gatehouse.ReasonMailNotASCII, "U+0430 CYRILLIC SMALL LETTER A"},
		{"greek omicron", "b\u03BFb@example.com", "", gatehouse.ReasonMailNotASCII, "U+03BF GREEK SMALL LETTER OMICRON"},
		{"zero-width space", "ad\u200Bmin@example.com", "", gatehouse.ReasonMailInvisible, "U+200B ZERO WIDTH SPACE), an invisible character"},
		{"zero-width joiner", "ad\u200Dmin@example.com", "", gatehouse.ReasonMailInvisible, "U+200D ZERO WIDTH JOINER"},
		{"soft hyphen", "ad\u00ADmin@example.com", "", gatehouse.ReasonMailInvisible, "U+00AD SOFT HYPHEN"},
		{"word joiner", "admin\u2060@example.com", "", gatehouse.ReasonMailInvisible, "U+2060 WORD JOINER"},
		{"variation selector", "admin\uFE0F@example.com", "", gatehouse.ReasonMailInvisible, "U+FE0F VARIATION SELECTOR-16"},
		{"hangul filler", "admin\u3164@example.com", "", gatehouse.ReasonMailInvisible, "U+3164 HANGUL FILLER"},
		{"combining dot on i", "admi\u0307n@example.com", "", gatehouse.ReasonMailNotASCII, "U+0307 COMBINING DOT ABOVE), a combining mark"},
		{"combining overlay", "adm\u0335in@example.com", "", gatehouse.ReasonMailNotASCII, "a combining mark"},
		{"decomposed accent, composed by NFC", "jose\u0301@example.com", "", gatehouse.ReasonMailNotASCII, "U+00E9 LATIN SMALL LETTER E WITH ACUTE"},
		{"no-break space", "ad\u00A0min@example.com", "", gatehouse.ReasonMailNotASCII, "a space"},
		{"roman numeral fifty", "\u217Cuke@example.com", "", gatehouse.ReasonMailNotASCII, "PRECIS (RFC 8265) does not allow"},
		{"mixed scripts", "pаypal@example.com", "", gatehouse.ReasonMailNotASCII, "U+0430 CYRILLIC SMALL LETTER A"},

		// Domains: invisible characters refused, the rest as A-labels.
		{"cyrillic a in the domain", "alice@ex\u0430mple.com", "alice@xn--exmple-4nf.com", "", ""},
		{"dotless i in the domain", "alice@examplı.com", "alice@xn--exampl-u9a.com", "", ""},
		{"an IDN", "ivan@пример.рф", "ivan@xn--e1afmkfd.xn--p1ai", "", ""},
		{"decomposed accent in the domain", "a@e\u0301xample.com", "a@xn--xample-9ua.com", "", ""},
		{"zero-width space in the domain", "alice@exam\u200Bple.com", "", gatehouse.ReasonMailInvisible, "U+200B ZERO WIDTH SPACE), an invisible character, in its domain"},
		{"soft hyphen in the domain", "alice@exa\u00ADmple.com", "", gatehouse.ReasonMailInvisible, "in its domain"},
		{"underscore in an IDN", "alice@ex_ämple.com", "", gatehouse.ReasonMailDomain, "not a valid internationalized domain name"},
		{"bidi mixed label", "alice@a\u05D0.com", "", gatehouse.ReasonMailDomain, "not a valid internationalized domain name"},
		{"invalid UTF-8", "al\xffice@example.com", "", "", "not valid UTF-8"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := gatehouse.CanonicalMail("mail", c.in)
			if c.says == "" {
				if err != nil || got != c.want {
					t.Fatalf("CanonicalMail(%q) = %q, %v; want %q", c.in, got, err, c.want)
				}
				// The canonical form is ASCII, canonical itself, and valid.
				if again, err := gatehouse.CanonicalMail("mail", got); again != got || err != nil {
					t.Errorf("CanonicalMail(%q) = %q, %v; want it unchanged", got, again, err)
				}
				if err := gatehouse.ValidateMail("mail", got); err != nil {
					t.Errorf("ValidateMail(%q): %v", got, err)
				}
				if got != c.in {
					if err := gatehouse.ValidateMail("mail", c.in); err == nil || !strings.Contains(err.Error(), got) {
						t.Errorf("ValidateMail(%q) = %v; want a refusal naming %q", c.in, err, got)
					}
				}
				if gatehouse.NormalizeMail(" "+c.in+" ") != strings.ToLower(got) {
					t.Errorf("NormalizeMail(%q) = %q; want %q", c.in, gatehouse.NormalizeMail(c.in), strings.ToLower(got))
				}
				return
			}
			var e *gatehouse.Error
			if !errors.As(err, &e) || e.Code != gatehouse.EINVALID || e.Field != "mail" || e.Reason != c.reason || !strings.Contains(e.Message, c.says) {
				t.Fatalf("CanonicalMail(%q) = %q, %#v; want EINVALID on mail, reason %q, saying %q", c.in, got, err, c.reason, c.says)
			}
			if gatehouse.ValidateMail("mail", c.in) == nil {
				t.Errorf("ValidateMail(%q) accepted what CanonicalMail refused", c.in)
			}
		})
	}
}

// TestNormalizeMailKeys checks that addresses which look alike share one
// key, and that the key of a refused address is the old one (trimmed and
// lowercased), so that looking it up finds what it found before.
func TestNormalizeMailKeys(t *testing.T) {
	same := [][]string{
		{"Alice@Example.com", "ａｌｉｃｅ@example.com", "ALICE＠ＥＸＡＭＰＬＥ.COM", " alice@example.com "},
		{"alice@xn--exmple-4nf.com", "alice@ex\u0430mple.com", "ALICE@EX\u0410MPLE.COM"},
	}
	keys := map[string]int{}
	for i, group := range same {
		for _, a := range group {
			k := gatehouse.NormalizeMail(a)
			if j, ok := keys[k]; ok && j != i {
				t.Errorf("NormalizeMail(%q) = %q, the key of group %d", a, k, j)
			}
			keys[k] = i
		}
	}
	if len(keys) != len(same) {
		t.Errorf("keys %v; want one per group", keys)
	}
	for _, a := range []string{"admın@example.com", "ad\u200Bmin@example.com"} {
		if got, want := gatehouse.NormalizeMail(" "+a), strings.ToLower(a); got != want {
			t.Errorf("NormalizeMail(%q) = %q, want %q", a, got, want)
		}
	}
}
