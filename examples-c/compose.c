/* compose.c: build a MIME message with the message builder (text, HTML,
 * attachments streamed from files), sign it with DKIM when asked, send it.
 *
 *   ./compose 127.0.0.1:8025 --from 'Zoë <zoe@example.com>' \
 *       --to bob@example.com --cc carol@example.com --subject 'Report' \
 *       --text body.txt --html body.html --attach report.pdf \
 *       --dkim-domain example.com --dkim-selector s1 --dkim-key key.pem
 *
 * Exits 0 when the message was accepted (refused recipients are listed),
 * 1 when it was not, 2 on a usage error.
 */
#include <smtp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The whole file in memory; NULL on error. */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long size;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)size + 1);
        if (buf && fread(buf, 1, (size_t)size, f) != (size_t)size) {
            free(buf);
            buf = NULL;
        }
        *len = (size_t)size;
    }
    fclose(f);
    return buf;
}

static int usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s HOST:PORT --from ADDR --to ADDR [--to ADDR]... [--cc ADDR]...\n"
            "       --subject TEXT --text FILE [--html FILE] [--attach FILE]...\n"
            "       [--dkim-domain D --dkim-selector S --dkim-key PEM]\n",
            argv0);
    return 2;
}

/* Report a failed builder call and say whether it failed. */
static int failed(int rc, const smtp_message *m, const char *what)
{
    if (rc != SMTP_OK)
        fprintf(stderr, "compose: %s: %s (%s)\n", what, smtp_message_errmsg(m), smtp_result_str(rc));
    return rc != SMTP_OK;
}

int main(int argc, char **argv)
{
    const char *dkim_domain = NULL, *dkim_selector = NULL, *dkim_key = NULL;
    smtp_message *m;
    smtp_session *s;
    size_t refused = 0, i;
    int code = 0, rc, a, bad = 0, have_from = 0, have_to = 0, have_text = 0;

    if (argc < 2 || argv[1][0] == '-')
        return usage(argv[0]);
    m = smtp_message_new();
    for (a = 2; a < argc && !bad; a += 2) {
        const char *opt = argv[a], *val = a + 1 < argc ? argv[a + 1] : NULL;
        if (!val) {
            smtp_message_free(m);
            return usage(argv[0]);
        }
        if (!strcmp(opt, "--from")) {
            bad = failed(smtp_message_set_from(m, val), m, opt);
            have_from = 1;
        } else if (!strcmp(opt, "--to")) {
            bad = failed(smtp_message_add_to(m, val), m, opt);
            have_to = 1;
        } else if (!strcmp(opt, "--cc")) {
            bad = failed(smtp_message_add_cc(m, val), m, opt);
        } else if (!strcmp(opt, "--subject")) {
            bad = failed(smtp_message_set_subject(m, val), m, opt);
        } else if (!strcmp(opt, "--text") || !strcmp(opt, "--html")) {
            size_t len = 0;
            char *body = read_file(val, &len);
            if (!body) {
                perror(val);
                bad = 1;
            } else if (!strcmp(opt, "--text")) {
                bad = failed(smtp_message_set_text(m, body, len), m, opt);
                have_text = 1;
            } else {
                bad = failed(smtp_message_set_html(m, body, len), m, opt);
            }
            free(body); /* the message keeps its own copy */
        } else if (!strcmp(opt, "--attach")) {
            /* Read a chunk at a time when sent, never whole. */
            bad = failed(smtp_message_attach_file(m, val, NULL, NULL), m, opt);
        } else if (!strcmp(opt, "--dkim-domain")) {
            dkim_domain = val;
        } else if (!strcmp(opt, "--dkim-selector")) {
            dkim_selector = val;
        } else if (!strcmp(opt, "--dkim-key")) {
            dkim_key = val;
        } else {
            smtp_message_free(m);
            return usage(argv[0]);
        }
    }
    if (!bad && (!have_from || !have_to || !have_text || (!dkim_domain != !dkim_selector)
                 || (!dkim_domain != !dkim_key))) {
        smtp_message_free(m);
        return usage(argv[0]);
    }
    if (!bad && dkim_key) {
        smtp_dkim *d = smtp_dkim_new();
        size_t len = 0;
        char *pem = read_file(dkim_key, &len);
        if (!pem) {
            perror(dkim_key);
            bad = 1;
        } else if (smtp_dkim_set_key_pem(d, (const uint8_t *)pem, len) != SMTP_OK
                   || smtp_dkim_set_domain(d, dkim_domain) != SMTP_OK
                   || smtp_dkim_set_selector(d, dkim_selector) != SMTP_OK) {
            fprintf(stderr, "compose: DKIM: %s\n", smtp_dkim_errmsg(d));
            bad = 1;
        } else {
            /* The message keeps a copy of the signer's settings. */
            bad = failed(smtp_message_set_dkim(m, d), m, "--dkim-key");
        }
        free(pem);
        smtp_dkim_free(d);
    }
    if (bad) {
        smtp_message_free(m);
        return 1;
    }

    s = smtp_session_new(SMTP_KIND_SMTP);
    rc = smtp_session_connect(s, argv[1], 0, &code);
    if (rc == SMTP_OK)
        rc = smtp_session_send_composed(s, m, NULL, 0, NULL, 0, &refused);
    for (i = 0; i < smtp_session_rcpt_count(s); i++)
        printf("%s: %d%s\n", smtp_session_rcpt_addr(s, i), smtp_session_rcpt_code(s, i),
               smtp_session_rcpt_refused(s, i) ? " (refused)" : "");
    if (rc == SMTP_OK) {
        printf("sent, %zu recipient(s) refused\n", refused);
        smtp_session_quit(s, &code);
    } else {
        fprintf(stderr, "compose: %s (%s)\n", smtp_session_errmsg(s), smtp_result_str(rc));
    }
    smtp_session_free(s);
    smtp_message_free(m);
    return rc == SMTP_OK ? 0 : 1;
}
