package smtp_test

import (
	"sort"
	"strings"
	"testing"

	smtp "github.com/libsmtp/libsmtp/bindings/go"
)

// The package's Code constants are exactly the library's result codes: the
// constants come from the header through cgo, their names are checked here
// against smtp_result_name (SMTP_ERR_NULL_ARGUMENT is ErrNullArgument).
func TestCodesMatchTheLibrary(t *testing.T) {
	lib := smtp.LibraryCodes()
	goNames := smtp.CodeNames()
	if len(lib) != len(goNames) {
		t.Errorf("library has %d codes, the package names %d", len(lib), len(goNames))
	}
	squash := func(s string) string { return strings.ToUpper(strings.ReplaceAll(s, "_", "")) }
	for code, cName := range lib {
		goName, ok := goNames[code]
		if !ok {
			t.Errorf("%s (%d) has no Go constant", cName, int(code))
			continue
		}
		want := squash(strings.TrimPrefix(strings.TrimPrefix(cName, "SMTP_ERR_"), "SMTP_"))
		if squash(strings.TrimPrefix(goName, "Err")) != want {
			t.Errorf("code %d: Go name %s, C name %s", int(code), goName, cName)
		}
	}
	for code, goName := range goNames {
		if _, ok := lib[code]; !ok {
			t.Errorf("%s (%d) is not a code of the library", goName, int(code))
		}
	}
}

// Which errors carry a server reply is the library's answer.
func TestCarriesReplyIsTheLibrarys(t *testing.T) {
	var with []string
	for code := range smtp.CodeNames() {
		if smtp.CarriesReply(code) {
			with = append(with, code.String())
		}
	}
	sort.Strings(with)
	got := strings.Join(with, " ")
	want := "ErrAuth ErrAuthAborted ErrConnectReply ErrData ErrHelo ErrRecipientsRefused ErrResponse ErrSenderRefused"
	if got != want {
		t.Errorf("codes with a reply: %s, want %s", got, want)
	}
}
