/* send_file.c: send a file holding an RFC 5322 message, smtplib's
 * send_message(): the envelope comes from its From/Sender, To, Cc and Bcc
 * fields, and Bcc is removed from what is sent.
 *
 *   ./send_file 127.0.0.1:8025 message.eml
 */
#include <smtp.h>
#include <stdio.h>
#include <stdlib.h>

/* The whole file in memory; NULL on error. */
static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
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

int main(int argc, char **argv)
{
    size_t len = 0, refused = 0, i;
    unsigned char *msg;
    int code = 0, rc;
    smtp_session *s;

    if (argc != 3) {
        fprintf(stderr, "usage: %s HOST:PORT MESSAGE-FILE\n", argv[0]);
        return 2;
    }
    if (!(msg = read_file(argv[2], &len))) {
        perror(argv[2]);
        return 1;
    }
    s = smtp_session_new(SMTP_KIND_SMTP);
    rc = smtp_session_connect(s, argv[1], 0, &code);
    if (rc == SMTP_OK)
        rc = smtp_session_send_message(s, msg, len, NULL, NULL, 0, NULL, 0, NULL, 0,
                                       SMTP_MSG_NORMALIZE, &refused);
    for (i = 0; i < smtp_session_rcpt_count(s); i++)
        printf("%s: %d%s\n", smtp_session_rcpt_addr(s, i), smtp_session_rcpt_code(s, i),
               smtp_session_rcpt_refused(s, i) ? " (refused)" : "");
    if (rc == SMTP_OK) {
        printf("sent, %zu recipient(s) refused\n", refused);
        smtp_session_quit(s, &code);
    } else {
        printf("send_file: %s\n", smtp_session_errmsg(s));
    }
    smtp_session_free(s);
    free(msg);
    return rc == SMTP_OK ? 0 : 1;
}
