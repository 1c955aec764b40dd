package smtp_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// C functions the package deliberately does not call, and why. Everything
// else the header declares must be called by the package.
var notBound = map[string]string{
	// Auth and Pool.SetAuth use the step form (smtp_sasl_step_fn with
	// smtp_sasl_respond): responses of any length, no buffer to size.
	"smtp_session_auth":  "the buffer form of smtp_session_auth_step, which Auth uses",
	"smtp_pool_set_auth": "the buffer form of smtp_pool_set_auth_step, which Pool.SetAuth uses",
	// Recipients reads one smtp_session_rcpt_info record per recipient
	// instead of eight getter calls.
	"smtp_session_rcpt_addr":        "one field of smtp_session_rcpt_info, which Recipients uses",
	"smtp_session_rcpt_code":        "one field of smtp_session_rcpt_info",
	"smtp_session_rcpt_text":        "one field of smtp_session_rcpt_info",
	"smtp_session_rcpt_refused":     "one field of smtp_session_rcpt_info",
	"smtp_session_rcpt_status":      "one field of smtp_session_rcpt_info",
	"smtp_session_rcpt_data_code":   "one field of smtp_session_rcpt_info",
	"smtp_session_rcpt_data_text":   "one field of smtp_session_rcpt_info",
	"smtp_session_rcpt_data_status": "one field of smtp_session_rcpt_info",
	// For bindings whose code cannot run on the call's thread; a Go
	// callback can, so SendMailStream reads the io.Reader itself.
	"smtp_session_sendmail_fd": "SendMailStream's Go callback reads the io.Reader on the call's thread",
}

// headerFunctions lists the functions smtp.h declares.
func headerFunctions(t *testing.T) map[string]bool {
	decl := regexp.MustCompile(`(?m)^[a-z][^;(]*?\b(smtp_[a-z0-9_]+)\(`)
	out := map[string]bool{}
	for _, m := range decl.FindAllStringSubmatch(header(t), -1) {
		out[m[1]] = true
	}
	return out
}

// boundFunctions lists the smtp_ functions the package's own files call:
// C.smtp_x in Go code, and smtp_x( in the cgo preambles (the trampolines
// that pass Go callbacks), comments and test files left out.
func boundFunctions(t *testing.T) map[string]bool {
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	call := regexp.MustCompile(`\b(smtp_[a-z0-9_]+)\s*\(`)
	cComment := regexp.MustCompile(`(?s)//[^\n]*|/\*.*?\*/`)
	out := map[string]bool{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.IMPORT && g.Doc != nil {
				for _, spec := range g.Specs {
					if p, _ := strconv.Unquote(spec.(*ast.ImportSpec).Path.Value); p == "C" {
						// The preamble is C: its own comments left out.
						pre := cComment.ReplaceAllString(g.Doc.Text(), "")
						for _, m := range call.FindAllStringSubmatch(pre, -1) {
							out[m[1]] = true
						}
					}
				}
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if c, ok := n.(*ast.CallExpr); ok {
				if sel, ok := c.Fun.(*ast.SelectorExpr); ok {
					if x, ok := sel.X.(*ast.Ident); ok && x.Name == "C" && strings.HasPrefix(sel.Sel.Name, "smtp_") {
						out[sel.Sel.Name] = true
					}
				}
			}
			return true
		})
	}
	return out
}

// The whole C API is bound, but for the functions listed in notBound: a
// new C function fails this test until it is bound or listed.
func TestCoverageOfTheCAPI(t *testing.T) {
	declared := headerFunctions(t)
	bound := boundFunctions(t)
	if len(declared) < 100 {
		t.Fatalf("only %d functions found in the header", len(declared))
	}
	var missing, stale []string
	n := 0
	for f := range declared {
		_, excluded := notBound[f]
		switch {
		case bound[f] && excluded:
			stale = append(stale, f+" is bound but listed in notBound")
		case bound[f]:
			n++
		case !excluded:
			missing = append(missing, f)
		}
	}
	for f := range notBound {
		if !declared[f] {
			stale = append(stale, f+" is in notBound but not in the header")
		}
	}
	for f := range bound {
		if !declared[f] {
			stale = append(stale, f+" is called but not declared in the header")
		}
	}
	sort.Strings(missing)
	sort.Strings(stale)
	for _, f := range missing {
		t.Errorf("%s is neither bound nor excluded (notBound)", f)
	}
	for _, s := range stale {
		t.Error(s)
	}
	t.Logf("C API coverage: %d bound, %d excluded, %d declared", n, len(notBound), len(declared))
}
