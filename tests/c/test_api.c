/*
 * test_api.c: the C test suite of libsmtp's public API (include/smtp.h).
 *
 *   test_api HOST:PORT SINK_DIR [--dsn HOST:PORT DIR] [--size HOST:PORT DIR LIMIT]
 *            [--starttls HOST:PORT DIR] [--implicit HOST:PORT DIR] [--tls-files DIR]
 *            [--proxies SOCKS5_HOST:PORT HTTP_HOST:PORT]
 *
 * HOST:PORT is a running tests/servers/sink.py that stores what it receives
 * in SINK_DIR (NNNN.eml, NNNN.json); the directory must start empty. The
 * options name the other servers tests/c/run.sh starts, each with its
 * own empty directory: sink.py --dsn (DSN offered, raw MAIL/RCPT arguments
 * recorded), sink.py --size-limit LIMIT, and tests/servers/tls_server.py
 * in --mode starttls and --mode implicit, whose certificate (for localhost
 * and 127.0.0.1) is signed by --tls-files DIR/ca.pem (see test_tls_builder
 * for the other files there). An option left out is a failure of the tests
 * that need it, not a skip. --proxies names two pproxy instances
 * (tests/servers/proxy_server.py), SOCKS5 and HTTP CONNECT, each requiring
 * PROXY_USER and PROXY_PASSWORD (below); left out, the tests through real
 * proxies fail. Every HOST must be a loopback address literal
 * (127.0.0.0/8 or ::1); anything else is refused. Every
 * function of smtp.h is called at least once. No test framework: CHECK*
 * count passes and failures and print each failing expression; the last
 * line of output is "c-tests: N passed, M failed" and the exit status is
 * non-zero when M > 0.
 *
 * Besides the sink (which offers no AUTH and is SMTP only), --scripted
 * names the runner's scripted server (tests/servers/scripted.py), which
 * serves one act per connection in the order of the "c_api" script of
 * tests/servers/servers.json: a 554 greeting, a close before the greeting,
 * an over-long greeting, odd replies, a close on EHLO, a reset during DATA,
 * a stall during DATA, a small SMTP server with AUTH, ENHANCEDSTATUSCODES
 * and refusals, a small LMTP server (on TCP, then on a Unix-domain socket),
 * and the SMTP one again, offering CRAM-MD5 too, for the cleartext rule with
 * loopback untrusted. The program itself only listens on a socket that it
 * never accepts (a server that never greets, for the timeouts).
 *
 * Network: only loopback (127.0.0.1) and a Unix-domain socket are used;
 * nothing is sent to any other address, and no name is looked up in the DNS
 * (the one name that must fail to resolve is refused before any query;
 * every other host is an address literal, and TLS checks the name
 * "localhost" only as a certificate name, never resolving it).
 *
 * A hang is a failure: the SIGALRM watchdog (WATCHDOG_S) ends the program.
 */
#define _POSIX_C_SOURCE 200809L

#include <smtp.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ checks */

/* The whole run may take this long before the SIGALRM watchdog calls it a
 * hang (a normal run takes seconds, under valgrind well under a minute). */
#define WATCHDOG_S 150

static int passed, failed;

static void check(int ok, const char *expr, const char *file, int line)
{
    if (ok) {
        passed++;
    } else {
        failed++;
        printf("FAIL %s:%d: %s\n", file, line, expr);
        fflush(stdout);
    }
}

static void check_int(long long got, long long want, const char *gexpr, const char *wexpr, const char *file,
                      int line)
{
    if (got == want) {
        passed++;
    } else {
        failed++;
        printf("FAIL %s:%d: %s == %s (got %lld, want %lld)\n", file, line, gexpr, wexpr, got, want);
        fflush(stdout);
    }
}

static void check_str(const char *got, const char *want, const char *gexpr, const char *wexpr, const char *file,
                      int line)
{
    int ok = (got == NULL && want == NULL) || (got != NULL && want != NULL && strcmp(got, want) == 0);
    if (ok) {
        passed++;
    } else {
        failed++;
        printf("FAIL %s:%d: %s == %s (got %s%s%s, want %s%s%s)\n", file, line, gexpr, wexpr, got ? "\"" : "",
               got ? got : "NULL", got ? "\"" : "", want ? "\"" : "", want ? want : "NULL", want ? "\"" : "");
        fflush(stdout);
    }
}

/* A result code, with the session's errmsg on failure (s may be NULL). */
static void check_rc(const smtp_session *s, int got, int want, const char *expr, const char *file, int line)
{
    if (got == want) {
        passed++;
    } else {
        failed++;
        printf("FAIL %s:%d: %s returned %d (%s), want %d (%s); errmsg: %s\n", file, line, expr, got,
               smtp_result_str(got), want, smtp_result_str(want), s ? smtp_session_errmsg(s) : "-");
        fflush(stdout);
    }
}

#define CHECK(e) check(!!(e), #e, __FILE__, __LINE__)
#define CHECK_INT(got, want) check_int((long long)(got), (long long)(want), #got, #want, __FILE__, __LINE__)
#define CHECK_STR(got, want) check_str((got), (want), #got, #want, __FILE__, __LINE__)
#define CHECK_RC(s, call, want) check_rc((s), (call), (want), #call, __FILE__, __LINE__)

static void section(const char *name)
{
    printf("-- %s\n", name);
    fflush(stdout);
}

/* ----------------------------------------------------------------- helpers */

/* `h` is an address literal in 127.0.0.0/8 or ::1 (bracketed or not). */
static int is_loopback_literal(const char *h)
{
    struct in_addr a4;
    struct in6_addr a6;
    char buf[64];
    size_t n = strlen(h);
    if (inet_pton(AF_INET, h, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (n >= 2 && h[0] == '[' && h[n - 1] == ']' && n - 2 < sizeof buf) {
        memcpy(buf, h + 1, n - 2);
        buf[n - 2] = 0;
        h = buf;
    }
    return inet_pton(AF_INET6, h, &a6) == 1 && memcmp(&a6, &in6addr_loopback, sizeof a6) == 0;
}

static char host[256];
static uint16_t port;
static char hostport[300];
static const char *sink_dir;

/* The other servers the runner starts for the C suite (each given by an option; see main). */
struct server {
    const char *option; /* "--dsn", ... */
    int given;
    uint16_t port;
    char hostport[300];
    const char *dir;
    long limit; /* --size only */
};
static struct server dsn_sink = {"--dsn", 0, 0, "", NULL, 0};
static struct server size_sink = {"--size", 0, 0, "", NULL, 0};
static struct server starttls_srv = {"--starttls", 0, 0, "", NULL, 0};
static struct server implicit_srv = {"--implicit", 0, 0, "", NULL, 0};
/* --tls-files DIR: ca.pem, cert.pem, key.pem (for localhost and 127.0.0.1,
 * signed by ca.pem), other-key.pem (a key that fits no certificate here),
 * ca-dir/ (holding ca.pem) and empty-dir/. */
static const char *tls_dir;

static int contains(const char *hay, const char *needle)
{
    return hay != NULL && strstr(hay, needle) != NULL;
}

static int contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    if (hay == NULL)
        return 0;
    for (; *hay; hay++) {
        size_t i;
        for (i = 0; i < n && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]); i++)
            ;
        if (i == n)
            return 1;
    }
    return 0;
}

/* `word` occurs in `hay` not as part of a longer identifier. */
static int names_word(const char *hay, const char *word)
{
    size_t n = strlen(word);
    const char *p = hay;
    if (hay == NULL)
        return 0;
    while ((p = strstr(p, word)) != NULL) {
        int before = p == hay || !(isalnum((unsigned char)p[-1]) || p[-1] == '_');
        int after = !(isalnum((unsigned char)p[n]) || p[n] == '_');
        if (before && after)
            return 1;
        p++;
    }
    return 0;
}

static unsigned char *read_whole(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    size_t cap = 0, n = 0;
    if (f == NULL)
        return NULL;
    for (;;) {
        size_t got;
        if (n == cap) {
            unsigned char *nb;
            cap = cap ? cap * 2 : 4096;
            nb = realloc(buf, cap + 1);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    buf[n] = 0;
    *len = n;
    return buf;
}

static void dir_path(char *out, size_t size, const char *dir, int n, const char *ext)
{
    snprintf(out, size, "%s/%04d.%s", dir, n, ext);
}

/* How many messages a sink has stored in `dir` (it numbers them 0001, ...). */
static int dir_count(const char *dir)
{
    int n = 0;
    for (;;) {
        char path[1024];
        FILE *f;
        dir_path(path, sizeof path, dir, n + 1, "eml");
        f = fopen(path, "rb");
        if (f == NULL)
            return n;
        fclose(f);
        n++;
    }
}

/* Message n stored in `dir` equals the `len` bytes at `want`. */
static int dir_eml_equals(const char *dir, int n, const void *want, size_t len)
{
    char path[1024];
    size_t got_len = 0;
    unsigned char *got;
    int ok;
    dir_path(path, sizeof path, dir, n, "eml");
    got = read_whole(path, &got_len);
    if (got == NULL) {
        printf("   (cannot read %s)\n", path);
        return 0;
    }
    ok = got_len == len && memcmp(got, want, len) == 0;
    if (!ok) {
        size_t i = 0;
        while (i < got_len && i < len && got[i] == ((const unsigned char *)want)[i])
            i++;
        printf("   (%s: %zu bytes, want %zu; first difference at byte %zu)\n", path, got_len, len, i);
    }
    free(got);
    return ok;
}

/* Envelope of message n in `dir` (malloc'd, NUL-terminated), NULL when missing. */
static char *dir_json(const char *dir, int n)
{
    char path[1024];
    size_t len;
    dir_path(path, sizeof path, dir, n, "json");
    return (char *)read_whole(path, &len);
}

static int sink_count(void)
{
    return dir_count(sink_dir);
}

static int sink_eml_equals(int n, const void *want, size_t len)
{
    return dir_eml_equals(sink_dir, n, want, len);
}

static char *sink_json(int n)
{
    return dir_json(sink_dir, n);
}

/* A TCP port on 127.0.0.1 with nothing listening (bound, then released). */
static uint16_t closed_port(void)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    uint16_t p = 0;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return 0;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &alen) == 0)
        p = ntohs(a.sin_port);
    close(fd);
    return p;
}

/* A socket listening on 127.0.0.1 (port in *p); -1 on failure. The only
 * kind of TCP listener this program makes: loopback only. */
static int listener(uint16_t *p)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 8) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
        close(fd);
        return -1;
    }
    *p = ntohs(a.sin_port);
    return fd;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* --------------------------------------------------------- trace recorder */

#define REC_LINES 256
#define REC_WIDTH 256

struct rec {
    int n, n_info, n_send, n_recv, n_other;
    int len_mismatch;
    int dirs[REC_LINES];
    char lines[REC_LINES][REC_WIDTH];
    /* Re-entrancy probe: on the next line, call into the session. */
    smtp_session *session;
    int reenter, reentered;
    int reenter_noop_rc, reenter_trace_rc, reenter_debug_rc;
};

static void rec_clear(struct rec *r)
{
    smtp_session *s = r->session;
    memset(r, 0, sizeof *r);
    r->session = s;
}

static void rec_cb(void *userdata, int direction, const char *line, size_t len)
{
    struct rec *r = userdata;
    if (line == NULL || strlen(line) != len)
        r->len_mismatch++;
    if (r->n < REC_LINES && line != NULL) {
        r->dirs[r->n] = direction;
        snprintf(r->lines[r->n], REC_WIDTH, "%s", line);
    }
    r->n++;
    switch (direction) {
    case SMTP_TRACE_INFO: r->n_info++; break;
    case SMTP_TRACE_SEND: r->n_send++; break;
    case SMTP_TRACE_RECV: r->n_recv++; break;
    default: r->n_other++; break;
    }
    if (r->reenter && !r->reentered) {
        int code = -7;
        r->reentered = 1;
        r->reenter_noop_rc = smtp_session_noop(r->session, &code);
        r->reenter_trace_rc = smtp_session_set_trace(r->session, NULL, NULL);
        r->reenter_debug_rc = smtp_session_set_debuglevel(r->session, 0);
        /* Documented to do nothing from inside a callback. */
        smtp_session_free(r->session);
    }
}

/* Some recorded line of `direction` contains `needle` (case-insensitive). */
static int rec_has(const struct rec *r, int direction, const char *needle)
{
    int i;
    for (i = 0; i < r->n && i < REC_LINES; i++)
        if (r->dirs[i] == direction && contains_ci(r->lines[i], needle))
            return 1;
    return 0;
}

/* "HH:MM:SS.ffffff " at the start of a line (debug level 2). */
static int timestamped(const char *l)
{
    const char *pat = "dd:dd:dd.dddddd ";
    size_t i;
    for (i = 0; pat[i]; i++) {
        if (pat[i] == 'd' ? !isdigit((unsigned char)l[i]) : l[i] != pat[i])
            return 0;
    }
    return 1;
}

/* ----------------------------------------------------------- SASL probe */

struct sasl {
    const char *initial; /* NULL: the mechanism has no initial response */
    size_t initial_len;
    const char *answer; /* the response to every challenge */
    int abort_on_challenge;
    size_t need_space; /* ask for a buffer this large first */
    int calls, initial_calls, challenge_calls;
    size_t last_cap;
    char challenge[64];
    size_t challenge_len;
    /* Re-entrancy probe. */
    smtp_session *session;
    int reenter, reenter_rc;
    size_t long_answer; /* sasl_step: answer the challenge with this many 'x' */
    int respond_rc;     /* sasl_step: what smtp_sasl_respond returned for it */
};

static void sasl_reset(struct sasl *a, const char *initial, const char *answer)
{
    smtp_session *s = a->session;
    memset(a, 0, sizeof *a);
    a->session = s;
    a->initial = initial;
    a->initial_len = initial ? strlen(initial) : 0;
    a->answer = answer;
}

static int sasl_cb(void *userdata, const uint8_t *challenge, size_t challenge_len, uint8_t *response,
                   size_t response_cap, size_t *response_len)
{
    struct sasl *a = userdata;
    a->calls++;
    a->last_cap = response_cap;
    if (a->reenter) {
        a->reenter = 0;
        a->reenter_rc = smtp_session_noop(a->session, NULL);
    }
    if (a->need_space > response_cap) {
        *response_len = a->need_space;
        return SMTP_SASL_NEED_SPACE;
    }
    if (challenge == NULL) {
        a->initial_calls++;
        if (a->initial == NULL)
            return SMTP_SASL_NO_INITIAL_RESPONSE;
        memcpy(response, a->initial, a->initial_len);
        *response_len = a->initial_len;
        return SMTP_SASL_CONTINUE;
    }
    a->challenge_calls++;
    a->challenge_len = challenge_len;
    memcpy(a->challenge, challenge, challenge_len < sizeof a->challenge ? challenge_len : sizeof a->challenge);
    if (a->abort_on_challenge || a->answer == NULL)
        return 0; /* abort */
    memcpy(response, a->answer, strlen(a->answer));
    *response_len = strlen(a->answer);
    return SMTP_SASL_CONTINUE;
}

/* The same mechanism as a smtp_sasl_step_fn. */
static int sasl_step(void *userdata, const uint8_t *challenge, size_t challenge_len, smtp_sasl_exchange *x)
{
    struct sasl *a = userdata;
    a->calls++;
    if (challenge == NULL) {
        a->initial_calls++;
        if (a->initial == NULL)
            return SMTP_SASL_NO_INITIAL_RESPONSE;
        /* NULL with no bytes is allowed; then the real response replaces it. */
        CHECK_INT(smtp_sasl_respond(x, NULL, 0), SMTP_OK);
        CHECK_INT(smtp_sasl_respond(x, NULL, 3), SMTP_ERR_NULL_ARGUMENT);
        return smtp_sasl_respond(x, (const uint8_t *)a->initial, a->initial_len) == SMTP_OK ? SMTP_SASL_CONTINUE : 0;
    }
    a->challenge_calls++;
    a->challenge_len = challenge_len;
    memcpy(a->challenge, challenge, challenge_len < sizeof a->challenge ? challenge_len : sizeof a->challenge);
    if (a->long_answer > 0) {
        char *big = malloc(a->long_answer);
        if (big == NULL)
            return 0;
        memset(big, 'x', a->long_answer);
        a->respond_rc = smtp_sasl_respond(x, (const uint8_t *)big, a->long_answer);
        free(big);
        return a->respond_rc == SMTP_OK ? SMTP_SASL_CONTINUE : 0;
    }
    if (a->abort_on_challenge || a->answer == NULL)
        return 0; /* abort */
    return smtp_sasl_respond(x, (const uint8_t *)a->answer, strlen(a->answer)) == SMTP_OK ? SMTP_SASL_CONTINUE : 0;
}

/* ------------------------------------------------------ scripted server */

/* --scripted HOST:PORT DIR: the runner's scripted server
 * (tests/servers/scripted.py), which serves one act per connection in the
 * order of the "c_api" script of tests/servers/servers.json: test_scripted()
 * takes them in that order (the one on DIR/lmtp.sock, a Unix-domain socket,
 * in its place), test_untrusted_loopback() the last. */
static struct server scripted_srv = {"--scripted", 0, 0, "", NULL, 0};
static uint16_t script_port;
static char unix_path[600];
/* What the scripted server's AUTH accepts (serve_auth in scripted.py). */
#define PLAIN_USER_PASS "AHVzZXIAcGFzcw==" /* base64 of "\0user\0pass" */

static void send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, 0);
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

static void send_str(int fd, const char *p)
{
    send_all(fd, p, strlen(p));
}

/* ------------------------------------------------------------------ tests */

static void test_constants(void)
{
    /* Every code the header names, in increasing order, with what
       smtp_result_name(), smtp_result_has_reply() and smtp_result_exception()
       must say of it. */
#define CODE(c) c, #c
    static const struct {
        int code;
        const char *name;
        int has_reply;
        const char *exception;
    } codes[] = {
        {CODE(SMTP_OK), 0, NULL},
        {CODE(SMTP_ERR_NULL_ARGUMENT), 0, "TypeError"},
        {CODE(SMTP_ERR_INVALID_ARGUMENT), 0, "ValueError"},
        {CODE(SMTP_ERR_BAD_STATE), 0, "SMTPException"},
        {CODE(SMTP_ERR_PANIC), 0, "SMTPException"},
        {CODE(SMTP_ERR_CONNECT), 0, "OSError"},
        {CODE(SMTP_ERR_TIMEOUT), 0, "TimeoutError"},
        {CODE(SMTP_ERR_IO), 0, "SMTPServerDisconnected"},
        {CODE(SMTP_ERR_TLS), 0, "SSLError"},
        {CODE(SMTP_ERR_SERVER_DISCONNECTED), 0, "SMTPServerDisconnected"},
        {CODE(SMTP_ERR_NOT_ENCRYPTED), 0, "SMTPException"},
        {CODE(SMTP_ERR_CANCELLED), 0, "SMTPServerDisconnected"},
        {CODE(SMTP_ERR_OUTCOME_UNKNOWN), 0, "SMTPServerDisconnected"},
        {CODE(SMTP_ERR_RESPONSE), 1, "SMTPResponseException"},
        {CODE(SMTP_ERR_CONNECT_REPLY), 1, "SMTPConnectError"},
        {CODE(SMTP_ERR_HELO), 1, "SMTPHeloError"},
        {CODE(SMTP_ERR_NOT_SUPPORTED), 0, "SMTPNotSupportedError"},
        {CODE(SMTP_ERR_AUTH), 1, "SMTPAuthenticationError"},
        {CODE(SMTP_ERR_AUTH_ABORTED), 1, "SMTPAuthenticationError"},
        {CODE(SMTP_ERR_SENDER_REFUSED), 1, "SMTPSenderRefused"},
        {CODE(SMTP_ERR_RECIPIENTS_REFUSED), 1, "SMTPRecipientsRefused"},
        {CODE(SMTP_ERR_DATA), 1, "SMTPDataError"},
        {CODE(SMTP_ERR_SMTP), 0, "SMTPException"},
        {CODE(SMTP_ERR_TOO_LARGE), 0, "SMTPException"},
    };
#undef CODE
    /* Numbers no code has (yet): 18-19 and 31 sit beside the newest. */
    static const int unknown[] = {-1, 5, 9, 18, 19, 31, 39, 1000, INT32_MIN};
    size_t i, j, n = sizeof codes / sizeof codes[0];
    char want[64];
    const char *v;

    section("result codes and version");
    /* The numbers are ABI: fixed forever. */
    CHECK_INT(SMTP_OK, 0);
    CHECK_INT(SMTP_ERR_NULL_ARGUMENT, 1);
    CHECK_INT(SMTP_ERR_INVALID_ARGUMENT, 2);
    CHECK_INT(SMTP_ERR_BAD_STATE, 3);
    CHECK_INT(SMTP_ERR_PANIC, 4);
    CHECK_INT(SMTP_ERR_CONNECT, 10);
    CHECK_INT(SMTP_ERR_SERVER_DISCONNECTED, 14);
    CHECK_INT(SMTP_ERR_TIMEOUT, 11);
    CHECK_INT(SMTP_ERR_IO, 12);
    CHECK_INT(SMTP_ERR_TLS, 13);
    CHECK_INT(SMTP_ERR_SERVER_DISCONNECTED, 14);
    CHECK_INT(SMTP_ERR_NOT_ENCRYPTED, 15);
    CHECK_INT(SMTP_ERR_CANCELLED, 16);
    CHECK_INT(SMTP_ERR_OUTCOME_UNKNOWN, 17);
    CHECK_INT(SMTP_ERR_RESPONSE, 20);
    CHECK_INT(SMTP_ERR_CONNECT_REPLY, 21);
    CHECK_INT(SMTP_ERR_HELO, 22);
    CHECK_INT(SMTP_ERR_NOT_SUPPORTED, 23);
    CHECK_INT(SMTP_ERR_AUTH, 24);
    CHECK_INT(SMTP_ERR_AUTH_ABORTED, 25);
    CHECK_INT(SMTP_ERR_SENDER_REFUSED, 26);
    CHECK_INT(SMTP_ERR_RECIPIENTS_REFUSED, 27);
    CHECK_INT(SMTP_ERR_DATA, 28);
    CHECK_INT(SMTP_ERR_SMTP, 29);
    CHECK_INT(SMTP_ERR_TOO_LARGE, 30);
    CHECK_INT(SMTP_SASL_CONTINUE, 100);
    CHECK_INT(SMTP_SASL_NO_INITIAL_RESPONSE, 101);
    CHECK_INT(SMTP_SASL_NEED_SPACE, 102);
    CHECK_INT(SMTP_AUTH_NO_INITIAL_RESPONSE, 1);
    CHECK_INT(SMTP_AUTH_ALLOW_CLEARTEXT, 2);
    /* The other constants are ABI too. */
    CHECK_INT(SMTP_KIND_SMTP, 0);
    CHECK_INT(SMTP_KIND_SMTP_SSL, 1);
    CHECK_INT(SMTP_KIND_LMTP, 2);
    CHECK_INT(SMTP_MSG_NORMALIZE, 0);
    CHECK_INT(SMTP_MSG_RAW, 1);
    CHECK_INT(SMTP_MSG_REJECT_BARE_EOL, 2);
    CHECK_INT(SMTP_TIMEOUT_CONNECT, 0);
    CHECK_INT(SMTP_TIMEOUT_IO, 1);
    CHECK_INT(SMTP_TIMEOUT_REPLY, 2);
    CHECK_INT(SMTP_TIMEOUT_GREETING, 3);
    CHECK_INT(SMTP_TIMEOUT_MAIL, 4);
    CHECK_INT(SMTP_TIMEOUT_RCPT, 5);
    CHECK_INT(SMTP_TIMEOUT_DATA, 6);
    CHECK_INT(SMTP_TIMEOUT_DATA_BLOCK, 7);
    CHECK_INT(SMTP_TIMEOUT_FINAL_DOT, 8);
    CHECK_INT(SMTP_TIMEOUT_CALL, 9);
    CHECK_INT(SMTP_TRACE_INFO, 0);
    CHECK_INT(SMTP_TRACE_SEND, 1);
    CHECK_INT(SMTP_TRACE_RECV, 2);
    CHECK_INT(SMTP_DSN_RET_FULL, 1);
    CHECK_INT(SMTP_DSN_RET_HDRS, 2);
    CHECK_INT(SMTP_DSN_NOTIFY_SUCCESS, 1);
    CHECK_INT(SMTP_DSN_NOTIFY_FAILURE, 2);
    CHECK_INT(SMTP_DSN_NOTIFY_DELAY, 4);
    CHECK_INT(SMTP_DSN_NOTIFY_NEVER, 8);
    CHECK_INT(SMTP_BODY_7BIT, 1);
    CHECK_INT(SMTP_BODY_8BITMIME, 2);
    CHECK_INT(SMTP_BODY_BINARYMIME, 3);
    for (i = 0; i < n; i++) {
        const char *d = smtp_result_str(codes[i].code);
        CHECK(d != NULL);
        CHECK(d != NULL && d[0] != 0);
        CHECK(d != NULL && strcmp(d, "unknown result code") != 0);
        for (j = 0; j < i; j++)
            if (d != NULL && strcmp(d, smtp_result_str(codes[j].code)) == 0)
                printf("   (codes %d and %d share a description)\n", codes[i].code, codes[j].code);
    }
    for (i = 0; i < n; i++) {
        int unique = 1;
        for (j = 0; j < n; j++)
            if (i != j && strcmp(smtp_result_str(codes[i].code), smtp_result_str(codes[j].code)) == 0)
                unique = 0;
        CHECK(unique);
    }
    CHECK(smtp_result_str(SMTP_OK) == smtp_result_str(SMTP_OK)); /* static */
    for (i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
        CHECK_STR(smtp_result_str(unknown[i]), "unknown result code");

    /* The table: names, exceptions, replies; the enumeration lists exactly
       the header's codes, in order. */
    CHECK(smtp_result_count() == n);
    for (i = 0; i < n; i++) {
        CHECK_INT(smtp_result_code_at(i), codes[i].code);
        CHECK_STR(smtp_result_name(codes[i].code), codes[i].name);
        CHECK_INT(smtp_result_has_reply(codes[i].code), codes[i].has_reply);
        CHECK_STR(smtp_result_exception(codes[i].code), codes[i].exception);
    }
    CHECK_INT(smtp_result_code_at(n), -1);
    CHECK_INT(smtp_result_code_at((size_t)-1), -1);
    CHECK(smtp_result_name(SMTP_OK) == smtp_result_name(SMTP_OK)); /* static */
    for (i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        CHECK(smtp_result_name(unknown[i]) == NULL);
        CHECK(smtp_result_exception(unknown[i]) == NULL);
        CHECK_INT(smtp_result_has_reply(unknown[i]), 0);
    }

    v = smtp_lib_version();
    snprintf(want, sizeof want, "%d.%d.%d", SMTP_VERSION_MAJOR, SMTP_VERSION_MINOR, SMTP_VERSION_PATCH);
    CHECK(v != NULL);
    CHECK_STR(v, want);
    CHECK(smtp_lib_version() == v);
    /* One number, for #if and for run time; AT_LEAST compares with it. */
    CHECK(smtp_lib_version_number() == SMTP_VERSION_NUM);
    CHECK_INT((int)(SMTP_VERSION_NUM >> 16), SMTP_VERSION_MAJOR);
    CHECK_INT((int)((SMTP_VERSION_NUM >> 8) & 0xff), SMTP_VERSION_MINOR);
    CHECK_INT((int)(SMTP_VERSION_NUM & 0xff), SMTP_VERSION_PATCH);
#if !SMTP_VERSION_AT_LEAST(0, 1, 0)
    CHECK(!"SMTP_VERSION_AT_LEAST(0, 1, 0) is false in #if");
#endif
    CHECK(SMTP_VERSION_AT_LEAST(SMTP_VERSION_MAJOR, SMTP_VERSION_MINOR, SMTP_VERSION_PATCH));
    CHECK(!SMTP_VERSION_AT_LEAST(SMTP_VERSION_MAJOR, SMTP_VERSION_MINOR, SMTP_VERSION_PATCH + 1));
    CHECK(!SMTP_VERSION_AT_LEAST(SMTP_VERSION_MAJOR + 1, 0, 0));
}

static void test_null_session(void)
{
    const char *to[] = {"bob@example.com", "carol@example.com"};
    const char *opts[] = {"BODY=8BITMIME"};
    const uint8_t msg[] = "x\r\n";
    int code, codes[2];
    size_t refused;
    const char *e;

    section("NULL session");
    /* Fallible functions: SMTP_ERR_NULL_ARGUMENT. */
    CHECK_RC(NULL, smtp_session_helo(NULL, "x", &code), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_session_ehlo(NULL, "x", &code), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_session_ehlo_or_helo_if_needed(NULL), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_session_docmd(NULL, "NOOP", NULL, &code), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_session_noop(NULL, &code), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_session_noop(NULL, NULL), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_session_rset(NULL, &code), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_session_help(NULL, NULL, &code), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_session_verify(NULL, "a@example.com", &code), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_session_expn(NULL, "a@example.com", &code), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_session_mail(NULL, "a@example.com", opts, 1, &code), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_session_rcpt(NULL, "b@example.com", NULL, 0, &code), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_session_data(NULL, msg, 3, SMTP_MSG_NORMALIZE, &code), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_session_quit(NULL, &code), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_session_set_local_hostname(NULL, "client.example"), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_session_set_timeout_ms(NULL, SMTP_TIMEOUT_IO, 1000), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_session_set_source_address(NULL, "127.0.0.1", 0), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_session_set_debuglevel(NULL, 1), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_session_set_trace(NULL, rec_cb, NULL), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_session_connect(NULL, hostport, 0, &code), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_session_open(NULL, hostport, 0, &code), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_session_close(NULL), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_session_login(NULL, "user", "pass", 0), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_session_set_auth_mechanisms(NULL, "PLAIN"), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_session_set_auth_mechanisms(NULL, NULL), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_session_auth(NULL, "PLAIN", sasl_cb, NULL, 0), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_session_auth_builtin(NULL, "PLAIN", "user", "pass", 0), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_session_set_debug_secrets(NULL, 1), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_session_set_trust_loopback(NULL, 0), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_session_set_trust_loopback(NULL, 1), SMTP_ERR_NULL_ARGUMENT);
    /* sendmail fills rcpt_codes and refused_count on every return. */
    codes[0] = codes[1] = -1;
    refused = 99;
    CHECK_RC(NULL, smtp_session_sendmail(NULL, "a@example.com", to, 2, msg, 3, NULL, 0, NULL, 0, SMTP_MSG_NORMALIZE,
                                         codes, &refused),
             SMTP_ERR_NULL_ARGUMENT);
    CHECK_INT(codes[0], 0);
    CHECK_INT(codes[1], 0);
    CHECK_INT(refused, 0);
    /* send_message fills refused_count on every return too. */
    refused = 99;
    CHECK_RC(NULL, smtp_session_send_message(NULL, msg, 3, NULL, NULL, 0, NULL, 0, NULL, 0, SMTP_MSG_NORMALIZE,
                                             &refused),
             SMTP_ERR_NULL_ARGUMENT);
    CHECK_INT(refused, 0);
    CHECK_RC(NULL, smtp_session_send_message(NULL, msg, 3, NULL, NULL, 0, NULL, 0, NULL, 0, 0, NULL),
             SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_session_set_envelope(NULL, NULL), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_session_set_tls_config(NULL, NULL), SMTP_ERR_NULL_ARGUMENT);
    code = -7;
    CHECK_RC(NULL, smtp_session_starttls(NULL, NULL, &code), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_session_starttls(NULL, NULL, NULL), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_session_set_require_tls(NULL, 1), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_session_set_require_tls(NULL, 0), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_session_set_pipelining(NULL, 0), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_session_set_chunking(NULL, 0), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_session_set_timeout_ms(NULL, SMTP_TIMEOUT_GREETING, 1000), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_session_set_timeout_ms(NULL, SMTP_TIMEOUT_CALL, 1000), SMTP_ERR_NULL_ARGUMENT);

    /* Getters: documented defaults. */
    e = smtp_session_errmsg(NULL);
    CHECK(e != NULL && e[0] != 0);
    CHECK(smtp_session_errmsg(NULL) == e); /* static */
    CHECK_INT(smtp_session_last_reply_code(NULL), 0);
    CHECK(smtp_session_last_reply_text(NULL) == NULL);
    CHECK_INT(smtp_session_is_connected(NULL), 0);
    CHECK_INT(smtp_session_does_esmtp(NULL), 0);
    CHECK(smtp_session_ehlo_resp(NULL) == NULL);
    CHECK(smtp_session_helo_resp(NULL) == NULL);
    CHECK_INT(smtp_session_has_extn(NULL, "size"), 0);
    CHECK_INT(smtp_session_feature_count(NULL), 0);
    CHECK(smtp_session_feature_name(NULL, 0) == NULL);
    CHECK(smtp_session_feature_params(NULL, 0) == NULL);
    CHECK(smtp_session_feature(NULL, "size") == NULL);
    CHECK_INT(smtp_session_rcpt_count(NULL), 0);
    CHECK(smtp_session_rcpt_addr(NULL, 0) == NULL);
    CHECK_INT(smtp_session_rcpt_code(NULL, 0), 0);
    CHECK(smtp_session_rcpt_text(NULL, 0) == NULL);
    CHECK_INT(smtp_session_rcpt_data_code(NULL, 0), 0);
    CHECK(smtp_session_rcpt_data_text(NULL, 0) == NULL);
    CHECK_INT(smtp_session_rcpt_refused(NULL, 0), 0);
    CHECK_INT(smtp_session_timeout_ms(NULL, SMTP_TIMEOUT_CONNECT), -1);
    CHECK_INT(smtp_session_timeout_ms(NULL, SMTP_TIMEOUT_IO), -1);
    CHECK_INT(smtp_session_timeout_ms(NULL, SMTP_TIMEOUT_REPLY), -1);
    CHECK_INT(smtp_session_timeout_ms(NULL, SMTP_TIMEOUT_GREETING), -1);
    CHECK_INT(smtp_session_timeout_ms(NULL, SMTP_TIMEOUT_CALL), -1);
    CHECK(smtp_session_rcpt_status(NULL, 0) == NULL);
    CHECK(smtp_session_rcpt_data_status(NULL, 0) == NULL);
    CHECK(smtp_session_sender(NULL) == NULL);
    CHECK_INT(smtp_session_is_encrypted(NULL), 0);
    CHECK(smtp_session_tls_version(NULL) == NULL);
    CHECK(smtp_session_tls_cipher(NULL) == NULL);
    /* No-ops (a crash or a sanitizer report would fail the run). */
    smtp_session_free(NULL);
    smtp_envelope_free(NULL);
    smtp_tls_config_builder_free(NULL);
    smtp_tls_config_free(NULL);
}

/* A fresh, unconnected session: state getters, settings, timeouts. */
static void test_new_session(void)
{
    smtp_session *s, *l;
    int code = -7;

    section("new session, settings, timeouts");
    CHECK(smtp_session_new(3) == NULL);
    CHECK(smtp_session_new(-1) == NULL);
    CHECK(smtp_session_new(99) == NULL);
    CHECK(smtp_session_new(INT32_MIN) == NULL);

    s = smtp_session_new(SMTP_KIND_SMTP);
    CHECK(s != NULL);
    if (s == NULL)
        return;
    CHECK_STR(smtp_session_errmsg(s), "no error");
    CHECK_INT(smtp_session_last_reply_code(s), 0);
    CHECK_STR(smtp_session_last_reply_text(s), "");
    CHECK_INT(smtp_session_is_connected(s), 0);
    CHECK_INT(smtp_session_does_esmtp(s), 0);
    CHECK(smtp_session_ehlo_resp(s) == NULL);
    CHECK(smtp_session_helo_resp(s) == NULL);
    CHECK_INT(smtp_session_has_extn(s, "size"), 0);
    CHECK_INT(smtp_session_feature_count(s), 0);
    CHECK(smtp_session_feature_name(s, 0) == NULL);
    CHECK(smtp_session_feature_params(s, 0) == NULL);
    CHECK(smtp_session_feature(s, "size") == NULL);
    CHECK_INT(smtp_session_rcpt_count(s), 0);
    CHECK(smtp_session_rcpt_addr(s, 0) == NULL);
    CHECK(smtp_session_rcpt_text(s, 0) == NULL);
    CHECK(smtp_session_rcpt_data_text(s, 0) == NULL);

    /* Timeouts: the defaults the header gives, each selector's own round
     * trip (distinct values, so that no two selectors share storage), 0 = no
     * limit, UINT32_MAX kept whole, unknown selectors refused. */
    {
        static const int which[] = {SMTP_TIMEOUT_CONNECT, SMTP_TIMEOUT_IO,        SMTP_TIMEOUT_REPLY,
                                    SMTP_TIMEOUT_GREETING, SMTP_TIMEOUT_MAIL,     SMTP_TIMEOUT_RCPT,
                                    SMTP_TIMEOUT_DATA,    SMTP_TIMEOUT_DATA_BLOCK, SMTP_TIMEOUT_FINAL_DOT,
                                    SMTP_TIMEOUT_CALL};
        static const int64_t defaults[] = {30000, 300000, 600000, 300000, 300000, 300000, 120000, 180000, 600000, 0};
        size_t i, n = sizeof which / sizeof which[0];
        for (i = 0; i < n; i++)
            if (smtp_session_timeout_ms(s, which[i]) != defaults[i])
                printf("   (timeout %d: %lld, want %lld)\n", which[i], (long long)smtp_session_timeout_ms(s, which[i]),
                       (long long)defaults[i]);
        for (i = 0; i < n; i++)
            CHECK_INT(smtp_session_timeout_ms(s, which[i]), defaults[i]);
        for (i = 0; i < n; i++)
            CHECK_RC(s, smtp_session_set_timeout_ms(s, which[i], (uint32_t)(1000 + 111 * i)), SMTP_OK);
        for (i = 0; i < n; i++)
            CHECK_INT(smtp_session_timeout_ms(s, which[i]), 1000 + 111 * (int64_t)i);
        for (i = 0; i < n; i++) {
            CHECK_RC(s, smtp_session_set_timeout_ms(s, which[i], 0), SMTP_OK);
            CHECK_INT(smtp_session_timeout_ms(s, which[i]), 0);
            CHECK_RC(s, smtp_session_set_timeout_ms(s, which[i], UINT32_MAX), SMTP_OK);
            CHECK_INT(smtp_session_timeout_ms(s, which[i]), (int64_t)UINT32_MAX);
            /* The others kept their values. */
            CHECK_INT(smtp_session_timeout_ms(s, which[(i + 1) % n]), (i + 1) % n < i ? 0 : 1000 + 111 * (int64_t)((i + 1) % n));
            CHECK_RC(s, smtp_session_set_timeout_ms(s, which[i], 0), SMTP_OK);
        }
        /* An SMTP_SSL and an LMTP session start with the same defaults. */
        l = smtp_session_new(SMTP_KIND_SMTP_SSL);
        CHECK(l != NULL);
        for (i = 0; l != NULL && i < n; i++)
            CHECK_INT(smtp_session_timeout_ms(l, which[i]), defaults[i]);
        smtp_session_free(l);
        l = smtp_session_new(SMTP_KIND_LMTP);
        CHECK(l != NULL);
        for (i = 0; l != NULL && i < n; i++)
            CHECK_INT(smtp_session_timeout_ms(l, which[i]), defaults[i]);
        smtp_session_free(l);
    }
    CHECK_RC(s, smtp_session_set_timeout_ms(s, SMTP_TIMEOUT_CONNECT, 1234), SMTP_OK);
    CHECK_RC(s, smtp_session_set_timeout_ms(s, SMTP_TIMEOUT_IO, 5678), SMTP_OK);
    CHECK_STR(smtp_session_errmsg(s), "no error");
    CHECK_RC(s, smtp_session_set_timeout_ms(s, 11, 1000), SMTP_ERR_INVALID_ARGUMENT);
    CHECK(contains_ci(smtp_session_errmsg(s), "timeout"));
    CHECK_RC(s, smtp_session_set_timeout_ms(s, -1, 1000), SMTP_ERR_INVALID_ARGUMENT);
    CHECK(contains_ci(smtp_session_errmsg(s), "timeout"));
    CHECK_RC(s, smtp_session_set_timeout_ms(s, INT32_MAX, 1000), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_INT(smtp_session_timeout_ms(s, 11), -1);
    CHECK_INT(smtp_session_timeout_ms(s, -1), -1);
    CHECK_INT(smtp_session_timeout_ms(s, INT32_MIN), -1);
    /* The failed sets changed nothing. */
    CHECK_INT(smtp_session_timeout_ms(s, SMTP_TIMEOUT_CONNECT), 1234);
    CHECK_INT(smtp_session_timeout_ms(s, SMTP_TIMEOUT_IO), 5678);
    CHECK_INT(smtp_session_timeout_ms(s, SMTP_TIMEOUT_CALL), 0);
    CHECK_RC(s, smtp_session_set_timeout_ms(s, SMTP_TIMEOUT_IO, 0), SMTP_OK);
    /* SMTP_TIMEOUT_ALL: every limit on a single wait at once, not the call's;
     * read back, the longest single wait (0: one is unlimited). */
    CHECK_INT(smtp_session_timeout_ms(s, SMTP_TIMEOUT_ALL), 0);
    CHECK_RC(s, smtp_session_set_timeout_ms(s, SMTP_TIMEOUT_CALL, 9000), SMTP_OK);
    CHECK_RC(s, smtp_session_set_timeout_ms(s, SMTP_TIMEOUT_ALL, 1500), SMTP_OK);
    {
        static const int each[] = {SMTP_TIMEOUT_CONNECT, SMTP_TIMEOUT_IO,   SMTP_TIMEOUT_REPLY,
                                   SMTP_TIMEOUT_GREETING, SMTP_TIMEOUT_MAIL, SMTP_TIMEOUT_RCPT,
                                   SMTP_TIMEOUT_DATA,    SMTP_TIMEOUT_DATA_BLOCK, SMTP_TIMEOUT_FINAL_DOT};
        size_t k;
        for (k = 0; k < sizeof each / sizeof each[0]; k++)
            CHECK_INT(smtp_session_timeout_ms(s, each[k]), 1500);
    }
    CHECK_INT(smtp_session_timeout_ms(s, SMTP_TIMEOUT_CALL), 9000);
    CHECK_INT(smtp_session_timeout_ms(s, SMTP_TIMEOUT_ALL), 1500);
    CHECK_RC(s, smtp_session_set_timeout_ms(s, SMTP_TIMEOUT_RCPT, 4000), SMTP_OK);
    CHECK_INT(smtp_session_timeout_ms(s, SMTP_TIMEOUT_ALL), 4000);
    CHECK_RC(s, smtp_session_set_timeout_ms(s, SMTP_TIMEOUT_IO, 0), SMTP_OK);
    CHECK_INT(smtp_session_timeout_ms(s, SMTP_TIMEOUT_ALL), 0);
    CHECK_INT(smtp_session_timeout_ms(NULL, SMTP_TIMEOUT_ALL), -1);
    CHECK_RC(s, smtp_session_set_timeout_ms(s, SMTP_TIMEOUT_ALL, 0), SMTP_OK);
    CHECK_RC(s, smtp_session_set_timeout_ms(s, SMTP_TIMEOUT_CALL, 0), SMTP_OK);
    /* smtp_session_cancel() with no call running does nothing, and does not
     * cancel the next call. */
    CHECK_INT(smtp_session_cancel(s), SMTP_OK);
    CHECK_INT(smtp_session_cancel(NULL), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(s, smtp_session_set_debuglevel(s, 0), SMTP_OK);

    /* TLS and envelope settings while unconnected. */
    CHECK_INT(smtp_session_is_encrypted(s), 0);
    CHECK(smtp_session_tls_version(s) == NULL);
    CHECK(smtp_session_tls_cipher(s) == NULL);
    CHECK_RC(s, smtp_session_set_tls_config(s, NULL), SMTP_OK);
    CHECK_RC(s, smtp_session_set_require_tls(s, 1), SMTP_OK);
    CHECK_RC(s, smtp_session_set_require_tls(s, 0), SMTP_OK);
    CHECK_RC(s, smtp_session_set_envelope(s, NULL), SMTP_OK);
    CHECK_RC(s, smtp_session_set_pipelining(s, 0), SMTP_OK);
    CHECK_RC(s, smtp_session_set_pipelining(s, 1), SMTP_OK);
    CHECK_RC(s, smtp_session_set_chunking(s, 0), SMTP_OK);
    CHECK_RC(s, smtp_session_set_chunking(s, 1), SMTP_OK);
    code = -7;
    CHECK_RC(s, smtp_session_starttls(s, NULL, &code), SMTP_ERR_SERVER_DISCONNECTED);
    CHECK_INT(code, 0);
    CHECK_INT(smtp_session_is_encrypted(s), 0);
    CHECK(smtp_session_rcpt_status(s, 0) == NULL);
    CHECK(smtp_session_rcpt_data_status(s, 0) == NULL);
    CHECK(smtp_session_rcpt_status(s, (size_t)-1) == NULL);

    /* Debug level. */
    CHECK_RC(s, smtp_session_set_debuglevel(s, -1), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_set_debuglevel(s, 0), SMTP_OK);
    CHECK_STR(smtp_session_errmsg(s), "no error");

    /* Local hostname. */
    CHECK_RC(s, smtp_session_set_local_hostname(s, NULL), SMTP_ERR_NULL_ARGUMENT);
    CHECK(names_word(smtp_session_errmsg(s), "name"));
    CHECK_RC(s, smtp_session_set_local_hostname(s, ""), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_set_local_hostname(s, "two words"), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_set_local_hostname(s, "tab\tname"), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_set_local_hostname(s, "x\r\nRSET"), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_set_local_hostname(s, "x\nRSET"), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_set_local_hostname(s, "x\rRSET"), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_set_local_hostname(s, "bad\xff\xfe"), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_set_local_hostname(s, "client.example"), SMTP_OK);

    /* Source address: set, remove; invalid UTF-8 refused. */
    CHECK_RC(s, smtp_session_set_source_address(s, "127.0.0.1", 0), SMTP_OK);
    CHECK_RC(s, smtp_session_set_source_address(s, NULL, 0), SMTP_OK);
    CHECK_RC(s, smtp_session_set_source_address(s, "\xc3\x28", 0), SMTP_ERR_INVALID_ARGUMENT);

    /* Trace: set and reset while unconnected. */
    CHECK_RC(s, smtp_session_set_trace(s, rec_cb, NULL), SMTP_OK);
    CHECK_RC(s, smtp_session_set_trace(s, NULL, NULL), SMTP_OK);

    /* Authentication settings and arguments. */
    CHECK_RC(s, smtp_session_set_auth_mechanisms(s, "SCRAM-SHA-256 PLAIN"), SMTP_OK);
    CHECK_RC(s, smtp_session_set_auth_mechanisms(s, "cram-md5 login xoauth2 oauthbearer"), SMTP_OK);
    CHECK_RC(s, smtp_session_set_auth_mechanisms(s, NULL), SMTP_OK);
    CHECK_RC(s, smtp_session_set_auth_mechanisms(s, ""), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_set_auth_mechanisms(s, "   "), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_set_auth_mechanisms(s, "PLAIN X-BOGUS"), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_set_auth_mechanisms(s, "PL\xff" "AIN"), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_set_debug_secrets(s, 1), SMTP_OK);
    CHECK_RC(s, smtp_session_set_debug_secrets(s, 0), SMTP_OK);
    CHECK_RC(s, smtp_session_login(s, NULL, "pass", 0), SMTP_ERR_NULL_ARGUMENT);
    CHECK(names_word(smtp_session_errmsg(s), "user"));
    CHECK_RC(s, smtp_session_login(s, "user", NULL, 0), SMTP_ERR_NULL_ARGUMENT);
    CHECK(names_word(smtp_session_errmsg(s), "password"));
    CHECK_RC(s, smtp_session_auth(s, NULL, sasl_cb, NULL, 0), SMTP_ERR_NULL_ARGUMENT);
    CHECK(names_word(smtp_session_errmsg(s), "mechanism"));
    CHECK_RC(s, smtp_session_auth(s, "X-TEST", NULL, NULL, 0), SMTP_ERR_NULL_ARGUMENT);
    CHECK(names_word(smtp_session_errmsg(s), "callback"));
    CHECK_RC(s, smtp_session_auth_builtin(s, NULL, "user", "pass", 0), SMTP_ERR_NULL_ARGUMENT);
    CHECK(names_word(smtp_session_errmsg(s), "mechanism"));
    CHECK_RC(s, smtp_session_auth_builtin(s, "PLAIN", NULL, "pass", 0), SMTP_ERR_NULL_ARGUMENT);
    CHECK(names_word(smtp_session_errmsg(s), "user"));
    CHECK_RC(s, smtp_session_auth_builtin(s, "PLAIN", "user", NULL, 0), SMTP_ERR_NULL_ARGUMENT);
    CHECK(names_word(smtp_session_errmsg(s), "secret"));
    CHECK_RC(s, smtp_session_login(s, "user", "pass", 4), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_auth_builtin(s, "X-BOGUS", "user", "pass", 0), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_auth_builtin(s, "CRAM-MD5", "user", "pass", 0x80), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_auth(s, "X-TEST", sasl_cb, NULL, 4), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_auth(s, "BAD NAME", sasl_cb, NULL, 0), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_auth(s, "X-TEST\r\nRSET", sasl_cb, NULL, 0), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_auth(s, "", sasl_cb, NULL, 0), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_login(s, "user", "pass", 0), SMTP_ERR_SERVER_DISCONNECTED);
    CHECK_RC(s, smtp_session_auth_builtin(s, "CRAM-MD5", "user", "pass", 0), SMTP_ERR_SERVER_DISCONNECTED);
    /* Not connected comes before the cleartext rule, for every mechanism
     * and whether loopback is trusted or not. */
    CHECK_RC(s, smtp_session_auth_builtin(s, "PLAIN", "user", "pass", 0), SMTP_ERR_SERVER_DISCONNECTED);
    CHECK_RC(s, smtp_session_auth_builtin(s, "XOAUTH2", "user", "token", 0), SMTP_ERR_SERVER_DISCONNECTED);
    CHECK_RC(s, smtp_session_auth(s, "PLAIN", sasl_cb, NULL, 0), SMTP_ERR_SERVER_DISCONNECTED);
    CHECK_RC(s, smtp_session_set_trust_loopback(s, 0), SMTP_OK);
    CHECK_STR(smtp_session_errmsg(s), "no error");
    CHECK_RC(s, smtp_session_auth_builtin(s, "PLAIN", "user", "pass", 0), SMTP_ERR_SERVER_DISCONNECTED);
    CHECK_RC(s, smtp_session_auth_builtin(s, "LOGIN", "user", "pass", 0), SMTP_ERR_SERVER_DISCONNECTED);
    CHECK_RC(s, smtp_session_auth(s, "PLAIN", sasl_cb, NULL, 0), SMTP_ERR_SERVER_DISCONNECTED);
    CHECK_RC(s, smtp_session_login(s, "user", "pass", 0), SMTP_ERR_SERVER_DISCONNECTED);
    CHECK_RC(s, smtp_session_set_trust_loopback(s, 1), SMTP_OK);
    CHECK_RC(s, smtp_session_set_trust_loopback(s, 42), SMTP_OK); /* any non-zero value is "trust" */

    /* Not connected: commands are SMTP_ERR_SERVER_DISCONNECTED. */
    CHECK_RC(s, smtp_session_noop(s, &code), SMTP_ERR_SERVER_DISCONNECTED);
    CHECK_INT(code, 0);
    CHECK(smtp_session_errmsg(s) != NULL && strcmp(smtp_session_errmsg(s), "no error") != 0);
    CHECK_RC(s, smtp_session_ehlo_or_helo_if_needed(s), SMTP_ERR_SERVER_DISCONNECTED);
    CHECK_RC(s, smtp_session_quit(s, &code), SMTP_ERR_SERVER_DISCONNECTED);
    CHECK_RC(s, smtp_session_close(s), SMTP_OK); /* closing nothing is fine */
    CHECK_STR(smtp_session_errmsg(s), "no error");
    smtp_session_free(s);

    /* LMTP kind. */
    l = smtp_session_new(SMTP_KIND_LMTP);
    CHECK(l != NULL);
    CHECK_INT(smtp_session_is_connected(l), 0);
    CHECK_INT(smtp_session_timeout_ms(l, SMTP_TIMEOUT_CONNECT), 30000);
    CHECK_INT(smtp_session_timeout_ms(l, SMTP_TIMEOUT_IO), 300000);
    CHECK_INT(smtp_session_timeout_ms(l, SMTP_TIMEOUT_REPLY), 600000);
    /* A host starting with '/' is a Unix-domain socket path. */
    CHECK_RC(l, smtp_session_connect(l, "/nonexistent-libsmtp-dir/lmtp.sock", 0, &code), SMTP_ERR_CONNECT);
    CHECK_INT(smtp_session_is_connected(l), 0);
    smtp_session_free(l);
}

/* The real exchange with the sink: connect, EHLO, features, commands. */
static smtp_session *test_connect_and_commands(struct rec *r)
{
    smtp_session *s = smtp_session_new(SMTP_KIND_SMTP);
    int code = -7, rc;
    size_t i, n;
    const char *t;

    section("connect, ehlo, features, simple commands");
    if (s == NULL) {
        CHECK(s != NULL);
        return NULL;
    }
    r->session = s;
    CHECK_RC(s, smtp_session_set_debuglevel(s, 1), SMTP_OK);
    CHECK_RC(s, smtp_session_set_trace(s, rec_cb, r), SMTP_OK);
    CHECK_RC(s, smtp_session_set_local_hostname(s, "client.example"), SMTP_OK);

    /* "host:port" with port 0. */
    CHECK_RC(s, smtp_session_connect(s, hostport, 0, &code), SMTP_OK);
    CHECK_INT(code, 220);
    CHECK_INT(smtp_session_is_connected(s), 1);
    CHECK_INT(smtp_session_last_reply_code(s), 220);
    CHECK(contains(smtp_session_last_reply_text(s), "sink.test"));
    CHECK_STR(smtp_session_errmsg(s), "no error");
    CHECK(r->n_info > 0);
    CHECK(r->n_recv > 0);

    /* open: host and port apart; an open connection is closed first. */
    code = -7;
    CHECK_RC(s, smtp_session_open(s, host, port, &code), SMTP_OK);
    CHECK_INT(code, 220);
    CHECK_INT(smtp_session_is_connected(s), 1);
    /* open with "host:port" too, and a NULL code pointer. */
    CHECK_RC(s, smtp_session_open(s, hostport, 0, NULL), SMTP_OK);

    /* EHLO with the local hostname (NULL name). */
    rec_clear(r);
    code = -7;
    CHECK_RC(s, smtp_session_ehlo(s, NULL, &code), SMTP_OK);
    CHECK_INT(code, 250);
    CHECK(rec_has(r, SMTP_TRACE_SEND, "ehlo client.example"));
    CHECK_INT(smtp_session_does_esmtp(s), 1);
    t = smtp_session_ehlo_resp(s);
    CHECK(t != NULL);
    CHECK(contains(t, "sink.test"));
    CHECK(contains(t, "SIZE"));
    CHECK(contains(smtp_session_last_reply_text(s), "sink.test"));
    CHECK_INT(smtp_session_last_reply_code(s), 250);
    /* EHLO with a name. */
    rec_clear(r);
    CHECK_RC(s, smtp_session_ehlo(s, "named.example", &code), SMTP_OK);
    CHECK(rec_has(r, SMTP_TRACE_SEND, "ehlo named.example"));
    /* An empty name means the local hostname too. */
    rec_clear(r);
    CHECK_RC(s, smtp_session_ehlo(s, "", &code), SMTP_OK);
    CHECK(rec_has(r, SMTP_TRACE_SEND, "ehlo client.example"));
    CHECK_INT(code, 250);

    /* Features: aiosmtpd offers SIZE 209715200, 8BITMIME, SMTPUTF8, HELP. */
    CHECK_INT(smtp_session_has_extn(s, "size"), 1);
    CHECK_INT(smtp_session_has_extn(s, "SIZE"), 1);
    CHECK_INT(smtp_session_has_extn(s, "8bitmime"), 1);
    CHECK_INT(smtp_session_has_extn(s, "x-no-such-extension"), 0);
    CHECK_INT(smtp_session_has_extn(s, NULL), 0);
    n = smtp_session_feature_count(s);
    CHECK_INT(n, 4);
    for (i = 0; i < n; i++) {
        const char *name = smtp_session_feature_name(s, i);
        const char *params = smtp_session_feature_params(s, i);
        const char *p;
        int lower = 1;
        CHECK(name != NULL && name[0] != 0);
        CHECK(params != NULL);
        if (name == NULL)
            continue;
        for (p = name; *p; p++)
            if (isupper((unsigned char)*p))
                lower = 0;
        CHECK(lower);
        CHECK_INT(smtp_session_has_extn(s, name), 1);
        CHECK_STR(smtp_session_feature(s, name), params);
    }
    CHECK_STR(smtp_session_feature_name(s, 0), "size");
    CHECK_STR(smtp_session_feature_params(s, 0), "209715200");
    CHECK_STR(smtp_session_feature_name(s, 1), "8bitmime");
    CHECK_STR(smtp_session_feature_params(s, 1), "");
    CHECK(smtp_session_feature_name(s, n) == NULL);
    CHECK(smtp_session_feature_params(s, n) == NULL);
    CHECK(smtp_session_feature_name(s, (size_t)-1) == NULL);
    CHECK_STR(smtp_session_feature(s, "SIZE"), "209715200");
    CHECK_STR(smtp_session_feature(s, "Size"), "209715200");
    CHECK_STR(smtp_session_feature(s, "smtputf8"), "");
    CHECK(smtp_session_feature(s, "x-no-such-extension") == NULL);
    CHECK(smtp_session_feature(s, NULL) == NULL);

    /* HELO keeps the EHLO state; its reply is helo_resp. */
    code = -7;
    CHECK_RC(s, smtp_session_helo(s, NULL, &code), SMTP_OK);
    CHECK_INT(code, 250);
    CHECK(contains(smtp_session_helo_resp(s), "sink.test"));
    rec_clear(r);
    CHECK_RC(s, smtp_session_helo(s, "helo.example", &code), SMTP_OK);
    CHECK(rec_has(r, SMTP_TRACE_SEND, "helo helo.example"));
    CHECK(smtp_session_ehlo_resp(s) != NULL);
    /* Back to ESMTP mode on the server (aiosmtpd refuses MAIL parameters
     * after HELO). */
    CHECK_RC(s, smtp_session_ehlo(s, NULL, &code), SMTP_OK);

    /* ehlo_or_helo_if_needed: done already, sends nothing. */
    rec_clear(r);
    CHECK_RC(s, smtp_session_ehlo_or_helo_if_needed(s), SMTP_OK);
    CHECK_INT(r->n_send, 0);

    /* NOOP, RSET, HELP, VRFY, EXPN, docmd. */
    code = -7;
    CHECK_RC(s, smtp_session_noop(s, &code), SMTP_OK);
    CHECK_INT(code, 250);
    CHECK_RC(s, smtp_session_noop(s, NULL), SMTP_OK);
    code = -7;
    CHECK_RC(s, smtp_session_rset(s, &code), SMTP_OK);
    CHECK_INT(code, 250);
    code = -7;
    CHECK_RC(s, smtp_session_help(s, NULL, &code), SMTP_OK);
    CHECK_INT(code, 250);
    CHECK(contains(smtp_session_last_reply_text(s), "Supported commands"));
    code = -7;
    CHECK_RC(s, smtp_session_help(s, "NOOP", &code), SMTP_OK);
    CHECK_INT(code, 250);
    CHECK(contains(smtp_session_last_reply_text(s), "Syntax: NOOP"));
    CHECK_RC(s, smtp_session_help(s, "", &code), SMTP_OK);
    CHECK(contains(smtp_session_last_reply_text(s), "Supported commands"));
    /* VRFY sends the address part only. */
    rec_clear(r);
    code = -7;
    CHECK_RC(s, smtp_session_verify(s, "Jane <jane@example.com>", &code), SMTP_OK);
    CHECK_INT(code, 252);
    CHECK_INT(smtp_session_last_reply_code(s), 252);
    CHECK(rec_has(r, SMTP_TRACE_SEND, "vrfy jane@example.com"));
    CHECK(!rec_has(r, SMTP_TRACE_SEND, "Jane <"));
    /* aiosmtpd has no EXPN: a 502 is a reply, not an error. */
    rec_clear(r);
    code = -7;
    CHECK_RC(s, smtp_session_expn(s, "List <list@example.com>", &code), SMTP_OK);
    CHECK_INT(code, 502);
    CHECK(rec_has(r, SMTP_TRACE_SEND, "expn list@example.com"));
    CHECK(contains(smtp_session_last_reply_text(s), "EXPN"));
    code = -7;
    CHECK_RC(s, smtp_session_docmd(s, "NOOP", NULL, &code), SMTP_OK);
    CHECK_INT(code, 250);
    rec_clear(r);
    code = -7;
    CHECK_RC(s, smtp_session_docmd(s, "XYZZY", "a b", &code), SMTP_OK);
    CHECK_INT(code, 500);
    CHECK(rec_has(r, SMTP_TRACE_SEND, "XYZZY a b"));
    CHECK_INT(smtp_session_last_reply_code(s), 500);
    CHECK(contains(smtp_session_last_reply_text(s), "XYZZY"));
    rec_clear(r);
    CHECK_RC(s, smtp_session_docmd(s, "NOOP", "", &code), SMTP_OK);
    CHECK(rec_has(r, SMTP_TRACE_SEND, "'NOOP\\r\\n'"));
    CHECK_INT(code, 250);
    rc = smtp_session_docmd(s, "", NULL, &code); /* an empty verb */
    CHECK_RC(s, rc, SMTP_ERR_INVALID_ARGUMENT);
    return s;
}

/* Everything that must be refused before a byte is sent. */
static void test_bad_arguments(smtp_session *s, struct rec *r)
{
    const char *ok_to[] = {"bob@example.com"};
    const char *crlf_to[] = {"bob@example.com", "eve@example.com\r\nRSET"};
    const char *lf_to[] = {"bob@example.com\nDATA"};
    const char *utf8_to[] = {"bob\xff@example.com"};
    const char *null_in_to[] = {"bob@example.com", NULL};
    const char *crlf_opt[] = {"BODY=8BITMIME\r\nRSET"};
    const char *lf_opt[] = {"X=1\nRSET"};
    const char *ok_opt[] = {"BODY=8BITMIME"};
    const uint8_t msg[] = "Subject: never sent\r\n\r\nbody\r\n";
    const uint8_t bare_lf[] = "Subject: never sent\r\n\r\nbare\nLF\r\n";
    const uint8_t bare_cr[] = "Subject: never sent\r\n\r\nbare\rCR\r\n";
    const uint8_t hdr_msg[] = "From: alice@example.com\r\nTo: bob@example.com\r\n\r\nnever sent\r\n";
    const uint8_t hdr_bare[] = "From: alice@example.com\r\nTo: bob@example.com\r\n\r\nnever\nsent\r\n";
    const char *no_from = "To: bob@example.com\r\nSubject: no From\r\n\r\nx\r\n";
    const char *bad_to = "From: alice@example.com\r\nTo: <bob@example.com\r\n\r\nx\r\n";
    const char *bad_cc = "From: alice@example.com\r\nTo: bob@example.com\r\nCc: carol@\r\n\r\nx\r\n";
    const char *two_resent = "From: alice@example.com\r\nTo: bob@example.com\r\n"
                             "Resent-Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nResent-To: carol@example.com\r\n"
                             "Resent-Date: Tue, 2 Jan 2024 00:00:00 +0000\r\nResent-To: dave@example.com\r\n"
                             "\r\nx\r\n";
    const char *no_rcpt = "From: alice@example.com\r\nSubject: nobody\r\n\r\nx\r\n";
    size_t mlen = sizeof msg - 1, refused, blen = sizeof bare_lf - 1, crlen = sizeof bare_cr - 1;
    size_t hlen = sizeof hdr_msg - 1, hblen = sizeof hdr_bare - 1;
    int code, codes[2], before = sink_count(), sent;

    section("bad arguments: refused, nothing sent");
    rec_clear(r);

    /* NULL required strings: SMTP_ERR_NULL_ARGUMENT, errmsg names them. */
    CHECK_RC(s, smtp_session_docmd(s, NULL, "x", &code), SMTP_ERR_NULL_ARGUMENT);
    CHECK(names_word(smtp_session_errmsg(s), "cmd"));
    CHECK_RC(s, smtp_session_verify(s, NULL, &code), SMTP_ERR_NULL_ARGUMENT);
    CHECK(names_word(smtp_session_errmsg(s), "address"));
    CHECK_RC(s, smtp_session_expn(s, NULL, &code), SMTP_ERR_NULL_ARGUMENT);
    CHECK(names_word(smtp_session_errmsg(s), "address"));
    CHECK_RC(s, smtp_session_mail(s, NULL, NULL, 0, &code), SMTP_ERR_NULL_ARGUMENT);
    CHECK(names_word(smtp_session_errmsg(s), "sender"));
    CHECK_RC(s, smtp_session_mail(s, "alice@example.com", NULL, 1, &code), SMTP_ERR_NULL_ARGUMENT);
    CHECK(names_word(smtp_session_errmsg(s), "options"));
    CHECK_RC(s, smtp_session_rcpt(s, NULL, NULL, 0, &code), SMTP_ERR_NULL_ARGUMENT);
    CHECK(names_word(smtp_session_errmsg(s), "recipient"));
    CHECK_RC(s, smtp_session_rcpt(s, "bob@example.com", NULL, 2, &code), SMTP_ERR_NULL_ARGUMENT);
    CHECK(names_word(smtp_session_errmsg(s), "options"));
    CHECK_RC(s, smtp_session_data(s, NULL, 10, SMTP_MSG_NORMALIZE, &code), SMTP_ERR_NULL_ARGUMENT);
    CHECK(names_word(smtp_session_errmsg(s), "msg"));
    CHECK_RC(s, smtp_session_connect(s, NULL, 0, &code), SMTP_ERR_NULL_ARGUMENT);
    CHECK(names_word(smtp_session_errmsg(s), "host"));
    CHECK_INT(smtp_session_is_connected(s), 1); /* the connection was not touched */
    CHECK_RC(s, smtp_session_open(s, NULL, 25, &code), SMTP_ERR_NULL_ARGUMENT);
    CHECK(names_word(smtp_session_errmsg(s), "host"));
    CHECK_RC(s, smtp_session_set_local_hostname(s, NULL), SMTP_ERR_NULL_ARGUMENT);
    CHECK(names_word(smtp_session_errmsg(s), "name"));
    codes[0] = codes[1] = -1;
    refused = 99;
    CHECK_RC(s, smtp_session_sendmail(s, NULL, ok_to, 1, msg, mlen, NULL, 0, NULL, 0, 0, codes, &refused),
             SMTP_ERR_NULL_ARGUMENT);
    CHECK(names_word(smtp_session_errmsg(s), "from"));
    CHECK_INT(codes[0], 0);
    CHECK_INT(refused, 0);
    CHECK_RC(s, smtp_session_sendmail(s, "alice@example.com", NULL, 1, msg, mlen, NULL, 0, NULL, 0, 0, NULL, NULL),
             SMTP_ERR_NULL_ARGUMENT);
    CHECK(names_word(smtp_session_errmsg(s), "to"));
    CHECK_RC(s, smtp_session_sendmail(s, "alice@example.com", null_in_to, 2, msg, mlen, NULL, 0, NULL, 0, 0, codes,
                                      &refused),
             SMTP_ERR_NULL_ARGUMENT);
    CHECK(names_word(smtp_session_errmsg(s), "to"));
    CHECK_RC(s, smtp_session_sendmail(s, "alice@example.com", ok_to, 1, NULL, 5, NULL, 0, NULL, 0, 0, NULL, NULL),
             SMTP_ERR_NULL_ARGUMENT);
    CHECK(names_word(smtp_session_errmsg(s), "msg"));
    CHECK_RC(s, smtp_session_sendmail(s, "alice@example.com", ok_to, 1, msg, mlen, NULL, 1, NULL, 0, 0, NULL, NULL),
             SMTP_ERR_NULL_ARGUMENT);
    CHECK(names_word(smtp_session_errmsg(s), "mail_options"));
    CHECK_RC(s, smtp_session_sendmail(s, "alice@example.com", ok_to, 1, msg, mlen, NULL, 0, NULL, 1, 0, NULL, NULL),
             SMTP_ERR_NULL_ARGUMENT);
    CHECK(names_word(smtp_session_errmsg(s), "rcpt_options"));

    /* Invalid UTF-8. */
    CHECK_RC(s, smtp_session_connect(s, "bad\xff\xfehost", 25, &code), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_INT(smtp_session_is_connected(s), 1);
    CHECK_RC(s, smtp_session_open(s, "\xc3\x28", 25, &code), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_mail(s, "al\xffice@example.com", NULL, 0, &code), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_rcpt(s, "b\xc3\x28@example.com", NULL, 0, &code), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_sendmail(s, "al\xffice@example.com", ok_to, 1, msg, mlen, NULL, 0, NULL, 0, 0, NULL,
                                      NULL),
             SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_sendmail(s, "alice@example.com", utf8_to, 1, msg, mlen, NULL, 0, NULL, 0, 0, NULL, NULL),
             SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_ehlo(s, "bad\xff", &code), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_docmd(s, "NO\xffOP", NULL, &code), SMTP_ERR_INVALID_ARGUMENT);

    /* Host forms. */
    CHECK_RC(s, smtp_session_connect(s, "", 25, &code), SMTP_ERR_INVALID_ARGUMENT);
    /* A port that is not a number: smtplib's OSError("nonnumeric port"), a
     * connect error; found before anything is closed. */
    CHECK_RC(s, smtp_session_connect(s, "127.0.0.1:notaport", 0, &code), SMTP_ERR_CONNECT);
    CHECK(contains(smtp_session_errmsg(s), "nonnumeric port"));
    CHECK_INT(smtp_session_is_connected(s), 1);

    /* CR or LF bound for a command line. */
    CHECK_RC(s, smtp_session_mail(s, "alice@example.com\r\nRSET", NULL, 0, &code), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_mail(s, "alice@example.com\nRSET", NULL, 0, &code), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_mail(s, "alice@example.com\rRSET", NULL, 0, &code), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_mail(s, "alice@example.com", crlf_opt, 1, &code), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_rcpt(s, "bob@example.com\r\nDATA", NULL, 0, &code), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_rcpt(s, "bob@example.com", lf_opt, 1, &code), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_verify(s, "jane@example.com\r\nRSET", &code), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_expn(s, "list\nRSET", &code), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_ehlo(s, "client\r\nRSET", &code), SMTP_ERR_INVALID_ARGUMENT);
    /* A call refused before a byte is sent leaves the session as it was. */
    CHECK_INT(smtp_session_does_esmtp(s), 1);
    CHECK(smtp_session_ehlo_resp(s) != NULL);
    /* The refused EHLOs (invalid UTF-8, CR/LF in the name) kept the features. */
    CHECK_INT(smtp_session_feature_count(s), 4);
    CHECK_INT(smtp_session_has_extn(s, "size"), 1);
    CHECK_STR(smtp_session_feature(s, "size"), "209715200");
    CHECK_RC(s, smtp_session_helo(s, "client\nRSET", &code), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_docmd(s, "NOOP\r\nRSET", NULL, &code), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_docmd(s, "NOOP", "x\nRSET", &code), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_docmd(s, "NOOP", "x\rRSET", &code), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_help(s, "NOOP\r\nRSET", &code), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_sendmail(s, "alice@example.com\r\n", ok_to, 1, msg, mlen, NULL, 0, NULL, 0, 0, NULL,
                                      NULL),
             SMTP_ERR_INVALID_ARGUMENT);
    /* A bad second recipient: checked before the first is sent. */
    codes[0] = codes[1] = -1;
    CHECK_RC(s, smtp_session_sendmail(s, "alice@example.com", crlf_to, 2, msg, mlen, NULL, 0, NULL, 0, 0, codes,
                                      &refused),
             SMTP_ERR_INVALID_ARGUMENT);
    CHECK_INT(codes[0], 0);
    CHECK_INT(codes[1], 0);
    CHECK_INT(smtp_session_rcpt_count(s), 0);
    CHECK_RC(s, smtp_session_sendmail(s, "alice@example.com", lf_to, 1, msg, mlen, NULL, 0, NULL, 0, 0, NULL, NULL),
             SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_sendmail(s, "alice@example.com", ok_to, 1, msg, mlen, crlf_opt, 1, NULL, 0, 0, NULL,
                                      NULL),
             SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_sendmail(s, "alice@example.com", ok_to, 1, msg, mlen, ok_opt, 1, lf_opt, 1, 0, NULL,
                                      NULL),
             SMTP_ERR_INVALID_ARGUMENT);

    /* Unknown message flags (0, 1 and 2 are the policies; no bit combines). */
    CHECK_RC(s, smtp_session_data(s, msg, mlen, 3, &code), SMTP_ERR_INVALID_ARGUMENT);
    CHECK(contains_ci(smtp_session_errmsg(s), "flag"));
    CHECK_RC(s, smtp_session_data(s, msg, mlen, 4, &code), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_data(s, msg, mlen, 0x100u, &code), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_sendmail(s, "alice@example.com", ok_to, 1, msg, mlen, NULL, 0, NULL, 0, 3, NULL, NULL),
             SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_sendmail(s, "alice@example.com", ok_to, 1, msg, mlen, NULL, 0, NULL, 0,
                                      SMTP_MSG_RAW | SMTP_MSG_REJECT_BARE_EOL, NULL, NULL),
             SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_send_message(s, hdr_msg, hlen, NULL, NULL, 0, NULL, 0, NULL, 0, 3, NULL),
             SMTP_ERR_INVALID_ARGUMENT);
    CHECK(contains_ci(smtp_session_errmsg(s), "flag"));

    /* SMTP_MSG_REJECT_BARE_EOL: a lone LF or CR anywhere is refused, by
     * data (before DATA is sent), sendmail and send_message. */
    CHECK_RC(s, smtp_session_data(s, bare_lf, blen, SMTP_MSG_REJECT_BARE_EOL, &code), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_data(s, bare_cr, crlen, SMTP_MSG_REJECT_BARE_EOL, &code), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_sendmail(s, "alice@example.com", ok_to, 1, bare_lf, blen, NULL, 0, NULL, 0,
                                      SMTP_MSG_REJECT_BARE_EOL, codes, &refused),
             SMTP_ERR_INVALID_ARGUMENT);
    CHECK(contains_ci(smtp_session_errmsg(s), "lone"));
    CHECK_RC(s, smtp_session_sendmail(s, "alice@example.com", ok_to, 1, bare_cr, crlen, NULL, 0, NULL, 0,
                                      SMTP_MSG_REJECT_BARE_EOL, codes, &refused),
             SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_send_message(s, hdr_bare, hblen, NULL, NULL, 0, NULL, 0, NULL, 0,
                                          SMTP_MSG_REJECT_BARE_EOL, &refused),
             SMTP_ERR_INVALID_ARGUMENT);

    /* send_message's arguments. */
    refused = 99;
    CHECK_RC(s, smtp_session_send_message(s, NULL, 5, NULL, NULL, 0, NULL, 0, NULL, 0, 0, &refused),
             SMTP_ERR_NULL_ARGUMENT);
    CHECK(names_word(smtp_session_errmsg(s), "msg"));
    CHECK_INT(refused, 0);
    CHECK_RC(s, smtp_session_send_message(s, hdr_msg, hlen, NULL, null_in_to, 2, NULL, 0, NULL, 0, 0, NULL),
             SMTP_ERR_NULL_ARGUMENT);
    CHECK(names_word(smtp_session_errmsg(s), "to"));
    CHECK_RC(s, smtp_session_send_message(s, hdr_msg, hlen, NULL, NULL, 0, NULL, 1, NULL, 0, 0, NULL),
             SMTP_ERR_NULL_ARGUMENT);
    CHECK(names_word(smtp_session_errmsg(s), "mail_options"));
    CHECK_RC(s, smtp_session_send_message(s, hdr_msg, hlen, NULL, NULL, 0, NULL, 0, NULL, 1, 0, NULL),
             SMTP_ERR_NULL_ARGUMENT);
    CHECK(names_word(smtp_session_errmsg(s), "rcpt_options"));
    CHECK_RC(s, smtp_session_send_message(s, hdr_msg, hlen, "alice@example.com\r\nRSET", NULL, 0, NULL, 0, NULL, 0, 0,
                                          NULL),
             SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_send_message(s, hdr_msg, hlen, "al\xffice@example.com", NULL, 0, NULL, 0, NULL, 0, 0,
                                          NULL),
             SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_send_message(s, hdr_msg, hlen, NULL, crlf_to, 2, NULL, 0, NULL, 0, 0, NULL),
             SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_send_message(s, hdr_msg, hlen, NULL, NULL, 0, crlf_opt, 1, NULL, 0, 0, NULL),
             SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_send_message(s, hdr_msg, hlen, NULL, NULL, 0, NULL, 0, lf_opt, 1, 0, NULL),
             SMTP_ERR_INVALID_ARGUMENT);
    /* An explicit empty recipient list. */
    CHECK_RC(s, smtp_session_send_message(s, hdr_msg, hlen, NULL, ok_to, 0, NULL, 0, NULL, 0, 0, NULL),
             SMTP_ERR_INVALID_ARGUMENT);
    /* Header problems, each naming what is wrong. */
    CHECK_RC(s, smtp_session_send_message(s, (const uint8_t *)no_from, strlen(no_from), NULL, NULL, 0, NULL, 0, NULL,
                                          0, 0, &refused),
             SMTP_ERR_INVALID_ARGUMENT);
    CHECK(contains(smtp_session_errmsg(s), "From"));
    CHECK_RC(s, smtp_session_send_message(s, (const uint8_t *)bad_to, strlen(bad_to), NULL, NULL, 0, NULL, 0, NULL, 0,
                                          0, &refused),
             SMTP_ERR_INVALID_ARGUMENT);
    CHECK(contains(smtp_session_errmsg(s), "To"));
    CHECK_RC(s, smtp_session_send_message(s, (const uint8_t *)bad_cc, strlen(bad_cc), NULL, NULL, 0, NULL, 0, NULL, 0,
                                          0, &refused),
             SMTP_ERR_INVALID_ARGUMENT);
    CHECK(contains(smtp_session_errmsg(s), "Cc"));
    CHECK_RC(s, smtp_session_send_message(s, (const uint8_t *)two_resent, strlen(two_resent), NULL, NULL, 0, NULL, 0,
                                          NULL, 0, 0, &refused),
             SMTP_ERR_INVALID_ARGUMENT);
    CHECK(contains(smtp_session_errmsg(s), "Resent"));
    CHECK_RC(s, smtp_session_send_message(s, (const uint8_t *)no_rcpt, strlen(no_rcpt), NULL, NULL, 0, NULL, 0, NULL,
                                          0, 0, &refused),
             SMTP_ERR_INVALID_ARGUMENT);

    /* An empty recipient list. */
    refused = 99;
    CHECK_RC(s, smtp_session_sendmail(s, "alice@example.com", ok_to, 0, msg, mlen, NULL, 0, NULL, 0, 0, codes,
                                      &refused),
             SMTP_ERR_INVALID_ARGUMENT);
    CHECK_INT(refused, 0);
    CHECK_RC(s, smtp_session_sendmail(s, "alice@example.com", NULL, 0, msg, mlen, NULL, 0, NULL, 0, 0, NULL, NULL),
             SMTP_ERR_INVALID_ARGUMENT);

    /* Authentication arguments. */
    CHECK_RC(s, smtp_session_login(s, NULL, "pass", 0), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(s, smtp_session_login(s, "user", "pass", 0x10), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_auth(s, "X-TEST", NULL, NULL, 0), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(s, smtp_session_auth(s, "X TEST", sasl_cb, NULL, 0), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_auth(s, "X-TEST\n", sasl_cb, NULL, 0), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_auth_builtin(s, "X-BOGUS", "user", "pass", 0), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_auth_builtin(s, "PLAIN", "user", NULL, 0), SMTP_ERR_NULL_ARGUMENT);
    /* The sink offers no AUTH: login sends nothing (EHLO is done). */
    CHECK_RC(s, smtp_session_login(s, "user", "pass", 0), SMTP_ERR_NOT_SUPPORTED);

    /* Nothing of the above reached the wire. */
    sent = r->n_send;
    CHECK_INT(sent, 0);
    if (sent != 0) {
        int i;
        for (i = 0; i < r->n && i < REC_LINES; i++)
            if (r->dirs[i] == SMTP_TRACE_SEND)
                printf("   (sent: %s)\n", r->lines[i]);
    }
    /* The connection is in step: NOOP gets its own reply. */
    code = -7;
    CHECK_RC(s, smtp_session_noop(s, &code), SMTP_OK);
    CHECK_INT(code, 250);
    CHECK(contains(smtp_session_last_reply_text(s), "OK"));
    CHECK_INT(r->n_send, 1);
    CHECK_INT(sink_count(), before);
    /* None of the refused calls changed the EHLO state: the transactions
     * below still see the server's SIZE without a new EHLO. */
    CHECK_INT(smtp_session_does_esmtp(s), 1);
    CHECK_INT(smtp_session_feature_count(s), 4);
    CHECK_INT(smtp_session_has_extn(s, "size"), 1);
}

static void check_envelope(int n, const char *want_rcpts, const char *want_part)
{
    char *json = sink_json(n);
    CHECK(json != NULL);
    if (json == NULL)
        return;
    if (!contains(json, want_rcpts))
        printf("   (envelope %04d: %s; want %s)\n", n, json, want_rcpts);
    CHECK(contains(json, want_rcpts));
    if (want_part != NULL) {
        if (!contains_ci(json, want_part))
            printf("   (envelope %04d: %s; want %s)\n", n, json, want_part);
        CHECK(contains_ci(json, want_part));
    }
    CHECK(!contains(json, "refuse"));
    free(json);
}

static void test_transactions(smtp_session *s)
{
    static const char msg1[] = "From: alice@example.com\r\n"
                               "To: bob@example.com\r\n"
                               "Subject: by hand\r\n"
                               "\r\n"
                               "Sent with MAIL, RCPT and DATA.\r\n"
                               ".a line starting with a dot\r\n"
                               "..and two\r\n"
                               ".\r\n"
                               "last line\r\n";
    static const char msg2[] = "From: alice@example.com\r\n"
                               "To: bob@example.com, refuse@example.com\r\n"
                               "Subject: sendmail with one refused recipient\r\n"
                               "\r\n"
                               "Hello Bob.\r\n"
                               ". dot\r\n"
                               "bye\r\n";
    const char *opts[] = {"BODY=8BITMIME"};
    const char *to2[] = {"bob@example.com", "refuse@example.com"};
    const char *to_all_refused[] = {"refuse1@example.com", "refuse2@example.com", "refuse3@example.com"};
    int code = -7, codes[3], n0 = sink_count();
    size_t refused;
    char sizeopt[64];

    section("MAIL, RCPT, DATA by hand");
    CHECK_RC(s, smtp_session_mail(s, "Alice <alice@example.com>", opts, 1, &code), SMTP_OK);
    CHECK_INT(code, 250);
    CHECK_INT(smtp_session_rcpt_count(s), 0);
    code = -7;
    CHECK_RC(s, smtp_session_rcpt(s, "bob@example.com", NULL, 0, &code), SMTP_OK);
    CHECK_INT(code, 250);
    code = -7;
    CHECK_RC(s, smtp_session_rcpt(s, "refuse-me@example.com", NULL, 0, &code), SMTP_OK);
    CHECK_INT(code, 550);
    CHECK_INT(smtp_session_last_reply_code(s), 550);
    CHECK_INT(smtp_session_rcpt_count(s), 2);
    CHECK_STR(smtp_session_rcpt_addr(s, 0), "bob@example.com");
    CHECK_STR(smtp_session_rcpt_addr(s, 1), "refuse-me@example.com");
    CHECK_INT(smtp_session_rcpt_code(s, 0), 250);
    CHECK_INT(smtp_session_rcpt_code(s, 1), 550);
    CHECK(contains(smtp_session_rcpt_text(s, 0), "OK"));
    CHECK(contains(smtp_session_rcpt_text(s, 1), "Recipient address rejected"));
    CHECK_INT(smtp_session_rcpt_refused(s, 0), 0);
    CHECK_INT(smtp_session_rcpt_refused(s, 1), 1);
    /* SMTP: no reply after the data per recipient. */
    CHECK_INT(smtp_session_rcpt_data_code(s, 0), 0);
    CHECK_STR(smtp_session_rcpt_data_text(s, 0), "");
    /* Out of range. */
    CHECK(smtp_session_rcpt_addr(s, 2) == NULL);
    CHECK_INT(smtp_session_rcpt_code(s, 2), 0);
    CHECK(smtp_session_rcpt_text(s, 2) == NULL);
    CHECK_INT(smtp_session_rcpt_data_code(s, 2), 0);
    CHECK(smtp_session_rcpt_data_text(s, 2) == NULL);
    CHECK_INT(smtp_session_rcpt_refused(s, 2), 0);
    CHECK_INT(smtp_session_rcpt_refused(s, (size_t)-1), 0);
    code = -7;
    CHECK_RC(s, smtp_session_data(s, (const uint8_t *)msg1, sizeof msg1 - 1, SMTP_MSG_RAW, &code), SMTP_OK);
    CHECK_INT(code, 250);
    CHECK(contains(smtp_session_last_reply_text(s), "queued"));
    CHECK_INT(sink_count(), n0 + 1);
    CHECK(sink_eml_equals(n0 + 1, msg1, sizeof msg1 - 1));
    check_envelope(n0 + 1, "\"rcpt_tos\": [\"bob@example.com\"]", "\"mail_options\": [\"BODY=8BITMIME\"]");
    /* The recipient results stay until the next MAIL. */
    CHECK_INT(smtp_session_rcpt_count(s), 2);
    /* MAIL starts a new transaction: results cleared. */
    CHECK_RC(s, smtp_session_mail(s, "", NULL, 0, &code), SMTP_OK); /* null reverse path */
    CHECK_INT(code, 250);
    CHECK_INT(smtp_session_rcpt_count(s), 0);
    CHECK_RC(s, smtp_session_rset(s, &code), SMTP_OK);
    /* DATA without a transaction: a reply other than 354 is SMTP_ERR_DATA. */
    code = -7;
    CHECK_RC(s, smtp_session_data(s, (const uint8_t *)msg1, sizeof msg1 - 1, SMTP_MSG_RAW, &code), SMTP_ERR_DATA);
    CHECK_INT(code, 503);
    CHECK_INT(smtp_session_last_reply_code(s), 503);
    CHECK_INT(smtp_session_is_connected(s), 1);
    /* An empty message (NULL with length 0 is allowed). */
    CHECK_RC(s, smtp_session_mail(s, "alice@example.com", NULL, 0, &code), SMTP_OK);
    CHECK_RC(s, smtp_session_rcpt(s, "bob@example.com", NULL, 0, &code), SMTP_OK);
    code = -7;
    CHECK_RC(s, smtp_session_data(s, NULL, 0, SMTP_MSG_NORMALIZE, &code), SMTP_OK);
    CHECK_INT(code, 250);
    CHECK_INT(sink_count(), n0 + 2);

    section("sendmail with one refused recipient");
    codes[0] = codes[1] = codes[2] = -1;
    refused = 99;
    CHECK_RC(s, smtp_session_sendmail(s, "alice@example.com", to2, 2, (const uint8_t *)msg2, sizeof msg2 - 1, NULL, 0,
                                      NULL, 0, SMTP_MSG_NORMALIZE, codes, &refused),
             SMTP_OK);
    CHECK_INT(codes[0], 250);
    CHECK_INT(codes[1], 550);
    CHECK_INT(codes[2], -1); /* only to_count entries written */
    CHECK_INT(refused, 1);
    CHECK_INT(smtp_session_rcpt_count(s), 2);
    CHECK_STR(smtp_session_rcpt_addr(s, 0), "bob@example.com");
    CHECK_STR(smtp_session_rcpt_addr(s, 1), "refuse@example.com");
    CHECK_INT(smtp_session_rcpt_code(s, 0), 250);
    CHECK_INT(smtp_session_rcpt_code(s, 1), 550);
    CHECK_INT(smtp_session_rcpt_refused(s, 0), 0);
    CHECK_INT(smtp_session_rcpt_refused(s, 1), 1);
    CHECK(contains(smtp_session_rcpt_text(s, 1), "<refuse@example.com>: Recipient address rejected"));
    CHECK_INT(smtp_session_last_reply_code(s), 250);
    CHECK(contains(smtp_session_last_reply_text(s), "queued as"));
    CHECK_INT(sink_count(), n0 + 3);
    CHECK(sink_eml_equals(n0 + 3, msg2, sizeof msg2 - 1));
    snprintf(sizeopt, sizeof sizeopt, "\"SIZE=%zu\"", sizeof msg2 - 1);
    check_envelope(n0 + 3, "\"rcpt_tos\": [\"bob@example.com\"]", sizeopt);
    /* NULL outputs are allowed. */
    CHECK_RC(s, smtp_session_sendmail(s, "alice@example.com", to2, 2, (const uint8_t *)msg2, sizeof msg2 - 1, NULL, 0,
                                      NULL, 0, SMTP_MSG_NORMALIZE, NULL, NULL),
             SMTP_OK);
    CHECK_INT(sink_count(), n0 + 4);
    CHECK(sink_eml_equals(n0 + 4, msg2, sizeof msg2 - 1));

    section("sendmail with every recipient refused");
    codes[0] = codes[1] = codes[2] = -1;
    refused = 99;
    CHECK_RC(s, smtp_session_sendmail(s, "alice@example.com", to_all_refused, 3, (const uint8_t *)msg2,
                                      sizeof msg2 - 1, NULL, 0, NULL, 0, SMTP_MSG_NORMALIZE, codes, &refused),
             SMTP_ERR_RECIPIENTS_REFUSED);
    CHECK_INT(codes[0], 550);
    CHECK_INT(codes[1], 550);
    CHECK_INT(codes[2], 550);
    CHECK_INT(refused, 3);
    CHECK_INT(smtp_session_rcpt_count(s), 3);
    CHECK_INT(smtp_session_rcpt_refused(s, 0), 1);
    CHECK_INT(smtp_session_rcpt_refused(s, 2), 1);
    CHECK_STR(smtp_session_rcpt_addr(s, 2), "refuse3@example.com");
    CHECK(smtp_session_errmsg(s) != NULL && strcmp(smtp_session_errmsg(s), "no error") != 0);
    CHECK_INT(sink_count(), n0 + 4);
    /* RSET followed: the session is usable. */
    CHECK_INT(smtp_session_is_connected(s), 1);
    CHECK_RC(s, smtp_session_noop(s, &code), SMTP_OK);
    CHECK_INT(code, 250);
}

static void test_line_endings(smtp_session *s)
{
    static const char bare[] = "Subject: bare LF\n\nline one\nline two\rline three\r\n.dot\nend\n";
    /* As normalised (the sink stores the message dot-unstuffed): */
    static const char bare_stored[] = "Subject: bare LF\r\n\r\nline one\r\nline two\r\nline three\r\n.dot\r\nend\r\n";
    static const char raw[] = "Subject: raw\r\n\r\nkeep\nthe bare\nLFs\r\n";
    static const char raw_normalized[] = "Subject: raw\r\n\r\nkeep\r\nthe bare\r\nLFs\r\n";
    static const char nul[] = "Subject: binary\r\n\r\na\0b\r\n\x80\xff\r\n";
    const char *to[] = {"bob@example.com"};
    int n0 = sink_count(), codes[1];
    size_t refused;
    char sizeopt[64];

    section("SMTP_MSG_NORMALIZE and SMTP_MSG_RAW");
    CHECK_RC(s, smtp_session_sendmail(s, "alice@example.com", to, 1, (const uint8_t *)bare, sizeof bare - 1, NULL, 0,
                                      NULL, 0, SMTP_MSG_NORMALIZE, codes, &refused),
             SMTP_OK);
    CHECK_INT(codes[0], 250);
    CHECK_INT(refused, 0);
    CHECK(sink_eml_equals(n0 + 1, bare_stored, sizeof bare_stored - 1));
    /* SIZE= counts the normalised message. */
    snprintf(sizeopt, sizeof sizeopt, "\"SIZE=%zu\"", sizeof bare_stored - 1);
    check_envelope(n0 + 1, "\"rcpt_tos\": [\"bob@example.com\"]", sizeopt);

    CHECK_RC(s, smtp_session_sendmail(s, "alice@example.com", to, 1, (const uint8_t *)raw, sizeof raw - 1, NULL, 0,
                                      NULL, 0, SMTP_MSG_RAW, codes, &refused),
             SMTP_OK);
    CHECK(sink_eml_equals(n0 + 2, raw, sizeof raw - 1));
    snprintf(sizeopt, sizeof sizeopt, "\"SIZE=%zu\"", sizeof raw - 1);
    check_envelope(n0 + 2, "\"rcpt_tos\": [\"bob@example.com\"]", sizeopt);
    /* The same message normalised loses its bare LFs. */
    CHECK_RC(s, smtp_session_sendmail(s, "alice@example.com", to, 1, (const uint8_t *)raw, sizeof raw - 1, NULL, 0,
                                      NULL, 0, SMTP_MSG_NORMALIZE, codes, &refused),
             SMTP_OK);
    CHECK(sink_eml_equals(n0 + 3, raw_normalized, sizeof raw_normalized - 1));
    /* Bodies are binary-safe: NUL and high bytes pass. */
    CHECK_RC(s, smtp_session_sendmail(s, "alice@example.com", to, 1, (const uint8_t *)nul, sizeof nul - 1, NULL, 0,
                                      NULL, 0, SMTP_MSG_RAW, codes, &refused),
             SMTP_OK);
    CHECK(sink_eml_equals(n0 + 4, nul, sizeof nul - 1));
    /* A message without a final line end gets CRLF. */
    CHECK_RC(s, smtp_session_sendmail(s, "alice@example.com", to, 1, (const uint8_t *)"Subject: x\r\n\r\nno end", 20,
                                      NULL, 0, NULL, 0, SMTP_MSG_RAW, codes, &refused),
             SMTP_OK);
    CHECK(sink_eml_equals(n0 + 5, "Subject: x\r\n\r\nno end\r\n", 22));
    CHECK_INT(sink_count(), n0 + 5);
}

static void test_big_message(smtp_session *s)
{
    const size_t size = 1024 * 1024;
    const char *to[] = {"bob@example.com", "refuse-big@example.com", "carol@example.com"};
    unsigned char *big = malloc(size);
    size_t i, refused = 99, line = 0;
    int codes[3], n0 = sink_count();

    section("a 1 MiB message");
    CHECK(big != NULL);
    if (big == NULL)
        return;
    memcpy(big, "Subject: one mebibyte\r\n\r\n", 25);
    for (i = 25; i < size;) {
        /* Lines of 64 bytes with CRLF; every 50th starts with a dot. */
        size_t j, n = size - i < 64 ? size - i : 64;
        for (j = 0; j + 2 < n; j++)
            big[i + j] = (unsigned char)('a' + (line + j) % 26);
        if (line % 50 == 0 && n > 2)
            big[i] = '.';
        /* (size - 25) % 64 is 39: the last line is long enough for CRLF. */
        big[i + n - 2] = '\r';
        big[i + n - 1] = '\n';
        i += n;
        line++;
    }
    CHECK_RC(s, smtp_session_sendmail(s, "alice@example.com", to, 3, big, size, NULL, 0, NULL, 0, SMTP_MSG_RAW, codes,
                                      &refused),
             SMTP_OK);
    CHECK_INT(codes[0], 250);
    CHECK_INT(codes[1], 550);
    CHECK_INT(codes[2], 250);
    CHECK_INT(refused, 1);
    CHECK_INT(sink_count(), n0 + 1);
    CHECK(sink_eml_equals(n0 + 1, big, size));
    check_envelope(n0 + 1, "\"rcpt_tos\": [\"bob@example.com\", \"carol@example.com\"]", "\"SIZE=1048576\"");
    free(big);
}

/* SMTPUTF8: UTF-8 addresses only within a MAIL that carried it. */
static void test_smtputf8(smtp_session *s)
{
    static const char msg[] = "Subject: utf-8\r\n\r\nhello\r\n";
    const char *utf8_opt[] = {"SMTPUTF8"};
    const char *bad_opts[] = {"SMTPUTF8", "X=1\r\nRSET"};
    int code = -7, n0 = sink_count();
    char *json;

    section("SMTPUTF8");
    /* Without SMTPUTF8, addresses must be ASCII. */
    CHECK_RC(s, smtp_session_verify(s, "j\xc3\xb6s\xc3\xa9@example.com", &code), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_mail(s, "j\xc3\xb6s\xc3\xa9@example.com", NULL, 0, &code), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_ehlo(s, "h\xc3\xa9llo.example", &code), SMTP_ERR_INVALID_ARGUMENT);
    /* The refused EHLO kept the features: SMTPUTF8 is still offered. */
    CHECK_INT(smtp_session_does_esmtp(s), 1);
    CHECK_INT(smtp_session_has_extn(s, "smtputf8"), 1);
    CHECK_INT(smtp_session_feature_count(s), 4);
    /* A MAIL refused before sending leaves UTF-8 off: a non-ASCII address
     * is still refused, with nothing sent. */
    CHECK_RC(s, smtp_session_mail(s, "alice@example.com", bad_opts, 2, &code), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_verify(s, "j\xc3\xb6s\xc3\xa9@example.com", &code), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_rcpt(s, "b\xc3\xb8" "b@example.com", NULL, 0, &code), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_rset(s, &code), SMTP_OK);
    CHECK_RC(s, smtp_session_verify(s, "j\xc3\xb6s\xc3\xa9@example.com", &code), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_INT(smtp_session_utf8_commands(s), 0);
    CHECK_INT(smtp_session_utf8_commands(NULL), 0);
    /* With it (the sink offers SMTPUTF8). */
    CHECK_RC(s, smtp_session_mail(s, "j\xc3\xb6s\xc3\xa9@example.com", utf8_opt, 1, &code), SMTP_OK);
    CHECK_INT(code, 250);
    CHECK_INT(smtp_session_utf8_commands(s), 1);
    CHECK_RC(s, smtp_session_rcpt(s, "b\xc3\xb8" "b@example.com", NULL, 0, &code), SMTP_OK);
    CHECK_INT(code, 250);
    CHECK_STR(smtp_session_rcpt_addr(s, 0), "b\xc3\xb8" "b@example.com");
    CHECK_RC(s, smtp_session_data(s, (const uint8_t *)msg, sizeof msg - 1, SMTP_MSG_NORMALIZE, &code), SMTP_OK);
    CHECK_INT(code, 250);
    CHECK_INT(sink_count(), n0 + 1);
    CHECK(sink_eml_equals(n0 + 1, msg, sizeof msg - 1));
    json = sink_json(n0 + 1);
    /* (The sink writes its JSON as UTF-8, not with \u escapes.) */
    CHECK(contains(json, "\"mail_from\": \"j\xc3\xb6s\xc3\xa9@example.com\""));
    CHECK(contains(json, "\"rcpt_tos\": [\"b\xc3\xb8" "b@example.com\"]"));
    CHECK(contains(json, "SMTPUTF8"));
    free(json);
    /* Until RSET. */
    CHECK_RC(s, smtp_session_rset(s, &code), SMTP_OK);
    CHECK_INT(smtp_session_utf8_commands(s), 0);
    CHECK_RC(s, smtp_session_verify(s, "j\xc3\xb6s\xc3\xa9@example.com", &code), SMTP_ERR_INVALID_ARGUMENT);
}

static void test_trace(void)
{
    static struct rec r; /* large: not on the stack */
    smtp_session *s = smtp_session_new(SMTP_KIND_SMTP);
    int code = -7, i, ok;
    FILE *tmp;

    section("trace callback and debug levels");
    CHECK(s != NULL);
    if (s == NULL)
        return;
    memset(&r, 0, sizeof r);
    r.session = s;
    CHECK_RC(s, smtp_session_set_debuglevel(s, 1), SMTP_OK);
    CHECK_RC(s, smtp_session_set_trace(s, rec_cb, &r), SMTP_OK);
    CHECK_RC(s, smtp_session_connect(s, host, port, &code), SMTP_OK);
    CHECK_RC(s, smtp_session_ehlo(s, "trace.example", &code), SMTP_OK);
    CHECK(r.n_send > 0);
    CHECK(r.n_recv > 0);
    CHECK(r.n_info > 0);
    CHECK_INT(r.n_other, 0);
    CHECK_INT(r.len_mismatch, 0);
    CHECK(rec_has(&r, SMTP_TRACE_SEND, "ehlo trace.example"));
    CHECK(rec_has(&r, SMTP_TRACE_RECV, "sink.test"));
    CHECK(rec_has(&r, SMTP_TRACE_RECV, "SIZE"));
    CHECK(!timestamped(r.lines[0]));

    /* A call on the session from inside its callback: SMTP_ERR_BAD_STATE;
     * smtp_session_free() from inside it does nothing. */
    rec_clear(&r);
    r.reenter = 1;
    CHECK_RC(s, smtp_session_noop(s, &code), SMTP_OK);
    CHECK_INT(code, 250);
    CHECK_INT(r.reentered, 1);
    CHECK_INT(r.reenter_noop_rc, SMTP_ERR_BAD_STATE);
    CHECK_INT(r.reenter_trace_rc, SMTP_ERR_BAD_STATE);
    CHECK_INT(r.reenter_debug_rc, SMTP_ERR_BAD_STATE);
    CHECK(r.n >= 2); /* the refused set_* calls changed nothing */
    r.reenter = 0;
    /* Still alive and still tracing (ASan/valgrind would catch a free). */
    rec_clear(&r);
    CHECK_RC(s, smtp_session_noop(s, &code), SMTP_OK);
    CHECK(rec_has(&r, SMTP_TRACE_SEND, "noop"));
    CHECK_INT(smtp_session_is_connected(s), 1);

    /* Level 2: a timestamp before each line. */
    CHECK_RC(s, smtp_session_set_debuglevel(s, 2), SMTP_OK);
    rec_clear(&r);
    CHECK_RC(s, smtp_session_noop(s, &code), SMTP_OK);
    CHECK(r.n >= 2);
    ok = r.n > 0;
    for (i = 0; i < r.n && i < REC_LINES; i++)
        if (!timestamped(r.lines[i])) {
            printf("   (no timestamp: %s)\n", r.lines[i]);
            ok = 0;
        }
    CHECK(ok);
    CHECK(rec_has(&r, SMTP_TRACE_SEND, "noop"));

    /* Level 0: the callback is not called. */
    CHECK_RC(s, smtp_session_set_debuglevel(s, 0), SMTP_OK);
    rec_clear(&r);
    CHECK_RC(s, smtp_session_noop(s, &code), SMTP_OK);
    CHECK_INT(r.n, 0);

    /* NULL callback: lines go to stderr again, not to the callback. */
    CHECK_RC(s, smtp_session_set_trace(s, NULL, NULL), SMTP_OK);
    CHECK_RC(s, smtp_session_set_debuglevel(s, 1), SMTP_OK);
    rec_clear(&r);
    tmp = tmpfile();
    CHECK(tmp != NULL);
    if (tmp != NULL) {
        int saved;
        char buf[4096];
        size_t n;
        fflush(stderr);
        saved = dup(2);
        dup2(fileno(tmp), 2);
        CHECK_RC(s, smtp_session_noop(s, &code), SMTP_OK);
        fflush(stderr);
        dup2(saved, 2);
        close(saved);
        rewind(tmp);
        n = fread(buf, 1, sizeof buf - 1, tmp);
        buf[n] = 0;
        fclose(tmp);
        CHECK(contains_ci(buf, "noop"));
        CHECK_INT(r.n, 0);
    }
    CHECK_RC(s, smtp_session_set_debuglevel(s, 0), SMTP_OK);
    CHECK_RC(s, smtp_session_quit(s, &code), SMTP_OK);
    smtp_session_free(s);
}

static void test_source_address(void)
{
    smtp_session *s = smtp_session_new(SMTP_KIND_SMTP);
    uint16_t p, busy = 0;
    int code = -7, bfd;

    section("source address");
    CHECK(s != NULL);
    if (s == NULL)
        return;
    CHECK_RC(s, smtp_session_set_source_address(s, "127.0.0.1", 0), SMTP_OK);
    CHECK_RC(s, smtp_session_connect(s, host, port, &code), SMTP_OK);
    CHECK_INT(code, 220);
    CHECK_RC(s, smtp_session_noop(s, &code), SMTP_OK);
    /* A fixed source port. */
    p = closed_port();
    CHECK(p != 0);
    CHECK_RC(s, smtp_session_set_source_address(s, "127.0.0.1", p), SMTP_OK);
    CHECK_RC(s, smtp_session_connect(s, host, port, &code), SMTP_OK);
    CHECK_RC(s, smtp_session_noop(s, &code), SMTP_OK);
    /* A source port another socket is listening on: the bind fails
     * (EADDRINUSE), nothing is sent. Loopback only. */
    bfd = listener(&busy);
    CHECK(bfd >= 0);
    if (bfd >= 0) {
        CHECK_RC(s, smtp_session_set_source_address(s, "127.0.0.1", busy), SMTP_OK);
        CHECK_RC(s, smtp_session_connect(s, host, port, &code), SMTP_ERR_CONNECT);
        CHECK_INT(smtp_session_is_connected(s), 0);
        close(bfd);
    }
    /* A source address restricts the addresses tried to its family: an
     * IPv6 one leaves none of this IPv4 host's, and the error says so. */
    CHECK_RC(s, smtp_session_set_source_address(s, "::1", 0), SMTP_OK);
    CHECK_RC(s, smtp_session_connect(s, host, port, &code), SMTP_ERR_CONNECT);
    CHECK(contains_ci(smtp_session_errmsg(s), "source address's family"));
    /* NULL removes the setting. */
    CHECK_RC(s, smtp_session_set_source_address(s, NULL, 0), SMTP_OK);
    CHECK_RC(s, smtp_session_connect(s, hostport, 0, &code), SMTP_OK);
    CHECK_RC(s, smtp_session_noop(s, &code), SMTP_OK);
    CHECK_RC(s, smtp_session_quit(s, &code), SMTP_OK);
    smtp_session_free(s);
}

static void test_quit_and_close(void)
{
    smtp_session *s = smtp_session_new(SMTP_KIND_SMTP);
    int code = -7;

    section("quit and close");
    CHECK(s != NULL);
    if (s == NULL)
        return;
    /* close keeps the EHLO state. */
    CHECK_RC(s, smtp_session_connect(s, hostport, 0, &code), SMTP_OK);
    CHECK_RC(s, smtp_session_ehlo_or_helo_if_needed(s), SMTP_OK);
    CHECK_INT(smtp_session_does_esmtp(s), 1);
    CHECK(smtp_session_ehlo_resp(s) != NULL);
    CHECK_RC(s, smtp_session_close(s), SMTP_OK);
    CHECK_INT(smtp_session_is_connected(s), 0);
    CHECK_INT(smtp_session_does_esmtp(s), 1);
    CHECK(contains(smtp_session_ehlo_resp(s), "sink.test"));
    CHECK_INT(smtp_session_has_extn(s, "size"), 1);
    CHECK_INT(smtp_session_feature_count(s), 4);
    CHECK_RC(s, smtp_session_noop(s, &code), SMTP_ERR_SERVER_DISCONNECTED);
    CHECK_RC(s, smtp_session_close(s), SMTP_OK); /* twice is fine */

    /* quit resets the EHLO state. */
    CHECK_RC(s, smtp_session_connect(s, hostport, 0, &code), SMTP_OK);
    CHECK_RC(s, smtp_session_ehlo(s, NULL, &code), SMTP_OK);
    CHECK_RC(s, smtp_session_helo(s, NULL, &code), SMTP_OK);
    CHECK(smtp_session_helo_resp(s) != NULL);
    code = -7;
    CHECK_RC(s, smtp_session_quit(s, &code), SMTP_OK);
    CHECK_INT(code, 221);
    CHECK_INT(smtp_session_last_reply_code(s), 221);
    CHECK_INT(smtp_session_is_connected(s), 0);
    CHECK(smtp_session_ehlo_resp(s) == NULL);
    CHECK(smtp_session_helo_resp(s) == NULL);
    CHECK_INT(smtp_session_does_esmtp(s), 0);
    CHECK_INT(smtp_session_has_extn(s, "size"), 0);
    CHECK_INT(smtp_session_feature_count(s), 0);
    code = -7;
    CHECK_RC(s, smtp_session_noop(s, &code), SMTP_ERR_SERVER_DISCONNECTED);
    CHECK_INT(code, 0);
    CHECK_RC(s, smtp_session_docmd(s, "NOOP", NULL, &code), SMTP_ERR_SERVER_DISCONNECTED);
    CHECK_RC(s, smtp_session_quit(s, &code), SMTP_ERR_SERVER_DISCONNECTED);
    /* A new connection after QUIT works. */
    CHECK_RC(s, smtp_session_connect(s, hostport, 0, &code), SMTP_OK);
    CHECK_RC(s, smtp_session_noop(s, &code), SMTP_OK);
    /* Free while connected: no QUIT, no leak. */
    smtp_session_free(s);
}

/* smtplib's send/getreply and the socket's descriptor, against the sink. */
static void test_raw(void)
{
    smtp_session *s = smtp_session_new(SMTP_KIND_SMTP);
    struct sockaddr_storage peer;
    socklen_t peer_len = sizeof peer;
    int code = -7, fd;
    double t0, elapsed;

    section("raw send, getreply, fileno");
    CHECK(s != NULL);
    if (s == NULL)
        return;
    CHECK_INT(smtp_session_fileno(NULL), -1);
    CHECK_RC(NULL, smtp_session_send(NULL, "NOOP\r\n", 6), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_session_getreply(NULL, &code), SMTP_ERR_NULL_ARGUMENT);
    /* Not connected: smtplib's SMTPServerDisconnected("please run connect() first"). */
    CHECK_INT(smtp_session_fileno(s), -1);
    CHECK_RC(s, smtp_session_send(s, "NOOP\r\n", 6), SMTP_ERR_SERVER_DISCONNECTED);
    CHECK(contains(smtp_session_errmsg(s), "connect() first"));
    CHECK_RC(s, smtp_session_getreply(s, &code), SMTP_ERR_SERVER_DISCONNECTED);
    CHECK_INT(code, 0);
    CHECK_RC(s, smtp_session_set_local_hostname(s, "client.example"), SMTP_OK);

    CHECK_RC(s, smtp_session_connect(s, hostport, 0, &code), SMTP_OK);
    fd = smtp_session_fileno(s);
    CHECK(fd >= 0);
    /* The descriptor is the connection's: its peer is the server. */
    CHECK_INT(getpeername(fd, (struct sockaddr *)&peer, &peer_len), 0);
    if (peer.ss_family == AF_INET)
        CHECK_INT(ntohs(((struct sockaddr_in *)&peer)->sin_port), port);
    else
        CHECK_INT(ntohs(((struct sockaddr_in6 *)&peer)->sin6_port), port);

    /* A command in two writes, CRLF the caller's; the reply read apart. */
    CHECK_RC(s, smtp_session_send(s, "NO", 2), SMTP_OK);
    CHECK_RC(s, smtp_session_send(s, "OP\r\n", 4), SMTP_OK);
    CHECK_RC(s, smtp_session_send(s, NULL, 0), SMTP_OK);
    CHECK_RC(s, smtp_session_send(s, NULL, 3), SMTP_ERR_NULL_ARGUMENT);
    code = -7;
    CHECK_RC(s, smtp_session_getreply(s, &code), SMTP_OK);
    CHECK_INT(code, 250);
    CHECK_INT(smtp_session_last_reply_code(s), 250);
    /* Two commands sent before either reply is read: both replies, in order. */
    CHECK_RC(s, smtp_session_send(s, "XFOO\r\nNOOP\r\n", 12), SMTP_OK);
    CHECK_RC(s, smtp_session_getreply(s, &code), SMTP_OK);
    CHECK_INT(code / 100, 5);
    CHECK(contains(smtp_session_last_reply_text(s), "XFOO"));
    CHECK_RC(s, smtp_session_getreply(s, NULL), SMTP_OK);
    CHECK_INT(smtp_session_last_reply_code(s), 250);
    /* The session's own commands go on in step. */
    CHECK_RC(s, smtp_session_noop(s, &code), SMTP_OK);
    CHECK_INT(code, 250);

    /* A reply that never comes ends at the reply limit, and closes. */
    CHECK_RC(s, smtp_session_set_timeout_ms(s, SMTP_TIMEOUT_REPLY, 300), SMTP_OK);
    t0 = now_s();
    CHECK_RC(s, smtp_session_getreply(s, &code), SMTP_ERR_TIMEOUT);
    elapsed = now_s() - t0;
    CHECK(elapsed >= 0.25 && elapsed < 0.33 + 0.2);
    CHECK_INT(smtp_session_is_connected(s), 0);
    CHECK_INT(smtp_session_fileno(s), -1);

    /* A line break in a command: refused with smtplib's message (bpo-43124). */
    CHECK_RC(s, smtp_session_connect(s, hostport, 0, &code), SMTP_OK);
    CHECK_RC(s, smtp_session_ehlo(s, "hi\nX-INJECTED", &code), SMTP_ERR_INVALID_ARGUMENT);
    CHECK(contains(smtp_session_errmsg(s), "prohibited newline characters: ehlo hi\\nX-INJECTED"));
    CHECK_RC(s, smtp_session_quit(s, &code), SMTP_OK);
    CHECK_RC(s, smtp_session_send(s, "NOOP\r\n", 6), SMTP_ERR_SERVER_DISCONNECTED);

    /* host:port with a port that is not a number: a connect error, as
     * smtplib's OSError("nonnumeric port"). */
    CHECK_RC(s, smtp_session_connect(s, "localhost:bogus", 0, &code), SMTP_ERR_CONNECT);
    CHECK(contains(smtp_session_errmsg(s), "nonnumeric port"));
    smtp_session_free(s);
}

static void test_connect_errors(void)
{
    static const char unresolvable[] = "no-such-host-with-a-label-longer-than-sixty-three-bytes-xxxxxxxxxx.invalid";
    smtp_session *s = smtp_session_new(SMTP_KIND_SMTP);
    smtp_session *ssl;
    uint16_t p = closed_port(), lp = 0;
    int code = -7, lfd;
    char name_port[128];
    double t0, elapsed;

    section("connect errors and timeouts");
    CHECK(s != NULL);
    if (s == NULL)
        return;
    CHECK(p != 0);
    CHECK_RC(s, smtp_session_set_timeout_ms(s, SMTP_TIMEOUT_CONNECT, 5000), SMTP_OK);
    CHECK_RC(s, smtp_session_connect(s, "127.0.0.1", p, &code), SMTP_ERR_CONNECT);
    CHECK_INT(code, 0);
    CHECK_INT(smtp_session_is_connected(s), 0);
    CHECK(smtp_session_errmsg(s) != NULL && strcmp(smtp_session_errmsg(s), "no error") != 0);
    CHECK_RC(s, smtp_session_open(s, "127.0.0.1", p, &code), SMTP_ERR_CONNECT);
    /* A name that cannot be resolved. Its first label is over 63 bytes, so
     * the resolver refuses it before building a DNS query: no packet leaves
     * this host (a plain "no-such-host.invalid" would go to the DNS server). */
    CHECK(strlen(unresolvable) > 64 && strchr(unresolvable, '.') - unresolvable > 63);
    CHECK_RC(s, smtp_session_connect(s, unresolvable, 25, &code), SMTP_ERR_CONNECT);
    snprintf(name_port, sizeof name_port, "%s:2525", unresolvable);
    CHECK_RC(s, smtp_session_connect(s, name_port, 0, &code), SMTP_ERR_CONNECT);
    CHECK_INT(smtp_session_is_connected(s), 0);

    /* A server that never greets (a listener never accepting: the kernel
     * completes the TCP handshake, nobody speaks). Each limit alone ends the
     * wait, and the error names it. */
    lfd = listener(&lp);
    CHECK(lfd >= 0);
    if (lfd >= 0) {
        /* Each read: SMTP_TIMEOUT_IO. */
        CHECK_RC(s, smtp_session_set_timeout_ms(s, SMTP_TIMEOUT_IO, 300), SMTP_OK);
        t0 = now_s();
        CHECK_RC(s, smtp_session_connect(s, "127.0.0.1", lp, &code), SMTP_ERR_TIMEOUT);
        CHECK(now_s() - t0 < 10.0);
        CHECK(contains_ci(smtp_session_errmsg(s), "I/O timeout"));
        CHECK_INT(smtp_session_is_connected(s), 0);
        /* The greeting's own limit, with no I/O limit. SMTP_TIMEOUT_REPLY
         * does not bound the greeting: set short, it does not fire first. */
        CHECK_RC(s, smtp_session_set_timeout_ms(s, SMTP_TIMEOUT_IO, 0), SMTP_OK);
        CHECK_RC(s, smtp_session_set_timeout_ms(s, SMTP_TIMEOUT_REPLY, 50), SMTP_OK);
        CHECK_RC(s, smtp_session_set_timeout_ms(s, SMTP_TIMEOUT_GREETING, 600), SMTP_OK);
        t0 = now_s();
        CHECK_RC(s, smtp_session_connect(s, "127.0.0.1", lp, &code), SMTP_ERR_TIMEOUT);
        elapsed = now_s() - t0;
        CHECK(elapsed >= 0.5 && elapsed < 10.0);
        if (!(elapsed >= 0.5 && elapsed < 10.0))
            printf("   (the greeting timed out after %.3f s, want 0.6)\n", elapsed);
        CHECK(contains_ci(smtp_session_errmsg(s), "greeting"));
        CHECK_INT(smtp_session_is_connected(s), 0);
        /* The whole call: SMTP_TIMEOUT_CALL, with no I/O nor greeting limit. */
        CHECK_RC(s, smtp_session_set_timeout_ms(s, SMTP_TIMEOUT_GREETING, 0), SMTP_OK);
        CHECK_RC(s, smtp_session_set_timeout_ms(s, SMTP_TIMEOUT_CALL, 300), SMTP_OK);
        t0 = now_s();
        CHECK_RC(s, smtp_session_connect(s, "127.0.0.1", lp, &code), SMTP_ERR_TIMEOUT);
        CHECK(now_s() - t0 < 10.0);
        CHECK(contains(smtp_session_errmsg(s), "SMTP_TIMEOUT_CALL"));
        CHECK_INT(smtp_session_is_connected(s), 0);
        CHECK_RC(s, smtp_session_set_timeout_ms(s, SMTP_TIMEOUT_CALL, 0), SMTP_OK);

        /* SMTP_SSL: the greeting limit bounds the TLS handshake too. */
        ssl = smtp_session_new(SMTP_KIND_SMTP_SSL);
        CHECK(ssl != NULL);
        if (ssl != NULL) {
            CHECK_RC(ssl, smtp_session_set_timeout_ms(ssl, SMTP_TIMEOUT_IO, 0), SMTP_OK);
            CHECK_RC(ssl, smtp_session_set_timeout_ms(ssl, SMTP_TIMEOUT_GREETING, 300), SMTP_OK);
            t0 = now_s();
            CHECK_RC(ssl, smtp_session_connect(ssl, "127.0.0.1", lp, &code), SMTP_ERR_TIMEOUT);
            CHECK(now_s() - t0 < 10.0);
            CHECK(contains_ci(smtp_session_errmsg(ssl), "handshake"));
            CHECK_INT(smtp_session_is_connected(ssl), 0);
            CHECK_INT(smtp_session_is_encrypted(ssl), 0);
            /* A refused connection is a connect error for SMTP_SSL too. */
            CHECK_RC(ssl, smtp_session_connect(ssl, "127.0.0.1", p, &code), SMTP_ERR_CONNECT);
            smtp_session_free(ssl);
        }
        close(lfd);
    }
    smtp_session_free(s);
}

static int sent_auth_lines(const struct rec *r)
{
    int i, n = 0;
    for (i = 0; i < r->n && i < REC_LINES; i++)
        if (r->dirs[i] == SMTP_TRACE_SEND && contains_ci(r->lines[i], "auth"))
            n++;
    return n;
}

/* login, auth and auth_builtin against the scripted server (on loopback,
 * so cleartext mechanisms are allowed). `s` has done EHLO. */
static void test_auth(smtp_session *s)
{
    struct rec *r = calloc(1, sizeof *r);
    struct sasl a;
    int code = -7, sent;

    section("authentication");
    CHECK(r != NULL);
    if (r == NULL)
        return;
    memset(&a, 0, sizeof a);
    a.session = s;
    r->session = s;
    CHECK_INT(smtp_session_has_extn(s, "auth"), 1);
    CHECK_STR(smtp_session_feature(s, "auth"), " PLAIN LOGIN"); /* smtplib keeps a space per AUTH line */
    CHECK_RC(s, smtp_session_set_debuglevel(s, 1), SMTP_OK);
    CHECK_RC(s, smtp_session_set_trace(s, rec_cb, r), SMTP_OK);

    /* login: a wrong password is refused by PLAIN, then by LOGIN. */
    CHECK_RC(s, smtp_session_login(s, "user", "wrong", 0), SMTP_ERR_AUTH);
    CHECK_INT(smtp_session_last_reply_code(s), 535);
    CHECK(contains(smtp_session_last_reply_text(s), "credentials invalid"));
    CHECK(rec_has(r, SMTP_TRACE_SEND, "AUTH PLAIN"));
    CHECK(rec_has(r, SMTP_TRACE_SEND, "AUTH LOGIN"));
    /* The right one: the first mechanism in smtplib's order that the server
     * offers (CRAM-MD5 is not offered: PLAIN). */
    rec_clear(r);
    CHECK_RC(s, smtp_session_login(s, "user", "pass", 0), SMTP_OK);
    CHECK_INT(smtp_session_last_reply_code(s), 235);
    CHECK(rec_has(r, SMTP_TRACE_SEND, "AUTH PLAIN"));
    CHECK(!rec_has(r, SMTP_TRACE_SEND, "AUTH LOGIN"));
    /* Payloads are redacted in the trace... */
    CHECK(!rec_has(r, SMTP_TRACE_SEND, PLAIN_USER_PASS));
    CHECK(rec_has(r, SMTP_TRACE_SEND, "<redacted>"));
    /* ...unless asked for. */
    CHECK_RC(s, smtp_session_set_debug_secrets(s, 1), SMTP_OK);
    rec_clear(r);
    CHECK_RC(s, smtp_session_login(s, "user", "pass", 0), SMTP_OK);
    CHECK(rec_has(r, SMTP_TRACE_SEND, "AUTH PLAIN " PLAIN_USER_PASS));
    CHECK_RC(s, smtp_session_set_debug_secrets(s, 0), SMTP_OK);
    rec_clear(r);
    CHECK_RC(s, smtp_session_login(s, "user", "pass", 0), SMTP_OK);
    CHECK(!rec_has(r, SMTP_TRACE_SEND, PLAIN_USER_PASS));

    /* The mechanism list. */
    CHECK_RC(s, smtp_session_set_auth_mechanisms(s, "LOGIN PLAIN"), SMTP_OK);
    rec_clear(r);
    CHECK_RC(s, smtp_session_login(s, "user", "pass", 0), SMTP_OK);
    CHECK(rec_has(r, SMTP_TRACE_SEND, "AUTH LOGIN"));
    CHECK(!rec_has(r, SMTP_TRACE_SEND, "AUTH PLAIN"));
    /* Initial responses off: LOGIN answers the server's two challenges. */
    rec_clear(r);
    CHECK_RC(s, smtp_session_login(s, "user", "pass", SMTP_AUTH_NO_INITIAL_RESPONSE), SMTP_OK);
    CHECK(rec_has(r, SMTP_TRACE_SEND, "'AUTH LOGIN\\r\\n'"));
    CHECK(rec_has(r, SMTP_TRACE_RECV, "VXNlcm5hbWU6"));
    /* None of the chosen mechanisms offered: nothing sent. */
    CHECK_RC(s, smtp_session_set_auth_mechanisms(s, "SCRAM-SHA-256 CRAM-MD5"), SMTP_OK);
    rec_clear(r);
    CHECK_RC(s, smtp_session_login(s, "user", "pass", 0), SMTP_ERR_SMTP);
    CHECK(contains(smtp_session_errmsg(s), "No suitable authentication method"));
    CHECK_INT(r->n_send, 0);
    CHECK_RC(s, smtp_session_set_auth_mechanisms(s, NULL), SMTP_OK);
    rec_clear(r);
    CHECK_RC(s, smtp_session_login(s, "user", "pass", 0), SMTP_OK);
    CHECK(rec_has(r, SMTP_TRACE_SEND, "AUTH PLAIN"));

    /* One built-in mechanism. */
    code = 0;
    CHECK_RC(s, smtp_session_auth_builtin(s, "PLAIN", "user", "pass", 0), SMTP_OK);
    CHECK_INT(smtp_session_last_reply_code(s), 235);
    CHECK_RC(s, smtp_session_auth_builtin(s, "PLAIN", "user", "pass", SMTP_AUTH_NO_INITIAL_RESPONSE), SMTP_OK);
    CHECK_RC(s, smtp_session_auth_builtin(s, "LOGIN", "user", "pass", 0), SMTP_OK);
    CHECK_RC(s, smtp_session_auth_builtin(s, "LOGIN", "user", "pass", SMTP_AUTH_NO_INITIAL_RESPONSE), SMTP_OK);
    CHECK_RC(s, smtp_session_auth_builtin(s, "PLAIN", "user", "bad", 0), SMTP_ERR_AUTH);
    CHECK_INT(smtp_session_last_reply_code(s), 535);
    CHECK_RC(s, smtp_session_auth_builtin(s, "LOGIN", "user", "bad", 0), SMTP_ERR_AUTH);
    /* Not offered by the server: its refusal is the result. */
    CHECK_RC(s, smtp_session_auth_builtin(s, "CRAM-MD5", "user", "pass", 0), SMTP_ERR_AUTH);
    CHECK_INT(smtp_session_last_reply_code(s), 504);

    /* The caller's mechanism: initial response, one challenge. */
    sasl_reset(&a, "hello", "response");
    CHECK_RC(s, smtp_session_auth(s, "X-TEST", sasl_cb, &a, 0), SMTP_OK);
    CHECK_INT(smtp_session_last_reply_code(s), 235);
    CHECK_INT(a.initial_calls, 1);
    CHECK_INT(a.challenge_calls, 1);
    CHECK_INT(a.challenge_len, 9);
    CHECK(memcmp(a.challenge, "challenge", 9) == 0);
    /* Lower-case name: sent in upper case. */
    sasl_reset(&a, "hello", "response");
    CHECK_RC(s, smtp_session_auth(s, "x-test", sasl_cb, &a, 0), SMTP_OK);
    /* Initial responses off: the callback is not asked for one. */
    sasl_reset(&a, "hello", "response");
    CHECK_RC(s, smtp_session_auth(s, "X-TEST", sasl_cb, &a, SMTP_AUTH_NO_INITIAL_RESPONSE), SMTP_OK);
    CHECK_INT(a.initial_calls, 0);
    CHECK_INT(a.challenge_calls, 1);
    /* The mechanism has no initial response. */
    sasl_reset(&a, NULL, "response");
    rec_clear(r);
    CHECK_RC(s, smtp_session_auth(s, "X-TEST", sasl_cb, &a, 0), SMTP_OK);
    CHECK_INT(a.initial_calls, 1);
    CHECK(rec_has(r, SMTP_TRACE_SEND, "'AUTH X-TEST\\r\\n'"));
    /* An empty initial response is sent as "=". */
    CHECK_RC(s, smtp_session_set_debug_secrets(s, 1), SMTP_OK);
    sasl_reset(&a, "", "response");
    rec_clear(r);
    CHECK_RC(s, smtp_session_auth(s, "X-TEST", sasl_cb, &a, 0), SMTP_OK);
    CHECK(rec_has(r, SMTP_TRACE_SEND, "AUTH X-TEST ="));
    CHECK_RC(s, smtp_session_set_debug_secrets(s, 0), SMTP_OK);
    /* A wrong answer. */
    sasl_reset(&a, "hello", "nonsense");
    CHECK_RC(s, smtp_session_auth(s, "X-TEST", sasl_cb, &a, 0), SMTP_ERR_AUTH);
    CHECK_INT(smtp_session_last_reply_code(s), 535);
    /* The step form: responses of any length through smtp_sasl_respond(). */
    sasl_reset(&a, "hello", "response");
    CHECK_RC(s, smtp_session_auth_step(s, "X-TEST", sasl_step, &a, 0), SMTP_OK);
    CHECK_INT(a.initial_calls, 1);
    CHECK_INT(a.challenge_calls, 1);
    CHECK_INT(a.challenge_len, 9);
    CHECK(memcmp(a.challenge, "challenge", 9) == 0);
    sasl_reset(&a, NULL, "response");
    CHECK_RC(s, smtp_session_auth_step(s, "X-TEST", sasl_step, &a, 0), SMTP_OK);
    sasl_reset(&a, "hello", "nonsense");
    CHECK_RC(s, smtp_session_auth_step(s, "X-TEST", sasl_step, &a, 0), SMTP_ERR_AUTH);
    sasl_reset(&a, "hello", "response");
    a.abort_on_challenge = 1;
    CHECK_RC(s, smtp_session_auth_step(s, "X-TEST", sasl_step, &a, 0), SMTP_ERR_AUTH_ABORTED);
    CHECK_RC(s, smtp_session_auth_step(s, "X-TEST", NULL, &a, 0), SMTP_ERR_NULL_ARGUMENT);
    CHECK_INT(smtp_sasl_respond(NULL, (const uint8_t *)"x", 1), SMTP_ERR_NULL_ARGUMENT);
    /* A response longer than any fixed buffer (X-LONG wants 5000 'x'). */
    sasl_reset(&a, NULL, NULL);
    a.long_answer = 5000;
    CHECK_RC(s, smtp_session_auth_step(s, "X-LONG", sasl_step, &a, 0), SMTP_OK);
    CHECK_INT(smtp_session_last_reply_code(s), 235);
    sasl_reset(&a, NULL, NULL);
    a.long_answer = 4999;
    CHECK_RC(s, smtp_session_auth_step(s, "X-LONG", sasl_step, &a, 0), SMTP_ERR_AUTH);
    /* More than 16 MiB is refused by smtp_sasl_respond (the exchange aborts). */
    sasl_reset(&a, NULL, NULL);
    a.long_answer = (16 << 20) + 1;
    CHECK_RC(s, smtp_session_auth_step(s, "X-LONG", sasl_step, &a, 0), SMTP_ERR_AUTH_ABORTED);
    CHECK_INT(a.respond_rc, SMTP_ERR_INVALID_ARGUMENT);
    /* A bigger buffer on request. */
    sasl_reset(&a, "hello", "response");
    a.need_space = 5000;
    CHECK_RC(s, smtp_session_auth(s, "X-TEST", sasl_cb, &a, 0), SMTP_OK);
    CHECK(a.last_cap >= 5000);
    CHECK_INT(a.challenge_calls, 1);
    /* The callback aborts: "*" is sent, SMTP_ERR_AUTH_ABORTED, still in step. */
    sasl_reset(&a, "hello", "response");
    a.abort_on_challenge = 1;
    rec_clear(r);
    CHECK_RC(s, smtp_session_auth(s, "X-TEST", sasl_cb, &a, 0), SMTP_ERR_AUTH_ABORTED);
    CHECK(rec_has(r, SMTP_TRACE_SEND, "'*\\r\\n'"));
    CHECK_RC(s, smtp_session_noop(s, &code), SMTP_OK);
    CHECK_INT(code, 250);
    /* A call on the session from inside the callback. */
    sasl_reset(&a, "hello", "response");
    a.reenter = 1;
    CHECK_RC(s, smtp_session_auth(s, "X-TEST", sasl_cb, &a, 0), SMTP_OK);
    CHECK_INT(a.reenter_rc, SMTP_ERR_BAD_STATE);
    /* Challenges without end: SMTP_ERR_SMTP after cancelling, in step. */
    sasl_reset(&a, "hello", "response");
    CHECK_RC(s, smtp_session_auth(s, "X-LOOP", sasl_cb, &a, 0), SMTP_ERR_SMTP);
    CHECK(a.challenge_calls <= 5);
    CHECK_RC(s, smtp_session_noop(s, &code), SMTP_OK);
    CHECK_INT(code, 250);
    /* A challenge that is not base64: SMTP_ERR_AUTH_ABORTED, in step. */
    sasl_reset(&a, "hello", "response");
    CHECK_RC(s, smtp_session_auth(s, "X-BADB64", sasl_cb, &a, 0), SMTP_ERR_AUTH_ABORTED);
    CHECK_INT(a.challenge_calls, 0);
    CHECK_RC(s, smtp_session_noop(s, &code), SMTP_OK);
    CHECK_INT(code, 250);

    /* Refused before anything is sent. */
    rec_clear(r);
    sasl_reset(&a, "hello", "response");
    CHECK_RC(s, smtp_session_auth(s, "X-TEST", sasl_cb, &a, 8), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_auth(s, "X-TE ST", sasl_cb, &a, 0), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_auth_builtin(s, "PLAIN", "user\xff", "pass", 0), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_login(s, "user", "pa\xffss", 0), SMTP_ERR_INVALID_ARGUMENT);
    sent = r->n_send;
    CHECK_INT(sent, 0);
    CHECK_INT(a.calls, 0);

    CHECK_RC(s, smtp_session_set_debuglevel(s, 0), SMTP_OK);
    CHECK_RC(s, smtp_session_set_trace(s, NULL, NULL), SMTP_OK);
    free(r);
}

/* How many AUTH commands the scripted server received on this connection
 * (its "XSEEN" command); -1 when it did not say. */
static int server_auth_seen(smtp_session *s)
{
    int code = -7;
    const char *t;
    if (smtp_session_docmd(s, "XSEEN", NULL, &code) != SMTP_OK || code != 250)
        return -1;
    t = smtp_session_last_reply_text(s);
    return t != NULL && isdigit((unsigned char)t[0]) ? atoi(t) : -1;
}

/* The cleartext rule with loopback untrusted (smtp_session_set_trust_loopback):
 * the connection is loopback, but counts as unprotected, so PLAIN, LOGIN,
 * XOAUTH2 and OAUTHBEARER are refused before a byte is sent; CRAM-MD5
 * (no secret in clear) and SMTP_AUTH_ALLOW_CLEARTEXT still work. */
static void test_untrusted_loopback(void)
{
    smtp_session *s;
    struct rec *r;
    struct sasl a;
    int code = -7;

    section("cleartext AUTH on loopback with smtp_session_set_trust_loopback(s, 0)");
    CHECK(script_port != 0);
    if (script_port == 0)
        return;
    s = smtp_session_new(SMTP_KIND_SMTP);
    r = calloc(1, sizeof *r);
    CHECK(s != NULL && r != NULL);
    if (s == NULL || r == NULL) {
        smtp_session_free(s);
        free(r);
        return;
    }
    memset(&a, 0, sizeof a);
    sasl_reset(&a, "\0user\0pass", NULL);
    a.initial_len = 10;
    r->session = s;
    CHECK_RC(s, smtp_session_set_timeout_ms(s, SMTP_TIMEOUT_IO, 20000), SMTP_OK);
    CHECK_RC(s, smtp_session_set_local_hostname(s, "client.example"), SMTP_OK);
    CHECK_RC(s, smtp_session_set_debuglevel(s, 1), SMTP_OK);
    CHECK_RC(s, smtp_session_set_trace(s, rec_cb, r), SMTP_OK);
    CHECK_RC(s, smtp_session_set_trust_loopback(s, 0), SMTP_OK);
    CHECK_RC(s, smtp_session_connect(s, "127.0.0.1", script_port, &code), SMTP_OK);
    CHECK_INT(code, 220);

    /* Refused, nothing sent. login with only cleartext mechanisms chosen
     * (the server offers CRAM-MD5 PLAIN LOGIN). */
    CHECK_RC(s, smtp_session_set_auth_mechanisms(s, "PLAIN LOGIN"), SMTP_OK);
    CHECK_RC(s, smtp_session_login(s, "user", "pass", 0), SMTP_ERR_NOT_ENCRYPTED);
    CHECK(contains_ci(smtp_session_errmsg(s), "clear"));
    CHECK_INT(smtp_session_does_esmtp(s), 1); /* EHLO went, AUTH did not */
    CHECK_STR(smtp_session_feature(s, "auth"), " CRAM-MD5 PLAIN LOGIN");
    CHECK_RC(s, smtp_session_login(s, "user", "pass", SMTP_AUTH_NO_INITIAL_RESPONSE), SMTP_ERR_NOT_ENCRYPTED);
    CHECK_RC(s, smtp_session_set_auth_mechanisms(s, "XOAUTH2 OAUTHBEARER PLAIN"), SMTP_OK);
    CHECK_RC(s, smtp_session_login(s, "user", "token", 0), SMTP_ERR_NOT_ENCRYPTED);
    CHECK_RC(s, smtp_session_auth_builtin(s, "PLAIN", "user", "pass", 0), SMTP_ERR_NOT_ENCRYPTED);
    CHECK(contains_ci(smtp_session_errmsg(s), "clear"));
    CHECK_RC(s, smtp_session_auth_builtin(s, "PLAIN", "user", "pass", SMTP_AUTH_NO_INITIAL_RESPONSE),
             SMTP_ERR_NOT_ENCRYPTED);
    CHECK_RC(s, smtp_session_auth_builtin(s, "plain", "user", "pass", 0), SMTP_ERR_NOT_ENCRYPTED);
    CHECK_RC(s, smtp_session_auth_builtin(s, "LOGIN", "user", "pass", 0), SMTP_ERR_NOT_ENCRYPTED);
    CHECK_RC(s, smtp_session_auth_builtin(s, "XOAUTH2", "user", "token", 0), SMTP_ERR_NOT_ENCRYPTED);
    CHECK_RC(s, smtp_session_auth_builtin(s, "OAUTHBEARER", "user", "token", 0), SMTP_ERR_NOT_ENCRYPTED);
    CHECK_RC(s, smtp_session_auth(s, "PLAIN", sasl_cb, &a, 0), SMTP_ERR_NOT_ENCRYPTED);
    CHECK_RC(s, smtp_session_auth(s, "Plain", sasl_cb, &a, SMTP_AUTH_NO_INITIAL_RESPONSE), SMTP_ERR_NOT_ENCRYPTED);
    CHECK_INT(a.calls, 0);
    CHECK_INT(sent_auth_lines(r), 0);
    CHECK(!rec_has(r, SMTP_TRACE_SEND, PLAIN_USER_PASS));
    /* The server's own count: no AUTH line reached it. */
    CHECK_INT(server_auth_seen(s), 0);
    /* In step. */
    CHECK_RC(s, smtp_session_noop(s, &code), SMTP_OK);
    CHECK_INT(code, 250);

    /* CRAM-MD5 sends no secret in clear: allowed. */
    CHECK_RC(s, smtp_session_auth_builtin(s, "CRAM-MD5", "user", "pass", 0), SMTP_OK);
    CHECK_INT(smtp_session_last_reply_code(s), 235);
    CHECK_RC(s, smtp_session_auth_builtin(s, "CRAM-MD5", "user", "wrong", 0), SMTP_ERR_AUTH);
    CHECK_INT(smtp_session_last_reply_code(s), 535);
    CHECK_INT(server_auth_seen(s), 2);
    /* login skips the cleartext mechanisms and uses CRAM-MD5, wherever it is
     * in the list; with the default list too (CRAM-MD5 PLAIN LOGIN). */
    CHECK_RC(s, smtp_session_set_auth_mechanisms(s, "PLAIN LOGIN CRAM-MD5"), SMTP_OK);
    rec_clear(r);
    CHECK_RC(s, smtp_session_login(s, "user", "pass", 0), SMTP_OK);
    CHECK_INT(smtp_session_last_reply_code(s), 235);
    CHECK(rec_has(r, SMTP_TRACE_SEND, "AUTH CRAM-MD5"));
    CHECK(!rec_has(r, SMTP_TRACE_SEND, "AUTH PLAIN"));
    CHECK(!rec_has(r, SMTP_TRACE_SEND, "AUTH LOGIN"));
    CHECK_RC(s, smtp_session_set_auth_mechanisms(s, NULL), SMTP_OK);
    CHECK_RC(s, smtp_session_login(s, "user", "pass", 0), SMTP_OK);
    /* A wrong password: CRAM-MD5 refused, PLAIN and LOGIN not tried. */
    rec_clear(r);
    CHECK_RC(s, smtp_session_login(s, "user", "wrong", 0), SMTP_ERR_AUTH);
    CHECK_INT(smtp_session_last_reply_code(s), 535);
    CHECK_INT(sent_auth_lines(r), 1);
    CHECK_INT(server_auth_seen(s), 5);

    /* Allowed explicitly: SMTP_AUTH_ALLOW_CLEARTEXT. */
    CHECK_RC(s, smtp_session_set_auth_mechanisms(s, "PLAIN"), SMTP_OK);
    rec_clear(r);
    CHECK_RC(s, smtp_session_login(s, "user", "pass", SMTP_AUTH_ALLOW_CLEARTEXT), SMTP_OK);
    CHECK_INT(smtp_session_last_reply_code(s), 235);
    CHECK(rec_has(r, SMTP_TRACE_SEND, "AUTH PLAIN"));
    CHECK_RC(s, smtp_session_auth_builtin(s, "PLAIN", "user", "pass", SMTP_AUTH_ALLOW_CLEARTEXT), SMTP_OK);
    CHECK_RC(s, smtp_session_auth_builtin(s, "LOGIN", "user", "pass", SMTP_AUTH_ALLOW_CLEARTEXT), SMTP_OK);
    CHECK_RC(s, smtp_session_auth(s, "PLAIN", sasl_cb, &a, SMTP_AUTH_ALLOW_CLEARTEXT), SMTP_OK);
    CHECK_INT(a.initial_calls, 1);
    CHECK_INT(smtp_session_last_reply_code(s), 235);
    CHECK_INT(server_auth_seen(s), 9);
    /* The flag is per call: without it, refused again. */
    CHECK_RC(s, smtp_session_auth_builtin(s, "PLAIN", "user", "pass", 0), SMTP_ERR_NOT_ENCRYPTED);
    CHECK_INT(server_auth_seen(s), 9);

    /* Loopback trusted again (the default), on the same connection. */
    CHECK_RC(s, smtp_session_set_trust_loopback(s, 1), SMTP_OK);
    CHECK_RC(s, smtp_session_auth_builtin(s, "PLAIN", "user", "pass", 0), SMTP_OK);
    CHECK_INT(smtp_session_last_reply_code(s), 235);
    CHECK_RC(s, smtp_session_login(s, "user", "pass", 0), SMTP_OK);
    CHECK_RC(s, smtp_session_auth_builtin(s, "LOGIN", "user", "pass", 0), SMTP_OK);
    CHECK_INT(server_auth_seen(s), 12);
    /* And untrusted once more: refused at once, nothing sent. */
    CHECK_RC(s, smtp_session_set_trust_loopback(s, 0), SMTP_OK);
    CHECK_RC(s, smtp_session_auth_builtin(s, "PLAIN", "user", "pass", 0), SMTP_ERR_NOT_ENCRYPTED);
    CHECK_INT(server_auth_seen(s), 12);

    code = -7;
    CHECK_RC(s, smtp_session_quit(s, &code), SMTP_OK);
    CHECK_INT(code, 221);
    CHECK_RC(s, smtp_session_set_debuglevel(s, 0), SMTP_OK);
    CHECK_RC(s, smtp_session_set_trace(s, NULL, NULL), SMTP_OK);
    smtp_session_free(s);
    free(r);
}

/* Against the scripted server (the order follows its "c_api" acts). */
static void test_scripted(void)
{
    smtp_session *s = smtp_session_new(SMTP_KIND_SMTP), *l;
    const size_t size = 4 * 1024 * 1024, stall_size = 32 * 1024 * 1024;
    static const char msg[] = "Subject: scripted\r\n\r\nhello\r\n";
    static const char intl_msg[] = "From: j\xc3\xb6s\xc3\xa9@example.com\r\nTo: bob@example.com\r\n\r\nhello\r\n";
    static const char hdr_msg[] = "From: alice@example.com\r\nTo: bob@example.com, refuse@example.com\r\n"
                                  "\r\nhello\r\n";
    const char *to1[] = {"bob@example.com"};
    const char *utf8_opt[] = {"SMTPUTF8"};
    const char *to_gone[] = {"bob@example.com", "gone@example.com", "carol@example.com"};
    const char *to_lmtp[] = {"bob@example.com", "refuse@example.com", "late-fail@example.com"};
    const char *to_lmtp_fail[] = {"late-fail1@example.com", "late-fail2@example.com"};
    unsigned char *big;
    int code = -7, rc, codes[3];
    size_t refused;

    section("scripted server: greetings, odd replies, resets, refusals, LMTP");
    CHECK(s != NULL);
    CHECK(script_port != 0);
    if (s == NULL || script_port == 0) {
        smtp_session_free(s);
        return;
    }
    CHECK_RC(s, smtp_session_set_timeout_ms(s, SMTP_TIMEOUT_IO, 20000), SMTP_OK);

    /* connect: a 554 greeting is returned, not an error. */
    CHECK_RC(s, smtp_session_connect(s, "127.0.0.1", script_port, &code), SMTP_OK);
    CHECK_INT(code, 554);
    CHECK_INT(smtp_session_is_connected(s), 1);
    CHECK_STR(smtp_session_last_reply_text(s), "5.3.2 not now");
    CHECK_RC(s, smtp_session_close(s), SMTP_OK);

    /* open: the same greeting is SMTP_ERR_CONNECT_REPLY, connection closed. */
    code = -7;
    CHECK_RC(s, smtp_session_open(s, "127.0.0.1", script_port, &code), SMTP_ERR_CONNECT_REPLY);
    CHECK_INT(code, 554);
    CHECK_INT(smtp_session_last_reply_code(s), 554);
    CHECK_INT(smtp_session_is_connected(s), 0);

    /* Closed before any greeting. */
    CHECK_RC(s, smtp_session_connect(s, "127.0.0.1", script_port, &code), SMTP_ERR_SERVER_DISCONNECTED);
    CHECK_INT(smtp_session_is_connected(s), 0);

    /* A greeting line over 8192 bytes: code 500, "Line too long.". */
    code = -7;
    CHECK_RC(s, smtp_session_connect(s, "127.0.0.1", script_port, &code), SMTP_ERR_RESPONSE);
    CHECK_INT(code, 500);
    CHECK_INT(smtp_session_last_reply_code(s), 500);
    CHECK_STR(smtp_session_last_reply_text(s), "Line too long.");
    CHECK_INT(smtp_session_is_connected(s), 0);

    /* A NUL in a reply shows as '?'; a reply without a number has code -1. */
    code = -7;
    CHECK_RC(s, smtp_session_connect(s, "127.0.0.1", script_port, &code), SMTP_OK);
    CHECK_INT(code, 220);
    CHECK_STR(smtp_session_last_reply_text(s), "nul?here");
    code = -7;
    CHECK_RC(s, smtp_session_noop(s, &code), SMTP_OK);
    CHECK_INT(code, -1);
    CHECK_INT(smtp_session_last_reply_code(s), -1);
    CHECK_RC(s, smtp_session_close(s), SMTP_OK);

    /* A server that drops the connection on EHLO. */
    CHECK_RC(s, smtp_session_connect(s, "127.0.0.1", script_port, &code), SMTP_OK);
    CHECK_RC(s, smtp_session_ehlo(s, NULL, &code), SMTP_ERR_SERVER_DISCONNECTED);
    CHECK_INT(smtp_session_is_connected(s), 0);
    CHECK_INT(smtp_session_does_esmtp(s), 0);

    /* The server resets the connection while the message is being sent:
     * an error, not SIGPIPE (whose default action would end this program). */
    big = malloc(size);
    CHECK(big != NULL);
    if (big != NULL) {
        memset(big, 'm', size);
        CHECK_RC(s, smtp_session_connect(s, "127.0.0.1", script_port, &code), SMTP_OK);
        CHECK_INT(code, 220);
        rc = smtp_session_data(s, big, size, SMTP_MSG_RAW, &code);
        CHECK(rc == SMTP_ERR_IO || rc == SMTP_ERR_SERVER_DISCONNECTED);
        if (rc != SMTP_ERR_IO && rc != SMTP_ERR_SERVER_DISCONNECTED)
            printf("   (data returned %d: %s)\n", rc, smtp_session_errmsg(s));
        CHECK_INT(smtp_session_is_connected(s), 0);
        free(big);
    }
    /* A server that stops reading during the message: each write of
     * message data is bounded by SMTP_TIMEOUT_DATA_BLOCK (the I/O timeout,
     * 20 s here, would come much later). */
    big = malloc(stall_size);
    CHECK(big != NULL);
    if (big != NULL) {
        double t0, elapsed;
        memset(big, 's', stall_size);
        CHECK_RC(s, smtp_session_set_timeout_ms(s, SMTP_TIMEOUT_DATA_BLOCK, 300), SMTP_OK);
        /* Should every byte fit in the socket buffers after all, the wait
         * for the reply would end this way instead, 1.5 + 5 s later. */
        CHECK_RC(s, smtp_session_set_timeout_ms(s, SMTP_TIMEOUT_FINAL_DOT, 5000), SMTP_OK);
        CHECK_RC(s, smtp_session_connect(s, "127.0.0.1", script_port, &code), SMTP_OK);
        CHECK_INT(code, 220);
        t0 = now_s();
        CHECK_RC(s, smtp_session_data(s, big, stall_size, SMTP_MSG_RAW, &code), SMTP_ERR_TIMEOUT);
        elapsed = now_s() - t0;
        CHECK(elapsed < 6.0);
        CHECK(!contains(smtp_session_errmsg(s), "final dot"));
        if (elapsed >= 6.0 || contains(smtp_session_errmsg(s), "final dot"))
            printf("   (the stalled DATA took %.1f s: %s)\n", elapsed, smtp_session_errmsg(s));
        CHECK_INT(smtp_session_is_connected(s), 0);
        free(big);
    }
    smtp_session_free(s);

    /* sendmail's refusals, on a fresh session. */
    s = smtp_session_new(SMTP_KIND_SMTP);
    CHECK(s != NULL);
    if (s == NULL)
        return;
    CHECK_RC(s, smtp_session_set_timeout_ms(s, SMTP_TIMEOUT_IO, 20000), SMTP_OK);
    CHECK_RC(s, smtp_session_connect(s, "127.0.0.1", script_port, &code), SMTP_OK);
    /* A refused sender: the reply stays the last reply although RSET followed. */
    codes[0] = -1;
    refused = 99;
    CHECK_RC(s, smtp_session_sendmail(s, "refuse-sender@example.com", to1, 1, (const uint8_t *)msg, sizeof msg - 1,
                                      NULL, 0, NULL, 0, SMTP_MSG_NORMALIZE, codes, &refused),
             SMTP_ERR_SENDER_REFUSED);
    CHECK_INT(codes[0], 0);
    CHECK_INT(refused, 0);
    CHECK_INT(smtp_session_last_reply_code(s), 553);
    CHECK_STR(smtp_session_last_reply_text(s), "5.7.1 sender refused");
    CHECK_INT(smtp_session_is_connected(s), 1);
    CHECK_INT(smtp_session_rcpt_count(s), 0);
    /* No SMTPUTF8 offered: refused before anything is sent. */
    CHECK_RC(s, smtp_session_mail(s, "alice@example.com", utf8_opt, 1, &code), SMTP_ERR_NOT_SUPPORTED);
    CHECK_RC(s, smtp_session_sendmail(s, "alice@example.com", to1, 1, (const uint8_t *)msg, sizeof msg - 1, utf8_opt,
                                      1, NULL, 0, SMTP_MSG_NORMALIZE, codes, &refused),
             SMTP_ERR_NOT_SUPPORTED);
    CHECK_INT(codes[0], 0);
    CHECK_RC(s, smtp_session_noop(s, &code), SMTP_OK);
    CHECK_INT(code, 250);
    /* The message refused after the data. */
    codes[0] = -1;
    CHECK_RC(s, smtp_session_sendmail(s, "alice@example.com", to1, 1, (const uint8_t *)msg, sizeof msg - 1, NULL, 0,
                                      NULL, 0, SMTP_MSG_NORMALIZE, codes, &refused),
             SMTP_ERR_DATA);
    CHECK_INT(codes[0], 250);
    CHECK_INT(smtp_session_last_reply_code(s), 554);
    CHECK_INT(smtp_session_is_connected(s), 1);
    /* The RCPT reply's status code, the server offering ENHANCEDSTATUSCODES;
     * SMTP has no reply per recipient after the data. */
    CHECK_STR(smtp_session_rcpt_status(s, 0), "2.1.5");
    CHECK(smtp_session_rcpt_data_status(s, 0) == NULL);
    CHECK(smtp_session_rcpt_status(s, 1) == NULL);
    /* send_message with a non-ASCII address: this server offers no
     * SMTPUTF8, so nothing is sent. */
    refused = 99;
    CHECK_RC(s, smtp_session_send_message(s, (const uint8_t *)intl_msg, sizeof intl_msg - 1, NULL, NULL, 0, NULL, 0,
                                          NULL, 0, SMTP_MSG_NORMALIZE, &refused),
             SMTP_ERR_NOT_SUPPORTED);
    CHECK(contains(smtp_session_errmsg(s), "SMTPUTF8"));
    CHECK_INT(refused, 0);
    CHECK_INT(smtp_session_rcpt_count(s), 0);
    CHECK_RC(s, smtp_session_noop(s, &code), SMTP_OK);
    CHECK_INT(code, 250);
    /* An ASCII message goes (and is refused after the data, as this server
     * does): the address parsing and the refusal both reach the caller. */
    refused = 99;
    CHECK_RC(s, smtp_session_send_message(s, (const uint8_t *)hdr_msg, sizeof hdr_msg - 1, NULL, NULL, 0, NULL, 0,
                                          NULL, 0, SMTP_MSG_NORMALIZE, &refused),
             SMTP_ERR_DATA);
    CHECK_INT(refused, 1);
    CHECK_INT(smtp_session_rcpt_count(s), 2);
    CHECK_STR(smtp_session_rcpt_addr(s, 0), "bob@example.com");
    CHECK_STR(smtp_session_rcpt_addr(s, 1), "refuse@example.com");
    CHECK_STR(smtp_session_rcpt_status(s, 1), "5.1.1");
    CHECK_INT(smtp_session_last_reply_code(s), 554);
    test_auth(s);
    /* 421 during RCPT: SMTP_ERR_RECIPIENTS_REFUSED, the connection closed. */
    codes[0] = codes[1] = codes[2] = -1;
    CHECK_RC(s, smtp_session_sendmail(s, "alice@example.com", to_gone, 3, (const uint8_t *)msg, sizeof msg - 1, NULL,
                                      0, NULL, 0, SMTP_MSG_NORMALIZE, codes, &refused),
             SMTP_ERR_RECIPIENTS_REFUSED);
    CHECK_INT(codes[0], 250);
    CHECK_INT(codes[1], 421);
    CHECK_INT(codes[2], 0); /* never sent */
    CHECK_INT(refused, 1);
    CHECK_INT(smtp_session_rcpt_count(s), 2);
    CHECK_INT(smtp_session_is_connected(s), 0);
    smtp_session_free(s);

    /* LMTP: one reply per accepted recipient after the data. */
    l = smtp_session_new(SMTP_KIND_LMTP);
    CHECK(l != NULL);
    if (l == NULL)
        return;
    CHECK_RC(l, smtp_session_set_timeout_ms(l, SMTP_TIMEOUT_IO, 20000), SMTP_OK);
    CHECK_RC(l, smtp_session_connect(l, "127.0.0.1", script_port, &code), SMTP_OK);
    CHECK_RC(l, smtp_session_ehlo(l, "lmtp.example", &code), SMTP_OK);
    CHECK_INT(code, 250);
    CHECK_INT(smtp_session_does_esmtp(l), 1);
    codes[0] = codes[1] = codes[2] = -1;
    refused = 99;
    CHECK_RC(l, smtp_session_sendmail(l, "alice@example.com", to_lmtp, 3, (const uint8_t *)msg, sizeof msg - 1, NULL,
                                      0, NULL, 0, SMTP_MSG_NORMALIZE, codes, &refused),
             SMTP_OK);
    CHECK_INT(codes[0], 250);
    CHECK_INT(codes[1], 550);
    CHECK_INT(codes[2], 452);
    CHECK_INT(refused, 2);
    CHECK_INT(smtp_session_rcpt_count(l), 3);
    CHECK_INT(smtp_session_rcpt_code(l, 0), 250);
    CHECK_INT(smtp_session_rcpt_code(l, 1), 550);
    CHECK_INT(smtp_session_rcpt_code(l, 2), 250);
    CHECK_INT(smtp_session_rcpt_data_code(l, 0), 250);
    CHECK_INT(smtp_session_rcpt_data_code(l, 1), 0); /* refused at RCPT */
    CHECK_INT(smtp_session_rcpt_data_code(l, 2), 452);
    CHECK_STR(smtp_session_rcpt_data_text(l, 0), "2.0.0 delivered");
    CHECK_STR(smtp_session_rcpt_data_text(l, 1), "");
    CHECK_STR(smtp_session_rcpt_data_text(l, 2), "4.2.2 mailbox full");
    CHECK_INT(smtp_session_rcpt_refused(l, 0), 0);
    CHECK_INT(smtp_session_rcpt_refused(l, 1), 1);
    CHECK_INT(smtp_session_rcpt_refused(l, 2), 1);
    CHECK_INT(smtp_session_rcpt_data_code(l, 3), 0);
    CHECK(smtp_session_rcpt_data_text(l, 3) == NULL);
    /* RFC 3463 status codes (the server offers ENHANCEDSTATUSCODES): at
     * RCPT, and after the data for those accepted at RCPT. */
    CHECK_STR(smtp_session_rcpt_status(l, 0), "2.1.5");
    CHECK_STR(smtp_session_rcpt_status(l, 1), "5.1.1");
    CHECK_STR(smtp_session_rcpt_status(l, 2), "2.1.5");
    CHECK_STR(smtp_session_rcpt_data_status(l, 0), "2.0.0");
    CHECK(smtp_session_rcpt_data_status(l, 1) == NULL); /* refused at RCPT: no reply after the data */
    CHECK_STR(smtp_session_rcpt_data_status(l, 2), "4.2.2");
    CHECK(smtp_session_rcpt_status(l, 3) == NULL);
    /* The same in one record per recipient; the deciding reply is the one
     * after the data for those accepted at RCPT. */
    {
        smtp_rcpt_info info;
        memset(&info, 0, sizeof info);
        CHECK_RC(l, smtp_session_rcpt_info(l, 0, &info), SMTP_OK);
        CHECK_STR(info.addr, to_lmtp[0]);
        CHECK_INT(info.refused, 0);
        CHECK_INT(info.code, 250);
        CHECK_STR(info.status, "2.1.5");
        CHECK_INT(info.data_code, 250);
        CHECK_STR(info.data_text, "2.0.0 delivered");
        CHECK_INT(info.final_code, 250);
        CHECK_STR(info.final_status, "2.0.0");
        CHECK_RC(l, smtp_session_rcpt_info(l, 1, &info), SMTP_OK);
        CHECK_INT(info.refused, 1);
        CHECK_INT(info.code, 550);
        CHECK_INT(info.data_code, 0);
        CHECK(info.data_status == NULL);
        CHECK_INT(info.final_code, 550);
        CHECK_STR(info.final_status, "5.1.1");
        CHECK(info.final_text == info.text);
        CHECK_RC(l, smtp_session_rcpt_info(l, 2, &info), SMTP_OK);
        CHECK_INT(info.refused, 1);
        CHECK_INT(info.code, 250);
        CHECK_INT(info.final_code, 452);
        CHECK_STR(info.final_text, "4.2.2 mailbox full");
        CHECK_STR(info.final_status, "4.2.2");
        info.code = -7;
        CHECK_INT(smtp_session_rcpt_info(l, 3, &info), SMTP_ERR_INVALID_ARGUMENT);
        CHECK_INT(info.code, -7); /* left alone */
        CHECK_INT(smtp_session_rcpt_info(l, 0, NULL), SMTP_ERR_NULL_ARGUMENT);
        CHECK_INT(smtp_session_rcpt_info(NULL, 0, &info), SMTP_ERR_NULL_ARGUMENT);
        CHECK_STR(smtp_session_sender(l), "alice@example.com");
    }
    CHECK(smtp_session_rcpt_data_status(l, 3) == NULL);
    /* Every recipient refused after the data: SMTP_ERR_DATA. */
    codes[0] = codes[1] = -1;
    CHECK_RC(l, smtp_session_sendmail(l, "alice@example.com", to_lmtp_fail, 2, (const uint8_t *)msg, sizeof msg - 1,
                                      NULL, 0, NULL, 0, SMTP_MSG_NORMALIZE, codes, &refused),
             SMTP_ERR_DATA);
    CHECK_INT(codes[0], 452);
    CHECK_INT(codes[1], 452);
    CHECK_INT(refused, 2);
    /* By hand: data's *code is the first failure. */
    CHECK_RC(l, smtp_session_mail(l, "alice@example.com", NULL, 0, &code), SMTP_OK);
    CHECK_RC(l, smtp_session_rcpt(l, "bob@example.com", NULL, 0, &code), SMTP_OK);
    CHECK_RC(l, smtp_session_rcpt(l, "late-fail@example.com", NULL, 0, &code), SMTP_OK);
    code = -7;
    CHECK_RC(l, smtp_session_data(l, (const uint8_t *)msg, sizeof msg - 1, SMTP_MSG_NORMALIZE, &code), SMTP_OK);
    CHECK_INT(code, 452);
    CHECK_INT(smtp_session_rcpt_data_code(l, 0), 250);
    CHECK_INT(smtp_session_rcpt_data_code(l, 1), 452);
    code = -7;
    CHECK_RC(l, smtp_session_quit(l, &code), SMTP_OK);
    CHECK_INT(code, 221);

    /* LMTP over a Unix-domain socket (a host starting with '/'). */
    if (unix_path[0]) {
        CHECK_RC(l, smtp_session_connect(l, unix_path, 0, &code), SMTP_OK);
        CHECK_INT(code, 220);
        CHECK_INT(smtp_session_is_connected(l), 1);
        codes[0] = -1;
        CHECK_RC(l, smtp_session_sendmail(l, "alice@example.com", to1, 1, (const uint8_t *)msg, sizeof msg - 1, NULL,
                                          0, NULL, 0, SMTP_MSG_NORMALIZE, codes, &refused),
                 SMTP_OK);
        CHECK_INT(codes[0], 250);
        CHECK_INT(refused, 0);
        CHECK_INT(smtp_session_does_esmtp(l), 1); /* LHLO went first */
        CHECK_INT(smtp_session_rcpt_data_code(l, 0), 250);
        /* A Unix socket counts as protected: PLAIN is allowed, with
         * loopback untrusted too (that concerns TCP only). */
        CHECK_RC(l, smtp_session_auth_builtin(l, "PLAIN", "user", "pass", 0), SMTP_OK);
        CHECK_RC(l, smtp_session_set_trust_loopback(l, 0), SMTP_OK);
        CHECK_RC(l, smtp_session_auth_builtin(l, "PLAIN", "user", "pass", 0), SMTP_OK);
        CHECK_RC(l, smtp_session_auth_builtin(l, "LOGIN", "user", "pass", 0), SMTP_OK);
        CHECK_RC(l, smtp_session_quit(l, &code), SMTP_OK);
        CHECK_INT(code, 221);
    }
    smtp_session_free(l);
}

/* ------------------------------------------- messages, envelopes, SIZE, TLS */

/* The server given by `srv`'s option; a failure when it was not given (its
 * tests cannot run, which must not pass quietly). */
static int have(const struct server *srv)
{
    if (!srv->given)
        printf("   (%s was not given: its tests cannot run)\n", srv->option);
    check(srv->given, srv->option, __FILE__, __LINE__);
    return srv->given;
}

/* A new session of `kind` (with `config` when not NULL), traced into `r` at
 * debug level 1, connected to `hp`; NULL when that failed (a failure). */
static smtp_session *traced_session(int kind, const char *hp, struct rec *r, const smtp_tls_config *config)
{
    smtp_session *s = smtp_session_new(kind);
    int code = -7;
    CHECK(s != NULL);
    if (s == NULL)
        return NULL;
    r->session = s;
    rec_clear(r);
    CHECK_RC(s, smtp_session_set_timeout_ms(s, SMTP_TIMEOUT_IO, 20000), SMTP_OK);
    CHECK_RC(s, smtp_session_set_local_hostname(s, "client.example"), SMTP_OK);
    CHECK_RC(s, smtp_session_set_debuglevel(s, 1), SMTP_OK);
    CHECK_RC(s, smtp_session_set_trace(s, rec_cb, r), SMTP_OK);
    if (config != NULL)
        CHECK_RC(s, smtp_session_set_tls_config(s, config), SMTP_OK);
    CHECK_RC(s, smtp_session_connect(s, hp, 0, &code), SMTP_OK);
    CHECK_INT(code, 220);
    if (code != 220) {
        smtp_session_free(s);
        return NULL;
    }
    return s;
}

/* The client sent a MAIL command since the recorder was cleared. */
static int sent_mail(const struct rec *r)
{
    return rec_has(r, SMTP_TRACE_SEND, "mail from:");
}

/* Message n's JSON in `dir` contains `needle` iff `want`. */
static void json_check(const char *dir, int n, const char *needle, int want, const char *file, int line)
{
    char *json = dir_json(dir, n);
    int ok = json != NULL && contains(json, needle) == want;
    if (!ok)
        printf("   (%s/%04d.json: %s; want %s%s)\n", dir, n, json ? json : "(missing)", want ? "" : "no ", needle);
    check(ok, needle, file, line);
    free(json);
}
#define JSON_HAS(dir, n, needle) json_check((dir), (n), (needle), 1, __FILE__, __LINE__)
#define JSON_LACKS(dir, n, needle) json_check((dir), (n), (needle), 0, __FILE__, __LINE__)

/* The envelope setters alone: valid values kept, invalid ones refused
 * (and, as test_dsn shows on the wire, the previous value kept). */
static void test_envelope_args(void)
{
    smtp_envelope *e = smtp_envelope_new();
    smtp_session *s;
    char envid[128];

    section("envelope setters");
    CHECK(e != NULL);
    if (e == NULL)
        return;
    /* NULL envelope. */
    CHECK_RC(NULL, smtp_envelope_set_dsn_ret(NULL, SMTP_DSN_RET_FULL), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_envelope_set_dsn_envid(NULL, "QQ314159"), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_envelope_set_dsn_notify(NULL, SMTP_DSN_NOTIFY_FAILURE), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_envelope_set_rcpt_dsn(NULL, "bob@example.com", SMTP_DSN_NOTIFY_NEVER, NULL),
             SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_envelope_set_smtputf8(NULL, 1), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_envelope_set_body(NULL, SMTP_BODY_8BITMIME), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_envelope_set_requiretls(NULL, 1), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_envelope_set_mt_priority(NULL, 1), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_envelope_set_deliver_by(NULL, 60, 0, 0), SMTP_ERR_NULL_ARGUMENT);

    /* RET. */
    CHECK_RC(NULL, smtp_envelope_set_dsn_ret(e, SMTP_DSN_RET_FULL), SMTP_OK);
    CHECK_RC(NULL, smtp_envelope_set_dsn_ret(e, SMTP_DSN_RET_HDRS), SMTP_OK);
    CHECK_STR(smtp_envelope_errmsg(e), "no error");
    CHECK_RC(NULL, smtp_envelope_set_dsn_ret(e, 0), SMTP_ERR_INVALID_ARGUMENT);
    /* The refusal in words, kept until the envelope's next call. */
    CHECK(contains_ci(smtp_envelope_errmsg(e), "RET"));
    CHECK(strcmp(smtp_envelope_errmsg(NULL), "envelope is NULL") == 0);
    CHECK_RC(NULL, smtp_envelope_set_dsn_ret(e, 3), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(NULL, smtp_envelope_set_dsn_ret(e, -1), SMTP_ERR_INVALID_ARGUMENT);
    /* ENVID: 1 to 100 characters, valid UTF-8. */
    CHECK_RC(NULL, smtp_envelope_set_dsn_envid(e, NULL), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_envelope_set_dsn_envid(e, ""), SMTP_ERR_INVALID_ARGUMENT);
    memset(envid, 'e', sizeof envid);
    envid[100] = 0;
    CHECK_RC(NULL, smtp_envelope_set_dsn_envid(e, envid), SMTP_OK);
    envid[100] = 'e';
    envid[101] = 0;
    CHECK_RC(NULL, smtp_envelope_set_dsn_envid(e, envid), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(NULL, smtp_envelope_set_dsn_envid(e, "bad\xff"), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(NULL, smtp_envelope_set_dsn_envid(e, "a"), SMTP_OK);
    CHECK_RC(NULL, smtp_envelope_set_dsn_envid(e, "with space+plus=equals"), SMTP_OK); /* xtext-encoded */
    /* NOTIFY: bits, NEVER alone. */
    CHECK_RC(NULL,
             smtp_envelope_set_dsn_notify(e, SMTP_DSN_NOTIFY_SUCCESS | SMTP_DSN_NOTIFY_FAILURE | SMTP_DSN_NOTIFY_DELAY),
             SMTP_OK);
    CHECK_RC(NULL, smtp_envelope_set_dsn_notify(e, SMTP_DSN_NOTIFY_NEVER), SMTP_OK);
    CHECK_RC(NULL, smtp_envelope_set_dsn_notify(e, 0), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(NULL, smtp_envelope_set_dsn_notify(e, SMTP_DSN_NOTIFY_NEVER | SMTP_DSN_NOTIFY_SUCCESS),
             SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(NULL, smtp_envelope_set_dsn_notify(e, 16), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(NULL, smtp_envelope_set_dsn_notify(e, 0xffffffffu), SMTP_ERR_INVALID_ARGUMENT);
    /* Per recipient. */
    CHECK_RC(NULL, smtp_envelope_set_rcpt_dsn(e, NULL, SMTP_DSN_NOTIFY_NEVER, NULL), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_envelope_set_rcpt_dsn(e, "bob@example.com", 0, NULL), SMTP_OK);
    CHECK_RC(NULL, smtp_envelope_set_rcpt_dsn(e, "bob@example.com", SMTP_DSN_NOTIFY_DELAY, "bob@example.org"),
             SMTP_OK);
    CHECK_RC(NULL, smtp_envelope_set_rcpt_dsn(e, "bob@example.com", 16, NULL), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(NULL,
             smtp_envelope_set_rcpt_dsn(e, "bob@example.com", SMTP_DSN_NOTIFY_NEVER | SMTP_DSN_NOTIFY_DELAY, NULL),
             SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(NULL, smtp_envelope_set_rcpt_dsn(e, "b\xff@example.com", SMTP_DSN_NOTIFY_NEVER, NULL),
             SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(NULL, smtp_envelope_set_rcpt_dsn(e, "bob@example.com", SMTP_DSN_NOTIFY_NEVER, "b\xff@example.org"),
             SMTP_ERR_INVALID_ARGUMENT);
    /* SMTPUTF8, REQUIRETLS: on or off. */
    CHECK_RC(NULL, smtp_envelope_set_smtputf8(e, 1), SMTP_OK);
    CHECK_RC(NULL, smtp_envelope_set_smtputf8(e, 0), SMTP_OK);
    CHECK_RC(NULL, smtp_envelope_set_requiretls(e, 1), SMTP_OK);
    CHECK_RC(NULL, smtp_envelope_set_requiretls(e, 0), SMTP_OK);
    /* BODY. */
    CHECK_RC(NULL, smtp_envelope_set_body(e, SMTP_BODY_7BIT), SMTP_OK);
    CHECK_RC(NULL, smtp_envelope_set_body(e, SMTP_BODY_8BITMIME), SMTP_OK);
    CHECK_RC(NULL, smtp_envelope_set_body(e, SMTP_BODY_BINARYMIME), SMTP_OK);
    CHECK_RC(NULL, smtp_envelope_set_body(e, 0), SMTP_OK);
    CHECK_RC(NULL, smtp_envelope_set_body(e, 4), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(NULL, smtp_envelope_set_body(e, -1), SMTP_ERR_INVALID_ARGUMENT);
    /* MT-PRIORITY: -9 to 9. */
    CHECK_RC(NULL, smtp_envelope_set_mt_priority(e, -9), SMTP_OK);
    CHECK_RC(NULL, smtp_envelope_set_mt_priority(e, 0), SMTP_OK);
    CHECK_RC(NULL, smtp_envelope_set_mt_priority(e, 9), SMTP_OK);
    CHECK_RC(NULL, smtp_envelope_set_mt_priority(e, 10), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(NULL, smtp_envelope_set_mt_priority(e, -10), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(NULL, smtp_envelope_set_mt_priority(e, INT32_MIN), SMTP_ERR_INVALID_ARGUMENT);
    /* DELIVERBY: return mode needs a time above 0; notify mode takes any. */
    CHECK_RC(NULL, smtp_envelope_set_deliver_by(e, 3600, 0, 0), SMTP_OK);
    CHECK_RC(NULL, smtp_envelope_set_deliver_by(e, 1, 0, 1), SMTP_OK);
    CHECK_RC(NULL, smtp_envelope_set_deliver_by(e, 0, 0, 0), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(NULL, smtp_envelope_set_deliver_by(e, -60, 0, 1), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(NULL, smtp_envelope_set_deliver_by(e, 0, 1, 0), SMTP_OK);
    CHECK_RC(NULL, smtp_envelope_set_deliver_by(e, -60, 1, 1), SMTP_OK);

    /* Handed to a session (unconnected: nothing is checked against a
     * server yet), and freed: the session keeps its copy. */
    s = smtp_session_new(SMTP_KIND_SMTP);
    CHECK(s != NULL);
    if (s != NULL) {
        CHECK_RC(s, smtp_session_set_envelope(s, e), SMTP_OK);
        CHECK_STR(smtp_session_errmsg(s), "no error");
        smtp_envelope_free(e);
        e = NULL;
        CHECK_RC(s, smtp_session_set_envelope(s, NULL), SMTP_OK);
        smtp_session_free(s);
    }
    smtp_envelope_free(e);
}

/* send_message against the sink: the envelope from the headers, Bcc
 * removed, the line-ending policies. */
static void test_send_message(void)
{
    static const char msg[] = "From: Alice <alice@example.com>\r\n"
                              "To: Bob <bob@example.com>\r\n"
                              "Bcc: dave@example.com,\r\n"
                              " refuse-bcc@example.com\r\n"
                              "Cc: \"Carol, C.\" <carol@example.com> (a comment)\r\n"
                              "Subject: send_message\r\n"
                              "\r\n"
                              "Bcc: in the body, kept\r\n"
                              ".a dot\r\n";
    static const char msg_sent[] = "From: Alice <alice@example.com>\r\n"
                                   "To: Bob <bob@example.com>\r\n"
                                   "Cc: \"Carol, C.\" <carol@example.com> (a comment)\r\n"
                                   "Subject: send_message\r\n"
                                   "\r\n"
                                   "Bcc: in the body, kept\r\n"
                                   ".a dot\r\n";
    static const char sender[] = "From: a@example.com, b@example.com\r\n"
                                 "Sender: secretary@example.com\r\n"
                                 "To: bob@example.com\r\n"
                                 "Subject: Sender\r\n"
                                 "\r\n"
                                 "body\r\n";
    static const char resent[] = "From: alice@example.com\r\n"
                                 "To: bob@example.com\r\n"
                                 "Subject: resent\r\n"
                                 "Resent-Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
                                 "Resent-From: forwarder@example.com\r\n"
                                 "Resent-To: carol@example.com\r\n"
                                 "Resent-Bcc: dave@example.com\r\n"
                                 "\r\n"
                                 "body\r\n";
    static const char resent_sent[] = "From: alice@example.com\r\n"
                                      "To: bob@example.com\r\n"
                                      "Subject: resent\r\n"
                                      "Resent-Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
                                      "Resent-From: forwarder@example.com\r\n"
                                      "Resent-To: carol@example.com\r\n"
                                      "\r\n"
                                      "body\r\n";
    static const char intl[] = "From: j\xc3\xb6s\xc3\xa9@example.com\r\n"
                               "To: b\xc3\xb8"
                               "b@example.com\r\n"
                               "Subject: intl\r\n"
                               "\r\n"
                               "hello\r\n";
    static const char strict[] = "From: alice@example.com\r\nTo: bob@example.com\r\nSubject: strict\r\n\r\nline\r\n";
    static const char bad_to[] = "From: alice@example.com\r\nTo: <bob@example.com\r\n\r\nnever sent\r\n";
    static const char bare[] = "From: alice@example.com\r\nTo: bob@example.com\r\nSubject: bare\r\n\r\nbare\nLF\r\n";
    static const char bare_normalized[] = "From: alice@example.com\r\nTo: bob@example.com\r\nSubject: bare\r\n\r\n"
                                          "bare\r\nLF\r\n";
    static const char bare_cr[] = "From: alice@example.com\r\nTo: bob@example.com\r\nSubject: cr\r\n\r\nbare\rCR\r\n";
    const char *over_to[] = {"carol@example.com", "refuse-x@example.com"};
    const char *opts[] = {"BODY=8BITMIME"};
    struct rec *r = calloc(1, sizeof *r);
    smtp_session *s;
    size_t refused;
    int n0 = sink_count();
    char want[128];

    section("send_message");
    CHECK(r != NULL);
    if (r == NULL)
        return;
    s = traced_session(SMTP_KIND_SMTP, hostport, r, NULL);
    if (s == NULL) {
        free(r);
        return;
    }

    /* The envelope from From, To, Bcc and Cc (in that order); the Bcc field,
     * folded over two lines, is not sent; everything else is, as given. */
    refused = 99;
    CHECK_RC(s, smtp_session_send_message(s, (const uint8_t *)msg, sizeof msg - 1, NULL, NULL, 0, NULL, 0, NULL, 0,
                                          SMTP_MSG_NORMALIZE, &refused),
             SMTP_OK);
    CHECK_INT(refused, 1);
    CHECK_INT(smtp_session_rcpt_count(s), 4);
    CHECK_STR(smtp_session_rcpt_addr(s, 0), "bob@example.com");
    CHECK_STR(smtp_session_rcpt_addr(s, 1), "dave@example.com");
    CHECK_STR(smtp_session_rcpt_addr(s, 2), "refuse-bcc@example.com");
    CHECK_STR(smtp_session_rcpt_addr(s, 3), "carol@example.com");
    CHECK_INT(smtp_session_rcpt_code(s, 2), 550);
    CHECK_INT(smtp_session_rcpt_refused(s, 2), 1);
    CHECK_INT(smtp_session_rcpt_refused(s, 3), 0);
    /* aiosmtpd answers "250 2.1.5 OK" but offers no ENHANCEDSTATUSCODES:
     * no status code is read from it. */
    CHECK(contains(smtp_session_rcpt_text(s, 0), "2.1.5"));
    CHECK(smtp_session_rcpt_status(s, 0) == NULL);
    CHECK(smtp_session_rcpt_data_status(s, 0) == NULL);
    CHECK(rec_has(r, SMTP_TRACE_SEND, "mail from:<alice@example.com>"));
    CHECK_INT(sink_count(), n0 + 1);
    CHECK(sink_eml_equals(n0 + 1, msg_sent, sizeof msg_sent - 1));
    JSON_HAS(sink_dir, n0 + 1, "\"mail_from\": \"alice@example.com\"");
    JSON_HAS(sink_dir, n0 + 1, "\"rcpt_tos\": [\"bob@example.com\", \"dave@example.com\", \"carol@example.com\"]");
    /* SIZE= counts what is sent, without the Bcc field. */
    snprintf(want, sizeof want, "\"SIZE=%zu\"", sizeof msg_sent - 1);
    JSON_HAS(sink_dir, n0 + 1, want);
    /* A call refused before MAIL describes itself, not the transaction
     * before it (which had a refused recipient): refused_count 0 and no
     * per-recipient results, as for sendmail ("filled on every return"). */
    refused = 99;
    CHECK_RC(s, smtp_session_sendmail(s, "alice@example.com\r\n", over_to, 1, (const uint8_t *)strict,
                                      sizeof strict - 1, NULL, 0, NULL, 0, SMTP_MSG_NORMALIZE, NULL, &refused),
             SMTP_ERR_INVALID_ARGUMENT);
    CHECK_INT(refused, 0);
    CHECK_INT(smtp_session_rcpt_count(s), 0);
    CHECK_RC(s, smtp_session_send_message(s, (const uint8_t *)msg, sizeof msg - 1, NULL, over_to, 2, NULL, 0, NULL,
                                          0, SMTP_MSG_NORMALIZE, &refused),
             SMTP_OK);
    CHECK_INT(refused, 1); /* refuse-x */
    CHECK_INT(smtp_session_rcpt_count(s), 2);
    refused = 99;
    CHECK_RC(s, smtp_session_send_message(s, (const uint8_t *)bad_to, sizeof bad_to - 1, NULL, NULL, 0, NULL, 0, NULL,
                                          0, SMTP_MSG_NORMALIZE, &refused),
             SMTP_ERR_INVALID_ARGUMENT);
    CHECK_INT(refused, 0);
    CHECK_INT(smtp_session_rcpt_count(s), 0);
    CHECK(smtp_session_rcpt_addr(s, 0) == NULL);
    n0++; /* the message sent in between */

    /* Sender comes before From. */
    CHECK_RC(s, smtp_session_send_message(s, (const uint8_t *)sender, sizeof sender - 1, NULL, NULL, 0, NULL, 0, NULL,
                                          0, SMTP_MSG_NORMALIZE, &refused),
             SMTP_OK);
    CHECK_INT(refused, 0);
    CHECK(sink_eml_equals(n0 + 2, sender, sizeof sender - 1));
    JSON_HAS(sink_dir, n0 + 2, "\"mail_from\": \"secretary@example.com\"");
    JSON_HAS(sink_dir, n0 + 2, "\"rcpt_tos\": [\"bob@example.com\"]");
    /* The sender send_message chose, as smtplib's SMTPSenderRefused has it. */
    CHECK_STR(smtp_session_sender(s), "secretary@example.com");

    /* An envelope given replaces the headers' (Bcc is still not sent), with
     * the caller's MAIL options. */
    refused = 99;
    CHECK_RC(s, smtp_session_send_message(s, (const uint8_t *)msg, sizeof msg - 1, "override@example.com", over_to, 2,
                                          opts, 1, NULL, 0, SMTP_MSG_NORMALIZE, &refused),
             SMTP_OK);
    CHECK_INT(refused, 1);
    CHECK_INT(smtp_session_rcpt_count(s), 2);
    CHECK(sink_eml_equals(n0 + 3, msg_sent, sizeof msg_sent - 1));
    JSON_HAS(sink_dir, n0 + 3, "\"mail_from\": \"override@example.com\"");
    JSON_HAS(sink_dir, n0 + 3, "\"rcpt_tos\": [\"carol@example.com\"]");
    JSON_HAS(sink_dir, n0 + 3, "\"BODY=8BITMIME\"");

    /* One Resent- block: its fields make the envelope; Resent-Bcc is not sent. */
    CHECK_RC(s, smtp_session_send_message(s, (const uint8_t *)resent, sizeof resent - 1, NULL, NULL, 0, NULL, 0, NULL,
                                          0, SMTP_MSG_NORMALIZE, NULL),
             SMTP_OK);
    CHECK(sink_eml_equals(n0 + 4, resent_sent, sizeof resent_sent - 1));
    JSON_HAS(sink_dir, n0 + 4, "\"mail_from\": \"forwarder@example.com\"");
    JSON_HAS(sink_dir, n0 + 4, "\"rcpt_tos\": [\"carol@example.com\", \"dave@example.com\"]");

    /* Non-ASCII addresses: SMTPUTF8 and BODY=8BITMIME (the sink offers SMTPUTF8). */
    CHECK_RC(s, smtp_session_send_message(s, (const uint8_t *)intl, sizeof intl - 1, NULL, NULL, 0, NULL, 0, NULL, 0,
                                          SMTP_MSG_NORMALIZE, &refused),
             SMTP_OK);
    CHECK(sink_eml_equals(n0 + 5, intl, sizeof intl - 1));
    JSON_HAS(sink_dir, n0 + 5, "\"mail_from\": \"j\xc3\xb6s\xc3\xa9@example.com\"");
    JSON_HAS(sink_dir, n0 + 5, "\"SMTPUTF8\"");
    JSON_HAS(sink_dir, n0 + 5, "\"BODY=8BITMIME\"");
    CHECK_RC(s, smtp_session_rset(s, NULL), SMTP_OK);

    /* Line endings: SMTP_MSG_REJECT_BARE_EOL sends a CRLF-only message as
     * given and refuses a lone LF or CR with nothing sent. */
    CHECK_RC(s, smtp_session_send_message(s, (const uint8_t *)strict, sizeof strict - 1, NULL, NULL, 0, NULL, 0, NULL,
                                          0, SMTP_MSG_REJECT_BARE_EOL, &refused),
             SMTP_OK);
    CHECK(sink_eml_equals(n0 + 6, strict, sizeof strict - 1));
    rec_clear(r);
    refused = 99;
    CHECK_RC(s, smtp_session_send_message(s, (const uint8_t *)bare, sizeof bare - 1, NULL, NULL, 0, NULL, 0, NULL, 0,
                                          SMTP_MSG_REJECT_BARE_EOL, &refused),
             SMTP_ERR_INVALID_ARGUMENT);
    CHECK(contains_ci(smtp_session_errmsg(s), "lone"));
    CHECK_INT(refused, 0);
    CHECK_RC(s, smtp_session_send_message(s, (const uint8_t *)bare_cr, sizeof bare_cr - 1, NULL, NULL, 0, NULL, 0,
                                          NULL, 0, SMTP_MSG_REJECT_BARE_EOL, &refused),
             SMTP_ERR_INVALID_ARGUMENT);
    CHECK(!sent_mail(r));
    CHECK_INT(sink_count(), n0 + 6);
    /* The same with the other policies: normalised, or as given. */
    CHECK_RC(s, smtp_session_send_message(s, (const uint8_t *)bare, sizeof bare - 1, NULL, NULL, 0, NULL, 0, NULL, 0,
                                          SMTP_MSG_NORMALIZE, &refused),
             SMTP_OK);
    CHECK(sink_eml_equals(n0 + 7, bare_normalized, sizeof bare_normalized - 1));
    CHECK_RC(s, smtp_session_send_message(s, (const uint8_t *)bare, sizeof bare - 1, NULL, NULL, 0, NULL, 0, NULL, 0,
                                          SMTP_MSG_RAW, &refused),
             SMTP_OK);
    CHECK(sink_eml_equals(n0 + 8, bare, sizeof bare - 1));
    /* sendmail under the same policy. */
    rec_clear(r);
    CHECK_RC(s, smtp_session_sendmail(s, "alice@example.com", over_to, 1, (const uint8_t *)bare, sizeof bare - 1,
                                      NULL, 0, NULL, 0, SMTP_MSG_REJECT_BARE_EOL, NULL, &refused),
             SMTP_ERR_INVALID_ARGUMENT);
    CHECK(!sent_mail(r));
    CHECK_RC(s, smtp_session_sendmail(s, "alice@example.com", over_to, 1, (const uint8_t *)strict, sizeof strict - 1,
                                      NULL, 0, NULL, 0, SMTP_MSG_REJECT_BARE_EOL, NULL, &refused),
             SMTP_OK);
    CHECK(sink_eml_equals(n0 + 9, strict, sizeof strict - 1));
    CHECK_INT(sink_count(), n0 + 9);

    CHECK_RC(s, smtp_session_quit(s, NULL), SMTP_OK);
    smtp_session_free(s);
    free(r);
}

/* A message handed out in pieces to smtp_session_sendmail_stream(). */
struct feed {
    const unsigned char *data;
    size_t len, pos;
    size_t piece;        /* at most this many bytes a call (0: as many as fit) */
    size_t fail_after;   /* return -1 once this many bytes are out (0: never) */
    int calls;
    size_t min_cap;
    smtp_session *session; /* re-entrancy probe: NULL for none */
    int reenter_rc;
};

static void feed_init(struct feed *f, const void *data, size_t len, size_t piece)
{
    memset(f, 0, sizeof *f);
    f->data = data;
    f->len = len;
    f->piece = piece;
    f->min_cap = (size_t)-1;
    f->reenter_rc = -7;
}

static ptrdiff_t feed_cb(void *userdata, uint8_t *buf, size_t cap)
{
    struct feed *f = userdata;
    size_t n = f->len - f->pos;
    f->calls++;
    if (cap < f->min_cap)
        f->min_cap = cap;
    if (f->session != NULL) {
        f->reenter_rc = smtp_session_noop(f->session, NULL);
        f->session = NULL;
    }
    if (f->fail_after != 0 && f->pos >= f->fail_after)
        return -1;
    if (n > cap)
        n = cap;
    if (f->piece != 0 && n > f->piece)
        n = f->piece;
    memcpy(buf, f->data + f->pos, n);
    f->pos += n;
    return (ptrdiff_t)n;
}

/* sendmail_stream against the sink: the message read in pieces. */
/* smtp_session_sendmail_fd: a message read from a pipe written by a thread
 * (as a binding's event loop would), and one whose read fails. */
struct pipe_writer {
    int fd;
    const unsigned char *p;
    size_t len;
};

static void *write_and_close(void *arg)
{
    struct pipe_writer *w = arg;
    size_t off = 0;
    while (off < w->len) {
        ssize_t n = write(w->fd, w->p + off, w->len - off);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    close(w->fd);
    return NULL;
}

static void test_read_fd(void)
{
    const char *to[] = {"bob@example.com"};
    const size_t len = 200 * 1024;
    unsigned char *msg = malloc(len);
    struct rec *r = calloc(1, sizeof *r);
    struct pipe_writer w;
    pthread_t t;
    smtp_session *s = NULL;
    int fds[2], n0 = sink_count(), codes[1];
    size_t i, refused = 99;

    section("smtp_session_sendmail_fd");
    CHECK(msg != NULL && r != NULL);
    if (msg == NULL || r == NULL)
        goto out;
    memcpy(msg, "Subject: fd\r\n\r\n", 16);
    for (i = 16; i < len; i++)
        msg[i] = (unsigned char)(i % 50 == 49 ? '\n' : i % 50 == 48 ? '\r' : 'a' + i % 26);
    s = traced_session(SMTP_KIND_SMTP, hostport, r, NULL);
    if (s == NULL || pipe(fds) != 0)
        goto out;
    w.fd = fds[1];
    w.p = msg;
    w.len = len;
    CHECK(pthread_create(&t, NULL, write_and_close, &w) == 0);
    CHECK_RC(s, smtp_session_sendmail_fd(s, "alice@example.com", to, 1, fds[0], -1, NULL, 0, NULL, 0,
                                         SMTP_MSG_REJECT_BARE_EOL, codes, &refused),
             SMTP_OK);
    CHECK_INT(codes[0], 250);
    CHECK_INT(refused, 0);
    pthread_join(t, NULL);
    close(fds[0]);
    CHECK_INT(sink_count(), n0 + 1);
    CHECK(sink_eml_equals(n0 + 1, msg, len));
    /* A read that fails (EISDIR on a directory) aborts the message: nothing
     * delivered, the connection closed; a reconnect greets the new server. */
    fds[0] = open("/", O_RDONLY);
    CHECK(fds[0] >= 0);
    CHECK_RC(s, smtp_session_sendmail_fd(s, "alice@example.com", to, 1, fds[0], -1, NULL, 0, NULL, 0,
                                         SMTP_MSG_NORMALIZE, NULL, NULL),
             SMTP_ERR_IO);
    close(fds[0]);
    CHECK_INT(smtp_session_is_connected(s), 0);
    CHECK_RC(s, smtp_session_connect(s, hostport, 0, NULL), SMTP_OK);
    CHECK_RC(s, smtp_session_sendmail_fd(s, "alice@example.com", to, 1, -1, -1, NULL, 0, NULL, 0, SMTP_MSG_NORMALIZE,
                                         codes, &refused),
             SMTP_ERR_INVALID_ARGUMENT);
    CHECK_INT(codes[0], 0);
    CHECK_INT(refused, 0);
    CHECK_RC(NULL, smtp_session_sendmail_fd(NULL, "alice@example.com", to, 1, 0, -1, NULL, 0, NULL, 0,
                                            SMTP_MSG_NORMALIZE, NULL, NULL),
             SMTP_ERR_NULL_ARGUMENT);
    CHECK_INT(sink_count(), n0 + 1);
    /* The new connection starts with no EHLO state: sendmail greets the
     * server first (smtplib would send MAIL at once and get 503). */
    rec_clear(r);
    CHECK_INT(smtp_session_does_esmtp(s), 0);
    CHECK(smtp_session_ehlo_resp(s) == NULL);
    CHECK_RC(s, smtp_session_sendmail(s, "alice@example.com", to, 1, (const uint8_t *)"Subject: again\r\n\r\nx\r\n",
                                      21, NULL, 0, NULL, 0, SMTP_MSG_NORMALIZE, NULL, NULL),
             SMTP_OK);
    CHECK(rec_has(r, SMTP_TRACE_SEND, "ehlo"));
    CHECK_INT(sink_count(), n0 + 2);
out:
    smtp_session_free(s);
    free(r);
    free(msg);
}

static void test_sendmail_stream(void)
{
    static const char msg[] = "From: alice@example.com\r\nTo: bob@example.com\r\nSubject: stream\r\n\r\n"
                              ".a dot at a line start\r\nbare\nLF\r\n..two dots\r\n.\r\nlast\r\n";
    static const char msg_normalized[] = "From: alice@example.com\r\nTo: bob@example.com\r\nSubject: stream\r\n\r\n"
                                         ".a dot at a line start\r\nbare\r\nLF\r\n..two dots\r\n.\r\nlast\r\n";
    static const char strict[] = "Subject: stream\r\n\r\nonly CRLF here\r\n.\r\n";
    const size_t big_len = 300 * 1024 + 17;
    const char *to[] = {"bob@example.com", "refuse-stream@example.com"};
    const char *refused_all[] = {"refuse-a@example.com", "refuse-b@example.com"};
    const char *crlf_to[] = {"bob@example.com\r\nRSET"};
    struct rec *r = calloc(1, sizeof *r);
    struct feed f;
    smtp_session *s;
    unsigned char *big = malloc(big_len);
    int n0 = sink_count(), codes[2], code;
    size_t refused, i;
    char want[64];

    section("sendmail_stream");
    CHECK(r != NULL && big != NULL);
    if (r == NULL || big == NULL)
        goto out;
    /* NULL session: outputs filled anyway. */
    feed_init(&f, msg, sizeof msg - 1, 0);
    codes[0] = codes[1] = -1;
    refused = 99;
    CHECK_RC(NULL, smtp_session_sendmail_stream(NULL, "alice@example.com", to, 2, feed_cb, &f, -1, NULL, 0, NULL, 0,
                                                SMTP_MSG_NORMALIZE, codes, &refused),
             SMTP_ERR_NULL_ARGUMENT);
    CHECK_INT(codes[0], 0);
    CHECK_INT(codes[1], 0);
    CHECK_INT(refused, 0);
    CHECK_INT(f.calls, 0);
    s = traced_session(SMTP_KIND_SMTP, hostport, r, NULL);
    if (s == NULL)
        goto out;
    /* Arguments refused before anything is sent (and the callback is never called). */
    rec_clear(r);
    CHECK_RC(s, smtp_session_sendmail_stream(s, "alice@example.com", to, 2, NULL, &f, -1, NULL, 0, NULL, 0,
                                             SMTP_MSG_NORMALIZE, codes, &refused),
             SMTP_ERR_NULL_ARGUMENT);
    CHECK(names_word(smtp_session_errmsg(s), "read"));
    CHECK_RC(s, smtp_session_sendmail_stream(s, NULL, to, 2, feed_cb, &f, -1, NULL, 0, NULL, 0, SMTP_MSG_NORMALIZE,
                                             codes, &refused),
             SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(s, smtp_session_sendmail_stream(s, "alice@example.com", crlf_to, 1, feed_cb, &f, -1, NULL, 0, NULL, 0,
                                             SMTP_MSG_NORMALIZE, codes, &refused),
             SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_sendmail_stream(s, "alice@example.com", to, 0, feed_cb, &f, -1, NULL, 0, NULL, 0,
                                             SMTP_MSG_NORMALIZE, codes, &refused),
             SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(s, smtp_session_sendmail_stream(s, "alice@example.com", to, 2, feed_cb, &f, -1, NULL, 0, NULL, 0, 3,
                                             codes, &refused),
             SMTP_ERR_INVALID_ARGUMENT);
    CHECK_INT(f.calls, 0);
    CHECK(!sent_mail(r));

    /* Seven bytes a call, size unknown (no SIZE=), normalised, one
     * recipient refused. */
    feed_init(&f, msg, sizeof msg - 1, 7);
    codes[0] = codes[1] = -1;
    refused = 99;
    CHECK_RC(s, smtp_session_sendmail_stream(s, "alice@example.com", to, 2, feed_cb, &f, -1, NULL, 0, NULL, 0,
                                             SMTP_MSG_NORMALIZE, codes, &refused),
             SMTP_OK);
    CHECK_INT(codes[0], 250);
    CHECK_INT(codes[1], 550);
    CHECK_INT(refused, 1);
    CHECK_INT(smtp_session_rcpt_count(s), 2);
    CHECK_INT(f.pos, sizeof msg - 1);
    CHECK(f.calls >= 2);
    CHECK(f.min_cap > 0);
    CHECK_INT(sink_count(), n0 + 1);
    CHECK(sink_eml_equals(n0 + 1, msg_normalized, sizeof msg_normalized - 1));
    JSON_LACKS(sink_dir, n0 + 1, "SIZE=");
    JSON_HAS(sink_dir, n0 + 1, "\"rcpt_tos\": [\"bob@example.com\"]");
    /* One byte a call, the size known, as given. */
    feed_init(&f, msg, sizeof msg - 1, 1);
    CHECK_RC(s, smtp_session_sendmail_stream(s, "alice@example.com", to, 1, feed_cb, &f, sizeof msg - 1, NULL, 0,
                                             NULL, 0, SMTP_MSG_RAW, codes, &refused),
             SMTP_OK);
    CHECK(f.calls > (int)(sizeof msg - 1));
    CHECK(sink_eml_equals(n0 + 2, msg, sizeof msg - 1));
    snprintf(want, sizeof want, "\"SIZE=%zu\"", sizeof msg - 1);
    JSON_HAS(sink_dir, n0 + 2, want);

    /* A larger message, in pieces of whatever fits, lines crossing them,
     * dots at line starts. */
    for (i = 0; i < big_len; i++)
        big[i] = (unsigned char)(i % 61 == 60 ? '\n' : i % 61 == 59 ? '\r' : i % 61 == 0 ? '.' : 'a' + i % 26);
    memcpy(big, "Subject: big\r\n\r\n", 16);
    big[big_len - 2] = '\r';
    big[big_len - 1] = '\n';
    feed_init(&f, big, big_len, 0);
    CHECK_RC(s, smtp_session_sendmail_stream(s, "alice@example.com", to, 1, feed_cb, &f, (int64_t)big_len, NULL, 0,
                                             NULL, 0, SMTP_MSG_REJECT_BARE_EOL, codes, &refused),
             SMTP_OK);
    CHECK_INT(sink_count(), n0 + 3);
    CHECK(sink_eml_equals(n0 + 3, big, big_len));

    /* Every recipient refused: the message is never read. */
    feed_init(&f, msg, sizeof msg - 1, 0);
    CHECK_RC(s, smtp_session_sendmail_stream(s, "alice@example.com", refused_all, 2, feed_cb, &f, -1, NULL, 0, NULL,
                                             0, SMTP_MSG_NORMALIZE, codes, &refused),
             SMTP_ERR_RECIPIENTS_REFUSED);
    CHECK_INT(refused, 2);
    CHECK_INT(f.calls, 0);
    CHECK_INT(smtp_session_is_connected(s), 1);

    /* A call on the session from inside the callback. */
    feed_init(&f, strict, sizeof strict - 1, 0);
    f.session = s;
    CHECK_RC(s, smtp_session_sendmail_stream(s, "alice@example.com", to, 1, feed_cb, &f, -1, NULL, 0, NULL, 0,
                                             SMTP_MSG_REJECT_BARE_EOL, codes, &refused),
             SMTP_OK);
    CHECK_INT(f.reenter_rc, SMTP_ERR_BAD_STATE);
    CHECK(sink_eml_equals(n0 + 4, strict, sizeof strict - 1));

    /* A lone LF under SMTP_MSG_REJECT_BARE_EOL, found mid-message: refused,
     * the connection closed, nothing delivered. */
    feed_init(&f, msg, sizeof msg - 1, 5);
    CHECK_RC(s, smtp_session_sendmail_stream(s, "alice@example.com", to, 1, feed_cb, &f, -1, NULL, 0, NULL, 0,
                                             SMTP_MSG_REJECT_BARE_EOL, codes, &refused),
             SMTP_ERR_INVALID_ARGUMENT);
    CHECK_INT(smtp_session_is_connected(s), 0);
    /* The callback aborts: SMTP_ERR_IO, closed, nothing delivered. (Like
     * smtplib, a new connection keeps the EHLO state: EHLO again by hand.) */
    CHECK_RC(s, smtp_session_connect(s, hostport, 0, &code), SMTP_OK);
    CHECK_RC(s, smtp_session_ehlo(s, NULL, &code), SMTP_OK);
    feed_init(&f, big, big_len, 1000);
    f.fail_after = 5000;
    CHECK_RC(s, smtp_session_sendmail_stream(s, "alice@example.com", to, 1, feed_cb, &f, (int64_t)big_len, NULL, 0,
                                             NULL, 0, SMTP_MSG_RAW, codes, &refused),
             SMTP_ERR_IO);
    CHECK(contains(smtp_session_errmsg(s), "-1"));
    CHECK_INT(smtp_session_is_connected(s), 0);
    CHECK_INT(sink_count(), n0 + 4);

    /* Pipelining and chunking off: the same message, the same bytes
     * delivered (the sink offers neither, so this is lockstep DATA anyway). */
    CHECK_RC(s, smtp_session_set_pipelining(s, 0), SMTP_OK);
    CHECK_RC(s, smtp_session_set_chunking(s, 0), SMTP_OK);
    CHECK_RC(s, smtp_session_connect(s, hostport, 0, &code), SMTP_OK);
    CHECK_RC(s, smtp_session_ehlo(s, NULL, &code), SMTP_OK);
    feed_init(&f, msg, sizeof msg - 1, 3);
    CHECK_RC(s, smtp_session_sendmail_stream(s, "alice@example.com", to, 2, feed_cb, &f, -1, NULL, 0, NULL, 0,
                                             SMTP_MSG_RAW, codes, &refused),
             SMTP_OK);
    CHECK(sink_eml_equals(n0 + 5, msg, sizeof msg - 1));
    CHECK_RC(s, smtp_session_set_pipelining(s, 1), SMTP_OK);
    CHECK_RC(s, smtp_session_set_chunking(s, 1), SMTP_OK);
    CHECK_RC(s, smtp_session_sendmail(s, "alice@example.com", to, 2, (const uint8_t *)msg, sizeof msg - 1, NULL, 0,
                                      NULL, 0, SMTP_MSG_RAW, codes, &refused),
             SMTP_OK);
    CHECK(sink_eml_equals(n0 + 6, msg, sizeof msg - 1));
    CHECK_INT(sink_count(), n0 + 6);
    CHECK_RC(s, smtp_session_quit(s, NULL), SMTP_OK);
    smtp_session_free(s);
out:
    free(big);
    free(r);
}

/* sendmail_batch against the sink (which offers no PIPELINING: one message
 * after the other, each with its own result). */
static void batch_item(smtp_batch_item *it, const char *const *to, size_t n_to, const char *msg, unsigned int flags,
                       int *codes)
{
    memset(it, 0, sizeof *it);
    it->from = "alice@example.com";
    it->to = to;
    it->to_count = n_to;
    it->msg = (const uint8_t *)msg;
    it->len = strlen(msg);
    it->flags = flags;
    it->result = -7;
    it->refused_count = 99;
    it->rcpt_codes = codes;
}

static void test_sendmail_batch(void)
{
    static const char m0[] = "Subject: batch 0\r\n\r\nfirst\r\n";
    static const char m1[] = "Subject: batch 1\r\n\r\nnobody gets this\r\n";
    static const char m2[] = "Subject: batch 2\r\n\r\n.third\r\n";
    static const char m3[] = "Subject: batch 3\r\n\r\nlast\r\n";
    static const char bare[] = "Subject: batch bare\r\n\r\nbare\nLF\r\n";
    const char *to_bob[] = {"bob@example.com"};
    const char *to_none[] = {"refuse-1@example.com", "refuse-2@example.com"};
    const char *to_mixed[] = {"carol@example.com", "refuse-3@example.com"};
    const char *to_last[] = {"dave@example.com", "erin@example.com"};
    struct rec *r = calloc(1, sizeof *r);
    smtp_batch_item items[4];
    int codes1[2], codes2[2], n0 = sink_count();
    smtp_session *s;

    section("sendmail_batch");
    CHECK(r != NULL);
    if (r == NULL)
        return;
    batch_item(&items[0], to_bob, 1, m0, SMTP_MSG_NORMALIZE, NULL);
    CHECK_RC(NULL, smtp_session_sendmail_batch(NULL, items, 1), SMTP_ERR_NULL_ARGUMENT);
    s = traced_session(SMTP_KIND_SMTP, hostport, r, NULL);
    if (s == NULL) {
        free(r);
        return;
    }
    CHECK_RC(s, smtp_session_sendmail_batch(s, NULL, 0), SMTP_OK);
    CHECK_RC(s, smtp_session_sendmail_batch(s, NULL, 2), SMTP_ERR_NULL_ARGUMENT);
    CHECK(names_word(smtp_session_errmsg(s), "items"));
    /* Bad arguments in an item. */
    batch_item(&items[1], to_bob, 1, m1, SMTP_MSG_NORMALIZE, NULL);
    items[1].from = NULL;
    CHECK_RC(s, smtp_session_sendmail_batch(s, items, 2), SMTP_ERR_NULL_ARGUMENT);
    CHECK(names_word(smtp_session_errmsg(s), "from"));
    batch_item(&items[1], to_bob, 1, m1, 3, NULL);
    CHECK_RC(s, smtp_session_sendmail_batch(s, items, 2), SMTP_ERR_INVALID_ARGUMENT);
    batch_item(&items[1], NULL, 1, m1, SMTP_MSG_NORMALIZE, NULL);
    CHECK_RC(s, smtp_session_sendmail_batch(s, items, 2), SMTP_ERR_NULL_ARGUMENT);
    CHECK(names_word(smtp_session_errmsg(s), "to"));
    CHECK_INT(sink_count(), n0);

    /* Four messages: sent, every recipient refused, one refused, sent. */
    batch_item(&items[0], to_bob, 1, m0, SMTP_MSG_NORMALIZE, NULL);
    batch_item(&items[1], to_none, 2, m1, SMTP_MSG_NORMALIZE, codes1);
    batch_item(&items[2], to_mixed, 2, m2, SMTP_MSG_RAW, codes2);
    batch_item(&items[3], to_last, 2, m3, SMTP_MSG_REJECT_BARE_EOL, NULL);
    codes1[0] = codes1[1] = codes2[0] = codes2[1] = -1;
    CHECK_RC(s, smtp_session_sendmail_batch(s, items, 4), SMTP_ERR_RECIPIENTS_REFUSED);
    CHECK_INT(items[0].result, SMTP_OK);
    CHECK_INT(items[0].refused_count, 0);
    CHECK_INT(items[1].result, SMTP_ERR_RECIPIENTS_REFUSED);
    CHECK_INT(items[1].refused_count, 2);
    CHECK_INT(codes1[0], 550);
    CHECK_INT(codes1[1], 550);
    CHECK_INT(items[2].result, SMTP_OK);
    CHECK_INT(items[2].refused_count, 1);
    CHECK_INT(codes2[0], 250);
    CHECK_INT(codes2[1], 550);
    CHECK_INT(items[3].result, SMTP_OK);
    CHECK_INT(items[3].refused_count, 0);
    /* The per-recipient accessors describe the last message. */
    CHECK_INT(smtp_session_rcpt_count(s), 2);
    CHECK_STR(smtp_session_rcpt_addr(s, 0), "dave@example.com");
    CHECK_STR(smtp_session_rcpt_addr(s, 1), "erin@example.com");
    CHECK_INT(smtp_session_rcpt_code(s, 1), 250);
    CHECK_INT(sink_count(), n0 + 3);
    CHECK(sink_eml_equals(n0 + 1, m0, sizeof m0 - 1));
    CHECK(sink_eml_equals(n0 + 2, m2, sizeof m2 - 1));
    CHECK(sink_eml_equals(n0 + 3, m3, sizeof m3 - 1));
    JSON_HAS(sink_dir, n0 + 2, "\"rcpt_tos\": [\"carol@example.com\"]");
    JSON_HAS(sink_dir, n0 + 3, "\"rcpt_tos\": [\"dave@example.com\", \"erin@example.com\"]");

    /* A lone LF under SMTP_MSG_REJECT_BARE_EOL: that message alone is
     * refused, the others go. */
    batch_item(&items[0], to_bob, 1, m0, SMTP_MSG_NORMALIZE, NULL);
    batch_item(&items[1], to_bob, 1, bare, SMTP_MSG_REJECT_BARE_EOL, NULL);
    batch_item(&items[2], to_bob, 1, m3, SMTP_MSG_NORMALIZE, NULL);
    CHECK_RC(s, smtp_session_sendmail_batch(s, items, 3), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_INT(items[0].result, SMTP_OK);
    CHECK_INT(items[1].result, SMTP_ERR_INVALID_ARGUMENT);
    CHECK_INT(items[2].result, SMTP_OK);
    CHECK_INT(sink_count(), n0 + 5);
    CHECK(sink_eml_equals(n0 + 4, m0, sizeof m0 - 1));
    CHECK(sink_eml_equals(n0 + 5, m3, sizeof m3 - 1));

    /* The connection lost during a batch: the rest are not sent. */
    CHECK_RC(s, smtp_session_close(s), SMTP_OK);
    batch_item(&items[0], to_bob, 1, m0, SMTP_MSG_NORMALIZE, NULL);
    batch_item(&items[1], to_bob, 1, m3, SMTP_MSG_NORMALIZE, NULL);
    CHECK_RC(s, smtp_session_sendmail_batch(s, items, 2), SMTP_ERR_SERVER_DISCONNECTED);
    CHECK_INT(items[0].result, SMTP_ERR_SERVER_DISCONNECTED);
    CHECK_INT(items[1].result, SMTP_ERR_SERVER_DISCONNECTED);
    CHECK_INT(sink_count(), n0 + 5);
    smtp_session_free(s);
    free(r);
}

/* One envelope option the sink does not offer: sendmail and send_message
 * refuse before MAIL. */
static void refused_option(smtp_session *s, struct rec *r, smtp_envelope *e, const char *name, int want,
                           const char *errmsg_part, int line)
{
    static const char msg[] = "From: alice@example.com\r\nTo: bob@example.com\r\n\r\nnever sent\r\n";
    const char *to[] = {"bob@example.com"};
    int codes[1], n0 = sink_count(), rc, failed0 = failed;
    size_t refused = 99;

    rc = smtp_session_set_envelope(s, e);
    CHECK_RC(s, rc, SMTP_OK);
    smtp_envelope_free(e);
    rec_clear(r);
    codes[0] = -1;
    CHECK_RC(s, smtp_session_sendmail(s, "alice@example.com", to, 1, (const uint8_t *)msg, sizeof msg - 1, NULL, 0,
                                      NULL, 0, SMTP_MSG_NORMALIZE, codes, &refused),
             want);
    CHECK(contains(smtp_session_errmsg(s), errmsg_part));
    if (!contains(smtp_session_errmsg(s), errmsg_part))
        printf("   (errmsg: %s; want %s)\n", smtp_session_errmsg(s), errmsg_part);
    CHECK_INT(codes[0], 0);
    CHECK_INT(refused, 0);
    CHECK_RC(s, smtp_session_send_message(s, (const uint8_t *)msg, sizeof msg - 1, NULL, NULL, 0, NULL, 0, NULL, 0,
                                          SMTP_MSG_NORMALIZE, &refused),
             want);
    CHECK(!sent_mail(r));
    CHECK_INT(sink_count(), n0);
    if (failed != failed0)
        printf("   (the failures above: the envelope option %s, line %d)\n", name, line);
}

/* Envelope options against the sink, which offers 8BITMIME and SMTPUTF8
 * but no DSN, REQUIRETLS, MT-PRIORITY, DELIVERBY, BINARYMIME. */
static void test_envelope_plain(void)
{
    static const char msg[] = "Subject: envelope\r\n\r\nhello\r\n";
    const char *to[] = {"bob@example.com"};
    struct rec *r = calloc(1, sizeof *r);
    smtp_session *s;
    smtp_envelope *e;
    int n0 = sink_count(), code;

    section("envelope options the server does not offer: refused before MAIL");
    CHECK(r != NULL);
    if (r == NULL)
        return;
    s = traced_session(SMTP_KIND_SMTP, hostport, r, NULL);
    if (s == NULL) {
        free(r);
        return;
    }
    CHECK_RC(s, smtp_session_ehlo(s, NULL, &code), SMTP_OK);
    CHECK_INT(smtp_session_has_extn(s, "dsn"), 0);

    e = smtp_envelope_new();
    smtp_envelope_set_dsn_ret(e, SMTP_DSN_RET_FULL);
    refused_option(s, r, e, "RET", SMTP_ERR_NOT_SUPPORTED, "DSN", __LINE__);
    e = smtp_envelope_new();
    smtp_envelope_set_dsn_envid(e, "QQ314159");
    refused_option(s, r, e, "ENVID", SMTP_ERR_NOT_SUPPORTED, "DSN", __LINE__);
    e = smtp_envelope_new();
    smtp_envelope_set_dsn_notify(e, SMTP_DSN_NOTIFY_FAILURE);
    refused_option(s, r, e, "NOTIFY", SMTP_ERR_NOT_SUPPORTED, "DSN", __LINE__);
    e = smtp_envelope_new();
    smtp_envelope_set_rcpt_dsn(e, "bob@example.com", 0, "bob@example.org");
    refused_option(s, r, e, "ORCPT", SMTP_ERR_NOT_SUPPORTED, "DSN", __LINE__);
    e = smtp_envelope_new();
    smtp_envelope_set_mt_priority(e, 3);
    refused_option(s, r, e, "MT-PRIORITY", SMTP_ERR_NOT_SUPPORTED, "MT-PRIORITY", __LINE__);
    e = smtp_envelope_new();
    smtp_envelope_set_deliver_by(e, 3600, 0, 0);
    refused_option(s, r, e, "DELIVERBY", SMTP_ERR_NOT_SUPPORTED, "DELIVERBY", __LINE__);
    e = smtp_envelope_new();
    smtp_envelope_set_requiretls(e, 1);
    refused_option(s, r, e, "REQUIRETLS", SMTP_ERR_NOT_SUPPORTED, "REQUIRETLS", __LINE__);
    e = smtp_envelope_new();
    smtp_envelope_set_body(e, SMTP_BODY_BINARYMIME);
    refused_option(s, r, e, "BODY=BINARYMIME", SMTP_ERR_NOT_SUPPORTED, "BINARYMIME", __LINE__);
    /* An offered option beside an unoffered one: still refused. */
    e = smtp_envelope_new();
    smtp_envelope_set_body(e, SMTP_BODY_8BITMIME);
    smtp_envelope_set_dsn_ret(e, SMTP_DSN_RET_HDRS);
    refused_option(s, r, e, "BODY=8BITMIME with RET", SMTP_ERR_NOT_SUPPORTED, "DSN", __LINE__);
    CHECK_INT(smtp_session_is_connected(s), 1);

    /* What the sink offers goes on MAIL. */
    e = smtp_envelope_new();
    CHECK_RC(NULL, smtp_envelope_set_body(e, SMTP_BODY_8BITMIME), SMTP_OK);
    CHECK_RC(NULL, smtp_envelope_set_smtputf8(e, 1), SMTP_OK);
    CHECK_RC(s, smtp_session_set_envelope(s, e), SMTP_OK);
    smtp_envelope_free(e);
    CHECK_RC(s, smtp_session_sendmail(s, "alice@example.com", to, 1, (const uint8_t *)msg, sizeof msg - 1, NULL, 0,
                                      NULL, 0, SMTP_MSG_NORMALIZE, NULL, NULL),
             SMTP_OK);
    CHECK_INT(sink_count(), n0 + 1);
    JSON_HAS(sink_dir, n0 + 1, "\"SMTPUTF8\"");
    JSON_HAS(sink_dir, n0 + 1, "\"BODY=8BITMIME\"");
    e = smtp_envelope_new();
    CHECK_RC(NULL, smtp_envelope_set_body(e, SMTP_BODY_7BIT), SMTP_OK);
    CHECK_RC(s, smtp_session_set_envelope(s, e), SMTP_OK);
    smtp_envelope_free(e);
    CHECK_RC(s, smtp_session_sendmail(s, "alice@example.com", to, 1, (const uint8_t *)msg, sizeof msg - 1, NULL, 0,
                                      NULL, 0, SMTP_MSG_NORMALIZE, NULL, NULL),
             SMTP_OK);
    JSON_HAS(sink_dir, n0 + 2, "\"BODY=7BIT\"");
    JSON_LACKS(sink_dir, n0 + 2, "SMTPUTF8");
    /* NULL removes the options. */
    CHECK_RC(s, smtp_session_set_envelope(s, NULL), SMTP_OK);
    CHECK_RC(s, smtp_session_sendmail(s, "alice@example.com", to, 1, (const uint8_t *)msg, sizeof msg - 1, NULL, 0,
                                      NULL, 0, SMTP_MSG_NORMALIZE, NULL, NULL),
             SMTP_OK);
    JSON_LACKS(sink_dir, n0 + 3, "BODY");
    CHECK_INT(sink_count(), n0 + 3);
    CHECK_RC(s, smtp_session_quit(s, NULL), SMTP_OK);
    smtp_session_free(s);
    free(r);
}

/* TLS required on a connection without TLS (the sink offers no STARTTLS):
 * nothing goes. */
static void test_require_tls_plain(void)
{
    static const char msg[] = "From: alice@example.com\r\nTo: bob@example.com\r\n\r\nin clear\r\n";
    const char *to[] = {"bob@example.com"};
    struct rec *r = calloc(1, sizeof *r);
    smtp_session *s;
    int n0 = sink_count(), code = -7, codes[1];
    size_t refused;

    section("TLS required on a plain connection");
    CHECK(r != NULL);
    if (r == NULL)
        return;
    s = traced_session(SMTP_KIND_SMTP, hostport, r, NULL);
    if (s == NULL) {
        free(r);
        return;
    }
    CHECK_INT(smtp_session_is_encrypted(s), 0);
    CHECK(smtp_session_tls_version(s) == NULL);
    CHECK(smtp_session_tls_cipher(s) == NULL);
    /* No STARTTLS offered. */
    CHECK_RC(s, smtp_session_starttls(s, NULL, &code), SMTP_ERR_NOT_SUPPORTED);
    CHECK(contains(smtp_session_errmsg(s), "STARTTLS"));
    CHECK_INT(smtp_session_is_connected(s), 1);
    CHECK_INT(smtp_session_is_encrypted(s), 0);

    CHECK_RC(s, smtp_session_set_require_tls(s, 1), SMTP_OK);
    rec_clear(r);
    codes[0] = -1;
    refused = 99;
    CHECK_RC(s, smtp_session_sendmail(s, "alice@example.com", to, 1, (const uint8_t *)msg, sizeof msg - 1, NULL, 0,
                                      NULL, 0, SMTP_MSG_NORMALIZE, codes, &refused),
             SMTP_ERR_NOT_ENCRYPTED);
    CHECK(contains(smtp_session_errmsg(s), "TLS"));
    CHECK_INT(codes[0], 0);
    CHECK_INT(refused, 0);
    CHECK_RC(s, smtp_session_send_message(s, (const uint8_t *)msg, sizeof msg - 1, NULL, NULL, 0, NULL, 0, NULL, 0,
                                          SMTP_MSG_NORMALIZE, &refused),
             SMTP_ERR_NOT_ENCRYPTED);
    /* login and auth too (without TLS required, login would find no AUTH). */
    CHECK_RC(s, smtp_session_login(s, "user", "pass", 0), SMTP_ERR_NOT_ENCRYPTED);
    CHECK_RC(s, smtp_session_auth_builtin(s, "CRAM-MD5", "user", "pass", 0), SMTP_ERR_NOT_ENCRYPTED);
    CHECK(!sent_mail(r));
    CHECK(!rec_has(r, SMTP_TRACE_SEND, "auth"));
    CHECK_INT(sink_count(), n0);
    CHECK_INT(smtp_session_is_connected(s), 1);
    /* Off again: the message goes. */
    CHECK_RC(s, smtp_session_set_require_tls(s, 0), SMTP_OK);
    CHECK_RC(s, smtp_session_login(s, "user", "pass", 0), SMTP_ERR_NOT_SUPPORTED);
    CHECK_RC(s, smtp_session_sendmail(s, "alice@example.com", to, 1, (const uint8_t *)msg, sizeof msg - 1, NULL, 0,
                                      NULL, 0, SMTP_MSG_NORMALIZE, codes, &refused),
             SMTP_OK);
    CHECK_INT(sink_count(), n0 + 1);
    CHECK(sink_eml_equals(n0 + 1, msg, sizeof msg - 1));
    CHECK_RC(s, smtp_session_quit(s, NULL), SMTP_OK);
    smtp_session_free(s);
    free(r);
}

/* DSN parameters as they reach a server offering DSN (sink.py --dsn, which
 * records each MAIL and RCPT argument as sent). */
static void test_dsn(void)
{
    static const char msg[] = "From: alice@example.com\r\nTo: bob@example.com\r\nSubject: dsn\r\n\r\nhello\r\n";
    static const char bcc_msg[] = "From: alice@example.com\r\nTo: bob@example.com\r\nBcc: carol@example.com\r\n"
                                  "Subject: dsn\r\n\r\nhello\r\n";
    const char *to[] = {"bob@example.com", "carol@example.com", "dave@example.com"};
    const char *opts[] = {"BODY=8BITMIME"};
    const char *dir = dsn_sink.dir;
    struct rec *r;
    smtp_session *s;
    smtp_envelope *e;
    int code = -7, codes[3];
    size_t refused;
    char want[256];

    section("DSN on the wire (sink --dsn)");
    if (!have(&dsn_sink))
        return;
    r = calloc(1, sizeof *r);
    CHECK(r != NULL);
    if (r == NULL)
        return;
    CHECK_INT(dir_count(dir), 0);
    s = traced_session(SMTP_KIND_SMTP, dsn_sink.hostport, r, NULL);
    if (s == NULL) {
        free(r);
        return;
    }
    CHECK_RC(s, smtp_session_ehlo(s, NULL, &code), SMTP_OK);
    CHECK_INT(smtp_session_has_extn(s, "dsn"), 1);

    e = smtp_envelope_new();
    CHECK_RC(NULL, smtp_envelope_set_dsn_ret(e, SMTP_DSN_RET_HDRS), SMTP_OK);
    CHECK_RC(NULL, smtp_envelope_set_dsn_envid(e, "QQ314159+x=y"), SMTP_OK);
    CHECK_RC(NULL, smtp_envelope_set_dsn_notify(e, SMTP_DSN_NOTIFY_FAILURE | SMTP_DSN_NOTIFY_DELAY), SMTP_OK);
    /* Refused settings keep the previous value (checked on the wire below). */
    CHECK_RC(NULL, smtp_envelope_set_dsn_notify(e, 0), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(NULL, smtp_envelope_set_dsn_ret(e, 7), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(NULL, smtp_envelope_set_rcpt_dsn(e, "carol@example.com", SMTP_DSN_NOTIFY_NEVER, "Carol+x@example.org"),
             SMTP_OK);
    CHECK_RC(NULL, smtp_envelope_set_rcpt_dsn(e, "dave@example.com", 0, "dave@example.org"), SMTP_OK);
    CHECK_RC(s, smtp_session_set_envelope(s, e), SMTP_OK);
    /* The session has its own copy: changing or freeing this one does not
     * reach it. */
    CHECK_RC(NULL, smtp_envelope_set_dsn_ret(e, SMTP_DSN_RET_FULL), SMTP_OK);
    smtp_envelope_free(e);

    codes[0] = codes[1] = codes[2] = -1;
    refused = 99;
    CHECK_RC(s, smtp_session_sendmail(s, "alice@example.com", to, 3, (const uint8_t *)msg, sizeof msg - 1, NULL, 0,
                                      NULL, 0, SMTP_MSG_NORMALIZE, codes, &refused),
             SMTP_OK);
    CHECK_INT(codes[0], 250);
    CHECK_INT(codes[1], 250);
    CHECK_INT(codes[2], 250);
    CHECK_INT(refused, 0);
    CHECK_INT(dir_count(dir), 1);
    CHECK(dir_eml_equals(dir, 1, msg, sizeof msg - 1));
    /* The raw MAIL argument, whole after "FROM": SIZE, RET (HDRS: the later
     * FULL did not reach the session), ENVID in xtext. */
    snprintf(want, sizeof want, ":<alice@example.com> size=%zu RET=HDRS ENVID=QQ314159+2Bx+3Dy\"", sizeof msg - 1);
    JSON_HAS(dir, 1, want);
    /* Each RCPT: the envelope's NOTIFY (FAILURE,DELAY: the refused 0 did not
     * replace it), or the recipient's own, and ORCPT in xtext. */
    JSON_HAS(dir, 1, ":<bob@example.com> NOTIFY=FAILURE,DELAY\"");
    JSON_HAS(dir, 1, ":<carol@example.com> NOTIFY=NEVER ORCPT=rfc822;Carol+2Bx@example.org\"");
    JSON_HAS(dir, 1, ":<dave@example.com> NOTIFY=FAILURE,DELAY ORCPT=rfc822;dave@example.org\"");

    /* With the caller's options too, and through send_message (the Bcc
     * recipient matched by its address). */
    CHECK_RC(s, smtp_session_send_message(s, (const uint8_t *)bcc_msg, sizeof bcc_msg - 1, NULL, NULL, 0, opts, 1, NULL,
                                          0, SMTP_MSG_NORMALIZE, &refused),
             SMTP_OK);
    CHECK_INT(dir_count(dir), 2);
    CHECK(dir_eml_equals(dir, 2, msg, sizeof msg - 1)); /* the same message without its Bcc */
    JSON_HAS(dir, 2, "RET=HDRS ENVID=QQ314159+2Bx+3Dy BODY=8BITMIME\"");
    JSON_HAS(dir, 2, ":<bob@example.com> NOTIFY=FAILURE,DELAY\"");
    JSON_HAS(dir, 2, ":<carol@example.com> NOTIFY=NEVER ORCPT=rfc822;Carol+2Bx@example.org\"");

    /* NULL removes every option. */
    CHECK_RC(s, smtp_session_set_envelope(s, NULL), SMTP_OK);
    CHECK_RC(s, smtp_session_sendmail(s, "alice@example.com", to, 1, (const uint8_t *)msg, sizeof msg - 1, NULL, 0,
                                      NULL, 0, SMTP_MSG_NORMALIZE, NULL, NULL),
             SMTP_OK);
    CHECK_INT(dir_count(dir), 3);
    snprintf(want, sizeof want, ":<alice@example.com> size=%zu\"", sizeof msg - 1);
    JSON_HAS(dir, 3, want);
    JSON_HAS(dir, 3, ":<bob@example.com>\"");
    JSON_LACKS(dir, 3, "NOTIFY");
    CHECK_RC(s, smtp_session_quit(s, NULL), SMTP_OK);
    smtp_session_free(s);
    free(r);
}

/* `len` bytes of a message: a Subject, then lines of x with CRLF (or, with
 * `bare`, with a lone LF), ending with a line end. Returns the number of
 * lone LFs. */
static size_t fill_message(unsigned char *b, size_t len, int bare)
{
    static const char head[] = "Subject: size\r\n\r\n";
    size_t i, n_bare = 0, hl = sizeof head - 1;
    memcpy(b, head, hl);
    memset(b + hl, 'x', len - hl);
    for (i = hl + 40; i + 5 < len; i += 41) {
        if (bare) {
            b[i] = '\n';
            n_bare++;
        } else {
            b[i - 1] = '\r';
            b[i] = '\n';
        }
    }
    b[len - 2] = '\r';
    b[len - 1] = '\n';
    return n_bare;
}

/* A server's SIZE: a message over it is refused before MAIL (sink.py
 * --size-limit). */
static void test_size_limit(void)
{
    static const char bcc_head[] = "From: alice@example.com\r\nTo: bob@example.com\r\nBcc: carol@example.com\r\n"
                                   "Subject: size\r\n\r\n";
    static const char plain_head[] = "From: alice@example.com\r\nTo: bob@example.com\r\nSubject: size\r\n\r\n";
    const char *to[] = {"bob@example.com"};
    const char *dir = size_sink.dir;
    struct rec *r;
    smtp_session *s;
    unsigned char *big = NULL, *bcc = NULL;
    size_t limit = (size_t)size_sink.limit, refused, n_bare, bcc_len;
    int code = -7, codes[1];
    char want[64];

    section("the server's SIZE (sink --size-limit)");
    if (!have(&size_sink))
        return;
    CHECK(limit >= 500 && limit <= 100000);
    if (limit < 500 || limit > 100000)
        return;
    r = calloc(1, sizeof *r);
    big = malloc(limit + 100);
    bcc = malloc(limit + 100);
    CHECK(r != NULL && big != NULL && bcc != NULL);
    if (r == NULL || big == NULL || bcc == NULL)
        goto out;
    s = traced_session(SMTP_KIND_SMTP, size_sink.hostport, r, NULL);
    if (s == NULL)
        goto out;
    CHECK_RC(s, smtp_session_ehlo(s, NULL, &code), SMTP_OK);
    snprintf(want, sizeof want, "%zu", limit);
    CHECK_STR(smtp_session_feature(s, "size"), want);

    /* Exactly the limit: sent. */
    fill_message(big, limit, 0);
    CHECK_RC(s, smtp_session_sendmail(s, "alice@example.com", to, 1, big, limit, NULL, 0, NULL, 0, SMTP_MSG_RAW, codes,
                                      &refused),
             SMTP_OK);
    CHECK_INT(dir_count(dir), 1);
    CHECK(dir_eml_equals(dir, 1, big, limit));
    snprintf(want, sizeof want, "\"SIZE=%zu\"", limit);
    JSON_HAS(dir, 1, want);

    /* One byte over: SMTP_ERR_TOO_LARGE, before MAIL. */
    fill_message(big, limit + 1, 0);
    rec_clear(r);
    codes[0] = -1;
    refused = 99;
    CHECK_RC(s, smtp_session_sendmail(s, "alice@example.com", to, 1, big, limit + 1, NULL, 0, NULL, 0, SMTP_MSG_RAW,
                                      codes, &refused),
             SMTP_ERR_TOO_LARGE);
    snprintf(want, sizeof want, "%zu", limit + 1);
    CHECK(contains(smtp_session_errmsg(s), want));
    CHECK_INT(codes[0], 0);
    CHECK_INT(refused, 0);
    CHECK_INT(smtp_session_rcpt_count(s), 0);
    CHECK(!sent_mail(r));
    CHECK_INT(r->n_send, 0);
    CHECK_INT(smtp_session_is_connected(s), 1);
    CHECK_RC(s, smtp_session_noop(s, &code), SMTP_OK);
    CHECK_INT(code, 250);

    /* SIZE counts the message as sent: with lone LFs normalised to CRLF,
     * a message under the limit as given can be over it. */
    n_bare = fill_message(big, limit - 10, 1);
    CHECK(n_bare > 10);
    rec_clear(r);
    CHECK_RC(s, smtp_session_sendmail(s, "alice@example.com", to, 1, big, limit - 10, NULL, 0, NULL, 0,
                                      SMTP_MSG_NORMALIZE, codes, &refused),
             SMTP_ERR_TOO_LARGE);
    CHECK(!sent_mail(r));
    CHECK_RC(s, smtp_session_sendmail(s, "alice@example.com", to, 1, big, limit - 10, NULL, 0, NULL, 0, SMTP_MSG_RAW,
                                      codes, &refused),
             SMTP_OK);
    CHECK_INT(dir_count(dir), 2);
    CHECK(dir_eml_equals(dir, 2, big, limit - 10));

    /* sendmail_stream: the size hint is checked, before MAIL and before
     * the message is read. */
    {
        struct feed f;
        feed_init(&f, big, limit - 10, 0);
        rec_clear(r);
        CHECK_RC(s, smtp_session_sendmail_stream(s, "alice@example.com", to, 1, feed_cb, &f, (int64_t)limit + 1, NULL,
                                                 0, NULL, 0, SMTP_MSG_RAW, codes, &refused),
                 SMTP_ERR_TOO_LARGE);
        CHECK_INT(f.calls, 0);
        CHECK(!sent_mail(r));
        CHECK_INT(dir_count(dir), 2);
    }

    /* send_message: the size without the Bcc field counts. */
    bcc_len = limit + 10;
    fill_message(bcc, bcc_len, 0);
    memcpy(bcc, bcc_head, sizeof bcc_head - 1);
    CHECK(bcc_len - strlen("Bcc: carol@example.com\r\n") <= limit);
    CHECK_RC(s, smtp_session_send_message(s, bcc, bcc_len, NULL, NULL, 0, NULL, 0, NULL, 0, SMTP_MSG_RAW, &refused),
             SMTP_OK);
    CHECK_INT(dir_count(dir), 3);
    JSON_HAS(dir, 3, "\"rcpt_tos\": [\"bob@example.com\", \"carol@example.com\"]");
    fill_message(bcc, limit + 1, 0);
    memcpy(bcc, plain_head, sizeof plain_head - 1);
    rec_clear(r);
    CHECK_RC(s, smtp_session_send_message(s, bcc, limit + 1, NULL, NULL, 0, NULL, 0, NULL, 0, SMTP_MSG_RAW, &refused),
             SMTP_ERR_TOO_LARGE);
    CHECK(!sent_mail(r));
    CHECK_INT(dir_count(dir), 3);
    CHECK_RC(s, smtp_session_quit(s, NULL), SMTP_OK);
    smtp_session_free(s);
out:
    free(big);
    free(bcc);
    free(r);
}

static void tls_path(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", tls_dir ? tls_dir : "(no --tls-files)", name);
}

/* A config trusting ca.pem (NULL on failure, a failure). */
static smtp_tls_config *ca_config(const char *server_name, int no_verify)
{
    smtp_tls_config_builder *b = smtp_tls_config_builder_new();
    smtp_tls_config *c = NULL;
    char ca[1024];
    tls_path(ca, sizeof ca, "ca.pem");
    if (no_verify) {
        CHECK_RC(NULL, smtp_tls_config_builder_dangerous_disable_verification(b), SMTP_OK);
    } else {
        CHECK_RC(NULL, smtp_tls_config_builder_add_ca_file(b, ca), SMTP_OK);
    }
    if (server_name != NULL)
        CHECK_RC(NULL, smtp_tls_config_builder_set_server_name(b, server_name), SMTP_OK);
    CHECK_RC(NULL, smtp_tls_config_builder_build(b, &c), SMTP_OK);
    CHECK(c != NULL);
    if (c == NULL)
        printf("   (build: %s)\n", smtp_tls_config_builder_errmsg(b));
    smtp_tls_config_builder_free(b);
    return c;
}

static void test_tls_builder(void)
{
    static char sentinel;
    smtp_tls_config_builder *b, *b2;
    smtp_tls_config *c, *c2;
    char ca[1024], cert[1024], key[1024], other_key[1024], ca_dir[1024], empty_dir[1024], missing[1024];
    const char *e;

    section("TLS config builder");
    CHECK(tls_dir != NULL);
    if (tls_dir == NULL)
        printf("   (--tls-files was not given: the TLS tests cannot run)\n");
    tls_path(ca, sizeof ca, "ca.pem");
    tls_path(cert, sizeof cert, "cert.pem");
    tls_path(key, sizeof key, "key.pem");
    tls_path(other_key, sizeof other_key, "other-key.pem");
    tls_path(ca_dir, sizeof ca_dir, "ca-dir");
    tls_path(empty_dir, sizeof empty_dir, "empty-dir");
    tls_path(missing, sizeof missing, "no-such-file.pem");

    /* NULL builder. */
    e = smtp_tls_config_builder_errmsg(NULL);
    CHECK(e != NULL && e[0] != 0);
    CHECK(smtp_tls_config_builder_errmsg(NULL) == e);
    CHECK_RC(NULL, smtp_tls_config_builder_add_ca_file(NULL, ca), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_tls_config_builder_add_ca_dir(NULL, ca_dir), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_tls_config_builder_set_default_roots(NULL, 0), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_tls_config_builder_set_client_cert(NULL, cert, key), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_tls_config_builder_set_server_name(NULL, "localhost"), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_tls_config_builder_dangerous_disable_verification(NULL), SMTP_ERR_NULL_ARGUMENT);
    c = (smtp_tls_config *)(void *)&sentinel;
    CHECK_RC(NULL, smtp_tls_config_builder_build(NULL, &c), SMTP_ERR_NULL_ARGUMENT);
    CHECK(c == NULL);

    b = smtp_tls_config_builder_new();
    CHECK(b != NULL);
    if (b == NULL)
        return;
    CHECK_STR(smtp_tls_config_builder_errmsg(b), "no error");
    CHECK_RC(NULL, smtp_tls_config_builder_build(b, NULL), SMTP_ERR_NULL_ARGUMENT);
    CHECK(names_word(smtp_tls_config_builder_errmsg(b), "out"));

    /* CA files and directories: errors name the path. */
    CHECK_RC(NULL, smtp_tls_config_builder_add_ca_file(b, NULL), SMTP_ERR_NULL_ARGUMENT);
    CHECK(names_word(smtp_tls_config_builder_errmsg(b), "path"));
    CHECK_RC(NULL, smtp_tls_config_builder_add_ca_file(b, missing), SMTP_ERR_TLS);
    CHECK(contains(smtp_tls_config_builder_errmsg(b), missing));
    CHECK_RC(NULL, smtp_tls_config_builder_add_ca_file(b, key), SMTP_ERR_TLS); /* a key, no certificate */
    CHECK(contains(smtp_tls_config_builder_errmsg(b), key));
    CHECK_RC(NULL, smtp_tls_config_builder_add_ca_file(b, "bad\xff.pem"), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(NULL, smtp_tls_config_builder_add_ca_dir(b, NULL), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_tls_config_builder_add_ca_dir(b, missing), SMTP_ERR_TLS);
    CHECK(contains(smtp_tls_config_builder_errmsg(b), missing));
    CHECK_RC(NULL, smtp_tls_config_builder_add_ca_dir(b, empty_dir), SMTP_ERR_TLS);
    CHECK(contains(smtp_tls_config_builder_errmsg(b), empty_dir));
    CHECK_RC(NULL, smtp_tls_config_builder_add_ca_file(b, ca), SMTP_OK);
    CHECK_STR(smtp_tls_config_builder_errmsg(b), "no error");
    CHECK_RC(NULL, smtp_tls_config_builder_add_ca_dir(b, ca_dir), SMTP_OK);

    /* Server names: a DNS name or an IP address. */
    CHECK_RC(NULL, smtp_tls_config_builder_set_server_name(b, NULL), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(NULL, smtp_tls_config_builder_set_server_name(b, ""), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(NULL, smtp_tls_config_builder_set_server_name(b, "not a name!"), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(NULL, smtp_tls_config_builder_set_server_name(b, "127.0.0.1"), SMTP_OK);
    CHECK_RC(NULL, smtp_tls_config_builder_set_server_name(b, "::1"), SMTP_OK);
    CHECK_RC(NULL, smtp_tls_config_builder_set_server_name(b, "localhost"), SMTP_OK);

    /* Client certificates. */
    CHECK_RC(NULL, smtp_tls_config_builder_set_client_cert(b, NULL, key), SMTP_ERR_NULL_ARGUMENT);
    CHECK(names_word(smtp_tls_config_builder_errmsg(b), "chain_path"));
    CHECK_RC(NULL, smtp_tls_config_builder_set_client_cert(b, cert, NULL), SMTP_ERR_NULL_ARGUMENT);
    CHECK(names_word(smtp_tls_config_builder_errmsg(b), "key_path"));
    CHECK_RC(NULL, smtp_tls_config_builder_set_client_cert(b, missing, key), SMTP_ERR_TLS);
    CHECK(contains(smtp_tls_config_builder_errmsg(b), missing));
    CHECK_RC(NULL, smtp_tls_config_builder_set_client_cert(b, cert, missing), SMTP_ERR_TLS);
    CHECK(contains(smtp_tls_config_builder_errmsg(b), missing));
    CHECK_RC(NULL, smtp_tls_config_builder_set_client_cert(b, cert, ca), SMTP_ERR_TLS); /* no key in it */
    CHECK_RC(NULL, smtp_tls_config_builder_set_client_cert(b, cert, key), SMTP_OK);

    /* Built, twice: the builder stays usable; each config is its own. */
    c = NULL;
    c2 = NULL;
    CHECK_RC(NULL, smtp_tls_config_builder_build(b, &c), SMTP_OK);
    CHECK(c != NULL);
    CHECK_RC(NULL, smtp_tls_config_builder_build(b, &c2), SMTP_OK);
    CHECK(c2 != NULL && c2 != c);
    smtp_tls_config_builder_free(b);
    smtp_tls_config_free(c); /* configs outlive their builder */
    smtp_tls_config_free(c2);

    /* No trust anchor at all: build fails, *out is NULL. */
    b2 = smtp_tls_config_builder_new();
    CHECK_RC(NULL, smtp_tls_config_builder_set_default_roots(b2, 0), SMTP_OK);
    c = (smtp_tls_config *)(void *)&sentinel;
    CHECK_RC(NULL, smtp_tls_config_builder_build(b2, &c), SMTP_ERR_TLS);
    CHECK(c == NULL);
    CHECK(contains_ci(smtp_tls_config_builder_errmsg(b2), "trust"));
    /* A key that does not fit the certificate. */
    CHECK_RC(NULL, smtp_tls_config_builder_add_ca_file(b2, ca), SMTP_OK);
    CHECK_RC(NULL, smtp_tls_config_builder_set_client_cert(b2, cert, other_key), SMTP_OK);
    c = (smtp_tls_config *)(void *)&sentinel;
    CHECK_RC(NULL, smtp_tls_config_builder_build(b2, &c), SMTP_ERR_TLS);
    CHECK(c == NULL);
    CHECK(contains_ci(smtp_tls_config_builder_errmsg(b2), "fit"));
    smtp_tls_config_builder_free(b2);
    /* Only the added CAs (default roots off), from a directory. */
    b2 = smtp_tls_config_builder_new();
    CHECK_RC(NULL, smtp_tls_config_builder_set_default_roots(b2, 0), SMTP_OK);
    CHECK_RC(NULL, smtp_tls_config_builder_add_ca_dir(b2, ca_dir), SMTP_OK);
    c = NULL;
    CHECK_RC(NULL, smtp_tls_config_builder_build(b2, &c), SMTP_OK);
    CHECK(c != NULL);
    smtp_tls_config_free(c);
    smtp_tls_config_builder_free(b2);
    /* Verification off needs no trust anchor. */
    b2 = smtp_tls_config_builder_new();
    CHECK_RC(NULL, smtp_tls_config_builder_set_default_roots(b2, 0), SMTP_OK);
    CHECK_RC(NULL, smtp_tls_config_builder_dangerous_disable_verification(b2), SMTP_OK);
    c = NULL;
    CHECK_RC(NULL, smtp_tls_config_builder_build(b2, &c), SMTP_OK);
    CHECK(c != NULL);
    smtp_tls_config_free(c);
    /* The default roots back on. */
    CHECK_RC(NULL, smtp_tls_config_builder_set_default_roots(b2, 1), SMTP_OK);
    smtp_tls_config_builder_free(b2);
}

/* version and cipher of an encrypted session look right. */
static void check_tls_info(smtp_session *s)
{
    const char *v = smtp_session_tls_version(s), *c = smtp_session_tls_cipher(s);
    CHECK_INT(smtp_session_is_encrypted(s), 1);
    CHECK(v != NULL && (strcmp(v, "TLSv1.3") == 0 || strcmp(v, "TLSv1.2") == 0));
    CHECK(c != NULL && strncmp(c, "TLS", 3) == 0 && strlen(c) > 10);
    if (v == NULL || c == NULL)
        printf("   (version %s, cipher %s)\n", v ? v : "NULL", c ? c : "NULL");
}

/* A test message sent over TLS to the server storing into `dir`, as
 * message n. */
static void send_over_tls(smtp_session *s, const char *dir, int n, const char *what)
{
    char msg[256];
    const char *to[] = {"bob@example.com"};
    int codes[1] = {-1};
    size_t refused = 99;
    snprintf(msg, sizeof msg, "From: alice@example.com\r\nTo: bob@example.com\r\nSubject: %s\r\n\r\n"
                              "Only the server can read this.\r\n.dot\r\n",
             what);
    CHECK_RC(s, smtp_session_sendmail(s, "alice@example.com", to, 1, (const uint8_t *)msg, strlen(msg), NULL, 0, NULL,
                                      0, SMTP_MSG_NORMALIZE, codes, &refused),
             SMTP_OK);
    CHECK_INT(codes[0], 250);
    CHECK_INT(refused, 0);
    CHECK_INT(dir_count(dir), n);
    CHECK(dir_eml_equals(dir, n, msg, strlen(msg)));
}

static void test_tls_sessions(void)
{
    static const char bcc_msg[] = "From: alice@example.com\r\nTo: bob@example.com\r\nBcc: carol@example.com\r\n"
                                  "Subject: send_message over TLS\r\n\r\nhello\r\n";
    static const char bcc_sent[] = "From: alice@example.com\r\nTo: bob@example.com\r\n"
                                   "Subject: send_message over TLS\r\n\r\nhello\r\n";
    const char *to[] = {"bob@example.com"};
    struct rec *r = calloc(1, sizeof *r);
    smtp_tls_config *cfg, *cfg2, *wrong, *by_name, *no_verify;
    smtp_session *s;
    int code = -7, n, rc;
    size_t refused;

    section("TLS sessions: STARTTLS and SMTP_SSL");
    CHECK(r != NULL && tls_dir != NULL);
    if (r == NULL || tls_dir == NULL) {
        free(r);
        return;
    }
    cfg = ca_config(NULL, 0);
    wrong = ca_config("wrong.example", 0);
    by_name = ca_config("localhost", 0);
    no_verify = ca_config(NULL, 1);

    if (have(&starttls_srv)) {
        const char *dir = starttls_srv.dir;
        CHECK_INT(dir_count(dir), 0);
        s = traced_session(SMTP_KIND_SMTP, starttls_srv.hostport, r, cfg);
        if (s != NULL) {
            CHECK_RC(s, smtp_session_ehlo(s, NULL, &code), SMTP_OK);
            CHECK_INT(smtp_session_has_extn(s, "starttls"), 1);
            CHECK_INT(smtp_session_is_encrypted(s), 0);
            CHECK(smtp_session_tls_version(s) == NULL);
            CHECK(smtp_session_tls_cipher(s) == NULL);
            /* TLS required: nothing goes before STARTTLS. */
            CHECK_RC(s, smtp_session_set_require_tls(s, 1), SMTP_OK);
            CHECK_RC(s, smtp_session_sendmail(s, "alice@example.com", to, 1, (const uint8_t *)bcc_sent,
                                              sizeof bcc_sent - 1, NULL, 0, NULL, 0, SMTP_MSG_NORMALIZE, NULL, NULL),
                     SMTP_ERR_NOT_ENCRYPTED);
            CHECK_INT(dir_count(dir), 0);
            rec_clear(r);
            code = -7;
            CHECK_RC(s, smtp_session_starttls(s, NULL, &code), SMTP_OK);
            CHECK_INT(code, 220);
            check_tls_info(s);
            CHECK(rec_has(r, SMTP_TRACE_INFO, "certificate verified"));
            /* What was learned in clear is forgotten (RFC 3207 4.2). */
            CHECK_INT(smtp_session_does_esmtp(s), 0);
            CHECK(smtp_session_ehlo_resp(s) == NULL);
            CHECK_INT(smtp_session_feature_count(s), 0);
            /* Already encrypted: a second STARTTLS is refused, the
             * connection stays. */
            rc = smtp_session_starttls(s, NULL, &code);
            CHECK(rc == SMTP_ERR_BAD_STATE || rc == SMTP_ERR_NOT_SUPPORTED);
            CHECK_INT(smtp_session_is_connected(s), 1);
            check_tls_info(s);
            send_over_tls(s, dir, 1, "STARTTLS");
            CHECK_INT(smtp_session_does_esmtp(s), 1); /* EHLO again, over TLS */
            CHECK_RC(s, smtp_session_send_message(s, (const uint8_t *)bcc_msg, sizeof bcc_msg - 1, NULL, NULL, 0,
                                                  NULL, 0, NULL, 0, SMTP_MSG_NORMALIZE, &refused),
                     SMTP_OK);
            CHECK_INT(dir_count(dir), 2);
            CHECK(dir_eml_equals(dir, 2, bcc_sent, sizeof bcc_sent - 1));
            CHECK_RC(s, smtp_session_quit(s, &code), SMTP_OK);
            CHECK_INT(code, 221);
            CHECK_INT(smtp_session_is_encrypted(s), 0);
            CHECK(smtp_session_tls_version(s) == NULL);
            CHECK(smtp_session_tls_cipher(s) == NULL);

            /* The default config (Mozilla roots) does not know the test CA. */
            CHECK_RC(s, smtp_session_set_tls_config(s, NULL), SMTP_OK);
            CHECK_RC(s, smtp_session_connect(s, starttls_srv.hostport, 0, &code), SMTP_OK);
            CHECK_RC(s, smtp_session_starttls(s, NULL, &code), SMTP_ERR_TLS);
            CHECK(contains_ci(smtp_session_errmsg(s), "unknown issuer"));
            CHECK_INT(smtp_session_is_connected(s), 0);
            CHECK_INT(smtp_session_is_encrypted(s), 0);
            /* A config given to the call is used instead of the session's. */
            CHECK_RC(s, smtp_session_connect(s, starttls_srv.hostport, 0, &code), SMTP_OK);
            CHECK_RC(s, smtp_session_starttls(s, cfg, &code), SMTP_OK);
            check_tls_info(s);
            CHECK_RC(s, smtp_session_quit(s, NULL), SMTP_OK);
            /* The certificate is for localhost and 127.0.0.1: another name
             * fails, "localhost" checked in place of 127.0.0.1 passes. */
            CHECK_RC(s, smtp_session_connect(s, starttls_srv.hostport, 0, &code), SMTP_OK);
            CHECK_RC(s, smtp_session_starttls(s, wrong, &code), SMTP_ERR_TLS);
            CHECK(contains_ci(smtp_session_errmsg(s), "name"));
            CHECK_INT(smtp_session_is_connected(s), 0);
            CHECK_RC(s, smtp_session_connect(s, starttls_srv.hostport, 0, &code), SMTP_OK);
            CHECK_RC(s, smtp_session_starttls(s, by_name, &code), SMTP_OK);
            check_tls_info(s);
            CHECK_RC(s, smtp_session_quit(s, NULL), SMTP_OK);
            /* Verification off: connects without the CA, and says so. */
            rec_clear(r);
            CHECK_RC(s, smtp_session_connect(s, starttls_srv.hostport, 0, &code), SMTP_OK);
            CHECK_RC(s, smtp_session_starttls(s, no_verify, &code), SMTP_OK);
            check_tls_info(s);
            CHECK(rec_has(r, SMTP_TRACE_INFO, "verification is DISABLED"));
            CHECK(rec_has(r, SMTP_TRACE_INFO, "NOT verified"));
            CHECK_RC(s, smtp_session_quit(s, NULL), SMTP_OK);
            CHECK_INT(dir_count(dir), 2);
            smtp_session_free(s);
        }
        /* A session keeps its own reference to its config. */
        cfg2 = ca_config(NULL, 0);
        s = smtp_session_new(SMTP_KIND_SMTP);
        CHECK(s != NULL && cfg2 != NULL);
        if (s != NULL && cfg2 != NULL) {
            CHECK_RC(s, smtp_session_set_tls_config(s, cfg2), SMTP_OK);
            smtp_tls_config_free(cfg2);
            cfg2 = NULL;
            CHECK_RC(s, smtp_session_set_timeout_ms(s, SMTP_TIMEOUT_IO, 20000), SMTP_OK);
            CHECK_RC(s, smtp_session_connect(s, starttls_srv.hostport, 0, &code), SMTP_OK);
            CHECK_RC(s, smtp_session_starttls(s, NULL, &code), SMTP_OK);
            check_tls_info(s);
            send_over_tls(s, dir, 3, "config freed");
            CHECK_RC(s, smtp_session_quit(s, NULL), SMTP_OK);
        }
        smtp_tls_config_free(cfg2);
        smtp_session_free(s);
    }

    if (have(&implicit_srv)) {
        const char *dir = implicit_srv.dir;
        CHECK_INT(dir_count(dir), 0);
        s = traced_session(SMTP_KIND_SMTP_SSL, implicit_srv.hostport, r, cfg);
        if (s != NULL) {
            /* TLS from the first byte: encrypted before any command. */
            check_tls_info(s);
            CHECK(rec_has(r, SMTP_TRACE_INFO, "certificate verified"));
            CHECK(contains(smtp_session_last_reply_text(s), "localhost"));
            CHECK_RC(s, smtp_session_set_require_tls(s, 1), SMTP_OK);
            rc = smtp_session_starttls(s, NULL, &code);
            CHECK(rc == SMTP_ERR_BAD_STATE || rc == SMTP_ERR_NOT_SUPPORTED);
            CHECK_INT(smtp_session_is_connected(s), 1);
            send_over_tls(s, dir, 1, "SMTP_SSL");
            CHECK_RC(s, smtp_session_send_message(s, (const uint8_t *)bcc_msg, sizeof bcc_msg - 1, NULL, NULL, 0,
                                                  NULL, 0, NULL, 0, SMTP_MSG_NORMALIZE, &refused),
                     SMTP_OK);
            CHECK(dir_eml_equals(dir, 2, bcc_sent, sizeof bcc_sent - 1));
            CHECK_RC(s, smtp_session_quit(s, &code), SMTP_OK);
            CHECK_INT(code, 221);
            CHECK_INT(smtp_session_is_encrypted(s), 0);
            /* Without the CA: SMTP_ERR_TLS at connect. */
            CHECK_RC(s, smtp_session_set_tls_config(s, NULL), SMTP_OK);
            code = -7;
            CHECK_RC(s, smtp_session_connect(s, implicit_srv.hostport, 0, &code), SMTP_ERR_TLS);
            CHECK(contains_ci(smtp_session_errmsg(s), "unknown issuer"));
            CHECK_INT(smtp_session_is_connected(s), 0);
            CHECK_INT(smtp_session_is_encrypted(s), 0);
            /* A wrong name. */
            CHECK_RC(s, smtp_session_set_tls_config(s, wrong), SMTP_OK);
            CHECK_RC(s, smtp_session_connect(s, implicit_srv.hostport, 0, &code), SMTP_ERR_TLS);
            CHECK(contains_ci(smtp_session_errmsg(s), "name"));
            /* A plaintext server (the sink): not TLS. */
            CHECK_RC(s, smtp_session_set_tls_config(s, cfg), SMTP_OK);
            CHECK_RC(s, smtp_session_connect(s, hostport, 0, &code), SMTP_ERR_TLS);
            CHECK_INT(smtp_session_is_connected(s), 0);
            /* Verification off, and "localhost" checked for 127.0.0.1. */
            n = dir_count(dir);
            CHECK_RC(s, smtp_session_set_tls_config(s, no_verify), SMTP_OK);
            CHECK_RC(s, smtp_session_connect(s, implicit_srv.hostport, 0, &code), SMTP_OK);
            check_tls_info(s);
            send_over_tls(s, dir, n + 1, "not verified");
            CHECK_RC(s, smtp_session_set_tls_config(s, by_name), SMTP_OK);
            CHECK_RC(s, smtp_session_connect(s, implicit_srv.hostport, 0, &code), SMTP_OK);
            CHECK_INT(code, 220);
            check_tls_info(s);
            CHECK_RC(s, smtp_session_quit(s, NULL), SMTP_OK);
            smtp_session_free(s);
        }
    }
    smtp_tls_config_free(cfg);
    smtp_tls_config_free(wrong);
    smtp_tls_config_free(by_name);
    smtp_tls_config_free(no_verify);
    free(r);
}

/* An LMTP session speaks LHLO; aiosmtpd (SMTP) does not know it, and the
 * 500 comes back as a reply, not an error. */
/* A thread that cancels a session's call after a delay. */
struct canceller {
    smtp_session *s;
    unsigned delay_ms;
    int rc;
};

static void *cancel_later(void *arg)
{
    struct canceller *c = arg;
    struct timespec t;
    t.tv_sec = c->delay_ms / 1000;
    t.tv_nsec = (long)(c->delay_ms % 1000) * 1000000L;
    nanosleep(&t, NULL);
    c->rc = smtp_session_cancel(c->s);
    return NULL;
}

/* smtp_session_cancel() from another thread ends a wait at once: the call
 * returns SMTP_ERR_CANCELLED, the connection is closed, and a new connect
 * on the same session works. A cancel while idle does not carry over. */
static void test_cancel(void)
{
    smtp_session *s;
    struct canceller c;
    pthread_t t;
    uint16_t lp = 0;
    int lfd, code = -7;
    double t0, took;

    section("cancel from another thread");
    s = smtp_session_new(SMTP_KIND_SMTP);
    CHECK(s != NULL);
    lfd = listener(&lp);
    CHECK(lfd >= 0);
    if (s == NULL || lfd < 0) {
        smtp_session_free(s);
        if (lfd >= 0)
            close(lfd);
        return;
    }
    /* A server that accepts (the kernel does) and never greets. */
    CHECK_RC(s, smtp_session_set_timeout_ms(s, SMTP_TIMEOUT_ALL, 20000), SMTP_OK);
    c.s = s;
    c.delay_ms = 200;
    c.rc = -1;
    t0 = now_s();
    CHECK(pthread_create(&t, NULL, cancel_later, &c) == 0);
    CHECK_RC(s, smtp_session_connect(s, "127.0.0.1", lp, &code), SMTP_ERR_CANCELLED);
    took = now_s() - t0;
    pthread_join(t, NULL);
    CHECK_INT(c.rc, SMTP_OK);
    CHECK(took >= 0.19 && took < 0.3 + 0.2);
    if (!(took >= 0.19 && took < 0.5))
        printf("   (the cancelled greeting wait took %.3f s, want 0.2)\n", took);
    CHECK(contains_ci(smtp_session_errmsg(s), "cancel"));
    CHECK_INT(smtp_session_is_connected(s), 0);
    CHECK_INT(code, 0);
    close(lfd);
    /* Reusable after a new connect; an idle cancel does not cancel the next call. */
    CHECK_INT(smtp_session_cancel(s), SMTP_OK);
    CHECK_RC(s, smtp_session_connect(s, hostport, 0, &code), SMTP_OK);
    CHECK_INT(code, 220);
    CHECK_INT(smtp_session_cancel(s), SMTP_OK);
    CHECK_RC(s, smtp_session_noop(s, &code), SMTP_OK);
    CHECK_INT(code, 250);
    CHECK_RC(s, smtp_session_quit(s, &code), SMTP_OK);
    smtp_session_free(s);
}

static void test_lmtp(void)
{
    smtp_session *s = smtp_session_new(SMTP_KIND_LMTP);
    struct rec *r = calloc(1, sizeof *r);
    int code = -7;

    section("LMTP session");
    CHECK(s != NULL && r != NULL);
    if (s == NULL || r == NULL) {
        smtp_session_free(s);
        free(r);
        return;
    }
    r->session = s;
    CHECK_RC(s, smtp_session_set_debuglevel(s, 1), SMTP_OK);
    CHECK_RC(s, smtp_session_set_trace(s, rec_cb, r), SMTP_OK);
    CHECK_RC(s, smtp_session_connect(s, hostport, 0, &code), SMTP_OK);
    CHECK_INT(code, 220);
    CHECK_RC(s, smtp_session_ehlo(s, "lmtp.example", &code), SMTP_OK);
    CHECK_INT(code, 500);
    CHECK(rec_has(r, SMTP_TRACE_SEND, "lhlo lmtp.example"));
    CHECK_INT(smtp_session_does_esmtp(s), 0);
    CHECK(smtp_session_ehlo_resp(s) != NULL);
    CHECK_INT(smtp_session_feature_count(s), 0);
    CHECK_RC(s, smtp_session_quit(s, &code), SMTP_OK);
    smtp_session_free(s);
    free(r);
}

/* ------------------------------------------------- proxies, caller's socket */

/* --proxies SOCKS5_HOST:PORT HTTP_HOST:PORT: pproxy (tests/servers/
 * proxy_server.py) serving SOCKS5 and HTTP CONNECT, each requiring the user
 * PROXY_USER with the password PROXY_PASSWORD. */
static char socks5_proxy[300], http_proxy[300];
#define PROXY_USER "cuser"
#define PROXY_PASSWORD "s3cret@proxy"
#define PROXY_PASSWORD_IN_URL "s3cret%40proxy"

/* No recorded line and no errmsg holds the proxy password. */
static void check_no_password(smtp_session *s, const struct rec *r)
{
    int i;
    CHECK(!contains(smtp_session_errmsg(s), "s3cret"));
    for (i = 0; i < r->n && i < REC_LINES; i++)
        CHECK(!contains(r->lines[i], "s3cret") && !contains(r->lines[i], "czNjcmV0QHByb3h5"));
}

/* One message through `s` (connected) into the main sink, as message n. */
static void send_to_sink(smtp_session *s, int n, const char *what)
{
    char msg[256];
    const char *to[] = {"bob@example.com"};
    snprintf(msg, sizeof msg, "From: alice@example.com\r\nSubject: %s\r\n\r\nhello\r\n", what);
    CHECK_RC(s, smtp_session_sendmail(s, "alice@example.com", to, 1, (const uint8_t *)msg, strlen(msg), NULL, 0, NULL,
                                      0, SMTP_MSG_NORMALIZE, NULL, NULL),
             SMTP_OK);
    CHECK_INT(sink_count(), n);
    CHECK(sink_eml_equals(n, msg, strlen(msg)));
}

/* A session of `kind` with `config` through `scheme`://PROXY_USER:
 * PROXY_PASSWORD@`proxy` to the TLS server `srv`: STARTTLS first for
 * SMTP_KIND_SMTP; one message sent over TLS, then QUIT. */
static void tls_through_proxy(int kind, const char *scheme, const char *proxy, const struct server *srv,
                              const smtp_tls_config *config)
{
    smtp_session *s = smtp_session_new(kind);
    char url[512];
    int code = -7;
    CHECK(s != NULL);
    if (s == NULL)
        return;
    CHECK_RC(s, smtp_session_set_tls_config(s, config), SMTP_OK);
    snprintf(url, sizeof url, "%s://%s:%s@%s", scheme, PROXY_USER, PROXY_PASSWORD_IN_URL, proxy);
    CHECK_RC(s, smtp_session_set_proxy(s, url), SMTP_OK);
    CHECK_RC(s, smtp_session_connect(s, srv->hostport, 0, &code), SMTP_OK);
    if (kind == SMTP_KIND_SMTP)
        CHECK_RC(s, smtp_session_starttls(s, NULL, &code), SMTP_OK);
    check_tls_info(s);
    send_over_tls(s, srv->dir, dir_count(srv->dir) + 1, "through a proxy");
    CHECK_RC(s, smtp_session_quit(s, NULL), SMTP_OK);
    smtp_session_free(s);
}

static void test_proxy(void)
{
    static const char *const bad[] = {
        "ftp://127.0.0.1:21",           "socks4://127.0.0.1",
        "127.0.0.1:1080",               "socks5://",
        "socks5://127.0.0.1:0",         "socks5://127.0.0.1:65536",
        "http://127.0.0.1:8080\r\nX: y", "http://127.0.0.1:8080/path",
        "socks5://" PROXY_USER ":s3cret%zz@127.0.0.1",
    };
    struct rec *r = calloc(1, sizeof *r);
    smtp_tls_config *by_name;
    smtp_session *s;
    char url[512];
    int code = -7, n;
    size_t i;

    section("proxies: smtp_session_set_proxy");
    CHECK_INT(smtp_session_set_proxy(NULL, "socks5://127.0.0.1"), SMTP_ERR_NULL_ARGUMENT);
    s = smtp_session_new(SMTP_KIND_SMTP);
    CHECK(s != NULL && r != NULL);
    if (s == NULL || r == NULL) {
        smtp_session_free(s);
        free(r);
        return;
    }
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_RC(s, smtp_session_set_proxy(s, bad[i]), SMTP_ERR_INVALID_ARGUMENT);
        CHECK(contains(smtp_session_errmsg(s), "proxy URL"));
        CHECK(!contains(smtp_session_errmsg(s), "s3cret"));
    }
    CHECK_RC(s, smtp_session_set_proxy(s, NULL), SMTP_OK);
    CHECK_RC(s, smtp_session_set_proxy(s, ""), SMTP_OK);
    /* No proxy now: a direct connect. */
    CHECK_RC(s, smtp_session_connect(s, hostport, 0, &code), SMTP_OK);
    CHECK_INT(code, 220);
    CHECK_RC(s, smtp_session_quit(s, NULL), SMTP_OK);
    /* A Unix-domain socket cannot go through a proxy. */
    CHECK_RC(s, smtp_session_set_proxy(s, "socks5://127.0.0.1:1080"), SMTP_OK);
    CHECK_RC(s, smtp_session_connect(s, "/nonexistent/lmtp.sock", 0, &code), SMTP_ERR_INVALID_ARGUMENT);
    CHECK(contains(smtp_session_errmsg(s), "proxy"));
    /* A proxy nothing listens on. */
    snprintf(url, sizeof url, "socks5://127.0.0.1:%u", (unsigned)closed_port());
    CHECK_RC(s, smtp_session_set_proxy(s, url), SMTP_OK);
    CHECK_RC(s, smtp_session_connect(s, hostport, 0, &code), SMTP_ERR_CONNECT);
    CHECK(contains(smtp_session_errmsg(s), "unreachable"));
    smtp_session_free(s);

    if (socks5_proxy[0] == 0) {
        printf("   (--proxies was not given: the tests through real proxies cannot run)\n");
        CHECK(socks5_proxy[0] != 0);
        free(r);
        return;
    }
    section("proxies: SOCKS5 and HTTP CONNECT (pproxy)");
    /* Plain SMTP through SOCKS5 with user and password, traced. */
    s = smtp_session_new(SMTP_KIND_SMTP);
    CHECK(s != NULL);
    if (s != NULL) {
        r->session = s;
        rec_clear(r);
        CHECK_RC(s, smtp_session_set_local_hostname(s, "client.example"), SMTP_OK);
        CHECK_RC(s, smtp_session_set_debuglevel(s, 1), SMTP_OK);
        CHECK_RC(s, smtp_session_set_trace(s, rec_cb, r), SMTP_OK);
        snprintf(url, sizeof url, "socks5://%s:%s@%s", PROXY_USER, PROXY_PASSWORD_IN_URL, socks5_proxy);
        CHECK_RC(s, smtp_session_set_proxy(s, url), SMTP_OK);
        CHECK_RC(s, smtp_session_connect(s, hostport, 0, &code), SMTP_OK);
        CHECK_INT(code, 220);
        CHECK(rec_has(r, SMTP_TRACE_INFO, "SOCKS5 proxy"));
        n = sink_count();
        send_to_sink(s, n + 1, "through SOCKS5");
        CHECK_RC(s, smtp_session_quit(s, NULL), SMTP_OK);
        /* HTTP CONNECT with Basic credentials. */
        snprintf(url, sizeof url, "http://%s:%s@%s", PROXY_USER, PROXY_PASSWORD_IN_URL, http_proxy);
        CHECK_RC(s, smtp_session_set_proxy(s, url), SMTP_OK);
        CHECK_RC(s, smtp_session_connect(s, hostport, 0, &code), SMTP_OK);
        CHECK(rec_has(r, SMTP_TRACE_INFO, "HTTP proxy"));
        send_to_sink(s, n + 2, "through HTTP CONNECT");
        CHECK_RC(s, smtp_session_quit(s, NULL), SMTP_OK);
        /* A wrong password: refused, in words, without the password. */
        snprintf(url, sizeof url, "http://%s:not-%s@%s", PROXY_USER, PROXY_PASSWORD_IN_URL, http_proxy);
        CHECK_RC(s, smtp_session_set_proxy(s, url), SMTP_OK);
        CHECK_RC(s, smtp_session_connect(s, hostport, 0, &code), SMTP_ERR_CONNECT);
        CHECK(contains(smtp_session_errmsg(s), "407"));
        check_no_password(s, r);
        CHECK_RC(s, smtp_session_set_trace(s, NULL, NULL), SMTP_OK);
        smtp_session_free(s);
    }
    /* TLS end to end: SMTP_SSL through SOCKS5 (socks5h: the proxy would
     * resolve a name; the address is given and "localhost" is checked as
     * the certificate's name only), STARTTLS through HTTP. */
    by_name = tls_dir ? ca_config("localhost", 0) : NULL;
    if (by_name != NULL && have(&implicit_srv))
        tls_through_proxy(SMTP_KIND_SMTP_SSL, "socks5h", socks5_proxy, &implicit_srv, by_name);
    if (by_name != NULL && have(&starttls_srv))
        tls_through_proxy(SMTP_KIND_SMTP, "http", http_proxy, &starttls_srv, by_name);
    smtp_tls_config_free(by_name);
    free(r);
}

/* A TCP socket connected to `p` on 127.0.0.1; -1 on failure. */
static int tcp_connected(uint16_t p)
{
    struct sockaddr_in a = {0};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(p);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* The peer of a socketpair end sees end of stream (after `want`, when not
 * NULL, arrived first): the library closed its end. */
static int peer_sees(int fd, const char *want)
{
    char buf[256];
    size_t got = 0, wl = want ? strlen(want) : 0;
    ssize_t n;
    struct pollfd p;
    p.fd = fd;
    p.events = POLLIN;
    for (;;) {
        if (poll(&p, 1, 5000) != 1)
            return 0;
        n = read(fd, buf + got, sizeof buf - 1 - got);
        if (n <= 0)
            return n == 0 && got == wl && (wl == 0 || memcmp(buf, want, wl) == 0);
        got += (size_t)n;
        if (got >= sizeof buf - 1)
            return 0;
    }
}

static void test_connect_fd(void)
{
    smtp_session *s;
    smtp_tls_config *by_name;
    int sv[2], pfd[2], fd, code = -7;

    section("smtp_session_connect_fd: the caller's socket");
    s = smtp_session_new(SMTP_KIND_SMTP);
    CHECK(s != NULL);
    if (s == NULL)
        return;
    /* A socketpair whose other end has already said everything it will:
     * the greeting and the reply to NOOP. */
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    send_str(sv[1], "220 pair.example ESMTP\r\n250 ok\r\n");
    CHECK_RC(s, smtp_session_connect_fd(s, sv[0], NULL, &code), SMTP_OK);
    CHECK_INT(code, 220);
    CHECK_INT(smtp_session_is_connected(s), 1);
    CHECK_RC(s, smtp_session_noop(s, &code), SMTP_OK);
    CHECK_INT(code, 250);
    /* smtp_session_close() closes the fd. */
    CHECK_RC(s, smtp_session_close(s), SMTP_OK);
    CHECK(peer_sees(sv[1], "noop\r\n"));
    close(sv[1]);

    /* A TCP socket to the sink. */
    fd = tcp_connected(port);
    CHECK(fd >= 0);
    CHECK_RC(s, smtp_session_connect_fd(s, fd, NULL, &code), SMTP_OK);
    CHECK_INT(code, 220);
    send_to_sink(s, sink_count() + 1, "over the caller's socket");
    CHECK_RC(s, smtp_session_quit(s, NULL), SMTP_OK);

    /* On failure the fd is closed too, even for a NULL session. */
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    CHECK_INT(smtp_session_connect_fd(NULL, sv[0], NULL, &code), SMTP_ERR_NULL_ARGUMENT);
    CHECK(peer_sees(sv[1], NULL));
    close(sv[1]);
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    CHECK_RC(s, smtp_session_connect_fd(s, sv[0], "bad\r\nhost", &code), SMTP_ERR_INVALID_ARGUMENT);
    CHECK(peer_sees(sv[1], NULL));
    close(sv[1]);
    /* Not a socket: refused, and closed. */
    CHECK(pipe(pfd) == 0);
    CHECK_RC(s, smtp_session_connect_fd(s, pfd[0], NULL, &code), SMTP_ERR_INVALID_ARGUMENT);
    CHECK(contains(smtp_session_errmsg(s), "not a socket"));
    CHECK(fcntl(pfd[0], F_GETFD) == -1 && errno == EBADF);
    close(pfd[1]);
    CHECK_RC(s, smtp_session_connect_fd(s, -1, NULL, &code), SMTP_ERR_INVALID_ARGUMENT);
    smtp_session_free(s);

    /* SMTP_SSL over the caller's socket: the certificate is checked
     * against the host given. */
    by_name = tls_dir ? ca_config(NULL, 0) : NULL;
    if (by_name != NULL && have(&implicit_srv)) {
        s = smtp_session_new(SMTP_KIND_SMTP_SSL);
        CHECK(s != NULL);
        if (s != NULL) {
            CHECK_RC(s, smtp_session_set_tls_config(s, by_name), SMTP_OK);
            fd = tcp_connected(implicit_srv.port);
            CHECK_RC(s, smtp_session_connect_fd(s, fd, "localhost", &code), SMTP_OK);
            CHECK_INT(code, 220);
            check_tls_info(s);
            send_over_tls(s, implicit_srv.dir, dir_count(implicit_srv.dir) + 1, "SMTP_SSL over the caller's socket");
            CHECK_RC(s, smtp_session_quit(s, NULL), SMTP_OK);
            fd = tcp_connected(implicit_srv.port);
            CHECK_RC(s, smtp_session_connect_fd(s, fd, NULL, &code), SMTP_ERR_TLS);
            CHECK(contains(smtp_session_errmsg(s), "no host name"));
            smtp_session_free(s);
        }
    }
    smtp_tls_config_free(by_name);
}

/* `hp` (a loopback HOST:PORT) and `dir` into `srv`; 0 (after saying why)
 * when they do not do. */
static int parse_server(struct server *srv, const char *hp, const char *dir)
{
    char h[64];
    const char *colon = strrchr(hp, ':');
    size_t hl = colon ? (size_t)(colon - hp) : 0;
    long p = colon ? atol(colon + 1) : 0;
    if (colon == NULL || hl == 0 || hl >= sizeof h || p <= 0 || p > 65535) {
        fprintf(stderr, "test_api: %s: bad HOST:PORT %s\n", srv->option, hp);
        return 0;
    }
    memcpy(h, hp, hl);
    h[hl] = 0;
    if (!is_loopback_literal(h)) {
        fprintf(stderr, "test_api: %s: %s is not a loopback address (127.0.0.0/8, ::1): refused\n", srv->option, h);
        return 0;
    }
    if (dir_count(dir) != 0) {
        fprintf(stderr, "test_api: %s: %s must start empty\n", srv->option, dir);
        return 0;
    }
    srv->given = 1;
    srv->port = (uint16_t)p;
    snprintf(srv->hostport, sizeof srv->hostport, "%s:%ld", h, p);
    srv->dir = dir;
    return 1;
}

/* One thread of test_pool: its own session, five messages through the
 * shared pool. */
struct pool_worker {
    smtp_pool *pool;
    int id, sent, failed;
};

static void *pool_worker_run(void *arg)
{
    struct pool_worker *w = arg;
    const char *to[] = {"bob@example.com"};
    smtp_session *s = smtp_session_new(SMTP_KIND_SMTP);
    char msg[128];
    int i, rc;

    if (s == NULL || smtp_session_set_local_hostname(s, "client.example") != SMTP_OK) {
        w->failed = 5;
        smtp_session_free(s);
        return NULL;
    }
    for (i = 0; i < 5; i++) {
        snprintf(msg, sizeof msg, "Subject: pool %d.%d\r\n\r\nthrough the pool\r\n", w->id, i);
        rc = smtp_pool_sendmail(w->pool, s, "alice@example.com", to, 1, (const uint8_t *)msg, strlen(msg), NULL, 0, NULL, 0,
                                SMTP_MSG_NORMALIZE, NULL, NULL);
        if (rc == SMTP_OK)
            w->sent++;
        else
            w->failed++;
    }
    smtp_session_free(s);
    return NULL;
}

/* A SASL callback that must never get as far as being asked: the sink
 * offers no AUTH, so the pool's connections fail before it runs... or it
 * answers PLAIN's initial response, and the sink refuses AUTH. */
static int pool_sasl(void *userdata, const uint8_t *challenge, size_t challenge_len, uint8_t *response,
                     size_t cap, size_t *len)
{
    static const char plain[] = "\0user\0secret";
    (void)challenge;
    (void)challenge_len;
    ++*(int *)userdata;
    if (cap < sizeof plain - 1)
        return 0;
    memcpy(response, plain, sizeof plain - 1);
    *len = sizeof plain - 1;
    return SMTP_SASL_CONTINUE;
}

static int pool_sasl_step(void *userdata, const uint8_t *challenge, size_t challenge_len, smtp_sasl_exchange *x)
{
    static const char plain[] = "\0user\0secret";
    (void)challenge;
    (void)challenge_len;
    ++*(int *)userdata;
    return smtp_sasl_respond(x, (const uint8_t *)plain, sizeof plain - 1) == SMTP_OK ? SMTP_SASL_CONTINUE : 0;
}

/* smtp_pool: four threads, five messages each, through at most two
 * connections that retire after three messages; send_message and a batch
 * through the pool; credentials; bad arguments. */
static void test_pool(void)
{
    static const char m[] = "Subject: pooled\r\n\r\nfrom the pool\r\n";
    static const char whole[] = "From: alice@example.com\r\nTo: bob@example.com\r\nSubject: whole\r\n\r\nwhole\r\n";
    const char *to[] = {"bob@example.com"};
    struct pool_worker w[4];
    pthread_t t[4];
    smtp_batch_item items[2];
    smtp_pool *pool = (smtp_pool *)1, *other = NULL;
    smtp_session *like, *s;
    size_t refused = 9;
    int i, code, n0 = sink_count(), asked = 0;

    section("pool");
    smtp_pool_free(NULL);
    CHECK_INT(smtp_pool_new(NULL, hostport, 0, 2, &pool), SMTP_ERR_NULL_ARGUMENT);
    CHECK(pool == NULL);
    like = smtp_session_new(SMTP_KIND_SMTP);
    s = smtp_session_new(SMTP_KIND_SMTP);
    CHECK(like != NULL && s != NULL);
    if (like == NULL || s == NULL) {
        smtp_session_free(like);
        smtp_session_free(s);
        return;
    }
    CHECK_RC(like, smtp_session_set_local_hostname(like, "client.example"), SMTP_OK);
    CHECK_RC(like, smtp_pool_new(like, NULL, 0, 2, &pool), SMTP_ERR_NULL_ARGUMENT);
    CHECK(names_word(smtp_session_errmsg(like), "host"));
    CHECK_RC(like, smtp_pool_new(like, hostport, 0, 0, &pool), SMTP_ERR_INVALID_ARGUMENT);
    CHECK(contains_ci(smtp_session_errmsg(like), "max_connections"));
    CHECK_RC(like, smtp_pool_new(like, hostport, 0, 2, NULL), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(like, smtp_pool_new(like, "bad\r\nhost", 0, 2, &pool), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_RC(like, smtp_pool_new(like, hostport, 0, 2, &pool), SMTP_OK);
    CHECK(pool != NULL);
    if (pool == NULL) {
        smtp_session_free(like);
        smtp_session_free(s);
        return;
    }
    CHECK_INT(smtp_pool_set_option(NULL, SMTP_POOL_RATE, 1), SMTP_ERR_NULL_ARGUMENT);
    CHECK_INT(smtp_pool_set_option(pool, 99, 1), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_INT(smtp_pool_set_option(pool, SMTP_POOL_MAX_CONNECTIONS, 0), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_INT(smtp_pool_set_option(pool, SMTP_POOL_MAX_CONNECTIONS, 2), SMTP_OK);
    CHECK_INT(smtp_pool_set_option(pool, SMTP_POOL_MAX_MESSAGES, 3), SMTP_OK);
    CHECK_INT(smtp_pool_set_option(pool, SMTP_POOL_MAX_IDLE_MS, 60000), SMTP_OK);
    CHECK_INT(smtp_pool_set_option(pool, SMTP_POOL_PROBE_IDLE_MS, 0), SMTP_OK);
    CHECK_INT(smtp_pool_set_option(pool, SMTP_POOL_RATE, 0), SMTP_OK);
    CHECK_INT(smtp_pool_set_option(pool, SMTP_POOL_STARTTLS, 0), SMTP_OK);
    CHECK(smtp_pool_stat(NULL, SMTP_POOL_STAT_SENT) == 0);
    CHECK(smtp_pool_stat(pool, 99) == 0);

    for (i = 0; i < 4; i++) {
        w[i].pool = pool;
        w[i].id = i;
        w[i].sent = w[i].failed = 0;
        CHECK(pthread_create(&t[i], NULL, pool_worker_run, &w[i]) == 0);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK_INT(w[i].sent, 5);
        CHECK_INT(w[i].failed, 0);
    }
    CHECK_INT(sink_count(), n0 + 20);
    CHECK(smtp_pool_stat(pool, SMTP_POOL_STAT_SENT) == 20);
    CHECK(smtp_pool_stat(pool, SMTP_POOL_STAT_OPENED) >= 7);
    CHECK(smtp_pool_stat(pool, SMTP_POOL_STAT_OPEN) <= 2);
    CHECK(smtp_pool_stat(pool, SMTP_POOL_STAT_IDLE) <= 2);
    CHECK(smtp_pool_stat(pool, SMTP_POOL_STAT_RETIRED) >= 6);
    CHECK(smtp_pool_stat(pool, SMTP_POOL_STAT_RETRIED) == 0);
    CHECK(smtp_pool_stat(pool, SMTP_POOL_STAT_UNKNOWN) == 0);
    CHECK(smtp_pool_stat(pool, SMTP_POOL_STAT_PROBED) == 0);
    CHECK(smtp_pool_stat(pool, SMTP_POOL_STAT_PROBE_FAILED) == 0);

    /* The caller's session gets the results, as after a session call, and
     * is unconnected again. */
    CHECK_RC(s, smtp_pool_sendmail(pool, s, "alice@example.com", to, 1, (const uint8_t *)m, sizeof m - 1, NULL, 0, NULL, 0,
                                   SMTP_MSG_NORMALIZE, NULL, &refused),
             SMTP_OK);
    CHECK_INT(refused, 0);
    CHECK_INT(smtp_session_rcpt_count(s), 1);
    CHECK_STR(smtp_session_rcpt_addr(s, 0), "bob@example.com");
    CHECK_INT(smtp_session_last_reply_code(s), 250);
    CHECK_INT(smtp_session_is_connected(s), 0);
    CHECK_RC(s, smtp_pool_send_message(pool, s, (const uint8_t *)whole, sizeof whole - 1, NULL, NULL, 0, NULL, 0, NULL, 0,
                                       SMTP_MSG_NORMALIZE, &refused),
             SMTP_OK);
    CHECK(sink_eml_equals(n0 + 22, whole, sizeof whole - 1));
    batch_item(&items[0], to, 1, m, SMTP_MSG_NORMALIZE, NULL);
    batch_item(&items[1], to, 1, whole, SMTP_MSG_NORMALIZE, NULL);
    CHECK_RC(s, smtp_pool_sendmail_batch(pool, s, items, 2), SMTP_OK);
    CHECK_INT(items[0].result, SMTP_OK);
    CHECK_INT(items[1].result, SMTP_OK);
    CHECK_INT(sink_count(), n0 + 24);

    /* Bad calls: reported on the caller's session. */
    CHECK_RC(s, smtp_pool_sendmail(NULL, s, "alice@example.com", to, 1, (const uint8_t *)m, sizeof m - 1, NULL, 0, NULL, 0,
                                   SMTP_MSG_NORMALIZE, NULL, NULL),
             SMTP_ERR_NULL_ARGUMENT);
    CHECK(names_word(smtp_session_errmsg(s), "pool"));
    CHECK_RC(s, smtp_pool_send_message(NULL, s, (const uint8_t *)whole, sizeof whole - 1, NULL, NULL, 0, NULL, 0, NULL, 0, 0, NULL),
             SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(s, smtp_pool_sendmail_batch(NULL, s, items, 2), SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(s, smtp_pool_sendmail(pool, s, NULL, to, 1, (const uint8_t *)m, sizeof m - 1, NULL, 0, NULL, 0, 0, NULL, NULL),
             SMTP_ERR_NULL_ARGUMENT);
    CHECK_RC(s, smtp_session_connect(s, hostport, 0, &code), SMTP_OK);
    CHECK_RC(s, smtp_pool_sendmail(pool, s, "alice@example.com", to, 1, (const uint8_t *)m, sizeof m - 1, NULL, 0, NULL, 0, 0, NULL,
                                   NULL),
             SMTP_ERR_BAD_STATE);
    CHECK(contains_ci(smtp_session_errmsg(s), "unconnected"));
    CHECK_RC(s, smtp_session_quit(s, &code), SMTP_OK);
    CHECK_INT(sink_count(), n0 + 24);

    /* Credentials: every new connection logs in (the sink offers no AUTH,
     * so login is refused as the session's would be); removed, they go. */
    CHECK_RC(like, smtp_pool_new(like, hostport, 0, 1, &other), SMTP_OK);
    CHECK_INT(smtp_pool_set_login(NULL, "user", "secret", 0), SMTP_ERR_NULL_ARGUMENT);
    CHECK_INT(smtp_pool_set_login(other, "user", NULL, 0), SMTP_ERR_NULL_ARGUMENT);
    CHECK_INT(smtp_pool_set_login(other, "user", "secret", 99), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_INT(smtp_pool_set_login(other, "user", "secret", 0), SMTP_OK);
    CHECK_RC(s, smtp_pool_sendmail(other, s, "alice@example.com", to, 1, (const uint8_t *)m, sizeof m - 1, NULL, 0, NULL, 0, 0, NULL,
                                   NULL),
             SMTP_ERR_NOT_SUPPORTED);
    CHECK(contains_ci(smtp_session_errmsg(s), "AUTH"));
    CHECK_INT(smtp_pool_set_login(other, NULL, NULL, 0), SMTP_OK);
    CHECK_INT(smtp_pool_set_auth(other, NULL, pool_sasl, &asked, 0), SMTP_ERR_NULL_ARGUMENT);
    CHECK_INT(smtp_pool_set_auth(other, "PLAIN", pool_sasl, &asked, 0), SMTP_OK);
    code = smtp_pool_sendmail(other, s, "alice@example.com", to, 1, (const uint8_t *)m, sizeof m - 1, NULL, 0, NULL, 0, 0, NULL, NULL);
    CHECK(code != SMTP_OK);
    CHECK_INT(asked, 1);
    /* The step form: the same, its response given by smtp_sasl_respond(). */
    CHECK_INT(smtp_pool_set_auth_step(other, "PLAIN", pool_sasl_step, &asked, 99), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_INT(smtp_pool_set_auth_step(other, "PLAIN", pool_sasl_step, &asked, 0), SMTP_OK);
    code = smtp_pool_sendmail(other, s, "alice@example.com", to, 1, (const uint8_t *)m, sizeof m - 1, NULL, 0, NULL, 0, 0, NULL, NULL);
    CHECK(code != SMTP_OK);
    CHECK_INT(asked, 2);
    CHECK_INT(smtp_pool_set_auth(other, NULL, NULL, NULL, 0), SMTP_OK);
    CHECK_RC(s, smtp_pool_sendmail(other, s, "alice@example.com", to, 1, (const uint8_t *)m, sizeof m - 1, NULL, 0, NULL, 0, 0, NULL,
                                   NULL),
             SMTP_OK);
    CHECK_INT(sink_count(), n0 + 25);
    CHECK(smtp_pool_stat(other, SMTP_POOL_STAT_OPENED) == 1);
    smtp_pool_free(other);
    smtp_pool_free(pool);
    smtp_session_free(like);
    smtp_session_free(s);
}

/* A config from `b` (NULL on failure, a failure). */
static smtp_tls_config *build_config(smtp_tls_config_builder *b)
{
    smtp_tls_config *c = NULL;
    CHECK_RC(NULL, smtp_tls_config_builder_build(b, &c), SMTP_OK);
    if (c == NULL)
        printf("   (build: %s)\n", smtp_tls_config_builder_errmsg(b));
    return c;
}

/* The system trust store option (SSL_CERT_FILE names the test CA alone:
 * rustls-native-certs reads it in place of the system's bundle),
 * certificate errors in words, and internationalized names (UTF-8 in,
 * A-labels out). No name is resolved. */
static void test_tls_trust_and_idna(void)
{
    char ca[1024], missing[1024];
    const char *e, *old_env = getenv("SSL_CERT_FILE");
    char *saved = old_env != NULL ? strdup(old_env) : NULL;
    smtp_tls_config_builder *b;
    smtp_tls_config *system = NULL, *mozilla = NULL, *idn = NULL;
    smtp_session *s;
    int code = -7;

    section("TLS: the system trust store, certificate errors in words, IDNA");
    CHECK(tls_dir != NULL);
    if (tls_dir == NULL)
        return;
    tls_path(ca, sizeof ca, "ca.pem");
    tls_path(missing, sizeof missing, "no-such-bundle.pem");
    CHECK_INT(SMTP_ROOTS_MOZILLA, 1);
    CHECK_INT(SMTP_ROOTS_SYSTEM, 2);
    CHECK_RC(NULL, smtp_tls_config_builder_set_roots(NULL, SMTP_ROOTS_SYSTEM), SMTP_ERR_NULL_ARGUMENT);

    b = smtp_tls_config_builder_new();
    CHECK_RC(NULL, smtp_tls_config_builder_set_roots(b, 4), SMTP_ERR_INVALID_ARGUMENT);
    CHECK(contains(smtp_tls_config_builder_errmsg(b), "SMTP_ROOTS_SYSTEM"));
    /* The store is loaded by set_roots, which says what it found. */
    CHECK(setenv("SSL_CERT_FILE", ca, 1) == 0);
    CHECK(unsetenv("SSL_CERT_DIR") == 0);
    CHECK_RC(NULL, smtp_tls_config_builder_set_roots(b, SMTP_ROOTS_SYSTEM), SMTP_OK);
    e = smtp_tls_config_builder_errmsg(b);
    CHECK(contains(e, "system trust store (SSL_CERT_FILE=") && contains(e, ca) && contains(e, "): 1 certificate loaded"));
    CHECK(!contains(e, "Mozilla"));
    system = build_config(b);
    CHECK_RC(NULL, smtp_tls_config_builder_set_roots(b, SMTP_ROOTS_MOZILLA), SMTP_OK);
    CHECK(strncmp(smtp_tls_config_builder_errmsg(b), "Mozilla roots: ", 15) == 0);
    mozilla = build_config(b);
    /* A store that cannot be loaded: the file and the count; nothing changes. */
    CHECK(setenv("SSL_CERT_FILE", missing, 1) == 0);
    CHECK_RC(NULL, smtp_tls_config_builder_set_roots(b, SMTP_ROOTS_MOZILLA | SMTP_ROOTS_SYSTEM), SMTP_ERR_TLS);
    e = smtp_tls_config_builder_errmsg(b);
    CHECK(contains(e, missing) && contains(e, "0 certificates loaded") && contains(e, "1 failed"));
    if (saved != NULL)
        CHECK(setenv("SSL_CERT_FILE", saved, 1) == 0);
    else
        CHECK(unsetenv("SSL_CERT_FILE") == 0);
    free(saved);

    /* Server names in UTF-8 become A-labels; UTS #46 refusals say so. */
    CHECK_RC(NULL, smtp_tls_config_builder_add_ca_file(b, ca), SMTP_OK);
    CHECK_RC(NULL, smtp_tls_config_builder_set_server_name(b, "\xcc\x81" "bad.example"), SMTP_ERR_INVALID_ARGUMENT);
    CHECK(contains(smtp_tls_config_builder_errmsg(b), "internationalized domain name"));
    CHECK_RC(NULL, smtp_tls_config_builder_set_server_name(b, "B\xc3\xbc" "cher.example"), SMTP_OK);
    idn = build_config(b);
    smtp_tls_config_builder_free(b);

    s = smtp_session_new(SMTP_KIND_SMTP_SSL);
    CHECK(s != NULL);
    if (s != NULL) {
        /* An invalid internationalized host: refused before any lookup. */
        CHECK_RC(s, smtp_session_connect(s, "\xcc\x81" "bad.example", 25, &code), SMTP_ERR_INVALID_ARGUMENT);
        CHECK(contains(smtp_session_errmsg(s), "internationalized domain name"));
        if (have(&implicit_srv)) {
            /* The test CA from the "system" store verifies; the Mozilla roots do not know it. */
            CHECK_RC(s, smtp_session_set_tls_config(s, system), SMTP_OK);
            CHECK_RC(s, smtp_session_connect(s, implicit_srv.hostport, 0, &code), SMTP_OK);
            CHECK_INT(code, 220);
            check_tls_info(s);
            CHECK_RC(s, smtp_session_quit(s, NULL), SMTP_OK);
            CHECK_RC(s, smtp_session_set_tls_config(s, mozilla), SMTP_OK);
            CHECK_RC(s, smtp_session_connect(s, implicit_srv.hostport, 0, &code), SMTP_ERR_TLS);
            CHECK(contains(smtp_session_errmsg(s), "certificate verification failed: unknown issuer: "));
            /* The certificate's names against the A-labels asked for. */
            CHECK_RC(s, smtp_session_set_tls_config(s, idn), SMTP_OK);
            CHECK_RC(s, smtp_session_connect(s, implicit_srv.hostport, 0, &code), SMTP_ERR_TLS);
            CHECK(contains(smtp_session_errmsg(s), "certificate verification failed: name mismatch: the certificate "
                                                   "is for \"localhost\", \"127.0.0.1\", not \"xn--bcher-kva.example\""));
            CHECK(!contains(smtp_session_errmsg(s), "Other"));
        }
        smtp_session_free(s);
    }
    smtp_tls_config_free(system);
    smtp_tls_config_free(mozilla);
    smtp_tls_config_free(idn);
}

int main(int argc, char **argv)
{
    static struct rec main_rec;
    const char *colon;
    smtp_session *s;
    int code, i;
    size_t hl;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 3 || (colon = strrchr(argv[1], ':')) == NULL) {
        fprintf(stderr, "usage: test_api HOST:PORT SINK_DIR [--dsn HOST:PORT DIR] [--size HOST:PORT DIR LIMIT]\n"
                        "       [--starttls HOST:PORT DIR] [--implicit HOST:PORT DIR] [--tls-files DIR]\n"
                        "       [--proxies SOCKS5_HOST:PORT HTTP_HOST:PORT] [--scripted HOST:PORT DIR]\n");
        return 2;
    }
    for (i = 3; i < argc; i++) {
        struct server *srv = NULL;
        if (strcmp(argv[i], "--tls-files") == 0 && i + 1 < argc) {
            tls_dir = argv[++i];
            continue;
        }
        if (strcmp(argv[i], "--proxies") == 0 && i + 2 < argc) {
            snprintf(socks5_proxy, sizeof socks5_proxy, "%s", argv[++i]);
            snprintf(http_proxy, sizeof http_proxy, "%s", argv[++i]);
            continue;
        }
        if (strcmp(argv[i], dsn_sink.option) == 0)
            srv = &dsn_sink;
        else if (strcmp(argv[i], size_sink.option) == 0)
            srv = &size_sink;
        else if (strcmp(argv[i], starttls_srv.option) == 0)
            srv = &starttls_srv;
        else if (strcmp(argv[i], implicit_srv.option) == 0)
            srv = &implicit_srv;
        else if (strcmp(argv[i], scripted_srv.option) == 0)
            srv = &scripted_srv;
        if (srv == NULL || i + 2 + (srv == &size_sink) >= argc) {
            fprintf(stderr, "test_api: bad option %s (or its arguments missing)\n", argv[i]);
            return 2;
        }
        if (!parse_server(srv, argv[i + 1], argv[i + 2]))
            return 2;
        if (srv == &size_sink)
            srv->limit = atol(argv[i + 3]);
        i += 2 + (srv == &size_sink);
    }
    hl = (size_t)(colon - argv[1]);
    if (hl == 0 || hl >= sizeof host || atoi(colon + 1) <= 0 || atoi(colon + 1) > 65535) {
        fprintf(stderr, "test_api: bad HOST:PORT %s\n", argv[1]);
        return 2;
    }
    memcpy(host, argv[1], hl);
    host[hl] = 0;
    if (!is_loopback_literal(host)) {
        fprintf(stderr, "test_api: %s is not a loopback address (127.0.0.0/8, ::1): refused\n", host);
        return 2;
    }
    port = (uint16_t)atoi(colon + 1);
    snprintf(hostport, sizeof hostport, "%s:%u", host, (unsigned)port);
    sink_dir = argv[2];
    if (sink_count() != 0) {
        fprintf(stderr, "test_api: %s must start empty\n", sink_dir);
        return 2;
    }

    if (scripted_srv.given) {
        script_port = scripted_srv.port;
        snprintf(unix_path, sizeof unix_path, "%s/lmtp.sock", scripted_srv.dir);
    } else {
        printf("note: no --scripted server: its tests fail\n");
    }
    /* SIGPIPE at its default (ending the process), whatever the parent left:
     * the library must not raise it (test_scripted). */
    signal(SIGPIPE, SIG_DFL);
    alarm(WATCHDOG_S); /* a hang is a failure, not a stuck CI job */

    test_constants();
    test_null_session();
    test_new_session();
    s = test_connect_and_commands(&main_rec);
    if (s != NULL) {
        test_bad_arguments(s, &main_rec);
        CHECK_RC(s, smtp_session_set_debuglevel(s, 0), SMTP_OK);
        test_transactions(s);
        test_line_endings(s);
        test_big_message(s);
        test_smtputf8(s);
        CHECK_RC(s, smtp_session_quit(s, &code), SMTP_OK);
        CHECK_RC(s, smtp_session_set_trace(s, NULL, NULL), SMTP_OK);
        smtp_session_free(s);
    }
    test_trace();
    test_source_address();
    test_quit_and_close();
    test_connect_errors();
    test_raw();
    test_cancel();
    test_scripted();
    test_untrusted_loopback();
    test_lmtp();
    test_envelope_args();
    test_send_message();
    test_sendmail_stream();
    test_read_fd();
    test_sendmail_batch();
    test_envelope_plain();
    test_require_tls_plain();
    test_dsn();
    test_size_limit();
    test_tls_builder();
    test_tls_sessions();
    test_pool();
    test_tls_trust_and_idna();
    test_proxy();
    test_connect_fd();

    printf("c-tests: %d passed, %d failed\n", passed, failed);
    return failed > 0 ? 1 : 0;
}
