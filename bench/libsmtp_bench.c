/*
 * libsmtp_bench: the libsmtp side of the benchmark (bench/run.sh), through
 * the C API only.
 *
 *   libsmtp_bench batch   HOST:PORT COUNT SIZE GROUP   one session, smtp_session_sendmail_batch in groups
 *   libsmtp_bench loop    HOST:PORT COUNT SIZE         one session, smtp_session_sendmail per message
 *   libsmtp_bench threads HOST:PORT THREADS PER SIZE GROUP   a session per thread, batches
 *   libsmtp_bench dedicated HOST:PORT THREADS PER SIZE       a session per thread, sendmail per message
 *   libsmtp_bench pool    HOST:PORT THREADS PER SIZE MAXCONN  one smtp_pool of MAXCONN connections shared by
 *                                                       THREADS threads, smtp_pool_sendmail per message
 *   libsmtp_bench buffer  HOST:PORT FILE [raw|normalize]     one message read into memory, sendmail
 *   libsmtp_bench stream  HOST:PORT FILE [raw|normalize]     one message streamed from FILE (read callback)
 *   libsmtp_bench ssl     HOST:PORT FILE CAFILE [raw|normalize]  SMTP_KIND_SMTP_SSL, sendmail on a buffer
 *
 * Environment: BENCH_CHUNKING=0|1 (smtp_session_set_chunking; default: the
 * library's), BENCH_PIPELINING=0|1.
 *
 * Prints one line of JSON: messages, message bytes, the seconds from
 * connect to the end of QUIT, and memory: ru_maxrss (KiB) before the send
 * (message loaded) and at the end, so that the growth the library causes
 * can be told from the message itself.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <smtp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Process CPU seconds when the timed part started. */
static double cpu0 = 0;

static long maxrss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static void die(const char *what, smtp_session *s, int rc)
{
    fprintf(stderr, "libsmtp_bench: %s: %s: %s\n", what, smtp_result_str(rc), s ? smtp_session_errmsg(s) : "");
    exit(1);
}

static const char *FROM = "bench@example.com";
static const char *TO[] = {"sink@example.com"};

/* A message of exactly `size` bytes: headers, then 76-character lines, CRLF. */
static uint8_t *make_message(size_t size)
{
    uint8_t *m = malloc(size);
    const char *hdr = "From: bench@example.com\r\nTo: sink@example.com\r\nSubject: libsmtp benchmark\r\n\r\n";
    size_t h = strlen(hdr), i = 0;
    if (!m)
        exit(1);
    memcpy(m, hdr, h < size ? h : size);
    i = h < size ? h : size;
    while (i < size) {
        size_t col = 0;
        while (i < size && col < 76) {
            m[i] = (uint8_t)('a' + (i + col) % 26);
            i++;
            col++;
        }
        if (i < size)
            m[i++] = '\r';
        if (i < size)
            m[i++] = '\n';
    }
    if (size >= 2) {
        m[size - 2] = '\r';
        m[size - 1] = '\n';
    }
    return m;
}

static void configure(smtp_session *s)
{
    const char *c = getenv("BENCH_CHUNKING"), *p = getenv("BENCH_PIPELINING");
    if (c)
        smtp_session_set_chunking(s, atoi(c));
    if (p)
        smtp_session_set_pipelining(s, atoi(p));
}

static smtp_session *open_session(const char *host, int kind, const smtp_tls_config *tls)
{
    int code = 0, rc;
    smtp_session *s = smtp_session_new(kind);
    configure(s);
    if (tls)
        smtp_session_set_tls_config(s, tls);
    rc = smtp_session_open(s, host, 0, &code);
    if (rc != SMTP_OK)
        die("connect", s, rc);
    rc = smtp_session_ehlo(s, NULL, &code);
    if (rc != SMTP_OK)
        die("ehlo", s, rc);
    return s;
}

static void close_session(smtp_session *s)
{
    int code = 0, rc = smtp_session_quit(s, &code);
    if (rc != SMTP_OK)
        die("quit", s, rc);
    smtp_session_free(s);
}

/* COUNT messages of SIZE bytes on one session, GROUP per batch call. */
static void send_batches(smtp_session *s, const uint8_t *msg, size_t size, long count, long group)
{
    smtp_batch_item *items = calloc((size_t)group, sizeof *items);
    long done = 0;
    while (done < count) {
        long n = count - done < group ? count - done : group, i;
        int rc;
        for (i = 0; i < n; i++) {
            items[i].from = FROM;
            items[i].to = TO;
            items[i].to_count = 1;
            items[i].msg = msg;
            items[i].len = size;
            items[i].flags = SMTP_MSG_RAW;
        }
        rc = smtp_session_sendmail_batch(s, items, (size_t)n);
        if (rc != SMTP_OK)
            die("sendmail_batch", s, rc);
        done += n;
    }
    free(items);
}

struct worker {
    pthread_t tid;
    const char *host;
    const uint8_t *msg;
    size_t size;
    long per, group; /* group 0: sendmail per message */
    smtp_pool *pool; /* set: smtp_pool_sendmail per message on a session of its own */
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    smtp_session *s;
    if (w->pool) {
        s = smtp_session_new(SMTP_KIND_SMTP);
        configure(s);
        for (long i = 0; i < w->per; i++) {
            int rc = smtp_pool_sendmail(w->pool, s, FROM, TO, 1, w->msg, w->size, NULL, 0, NULL, 0, SMTP_MSG_RAW,
                                        NULL, NULL);
            if (rc != SMTP_OK)
                die("smtp_pool_sendmail", s, rc);
        }
        smtp_session_free(s);
        return NULL;
    }
    s = open_session(w->host, SMTP_KIND_SMTP, NULL);
    if (w->group > 0) {
        send_batches(s, w->msg, w->size, w->per, w->group);
    } else {
        for (long i = 0; i < w->per; i++) {
            int rc = smtp_session_sendmail(s, FROM, TO, 1, w->msg, w->size, NULL, 0, NULL, 0, SMTP_MSG_RAW, NULL, NULL);
            if (rc != SMTP_OK)
                die("sendmail", s, rc);
        }
    }
    close_session(s);
    return NULL;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    struct stat st;
    int fd = open(path, O_RDONLY);
    uint8_t *buf;
    size_t got = 0;
    if (fd < 0 || fstat(fd, &st) != 0) {
        perror(path);
        exit(1);
    }
    buf = malloc((size_t)st.st_size);
    if (!buf)
        exit(1);
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n <= 0) {
            perror("read");
            exit(1);
        }
        got += (size_t)n;
    }
    close(fd);
    *len = got;
    return buf;
}

static ptrdiff_t read_cb(void *userdata, uint8_t *buf, size_t cap)
{
    int fd = *(int *)userdata;
    for (;;) {
        ssize_t n = read(fd, buf, cap);
        if (n < 0 && errno == EINTR)
            continue;
        return n;
    }
}

static unsigned flags_of(const char *arg)
{
    return arg && strcmp(arg, "normalize") == 0 ? SMTP_MSG_NORMALIZE : SMTP_MSG_RAW;
}

/* ru_maxrss once the session is open (connected, EHLO answered), just
 * before the message is sent: what the send itself adds is measured from here. */
static long rss_session = 0;

static void report(const char *mode, long msgs, double bytes, double secs, long rss_before)
{
    printf("{\"client\": \"libsmtp\", \"mode\": \"%s\", \"messages\": %ld, \"bytes\": %.0f, \"seconds\": %.6f, "
           "\"rss_before_kb\": %ld, \"rss_session_kb\": %ld, \"rss_peak_kb\": %ld, \"send_cpu_s\": %.4f}\n",
           mode, msgs, bytes, secs, rss_before, rss_session, maxrss_kb(), cpu_s() - cpu0);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    double t0, t1;
    if (argc < 4) {
        fprintf(stderr, "usage: see the comment at the top of bench/libsmtp_bench.c\n");
        return 2;
    }
    if (strcmp(mode, "batch") == 0 || strcmp(mode, "loop") == 0) {
        long count = atol(argv[3]);
        size_t size = (size_t)atol(argv[4]);
        long group = argc > 5 ? atol(argv[5]) : 1;
        uint8_t *msg = make_message(size);
        long before = maxrss_kb();
        smtp_session *s;
        cpu0 = cpu_s();
        t0 = now();
        s = open_session(argv[2], SMTP_KIND_SMTP, NULL);
        rss_session = maxrss_kb();
        if (mode[0] == 'b') {
            send_batches(s, msg, size, count, group);
        } else {
            for (long i = 0; i < count; i++) {
                int rc = smtp_session_sendmail(s, FROM, TO, 1, msg, size, NULL, 0, NULL, 0, SMTP_MSG_RAW, NULL, NULL);
                if (rc != SMTP_OK)
                    die("sendmail", s, rc);
            }
        }
        close_session(s);
        t1 = now();
        report(mode, count, (double)count * size, t1 - t0, before);
        free(msg);
    } else if (strcmp(mode, "threads") == 0 || strcmp(mode, "dedicated") == 0 || strcmp(mode, "pool") == 0) {
        long threads = atol(argv[3]), per = atol(argv[4]);
        long group = mode[0] == 't' ? atol(argv[6]) : 0;
        size_t size = (size_t)atol(argv[5]);
        uint8_t *msg = make_message(size);
        struct worker *w = calloc((size_t)threads, sizeof *w);
        smtp_pool *pool = NULL;
        long before = maxrss_kb();
        if (mode[0] == 'p') {
            smtp_session *like = smtp_session_new(SMTP_KIND_SMTP);
            int rc = smtp_pool_new(like, argv[2], 0, (unsigned)atol(argv[6]), &pool);
            if (rc != SMTP_OK)
                die("smtp_pool_new", like, rc);
            smtp_session_free(like);
            if (getenv("BENCH_POOL_MAX_MESSAGES"))
                smtp_pool_set_option(pool, SMTP_POOL_MAX_MESSAGES, (uint64_t)atol(getenv("BENCH_POOL_MAX_MESSAGES")));
        }
        cpu0 = cpu_s();
        t0 = now();
        for (long i = 0; i < threads; i++) {
            w[i] = (struct worker){
                .host = argv[2], .msg = msg, .size = size, .per = per, .group = group, .pool = pool};
            if (pthread_create(&w[i].tid, NULL, worker_main, &w[i]) != 0) {
                perror("pthread_create");
                return 1;
            }
        }
        for (long i = 0; i < threads; i++)
            pthread_join(w[i].tid, NULL);
        t1 = now();
        report(mode, threads * per, (double)threads * per * size, t1 - t0, before);
        smtp_pool_free(pool);
        free(w);
        free(msg);
    } else if (strcmp(mode, "buffer") == 0 || strcmp(mode, "ssl") == 0) {
        int ssl = mode[0] == 's';
        size_t len;
        uint8_t *msg = read_file(argv[3], &len);
        int farg = ssl ? 5 : 4;
        unsigned flags = flags_of(argc > farg ? argv[farg] : NULL);
        smtp_tls_config *tls = NULL;
        long before;
        smtp_session *s;
        int rc;
        if (ssl) {
            smtp_tls_config_builder *b = smtp_tls_config_builder_new();
            if (smtp_tls_config_builder_set_default_roots(b, 0) != SMTP_OK
                || smtp_tls_config_builder_add_ca_file(b, argv[4]) != SMTP_OK
                || smtp_tls_config_builder_build(b, &tls) != SMTP_OK) {
                fprintf(stderr, "tls config: %s\n", smtp_tls_config_builder_errmsg(b));
                return 1;
            }
            smtp_tls_config_builder_free(b);
        }
        before = maxrss_kb();
        cpu0 = cpu_s();
        t0 = now();
        s = open_session(argv[2], ssl ? SMTP_KIND_SMTP_SSL : SMTP_KIND_SMTP, tls);
        rss_session = maxrss_kb();
        rc = smtp_session_sendmail(s, FROM, TO, 1, msg, len, NULL, 0, NULL, 0, flags, NULL, NULL);
        if (rc != SMTP_OK)
            die("sendmail", s, rc);
        if (ssl)
            fprintf(stderr, "libsmtp_bench: %s %s\n", smtp_session_tls_version(s), smtp_session_tls_cipher(s));
        close_session(s);
        t1 = now();
        report(flags == SMTP_MSG_RAW ? (ssl ? "ssl-raw" : "buffer-raw") : (ssl ? "ssl-normalize" : "buffer-normalize"), 1,
               (double)len, t1 - t0, before);
        smtp_tls_config_free(tls);
        free(msg);
    } else if (strcmp(mode, "stream") == 0) {
        int fd = open(argv[3], O_RDONLY);
        struct stat st;
        unsigned flags = flags_of(argc > 4 ? argv[4] : NULL);
        long before;
        smtp_session *s;
        int rc;
        if (fd < 0 || fstat(fd, &st) != 0) {
            perror(argv[3]);
            return 1;
        }
        before = maxrss_kb();
        cpu0 = cpu_s();
        t0 = now();
        s = open_session(argv[2], SMTP_KIND_SMTP, NULL);
        rss_session = maxrss_kb();
        rc = smtp_session_sendmail_stream(s, FROM, TO, 1, read_cb, &fd, (int64_t)st.st_size, NULL, 0, NULL, 0, flags,
                                          NULL, NULL);
        if (rc != SMTP_OK)
            die("sendmail_stream", s, rc);
        close_session(s);
        t1 = now();
        report(flags == SMTP_MSG_RAW ? "stream-raw" : "stream-normalize", 1, (double)st.st_size, t1 - t0, before);
        close(fd);
    } else {
        fprintf(stderr, "unknown mode %s\n", mode);
        return 2;
    }
    return 0;
}
