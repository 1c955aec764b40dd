package smtp_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	smtp "github.com/libsmtp/libsmtp/bindings/go"
)

// header is the smtp.h the package is built against: the staged one, or
// the repository's.
func header(t *testing.T) string {
	t.Helper()
	path := filepath.Join("..", "..", "include", "smtp.h")
	if stage := os.Getenv("STAGE"); stage != "" {
		path = filepath.Join(stage, "include", "smtp.h")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Macros the package has no constant for, and why.
var constantsNotMirrored = map[string]string{
	"SMTP_VERSION_MAJOR": "compile-time version of the header; VersionNumber() reads the library's",
	"SMTP_VERSION_MINOR": "as SMTP_VERSION_MAJOR",
	"SMTP_VERSION_PATCH": "as SMTP_VERSION_MAJOR",
	// The SASL verdicts are the callback's return values, which the
	// package gives itself (callbacks.go uses the header's macros).
	"SMTP_SASL_CONTINUE":            "callback verdict, internal",
	"SMTP_SASL_NO_INITIAL_RESPONSE": "callback verdict, internal",
	"SMTP_SASL_NEED_SPACE":          "verdict of smtp_sasl_fn, which the package does not use (auth_step instead)",
}

// Every numeric macro of the header has a Go constant of the same value,
// or is listed above: the constants are plain numbers (godoc shows no C.
// name), so this is what keeps them true.
func TestConstantsMatchTheHeader(t *testing.T) {
	defines := regexp.MustCompile(`(?m)^#define (SMTP_[A-Z0-9_]+) (-?\d+)\s*$`).FindAllStringSubmatch(header(t), -1)
	if len(defines) < 40 {
		t.Fatalf("only %d macros found in the header", len(defines))
	}
	seen := map[string]bool{}
	for _, d := range defines {
		name := d[1]
		want, _ := strconv.ParseInt(d[2], 10, 64)
		seen[name] = true
		if _, skip := constantsNotMirrored[name]; skip {
			continue
		}
		got, ok := smtp.HeaderConstants[name]
		if !ok {
			t.Errorf("%s = %d has no Go constant (add one, or list it in constantsNotMirrored)", name, want)
		} else if got != want {
			t.Errorf("%s: Go constant %d, header %d", name, got, want)
		}
	}
	for name := range smtp.HeaderConstants {
		if !seen[name] {
			t.Errorf("%s is not a macro of the header", name)
		}
	}
	t.Logf("%d macros: %d mirrored, %d not", len(defines), len(smtp.HeaderConstants), len(constantsNotMirrored))
}
