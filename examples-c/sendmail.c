/* sendmail.c: the smtplib documentation's example, in C.
 *
 * Asks for From, To (addresses separated by spaces) and the message (ended
 * by end of input), adds From: and To: headers, and sends it with the debug
 * trace on. The server is argv[1] ("host", "host:port" or a Unix socket
 * path), default localhost.
 *
 *   printf 'a@example.com\nb@example.com\nHi!\n' | ./sendmail 127.0.0.1:8025
 */
#include <smtp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *prompt(const char *title)
{
    static char line[1024];
    size_t n;
    fputs(title, stdout);
    fflush(stdout);
    if (!fgets(line, sizeof line, stdin))
        return NULL;
    n = strcspn(line, "\r\n");
    line[n] = '\0';
    return line;
}

/* Append text to a growing buffer; exits on allocation failure. */
static void append(char **buf, size_t *len, size_t *cap, const char *text, size_t n)
{
    if (*len + n + 1 > *cap) {
        *cap = (*len + n + 1) * 2;
        *buf = realloc(*buf, *cap);
        if (!*buf) {
            perror("realloc");
            exit(1);
        }
    }
    memcpy(*buf + *len, text, n);
    *len += n;
    (*buf)[*len] = '\0';
}

int main(int argc, char **argv)
{
    const char *server = argc > 1 ? argv[1] : "localhost";
    char from[1024], to_line[4096], *p, *tok;
    const char *to[64];
    size_t n_to = 0, len = 0, cap = 0, refused = 0;
    char *msg = NULL, line[4096];
    int code = 0, rc;
    smtp_session *s;

    if (!(p = prompt("From: ")))
        return 1;
    snprintf(from, sizeof from, "%s", p);
    if (!(p = prompt("To: ")))
        return 1;
    snprintf(to_line, sizeof to_line, "%s", p);
    for (tok = strtok(to_line, " "); tok && n_to < 64; tok = strtok(NULL, " "))
        to[n_to++] = tok;
    printf("Enter message, end with ^D:\n");

    /* Add the From: and To: headers at the start! */
    append(&msg, &len, &cap, "From: ", 6);
    append(&msg, &len, &cap, from, strlen(from));
    append(&msg, &len, &cap, "\r\nTo: ", 6);
    for (size_t i = 0; i < n_to; i++) {
        if (i)
            append(&msg, &len, &cap, ", ", 2);
        append(&msg, &len, &cap, to[i], strlen(to[i]));
    }
    append(&msg, &len, &cap, "\r\n\r\n", 4);
    while (fgets(line, sizeof line, stdin))
        append(&msg, &len, &cap, line, strlen(line));
    printf("Message length is %zu\n", len);

    s = smtp_session_new(SMTP_KIND_SMTP);
    smtp_session_set_debuglevel(s, 1);
    rc = smtp_session_connect(s, server, 0, &code);
    if (rc == SMTP_OK)
        rc = smtp_session_sendmail(s, from, to, n_to, (const uint8_t *)msg, len, NULL, 0, NULL, 0,
                                   SMTP_MSG_NORMALIZE, NULL, &refused);
    if (rc == SMTP_OK)
        rc = smtp_session_quit(s, &code);
    if (rc != SMTP_OK)
        fprintf(stderr, "sendmail: %s\n", smtp_session_errmsg(s));
    else if (refused)
        fprintf(stderr, "sendmail: %zu recipient(s) refused\n", refused);
    smtp_session_free(s);
    free(msg);
    return rc == SMTP_OK ? 0 : 1;
}
