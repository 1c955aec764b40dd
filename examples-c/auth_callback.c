/* auth_callback.c: a SASL mechanism of your own through smtp_session_auth().
 *
 * The X-TOKEN mechanism here has no initial response; the server sends a
 * challenge and the client answers with a token. The library does the
 * base64, the 334 loop and the cancel (`*`) when the callback aborts.
 *
 *   ./auth_callback 127.0.0.1:8025 "open sesame"
 */
#include <smtp.h>
#include <stdio.h>
#include <string.h>

struct token_state {
    const char *token;
    int challenges;
};

/* challenge == NULL asks for the initial response; else answer it. */
static int x_token(void *userdata, const uint8_t *challenge, size_t challenge_len,
                   uint8_t *response, size_t response_cap, size_t *response_len)
{
    struct token_state *st = userdata;
    size_t n = strlen(st->token);
    if (challenge == NULL)
        return SMTP_SASL_NO_INITIAL_RESPONSE;
    st->challenges++;
    printf("challenge %d: %.*s\n", st->challenges, (int)challenge_len, (const char *)challenge);
    if (st->challenges > 1)
        return 0; /* anything but SMTP_SASL_CONTINUE aborts: the library sends "*" */
    *response_len = n;
    if (n > response_cap)
        return SMTP_SASL_NEED_SPACE; /* called again with a buffer of n bytes */
    memcpy(response, st->token, n);
    return SMTP_SASL_CONTINUE;
}

int main(int argc, char **argv)
{
    struct token_state st = {argc > 2 ? argv[2] : "open sesame", 0};
    int code = 0, rc;
    smtp_session *s = smtp_session_new(SMTP_KIND_SMTP);

    rc = smtp_session_connect(s, argc > 1 ? argv[1] : "localhost", 0, &code);
    if (rc == SMTP_OK)
        rc = smtp_session_ehlo(s, NULL, &code);
    if (rc == SMTP_OK && !smtp_session_has_extn(s, "auth"))
        fprintf(stderr, "auth_callback: the server offers no AUTH\n");
    if (rc == SMTP_OK)
        rc = smtp_session_auth(s, "X-TOKEN", x_token, &st, 0);
    if (rc == SMTP_OK) {
        printf("authenticated: %d %s\n", smtp_session_last_reply_code(s), smtp_session_last_reply_text(s));
        smtp_session_quit(s, &code);
    } else {
        printf("auth_callback: %s\n", smtp_session_errmsg(s));
    }
    smtp_session_free(s);
    return rc == SMTP_OK ? 0 : 1;
}
