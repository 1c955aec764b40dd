/* quickstart.c: send one message with libsmtp.
 *
 *   cc quickstart.c $(pkg-config --cflags --libs smtp) -o quickstart
 *   ./quickstart 127.0.0.1:8025
 */
#include <smtp.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    const char *server = argc > 1 ? argv[1] : "localhost";
    const char *to[] = {"bob@example.com", "carol@example.com"};
    const char msg[] =
        "From: alice@example.com\r\n"
        "To: bob@example.com, carol@example.com\r\n"
        "Subject: hello from libsmtp\r\n"
        "\r\n"
        "Sent through the C API.\r\n";
    int code = 0, rc;
    size_t i, refused = 0;

    smtp_session *s = smtp_session_new(SMTP_KIND_SMTP);
    rc = smtp_session_connect(s, server, 0, &code);  /* host:port, or port 25 */
    if (rc == SMTP_OK)
        rc = smtp_session_sendmail(s, "alice@example.com", to, 2, (const uint8_t *)msg, strlen(msg),
                                   NULL, 0, NULL, 0, SMTP_MSG_NORMALIZE, NULL, &refused);
    if (rc != SMTP_OK) {
        fprintf(stderr, "quickstart: %s\n", smtp_session_errmsg(s));
        smtp_session_free(s);
        return 1;
    }
    for (i = 0; i < smtp_session_rcpt_count(s); i++)
        printf("%s: %d %s\n", smtp_session_rcpt_addr(s, i), smtp_session_rcpt_code(s, i),
               smtp_session_rcpt_refused(s, i) ? "refused" : "accepted");
    smtp_session_quit(s, &code);
    smtp_session_free(s);
    return 0;
}
