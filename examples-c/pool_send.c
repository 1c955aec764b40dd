/* pool_send.c: many threads sending through one connection pool.
 *
 *   ./pool_send HOST:PORT THREADS PER_THREAD MAX_CONNECTIONS
 *
 * Starts THREADS threads; each sends PER_THREAD messages of 1 KiB through
 * one shared smtp_pool of at most MAX_CONNECTIONS connections, on a session
 * of its own (the pool lends it a connection for each call). Prints
 * "sent N, failed M, connections C" (C: connections the pool opened) and
 * exits 0 when M is 0.
 */
#include <pthread.h>
#include <smtp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct worker {
    pthread_t thread;
    smtp_pool *pool;
    int id, per_thread, sent, failed;
};

/* A 1 KiB message with a unique Message-ID. */
static size_t make_message(char *buf, size_t cap, int thread, int n)
{
    int len = snprintf(buf, cap,
                       "From: pool@example.com\r\nTo: sink@example.com\r\n"
                       "Message-ID: <%d.%d@pool-send.example>\r\nSubject: pool_send %d.%d\r\n\r\n",
                       thread, n, thread, n);
    while (len + 66 <= 1024 && (size_t)len + 66 < cap)
        len += snprintf(buf + len, cap - (size_t)len, "%s\r\n",
                        "the quick brown fox jumps over the lazy dog 0123456789 abcdefghi");
    return (size_t)len;
}

static void *work(void *arg)
{
    struct worker *w = arg;
    const char *to[] = {"sink@example.com"};
    smtp_session *s = smtp_session_new(SMTP_KIND_SMTP);
    char msg[1100];
    int i;

    if (s == NULL) {
        w->failed = w->per_thread;
        return NULL;
    }
    for (i = 0; i < w->per_thread; i++) {
        size_t len = make_message(msg, sizeof msg, w->id, i);
        int rc = smtp_pool_sendmail(w->pool, s, "pool@example.com", to, 1, (const uint8_t *)msg, len, NULL, 0, NULL, 0,
                                    SMTP_MSG_NORMALIZE, NULL, NULL);
        if (rc == SMTP_OK) {
            w->sent++;
        } else {
            w->failed++;
            fprintf(stderr, "thread %d message %d: %s\n", w->id, i, smtp_session_errmsg(s));
        }
    }
    smtp_session_free(s);
    return NULL;
}

int main(int argc, char **argv)
{
    struct worker *workers;
    smtp_session *like;
    smtp_pool *pool = NULL;
    int threads, per_thread, max_conn, i, sent = 0, failed = 0;

    if (argc != 5 || (threads = atoi(argv[2])) <= 0 || (per_thread = atoi(argv[3])) <= 0 ||
        (max_conn = atoi(argv[4])) <= 0) {
        fprintf(stderr, "usage: pool_send HOST:PORT THREADS PER_THREAD MAX_CONNECTIONS\n");
        return 2;
    }
    /* The pool opens its connections like this session would. */
    like = smtp_session_new(SMTP_KIND_SMTP);
    if (like == NULL || smtp_session_set_timeout_ms(like, SMTP_TIMEOUT_ALL, 30000) != SMTP_OK ||
        smtp_pool_new(like, argv[1], 0, (unsigned)max_conn, &pool) != SMTP_OK) {
        fprintf(stderr, "pool_send: %s\n", like ? smtp_session_errmsg(like) : "out of memory");
        smtp_session_free(like);
        return 1;
    }
    workers = calloc((size_t)threads, sizeof *workers);
    if (workers == NULL) {
        perror("calloc");
        return 1;
    }
    for (i = 0; i < threads; i++) {
        workers[i].pool = pool;
        workers[i].id = i;
        workers[i].per_thread = per_thread;
        if (pthread_create(&workers[i].thread, NULL, work, &workers[i]) != 0) {
            perror("pthread_create");
            return 1;
        }
    }
    for (i = 0; i < threads; i++) {
        pthread_join(workers[i].thread, NULL);
        sent += workers[i].sent;
        failed += workers[i].failed;
    }
    printf("sent %d, failed %d, connections %llu\n", sent, failed,
           (unsigned long long)smtp_pool_stat(pool, SMTP_POOL_STAT_OPENED));
    smtp_pool_free(pool);
    smtp_session_free(like);
    free(workers);
    return failed == 0 ? 0 : 1;
}
