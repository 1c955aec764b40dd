/* tls_send.c: send a message over verified TLS, by STARTTLS or from the
 * first byte (SMTP_SSL), with "TLS required" so nothing goes in clear.
 *
 *   ./tls_send starttls mail.example.com:587 [ca.pem]
 *   ./tls_send ssl      mail.example.com:465 [ca.pem]
 *
 * Without ca.pem the Mozilla roots built into libsmtp are trusted.
 */
#include <smtp.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    const char *to[] = {"bob@example.com"};
    const char msg[] = "From: alice@example.com\r\nTo: bob@example.com\r\n"
                       "Subject: sent over TLS\r\n\r\nOnly the server can read this.\r\n";
    smtp_tls_config_builder *b;
    smtp_tls_config *config = NULL;
    smtp_session *s;
    int ssl, code = 0, rc;

    if (argc < 3 || (strcmp(argv[1], "starttls") != 0 && strcmp(argv[1], "ssl") != 0)) {
        fprintf(stderr, "usage: %s starttls|ssl HOST:PORT [CA.pem]\n", argv[0]);
        return 2;
    }
    ssl = strcmp(argv[1], "ssl") == 0;

    b = smtp_tls_config_builder_new();
    if (argc > 3 && smtp_tls_config_builder_add_ca_file(b, argv[3]) != SMTP_OK) {
        fprintf(stderr, "tls_send: %s\n", smtp_tls_config_builder_errmsg(b));
        smtp_tls_config_builder_free(b);
        return 1;
    }
    rc = smtp_tls_config_builder_build(b, &config);
    smtp_tls_config_builder_free(b);
    if (rc != SMTP_OK)
        return 1;

    s = smtp_session_new(ssl ? SMTP_KIND_SMTP_SSL : SMTP_KIND_SMTP);
    smtp_session_set_tls_config(s, config);
    smtp_tls_config_free(config); /* the session keeps its own reference */
    smtp_session_set_require_tls(s, 1);

    rc = smtp_session_connect(s, argv[2], 0, &code);
    if (rc == SMTP_OK && !ssl)
        rc = smtp_session_starttls(s, NULL, &code);
    if (rc == SMTP_OK) {
        printf("connected with %s, %s\n", smtp_session_tls_version(s), smtp_session_tls_cipher(s));
        rc = smtp_session_sendmail(s, "alice@example.com", to, 1, (const uint8_t *)msg, strlen(msg),
                                   NULL, 0, NULL, 0, SMTP_MSG_NORMALIZE, NULL, NULL);
    }
    if (rc == SMTP_OK) {
        printf("sent: %d %s\n", smtp_session_last_reply_code(s), smtp_session_last_reply_text(s));
        smtp_session_quit(s, &code);
    } else {
        printf("tls_send: %s\n", smtp_session_errmsg(s));
    }
    smtp_session_free(s);
    return rc == SMTP_OK ? 0 : 1;
}
