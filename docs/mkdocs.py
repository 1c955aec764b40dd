#!/usr/bin/env python3
"""The C reference, generated from include/smtp.h's doc comments.

    python3 docs/mkdocs.py OUT            OUT/man3/*.3 (one page per function,
                                             libsmtp.3 the overview) and
                                             OUT/html/index.html
    python3 docs/mkdocs.py --check OUT [--lib LIB]
                                             fails when a function of the header
                                             (or exported by LIB, `nm -D`) has no
                                             page or anchor, a constant or result
                                             code is not on libsmtp.3, or groff
                                             -ww or mandoc -Tlint warns on a page
    python3 docs/mkdocs.py --header-index the function index for
                                             cbindgen.toml's `header`
    python3 docs/mkdocs.py --list-pages   the pages' file names (uninstall)

Stdlib only. The header is the source (cbindgen copies the Rust doc
comments into it); the group of a function is the src/ffi module that
exports it, so the groups follow the code (src/ffi/mod.rs orders them).
"""
import html
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADER = os.path.join(ROOT, "include", "smtp.h")

# src/ffi module -> the group's title (the HTML index, the header's index,
# the overview's list, SEE ALSO).
GROUP_TITLES = {
    "result": "Results and version",
    "session": "Session lifecycle and settings",
    "state": "Session getters",
    "commands": "Commands",
    "message": "Messages and envelopes",
    "auth": "Authentication",
    "tls": "TLS",
    "proxy": "Proxies",
    "raw": "Raw commands and the socket",
    "pool": "Connection pool",
    "compose": "Composing messages",
    "dkim": "DKIM signing",
}

# The heading of the function index in the header's opening comment.
INDEX_TITLE = "Functions, by group"

# #define prefix -> its title on the overview (longest prefix first wins).
CONSTANT_TITLES = [
    ("SMTP_VERSION_", "Version"),
    ("SMTP_KIND_", "Session kinds (smtp_session_new)"),
    ("SMTP_TIMEOUT_", "Timeouts (smtp_session_set_timeout_ms)"),
    ("SMTP_TRACE_", "Trace directions (smtp_session_set_trace)"),
    ("SMTP_MSG_", "Message flags"),
    ("SMTP_DSN_", "Delivery status notifications (envelopes)"),
    ("SMTP_BODY_", "BODY values (smtp_envelope_set_body)"),
    ("SMTP_AUTH_", "Auth flags"),
    ("SMTP_SASL_", "SASL callback verdicts"),
    ("SMTP_ROOTS_", "Trust stores (smtp_tls_config_builder_set_roots)"),
    ("SMTP_POOL_STAT_", "Pool statistics (smtp_pool_stat)"),
    ("SMTP_POOL_", "Pool options (smtp_pool_set_option)"),
]


# ------------------------------------------------------------------ parsing

def doc_text(comment):
    """The text of a /** ... */ or /* ... */ comment, without the stars."""
    lines = comment.strip().splitlines()
    out = []
    for line in lines:
        s = line.strip()
        s = re.sub(r"^/\*\*?", "", s)
        s = re.sub(r"\*/$", "", s)
        s = re.sub(r"^\* ?", "", s) if s.startswith("*") else s
        out.append(s.rstrip())
    while out and not out[0].strip():
        out.pop(0)
    while out and not out[-1].strip():
        out.pop()
    return "\n".join(out)


def items(text):
    """(doc, declaration) for each documented top-level item of the header,
    in order; a declaration ends at `;` outside braces or with its line for
    a #define."""
    pos, result = 0, []
    while True:
        start = text.find("/**", pos)
        if start < 0:
            return result
        end = text.index("*/", start) + 2
        doc = doc_text(text[start:end])
        i, depth = end, 0
        while text[i].isspace():
            i += 1
        if text.startswith("#define", i):
            stop = text.index("\n", i)
            result.append((doc, text[i:stop]))
            pos = stop
            continue
        j = i
        while True:
            c = text[j]
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
            elif c == ";" and depth == 0:
                break
            j += 1
        result.append((doc, text[i:j + 1]))
        pos = j + 1


def members(body):
    """(doc, name, value) of each enumerator or field in a braced body."""
    out = []
    for m in re.finditer(r"/\*\*(.*?)\*/\s*([^;,/]+?)\s*[,;}\n]", body, re.S):
        decl = m.group(2).strip()
        name, _, value = decl.partition("=")
        out.append((doc_text("/**" + m.group(1) + "*/"), name.strip(), value.strip()))
    return out


def ffi_groups():
    """function -> src/ffi module, and the modules in src/ffi/mod.rs order."""
    order = re.findall(r"^pub mod (\w+);", open(os.path.join(ROOT, "src", "ffi", "mod.rs")).read(), re.M)
    group = {}
    for mod in order:
        path = os.path.join(ROOT, "src", "ffi", mod + ".rs")
        for name in re.findall(r'extern "C" fn (smtp_\w+)', open(path).read()):
            group[name] = mod
    return group, [m for m in order if m in set(group.values())]


class Api:
    def __init__(self, path=HEADER):
        text = open(path).read()
        intro = doc_text(text[text.index("/*"):text.index("*/") + 2])
        # The function index at its end is for readers of the header only.
        self.intro = intro.split(INDEX_TITLE)[0].rstrip()
        self.functions = []   # (name, declaration, doc), header order
        self.defines = []     # (name, value, doc)
        self.results = []     # (name, value, doc)
        self.types = []       # (name, declaration, doc, fields)
        self.version = {}
        for doc, decl in items(text):
            if decl.startswith("#define"):
                m = re.match(r"#define (\w+)(\([^)]*\))?\s+(.*)", decl)
                name = m.group(1) + (m.group(2) or "")
                self.defines.append((name, m.group(3).strip(), doc))
                if m.group(1).startswith("SMTP_VERSION_") and not m.group(2):
                    self.version[m.group(1)] = m.group(3).strip()
            elif decl.startswith("typedef enum smtp_result"):
                self.results = [(n, v, d) for d, n, v in members(decl[decl.index("{"):])]
                self.results_doc = doc
            elif decl.startswith("typedef"):
                name = re.search(r"\(\*(\w+)\)", decl) or re.search(r"(\w+)\s*;$", decl)
                fields = members(decl[decl.index("{"):]) if "{" in decl else []
                self.types.append((name.group(1), decl, doc, fields))
            else:
                m = re.match(r"(.*?)\b(smtp_\w+)\s*\((.*)\)\s*;$", decl, re.S)
                if m:
                    self.functions.append((m.group(2), decl, doc))
        self.names = [f[0] for f in self.functions]
        self.date = page_date()
        self.group, self.group_order = ffi_groups()
        v = self.version
        self.version_str = "%s.%s.%s" % (v.get("SMTP_VERSION_MAJOR"), v.get("SMTP_VERSION_MINOR"),
                                         v.get("SMTP_VERSION_PATCH"))

    def grouped(self):
        """[(module, title, [function names])] in mod.rs order, then any
        function no module exports (there should be none)."""
        out = []
        for mod in self.group_order:
            out.append((mod, GROUP_TITLES.get(mod, mod), [n for n in self.names if self.group.get(n) == mod]))
        stray = [n for n in self.names if n not in self.group]
        if stray:
            out.append(("other", "Other", stray))
        return out

    def constant_groups(self):
        groups = []
        for name, value, doc in self.defines:
            title = next((t for p, t in CONSTANT_TITLES if name.startswith(p)), "Other constants")
            if not groups or groups[-1][0] != title:
                groups.append((title, []))
            groups[-1][1].append((name, value, doc))
        return groups


def blocks(doc):
    """A doc comment as ('h', heading), ('p', text) and ('li', text)."""
    out = []
    for para in re.split(r"\n\s*\n", doc):
        lines = para.splitlines()
        if lines and lines[0].startswith("# "):
            out.append(("h", lines[0][2:].strip()))
            lines = lines[1:]
        cur = None
        for line in lines:
            if line.startswith("- "):
                cur = ["li", line[2:].strip()]
                out.append(cur)
            elif cur is not None and cur[0] == "li" and line.startswith("  "):
                cur[1] += " " + line.strip()
            elif cur is not None and cur[0] == "p":
                cur[1] += " " + line.strip()
            else:
                cur = ["p", line.strip()]
                out.append(cur)
    return [tuple(b) for b in out]


def split_doc(doc):
    """(description, return value, safety) blocks: paragraphs starting
    with "Returns" or "Errors" are the return value, what follows a
    "# Safety" heading the safety rules."""
    desc, ret, safety, where = [], [], [], None
    for b in blocks(doc):
        if b[0] == "h":
            where = safety if b[1].lower() == "safety" else None
            if where is None:
                desc.append(b)
            continue
        if where is not None:
            where.append(b)
        elif b[0] == "p" and re.match(r"(Returns|Errors)\b", b[1]):
            ret.append(b)
        else:
            desc.append(b)
    return desc, ret, safety


def summary(doc):
    """The first sentence of a doc comment, plain text, for NAME: up to the
    first full stop outside parentheses, or a colon after a short lead
    ("smtplib's `ehlo`: ...")."""
    first = blocks(doc)[0][1] if doc else ""
    first = re.sub(r"`([^`]*)`", r"\1", first)
    depth, end = 0, len(first)
    for i, c in enumerate(first):
        depth += {"(": 1, ")": -1}.get(c, 0)
        if depth == 0 and c == "." and first[i + 1:i + 2] in ("", " "):
            end = i
            break
    s = first[:end]
    lead, colon, _ = s.partition(": ")
    if colon and 2 <= len(lead.split()) <= 4 and "(" not in lead:
        s = lead
    return s if len(s) <= 110 else s[:107].rsplit(" ", 1)[0] + "..."


def params(decl):
    m = re.match(r"(.*?)\b(smtp_\w+)\s*\((.*)\)\s*;$", decl, re.S)
    ret, name, args = m.group(1).strip(), m.group(2), m.group(3)
    args = [" ".join(a.split()) for a in args.split(",")]
    return ret, name, args


# ------------------------------------------------------------------ man

def roff_escape(s):
    return s.replace("\\", "\\e").replace("-", "\\-")


def roff_inline(s, args=()):
    """Escaped text with `code` in bold, the function's parameters `args`
    in italics (man-pages(7))."""
    parts = re.split(r"(`[^`]*`)", s)
    out = []
    for p in parts:
        if p.startswith("`") and p.endswith("`") and len(p) > 1:
            font = "\\fI" if p[1:-1] in args else "\\fB"
            out.append(font + roff_escape(p[1:-1]) + "\\fR")
        else:
            out.append(roff_escape(p))
    return "".join(out)


def roff_line(s):
    """Text as input lines of at most 80 bytes where it can be broken (at
    spaces, which fill mode reads as spaces), none read as a request."""
    lines = textwrap.wrap(s, 79, break_long_words=False, break_on_hyphens=False) or [""]
    return "\n".join("\\&" + t if t[:1] in (".", "'") else t for t in lines)


def roff_blocks(bs, args=()):
    out = []
    for kind, text in bs:
        if kind == "h":
            out.append(".SS " + roff_inline(text))
        elif kind == "li":
            out += [".IP \\(bu 2", roff_line(roff_inline(text, args))]
        else:
            out += [".PP", roff_line(roff_inline(text, args))]
    return out


def th(name, api):
    """The title line, then left-adjusted text without hyphenation: long
    identifiers neither stretch a line nor break at a hyphen."""
    return '.TH %s 3 %s "libsmtp %s" "libsmtp Manual"\n.ad l\n.nh' % (name, api.date, api.version_str)


def page_date():
    """The pages' date, the same for the same sources: SOURCE_DATE_EPOCH,
    else the header's last commit, else its modification time."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if not epoch:
        try:
            epoch = subprocess.run(["git", "log", "-1", "--format=%ct", "--", HEADER], cwd=ROOT, text=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout.strip()
        except OSError:
            epoch = ""
    seconds = int(epoch) if epoch.isdigit() else int(os.path.getmtime(HEADER))
    return time.strftime("%Y-%m-%d", time.gmtime(seconds))


def item_blocks(bs):
    """A tagged item's body (after .TP and its tag): its first paragraph
    plain, the later ones indented with it (.IP)."""
    lines = roff_blocks(bs)[1:]
    return [".IP" if line == ".PP" else line for line in lines]


def tidy(lines):
    """No paragraph macro right after a heading (mandoc -Tlint warns)."""
    out = []
    for line in lines:
        if line == ".PP" and out and out[-1].startswith((".SH", ".SS", ".TP")):
            continue
        out.append(line)
    return "\n".join(out) + "\n"


def synopsis_roff(decl):
    ret, name, args = params(decl)
    lead = ret + ("" if ret.endswith("*") else " ") + name + "("
    parts = []
    for a in args:
        m = re.match(r"(.*?)(\w+)$", a)
        if a == "void" or not m:
            parts.append("\\fB" + roff_escape(a) + "\\fP")
        else:
            parts.append("\\fB" + roff_escape(m.group(1)) + "\\fI" + m.group(2) + "\\fP")
    lines = ["\\fB" + roff_escape(lead) + "\\fP" + parts[0]]
    one_line = len(lead) + sum(len(a) + 2 for a in args) <= 72
    for p in parts[1:]:
        if one_line:
            lines[-1] += ", " + p
        else:
            lines[-1] += ","
            lines.append(" " * len(lead) + p)
    lines[-1] += "\\fB);\\fP"
    return [".nf", ".B #include <smtp.h>", ".PP"] + lines + [".fi"]


def man_page(api, name, decl, doc):
    desc, ret, safety = split_doc(doc)
    args = {a.split()[-1].lstrip("*") for a in params(decl)[2] if a != "void"}
    out = [th(name, api), ".SH NAME", "%s \\- %s" % (name, roff_escape(summary(doc))),
           ".SH SYNOPSIS"] + synopsis_roff(decl)
    out += [".SH DESCRIPTION"] + roff_blocks(desc, args)
    if safety:
        out += [".SS Safety"] + roff_blocks(safety, args)
    if ret:
        out += [".SH RETURN VALUE"] + roff_blocks(ret, args)
    out += [".SH SEE ALSO"]
    seen = see_also(api, name, doc)
    out.append(",\n".join(".BR %s (3)" % n for n in seen))
    return tidy(out)


def see_also(api, name, doc):
    """The functions the doc names, then the rest of its group, then the
    overview."""
    named = [n for n in re.findall(r"\b(smtp_\w+)\(\)", doc) if n in api.names]
    group = [n for n in api.names if api.group.get(n) == api.group.get(name)]
    out = []
    for n in named + group:
        if n != name and n not in out:
            out.append(n)
    return ["libsmtp"] + out


def intro_blocks(api):
    """The header's opening comment but its first paragraph (the file's
    name and what the library is)."""
    return blocks(api.intro)[1:]


def overview(api):
    out = [th("libsmtp", api), ".SH NAME", "libsmtp \\- SMTP and LMTP client library with Python smtplib's semantics",
           ".SH SYNOPSIS", ".nf", ".B #include <smtp.h>", ".PP",
           ".B cc prog.c $(pkg\\-config \\-\\-cflags \\-\\-libs smtp)", ".fi", ".SH DESCRIPTION"]
    out += roff_blocks(intro_blocks(api))
    out += [".PP", "The conventions (ownership, strings, callbacks, threads) and the ABI policy are in",
            ".I docs/c\\-api.md", "of the source tree."]
    out.append(".SH FUNCTIONS")
    for _, title, names in api.grouped():
        out += [".SS " + roff_escape(title)]
        for n in names:
            doc = dict((f[0], f[2]) for f in api.functions)[n]
            out += [".TP", ".BR %s (3)" % n, roff_line(roff_escape(summary(doc)))]
    out += [".SH RESULT CODES"] + roff_blocks(blocks(api.results_doc))
    for name, value, doc in api.results:
        out += [".TP", ".B %s (%s)" % (name, value), roff_line(roff_inline(" ".join(doc.split())))]
    out.append(".SH CONSTANTS")
    for title, defs in api.constant_groups():
        out.append(".SS " + roff_escape(title))
        for name, value, doc in defs:
            tag = name if "(" in name or not re.match(r"^-?\d+$", value) else "%s (%s)" % (name, value)
            out += [".TP", ".B " + roff_escape(tag)] + item_blocks(blocks(doc))
    out.append(".SH TYPES")
    for name, decl, doc, fields in api.types:
        out += [".TP", ".B " + name] + item_blocks(blocks(doc))
        for fdoc, fname, _ in fields:
            field = fname.split()[-1].lstrip("*")
            out += [".RS", ".TP", ".I " + field, roff_line(roff_inline(" ".join(fdoc.split()))), ".RE"]
    start = [n for n in ("smtp_session_new", "smtp_session_sendmail", "smtp_session_errmsg", "smtp_result_str")
             if n in api.names]
    out += [".SH SEE ALSO", ",\n".join(".BR %s (3)" % n for n in start)]
    return tidy(out)


# ------------------------------------------------------------------ html

def html_inline(s, known):
    parts = re.split(r"(`[^`]*`)", s)
    out = []
    for p in parts:
        if p.startswith("`") and p.endswith("`") and len(p) > 1:
            code = p[1:-1]
            target = re.match(r"(smtp_\w+|SMTP_\w+)(\(\))?$", code)
            inner = "<code>%s</code>" % html.escape(code)
            if target and target.group(1) in known:
                inner = '<a href="#%s">%s</a>' % (target.group(1), inner)
            out.append(inner)
        else:
            out.append(html.escape(p))
    return "".join(out)


def html_blocks(bs, known):
    out, in_list = [], False
    for kind, text in bs:
        if kind == "li" and not in_list:
            out.append("<ul>")
            in_list = True
        if kind != "li" and in_list:
            out.append("</ul>")
            in_list = False
        if kind == "h":
            out.append("<h4>%s</h4>" % html.escape(text))
        elif kind == "li":
            out.append("<li>%s</li>" % html_inline(text, known))
        else:
            out.append("<p>%s</p>" % html_inline(text, known))
    if in_list:
        out.append("</ul>")
    return out


def html_page(api):
    known = set(api.names) | {d[0] for d in api.defines} | {r[0] for r in api.results}
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           "<title>libsmtp %s C reference</title>" % api.version_str,
           "<style>body{max-width:52em;margin:auto;font-family:sans-serif;line-height:1.4}"
           "pre{background:#f4f4f4;padding:.5em;overflow-x:auto}code{font-size:95%}"
           "h3{border-top:1px solid #ccc;padding-top:.6em}</style></head><body>",
           "<h1>libsmtp %s C reference</h1>" % api.version_str,
           "<p>Generated from <code>smtp.h</code> by <code>docs/mkdocs.py</code>.</p>",
           "<h2>Contents</h2>", "<ul>"]
    for mod, title, names in api.grouped():
        out.append('<li><a href="#group-%s">%s</a>: %s</li>' % (
            mod, html.escape(title), ", ".join('<a href="#%s"><code>%s</code></a>' % (n, n) for n in names)))
    out += ['<li><a href="#results">Result codes</a></li>', '<li><a href="#constants">Constants</a></li>',
            '<li><a href="#types">Types</a></li>', "</ul>", '<h2 id="overview">Overview</h2>']
    out += html_blocks(intro_blocks(api), known)
    docs = dict((f[0], (f[1], f[2])) for f in api.functions)
    for mod, title, names in api.grouped():
        out.append('<h2 id="group-%s">%s</h2>' % (mod, html.escape(title)))
        for n in names:
            decl, doc = docs[n]
            desc, ret, safety = split_doc(doc)
            out += ['<h3 id="%s"><code>%s</code></h3>' % (n, n), "<pre>%s</pre>" % html.escape(decl)]
            out += html_blocks(desc, known)
            if ret:
                out += ["<h4>Return value</h4>"] + html_blocks(ret, known)
            if safety:
                out += ["<h4>Safety</h4>"] + html_blocks(safety, known)
    out += ['<h2 id="results">Result codes</h2>'] + html_blocks(blocks(api.results_doc), known)
    out.append("<table><tr><th>Name</th><th>Value</th><th>Meaning</th></tr>")
    for name, value, doc in api.results:
        out.append('<tr id="%s"><td><code>%s</code></td><td>%s</td><td>%s</td></tr>' % (
            name, name, value, html_inline(" ".join(doc.split()), known)))
    out += ["</table>", '<h2 id="constants">Constants</h2>']
    for title, defs in api.constant_groups():
        out += ["<h3>%s</h3>" % html.escape(title), "<dl>"]
        for name, value, doc in defs:
            anchor = name.split("(")[0]
            out.append('<dt id="%s"><code>%s</code> <code>%s</code></dt><dd>%s</dd>' % (
                anchor, html.escape(name), html.escape(value), "".join(html_blocks(blocks(doc), known))))
        out.append("</dl>")
    out.append('<h2 id="types">Types</h2>')
    for name, decl, doc, _ in api.types:
        out += ['<h3 id="%s"><code>%s</code></h3>' % (name, name), "<pre>%s</pre>" % html.escape(decl)]
        out += html_blocks(blocks(doc), known)
    out.append("</body></html>")
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------ main

def generate(out_dir, api):
    man3 = os.path.join(out_dir, "man3")
    os.makedirs(man3, exist_ok=True)
    os.makedirs(os.path.join(out_dir, "html"), exist_ok=True)
    for old in os.listdir(man3):
        os.remove(os.path.join(man3, old))
    for name, decl, doc in api.functions:
        with open(os.path.join(man3, name + ".3"), "w") as fh:
            fh.write(man_page(api, name, decl, doc))
    with open(os.path.join(man3, "libsmtp.3"), "w") as fh:
        fh.write(overview(api))
    with open(os.path.join(out_dir, "html", "index.html"), "w") as fh:
        fh.write(html_page(api))
    print("mkdocs: %d man pages (%d functions and libsmtp.3) in %s, html/index.html"
          % (len(api.functions) + 1, len(api.functions), os.path.relpath(man3, ROOT)))


def exported(lib):
    """The smtp_ functions a shared library exports (nm -D)."""
    out = subprocess.run(["nm", "-D", "--defined-only", lib], stdout=subprocess.PIPE, check=True, text=True).stdout
    return sorted({f[2] for f in (line.split() for line in out.splitlines())
                   if len(f) == 3 and f[1] == "T" and f[2].startswith("smtp_")})


def check(out_dir, api, lib):
    problems = []
    want = set(api.names)
    if lib:
        syms = exported(lib)
        problems += ["%s is exported by %s but not in the header" % (s, lib) for s in syms if s not in want]
        want |= set(syms)
        print("mkdocs: %s exports %d smtp_ functions" % (lib, len(syms)))
    problems += ["%s is in no src/ffi module the header lists" % n for n in api.names if n not in api.group]
    problems += ["%s has no doc comment (its page would be empty)" % n for n, _, doc in api.functions if not doc]
    man3 = os.path.join(out_dir, "man3")
    index = open(os.path.join(out_dir, "html", "index.html")).read()
    for name in sorted(want):
        if not os.path.exists(os.path.join(man3, name + ".3")):
            problems.append("no man page for %s" % name)
        if 'id="%s"' % name not in index:
            problems.append("no HTML anchor for %s" % name)
    pages = sorted(os.listdir(man3))
    # groff -ww: every warning, -z: print nothing else; mandoc -Tlint at
    # its warning level (its style level wants upper-case titles, which
    # section 3 pages of C functions do not use).
    linters = [["groff", "-man", "-Tutf8", "-ww", "-z"], ["mandoc", "-Tlint", "-W", "warning"]]
    linters = [cmd for cmd in linters if shutil.which(cmd[0]) or cmd[0] == "groff"]
    for page in pages:
        for cmd in linters:
            r = subprocess.run(cmd + [os.path.join(man3, page)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
            if r.returncode != 0 or r.stdout.strip():
                problems.append("%s warns on %s: %s" % (cmd[0], page, r.stdout.strip()))
    overview_text = open(os.path.join(man3, "libsmtp.3")).read()
    for name, _, _ in api.defines + api.results:
        if name.split("(")[0] not in overview_text:
            problems.append("libsmtp.3 does not describe %s" % name)
    for p in problems:
        print("mkdocs: " + p)
    print("mkdocs: %d functions, %d pages, linted by %s: %s"
          % (len(want), len(pages), " and ".join(" ".join(c) for c in linters),
             "ok" if not problems else "%d problems" % len(problems)))
    return not problems


def header_index(api):
    """The index for cbindgen.toml's header comment, one group a paragraph."""
    lines = [" * " + INDEX_TITLE + " (man 3 NAME for each, man 3 libsmtp for all):"]
    for _, title, names in api.grouped():
        text = "%s: %s." % (title, ", ".join(names))
        lines += textwrap.wrap(text, 76, initial_indent=" *   ", subsequent_indent=" *     ",
                               break_on_hyphens=False)
    return "\n".join(lines)


def main(argv):
    api = Api()
    if argv == ["--list-pages"]:
        print("\n".join(n + ".3" for n in ["libsmtp"] + api.names))
        return 0
    if argv == ["--header-index"]:
        print(header_index(api))
        return 0
    if argv[:1] == ["--check"] and len(argv) in (2, 4):
        lib = argv[3] if len(argv) == 4 and argv[2] == "--lib" else None
        return 0 if check(argv[1], api, lib) else 1
    if len(argv) == 1 and not argv[0].startswith("-"):
        generate(argv[0], api)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
