/*
 * test_compose.c: the message builder and DKIM signing from C
 * (smtp_message_*, smtp_dkim_*, smtp_session_send_composed,
 * smtp_pool_send_composed), run by tests/c/run.sh after test_api under
 * ASan/UBSan and under valgrind.
 *
 *   test_compose HOST:PORT SINK_DIR
 *
 * HOST:PORT is a running tests/servers/sink.py storing what it receives in
 * SINK_DIR (NNNN.eml); messages already there are counted and skipped. The
 * DKIM keys are tests/compose/keys/ (run from the repository's top). Every
 * smtp_message_* and smtp_dkim_* function is called. The last line of
 * output is "c-tests: N passed, M failed"; the exit status is non-zero when
 * M > 0. Network: the loopback sink only.
 */
#define _POSIX_C_SOURCE 200809L

#include <smtp.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int passed, failed;

static void check(int ok, const char *expr, const char *file, int line)
{
    if (ok) {
        passed++;
    } else {
        failed++;
        printf("FAIL %s:%d: %s\n", file, line, expr);
    }
}

#define CHECK(e) check((e) != 0, #e, __FILE__, __LINE__)
#define CHECK_OK(m, e)                                                                            \
    do {                                                                                          \
        int rc_ = (e);                                                                            \
        check(rc_ == SMTP_OK, #e, __FILE__, __LINE__);                                            \
        if (rc_ != SMTP_OK)                                                                       \
            printf("   %s: %s\n", smtp_result_str(rc_), smtp_message_errmsg(m));                  \
    } while (0)

static const char *sink, *sink_dir;

/* The whole file in memory (NUL-terminated); NULL on error. */
static char *slurp(const char *path, size_t *len)
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
        if (buf) {
            buf[size] = 0;
            *len = (size_t)size;
        }
    }
    fclose(f);
    return buf;
}

/* How many NNNN.eml the sink holds. */
static int stored(void)
{
    DIR *d = opendir(sink_dir);
    struct dirent *e;
    int n = 0;
    if (!d)
        return 0;
    while ((e = readdir(d)) != NULL)
        if (strstr(e->d_name, ".eml"))
            n++;
    closedir(d);
    return n;
}

/* Message n of the sink once its .json is there (the sink writes it
 * second); NULL after 5 s. */
static char *arrived(int n, size_t *len)
{
    char eml[512], json[512];
    int i;
    snprintf(eml, sizeof eml, "%s/%04d.eml", sink_dir, n);
    snprintf(json, sizeof json, "%s/%04d.json", sink_dir, n);
    for (i = 0; i < 250 && access(json, R_OK) != 0; i++) {
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return slurp(eml, len);
}

/* ------------------------------------------------------------ callbacks */

struct cursor {
    const char *data;
    size_t len, at;
    int rewinds;
};

static ptrdiff_t cursor_read(void *userdata, uint8_t *buf, size_t cap)
{
    struct cursor *c = userdata;
    size_t n = c->len - c->at < cap ? c->len - c->at : cap;
    if (n > 7)
        n = 7; /* short reads on purpose */
    memcpy(buf, c->data + c->at, n);
    c->at += n;
    return (ptrdiff_t)n;
}

static int cursor_rewind(void *userdata)
{
    struct cursor *c = userdata;
    c->at = 0;
    c->rewinds++;
    return 0;
}

struct sink_buf {
    char *data;
    size_t len;
    int calls, stop_after;
};

static int collect(void *userdata, const uint8_t *buf, size_t len)
{
    struct sink_buf *b = userdata;
    char *grown = realloc(b->data, b->len + len + 1);
    if (!grown)
        return 1;
    b->data = grown;
    memcpy(b->data + b->len, buf, len);
    b->len += len;
    b->data[b->len] = 0;
    b->calls++;
    return b->stop_after && b->calls >= b->stop_after;
}

/* ------------------------------------------------------------ tests */

static void test_arguments(void)
{
    smtp_message *m = smtp_message_new();
    const uint8_t *data = (const uint8_t *)"x";
    size_t len = 5;

    CHECK(m != NULL);
    CHECK(smtp_message_set_from(NULL, "a@example.com") == SMTP_ERR_NULL_ARGUMENT);
    CHECK(smtp_message_set_from(m, NULL) == SMTP_ERR_NULL_ARGUMENT);
    CHECK(strstr(smtp_message_errmsg(m), "NULL") != NULL);
    CHECK(smtp_message_set_from(m, "\xff@example.com") == SMTP_ERR_INVALID_ARGUMENT);
    CHECK(smtp_message_add_to(m, "no address") == SMTP_ERR_INVALID_ARGUMENT);
    CHECK(smtp_message_set_subject(m, "a\r\nBcc: x@example.com") == SMTP_ERR_INVALID_ARGUMENT);
    CHECK(smtp_message_add_header(m, "From", "x@example.com") == SMTP_ERR_INVALID_ARGUMENT);
    CHECK(smtp_message_add_header(m, "X Bad", "v") == SMTP_ERR_INVALID_ARGUMENT);
    CHECK(smtp_message_add_header(m, "X-Ok", "line\nbreak") == SMTP_ERR_INVALID_ARGUMENT);
    CHECK(smtp_message_set_message_id(m, "no-at-sign") == SMTP_ERR_INVALID_ARGUMENT);
    CHECK(smtp_message_set_date(m, 0, 1440) == SMTP_ERR_INVALID_ARGUMENT);
    CHECK(smtp_message_set_text(m, "\xff", 1) == SMTP_ERR_INVALID_ARGUMENT);
    CHECK(smtp_message_attach_memory(m, data, 1, "a\r\n", NULL) == SMTP_ERR_INVALID_ARGUMENT);
    CHECK(smtp_message_attach_memory(m, NULL, 1, NULL, NULL) == SMTP_ERR_NULL_ARGUMENT);
    CHECK(smtp_message_attach_file(m, NULL, NULL, NULL) == SMTP_ERR_NULL_ARGUMENT);
    CHECK(smtp_message_attach_callback(m, NULL, NULL, NULL, NULL, NULL) == SMTP_ERR_NULL_ARGUMENT);
    CHECK(smtp_message_add_inline_memory(m, data, 1, "bad id", "image/png") == SMTP_ERR_INVALID_ARGUMENT);
    CHECK(smtp_message_add_inline_file(m, "/tmp/x.png", NULL, NULL) == SMTP_ERR_NULL_ARGUMENT);
    CHECK(smtp_message_write(m, NULL, NULL) == SMTP_ERR_NULL_ARGUMENT);
    /* No From yet: nothing to write. */
    CHECK(smtp_message_bytes(m, &data, &len) == SMTP_ERR_INVALID_ARGUMENT);
    CHECK(data == NULL && len == 0);
    CHECK(smtp_message_bytes(m, NULL, &len) == SMTP_ERR_NULL_ARGUMENT);
    CHECK(strcmp(smtp_message_errmsg(NULL), "message is NULL") == 0);
    smtp_message_free(m);
    smtp_message_free(NULL);
}

static void test_build(void)
{
    static const char text[] = "Hello Bob,\nsee the attachments.\n";
    static const char html[] = "<p>Hello <img src=\"cid:logo@example.com\"></p>\n";
    static const char csv[] = "a;b\n1;2\n3;4\n";
    static const uint8_t bin[] = {0, 1, 2, 255};
    char path[] = "/tmp/libsmtp-test-compose-XXXXXX";
    struct cursor cur = {csv, sizeof csv - 1, 0, 0};
    struct sink_buf out = {NULL, 0, 0, 0}, cut = {NULL, 0, 0, 1};
    smtp_message *m = smtp_message_new();
    const uint8_t *data = NULL;
    size_t len = 0;
    int fd = mkstemp(path);

    CHECK(fd >= 0 && write(fd, "file contents\n", 14) == 14);
    if (fd >= 0)
        close(fd);
    CHECK_OK(m, smtp_message_set_from(m, "Zo\xc3\xab <zoe@example.com>"));
    CHECK_OK(m, smtp_message_set_sender(m, "bounces@example.com"));
    CHECK_OK(m, smtp_message_set_sender(m, NULL));
    CHECK_OK(m, smtp_message_add_to(m, "Bob <bob@example.com>, carol@example.com"));
    CHECK_OK(m, smtp_message_add_cc(m, "dan@example.com"));
    CHECK_OK(m, smtp_message_add_bcc(m, "hidden@example.com"));
    CHECK_OK(m, smtp_message_add_reply_to(m, "replies@example.com"));
    CHECK_OK(m, smtp_message_set_subject(m, "Gr\xc3\xbc\xc3\x9f" "e"));
    CHECK_OK(m, smtp_message_set_date(m, 1700000000, 60));
    CHECK_OK(m, smtp_message_set_message_id(m, "<c-test@example.com>"));
    CHECK_OK(m, smtp_message_add_header(m, "X-Mailer", "test_compose"));
    CHECK_OK(m, smtp_message_set_text(m, text, strlen(text)));
    CHECK_OK(m, smtp_message_set_html(m, html, strlen(html)));
    CHECK_OK(m, smtp_message_attach_memory(m, bin, sizeof bin, "data.bin", NULL));
    CHECK_OK(m, smtp_message_attach_file(m, path, "notes.txt", "text/plain"));
    CHECK_OK(m, smtp_message_attach_callback(m, cursor_read, cursor_rewind, &cur, "t.csv", "text/csv"));
    CHECK_OK(m, smtp_message_add_inline_memory(m, bin, sizeof bin, "<logo@example.com>", "image/png"));
    CHECK_OK(m, smtp_message_add_inline_file(m, path, "file@example.com", NULL));

    CHECK_OK(m, smtp_message_write(m, collect, &out));
    CHECK(out.data && strstr(out.data, "Date: Tue, 14 Nov 2023 23:13:20 +0100\r\n"));
    CHECK(out.data && strstr(out.data, "From: =?UTF-8?Q?Zo=C3=AB?= <zoe@example.com>\r\n"));
    CHECK(out.data && strstr(out.data, "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\n"));
    CHECK(out.data && strstr(out.data, "Message-ID: <c-test@example.com>\r\n"));
    CHECK(out.data && strstr(out.data, "multipart/related") && strstr(out.data, "multipart/alternative"));
    CHECK(out.data && strstr(out.data, "\r\nAAEC/w==\r\n"));
    CHECK(out.data && strstr(out.data, "\r\nZmlsZSBjb250ZW50cwo=\r\n"));    /* the file */
    CHECK(out.data && strstr(out.data, "\r\nYTtiCjE7MgozOzQK\r\n"));        /* the callback */
    CHECK(out.data && strstr(out.data, "Content-ID: <file@example.com>\r\n"));
    CHECK(out.data && !strstr(out.data, "hidden"));
    /* Written again (the callback rewound): the same bytes. */
    CHECK_OK(m, smtp_message_bytes(m, &data, &len));
    CHECK(cur.rewinds == 1);
    CHECK(len == out.len && data && memcmp(data, out.data, len) == 0);
    /* A write callback that stops the write. */
    CHECK(smtp_message_write(m, collect, &cut) == SMTP_ERR_IO);
    CHECK(strstr(smtp_message_errmsg(m), "write callback") != NULL);
    smtp_message_free(m);

    /* A callback part with no rewind: written once; a second write is
     * refused before a byte goes out. */
    cur.at = 0;
    m = smtp_message_new();
    CHECK_OK(m, smtp_message_set_from(m, "a@example.com"));
    CHECK_OK(m, smtp_message_add_to(m, "b@example.com"));
    CHECK_OK(m, smtp_message_attach_callback(m, cursor_read, NULL, &cur, "once.csv", "text/csv"));
    CHECK_OK(m, smtp_message_bytes(m, &data, &len));
    CHECK(smtp_message_bytes(m, &data, &len) == SMTP_ERR_INVALID_ARGUMENT);
    CHECK(data == NULL && len == 0);
    CHECK(strstr(smtp_message_errmsg(m), "once.csv") != NULL);
    smtp_message_free(m);
    free(out.data);
    free(cut.data);
    unlink(path);
}

/* A signer with the test key `name` (rsa2048 or ed25519). */
static smtp_dkim *signer(const char *name)
{
    char path[256];
    size_t len = 0;
    char *pem;
    smtp_dkim *d = smtp_dkim_new();
    snprintf(path, sizeof path, "tests/compose/keys/%s.pem", name);
    pem = slurp(path, &len);
    CHECK(pem != NULL);
    CHECK(smtp_dkim_set_key_pem(d, (const uint8_t *)pem, len) == SMTP_OK);
    CHECK(smtp_dkim_set_domain(d, "example.com") == SMTP_OK);
    CHECK(smtp_dkim_set_selector(d, "test") == SMTP_OK);
    free(pem);
    return d;
}

static void test_dkim(void)
{
    static const char raw[] = "From: a@example.com\r\nTo: b@example.com\r\nSubject: raw\r\n\r\nbody\r\n";
    static const char *const names[] = {"From", "Subject"};
    smtp_dkim *d = smtp_dkim_new();
    smtp_message *m = smtp_message_new();
    const char *field = "x", *record = NULL;
    const char *want;
    char *file;
    size_t len = 0;
    const uint8_t *data;

    CHECK(smtp_dkim_set_key_pem(d, (const uint8_t *)"junk", 4) == SMTP_ERR_INVALID_ARGUMENT);
    CHECK(strstr(smtp_dkim_errmsg(d), "DKIM key") != NULL);
    CHECK(smtp_dkim_set_key_pem(NULL, NULL, 0) == SMTP_ERR_NULL_ARGUMENT);
    CHECK(smtp_dkim_set_selector(d, "a;b") == SMTP_ERR_INVALID_ARGUMENT);
    CHECK(smtp_dkim_set_domain(d, NULL) == SMTP_ERR_NULL_ARGUMENT);
    /* Refused when set, not only when signing: what d= cannot carry. */
    CHECK(smtp_dkim_set_domain(d, "exa mple.com") == SMTP_ERR_INVALID_ARGUMENT);
    CHECK(smtp_dkim_set_domain(d, "example.com;x=1") == SMTP_ERR_INVALID_ARGUMENT);
    CHECK(smtp_dkim_set_domain(d, "example.com\r\nX: y") == SMTP_ERR_INVALID_ARGUMENT);
    CHECK(smtp_dkim_set_canonicalization(d, 3, SMTP_DKIM_SIMPLE) == SMTP_ERR_INVALID_ARGUMENT);
    CHECK(smtp_dkim_sign(d, (const uint8_t *)raw, strlen(raw), &field) == SMTP_ERR_INVALID_ARGUMENT);
    CHECK(field == NULL);
    CHECK(smtp_dkim_dns_record(d, &record) == SMTP_ERR_INVALID_ARGUMENT);
    CHECK(smtp_message_set_dkim(m, d) == SMTP_ERR_INVALID_ARGUMENT);
    CHECK(strcmp(smtp_dkim_errmsg(NULL), "signer is NULL") == 0);
    smtp_dkim_free(d);
    smtp_dkim_free(NULL);

    d = signer("ed25519");
    CHECK(smtp_dkim_set_headers(d, names, 2) == SMTP_OK);
    CHECK(smtp_dkim_set_canonicalization(d, SMTP_DKIM_SIMPLE, SMTP_DKIM_RELAXED) == SMTP_OK);
    CHECK(smtp_dkim_sign(d, (const uint8_t *)raw, strlen(raw), &field) == SMTP_OK);
    want = "DKIM-Signature: v=1; a=ed25519-sha256; c=simple/relaxed;";
    CHECK(field && strncmp(field, want, strlen(want)) == 0);
    CHECK(field && strstr(field, "h=from:subject;") != NULL);
    CHECK(smtp_dkim_dns_record(d, &record) == SMTP_OK);
    file = slurp("tests/compose/keys/ed25519.txt", &len);
    CHECK(file && record && strncmp(record, file, strlen(record)) == 0 && file[strlen(record)] == '\n');
    free(file);

    CHECK(smtp_message_set_from(m, "a@example.com") == SMTP_OK);
    CHECK(smtp_message_set_dkim(m, d) == SMTP_OK);
    smtp_dkim_free(d); /* the message kept its copy */
    CHECK_OK(m, smtp_message_bytes(m, &data, &len));
    CHECK(len > 15 && memcmp(data, "DKIM-Signature:", 15) == 0);
    CHECK(smtp_message_set_dkim(m, NULL) == SMTP_OK);
    CHECK_OK(m, smtp_message_bytes(m, &data, &len));
    CHECK(len > 5 && memcmp(data, "Date:", 5) == 0);
    smtp_message_free(m);
}

/* Whether two signed messages are the same from their Date field on (the
 * DKIM-Signature's t= is the time of each write). */
static int same_after_signature(const char *a, size_t alen, const uint8_t *b, size_t blen)
{
    const char *da = a ? strstr(a, "\r\nDate: ") : NULL;
    const uint8_t *db = b;
    size_t i;
    for (i = 0; b && i + 8 < blen && memcmp(b + i, "\r\nDate: ", 8) != 0; i++)
        ;
    db = b && i + 8 < blen ? b + i : NULL;
    if (!da || !db || strncmp(a, "DKIM-Signature:", 15) != 0)
        return 0;
    return (size_t)(a + alen - da) == (size_t)(b + blen - db) && memcmp(da, db, (size_t)(a + alen - da)) == 0;
}

static void test_send(void)
{
    static const char text[] = "Sent by test_compose.\n";
    smtp_message *m = smtp_message_new();
    smtp_session *s = smtp_session_new(SMTP_KIND_SMTP);
    smtp_pool *pool = NULL;
    smtp_dkim *d = signer("rsa2048");
    const uint8_t *data = NULL;
    size_t refused = 99, len = 0, got_len = 0;
    int code = 0, n = stored();
    char *got;

    CHECK_OK(m, smtp_message_set_from(m, "Alice <alice@example.com>"));
    CHECK_OK(m, smtp_message_add_to(m, "bob@example.com, refuse-me@example.com"));
    CHECK_OK(m, smtp_message_add_bcc(m, "secret@example.com"));
    CHECK_OK(m, smtp_message_set_subject(m, "from C"));
    CHECK_OK(m, smtp_message_set_text(m, text, strlen(text)));
    CHECK_OK(m, smtp_message_set_dkim(m, d));
    CHECK(smtp_session_send_composed(NULL, m, NULL, 0, NULL, 0, NULL) == SMTP_ERR_NULL_ARGUMENT);
    CHECK(smtp_session_send_composed(s, NULL, NULL, 0, NULL, 0, &refused) == SMTP_ERR_NULL_ARGUMENT);
    CHECK(refused == 0);
    CHECK(smtp_session_connect(s, sink, 0, &code) == SMTP_OK);
    CHECK(smtp_session_send_composed(s, m, NULL, 0, NULL, 0, &refused) == SMTP_OK);
    CHECK(refused == 1);
    CHECK(smtp_session_rcpt_count(s) == 3 && smtp_session_rcpt_refused(s, 1));
    got = arrived(n + 1, &got_len);
    CHECK_OK(m, smtp_message_bytes(m, &data, &len));
    CHECK(same_after_signature(got, got_len, data, len));
    free(got);
    smtp_session_quit(s, &code);

    /* Through a pool, on the same session. */
    CHECK(smtp_pool_new(s, sink, 0, 2, &pool) == SMTP_OK);
    CHECK(smtp_pool_send_composed(pool, s, m, NULL, 0, NULL, 0, &refused) == SMTP_OK);
    CHECK(refused == 1);
    got = arrived(n + 2, &got_len);
    CHECK(same_after_signature(got, got_len, data, len));
    free(got);
    CHECK(smtp_pool_send_composed(NULL, s, m, NULL, 0, NULL, 0, &refused) == SMTP_ERR_NULL_ARGUMENT);
    smtp_pool_free(pool);
    smtp_session_free(s);
    smtp_dkim_free(d);
    smtp_message_free(m);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc != 3) {
        fprintf(stderr, "usage: test_compose HOST:PORT SINK_DIR\n");
        return 2;
    }
    sink = argv[1];
    sink_dir = argv[2];
    test_arguments();
    test_build();
    test_dkim();
    test_send();
    printf("c-tests: %d passed, %d failed\n", passed, failed);
    return failed > 0;
}
