package password

import (
	"bufio"
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
)

func TestPolicyCheck(t *testing.T) {
	for _, tc := range []struct {
		name   string
		policy Policy
		pw     string
		reason string // "" means accepted
	}{
		{"7 characters", Policy{}, "tr0ub4d", ReasonTooShort},
		{"8 characters", Policy{}, "tr0ub4do", ""},
		{"empty", Policy{}, "", ReasonTooShort},
		{"8 spaces", Policy{}, "        ", ""},
		{"passphrase with spaces", Policy{}, "correct horse battery staple", ""},
		{"7 code points in 21 bytes", Policy{}, "日本語のパスワ", ReasonTooShort},
		{"8 code points in 24 bytes", Policy{}, "日本語のパスワー", ""},
		{"8 code points with emoji", Policy{}, "🦊🦊🦊🦊🦊🦊🦊🦊", ""},
		// U+FB01 (ﬁ) is one code point that NFKC turns into "fi".
		{"7 code points, 8 after NFKC", Policy{}, "\ufb01ve-a-d", ""},
		{"256 code points", Policy{}, strings.Repeat("ab", 128), ""},
		{"257 code points", Policy{}, strings.Repeat("ab", 128) + "c", ReasonTooLong},
		{"1025 bytes", Policy{MaxLength: 2000}, strings.Repeat("a", MaxInputBytes+1), ReasonTooLong},
		{"1024 bytes, max 1024", Policy{MaxLength: 2000}, strings.Repeat("xy", MaxInputBytes/2), ""},
		{"256 code points in 1024 bytes", Policy{}, strings.Repeat("🦊", 256), ""},
		{"longer minimum, too short", Policy{MinLength: 12}, "elevenchars", ReasonTooShort},
		{"longer minimum, long enough", Policy{MinLength: 12}, "twelve chars", ""},
		{"minimum below 8 is raised", Policy{MinLength: 4}, "abcdefg", ReasonTooShort},
		{"maximum below 64 is raised", Policy{MaxLength: 10}, strings.Repeat("k", 64), ""},
		{"maximum below 64 is raised, 65", Policy{MaxLength: 10}, strings.Repeat("k", 65), ReasonTooLong},
		{"common", Policy{}, "password", ReasonTooCommon},
		{"common, other case", Policy{}, "PassWord123", ReasonTooCommon},
		{"common digits", Policy{}, "12345678", ReasonTooCommon},
		{"common keyboard walk", Policy{}, "qwertyuiop", ReasonTooCommon},
		{"common leet", Policy{}, "P@ssw0rd", ReasonTooCommon},
		{"common in full-width letters", Policy{}, "ｐａｓｓｗｏｒｄ", ReasonTooCommon},
		{"common needs MinLength first", Policy{}, "iloveyou", ReasonTooCommon},
		{"invalid UTF-8", Policy{}, "abcdefgh\xff", ReasonInvalid},
		{"NUL", Policy{}, "abcd\x00efgh", ReasonInvalid},
		{"newline", Policy{}, "abcdefgh\n", ReasonInvalid},
		{"tab", Policy{}, "abcd\tefgh", ReasonInvalid},
		{"DEL", Policy{}, "abcdefgh\x7f", ReasonInvalid},
		{"C1 control", Policy{}, "abcdefgh\u0085", ReasonInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.policy.Check(tc.pw)
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("Check(%q) = %v, want nil", tc.pw, err)
				}
				return
			}
			var e *gatehouse.Error
			if !errors.As(err, &e) {
				t.Fatalf("Check(%q) = %v, want a *gatehouse.Error", tc.pw, err)
			}
			if e.Code != gatehouse.EINVALID || e.Field != "password" || e.Reason != tc.reason {
				t.Errorf("Check(%q) = code %q field %q reason %q, want %q %q %q",
					tc.pw, e.Code, e.Field, e.Reason, gatehouse.EINVALID, "password", tc.reason)
			}
			if e.Message == "" {
				t.Errorf("Check(%q) has no message", tc.pw)
			}
		})
	}
}

func TestPolicyMessages(t *testing.T) {
	for _, tc := range []struct {
		policy Policy
		pw     string
		want   string
	}{
		{Policy{}, "short", "Use at least 8 characters."},
		{Policy{MinLength: 10}, "short", "Use at least 10 characters."},
		{Policy{}, strings.Repeat("a", 300), "Use at most 256 characters."},
		{Policy{}, "password1", "That password is too common; choose another."},
	} {
		if got := gatehouse.ErrorMessage(tc.policy.Check(tc.pw)); got != tc.want {
			t.Errorf("%+v.Check(%q) message = %q, want %q", tc.policy, tc.pw, got, tc.want)
		}
	}
}

func TestCommonList(t *testing.T) {
	n := 0
	sc := bufio.NewScanner(strings.NewReader(commonText))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		n++
		switch {
		case line == "":
			t.Errorf("common.txt has an empty line")
		case line != strings.ToLower(Normalize(line)):
			t.Errorf("common.txt entry %q is not in lower-case NFKC", line)
		case len([]rune(line)) < DefaultMinLength:
			t.Errorf("common.txt entry %q is shorter than %d: unreachable", line, DefaultMinLength)
		case !IsCommon(line) || !IsCommon(strings.ToUpper(line)):
			t.Errorf("IsCommon(%q) = false, want true", line)
		}
	}
	if n < 1000 {
		t.Errorf("common.txt has %d entries, want at least 1000", n)
	}
	for _, pw := range []string{"correct horse battery staple", "Tr0ub4dor&3xq", "gatehouse-9vP2kq"} {
		if IsCommon(pw) {
			t.Errorf("IsCommon(%q) = true, want false", pw)
		}
	}
}

func TestNormalize(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"\ufb01", "fi"},      // ligature
		{"ｐａｓｓ", "pass"},      // full width
		{"e\u0301", "\u00e9"}, // combining accent composes
		{"\u2126", "\u03a9"},  // ohm sign to omega
		{"Å", "\u00c5"},       // already NFC
		{"plain ascii", "plain ascii"},
	} {
		if got := Normalize(tc.in); got != tc.want {
			t.Errorf("Normalize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestGenerate(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		pw, err := Generate()
		if err != nil {
			t.Fatal(err)
		}
		if len(pw) != 20 {
			t.Errorf("len(%q) = %d, want 20", pw, len(pw))
		}
		if strings.Trim(pw, alphabet) != "" {
			t.Errorf("%q has characters outside letters and digits", pw)
		}
		if err := (Policy{}).Check(pw); err != nil {
			t.Errorf("Check(%q) = %v", pw, err)
		}
		if seen[pw] {
			t.Errorf("Generate repeated %q", pw)
		}
		seen[pw] = true
	}
}
