/* Makes and frees a session and prints the library's version, which the test
   compares with the package's. */
#include <smtp.h>
#include <stdio.h>

int main(void)
{
    smtp_session *s = smtp_session_new(SMTP_KIND_SMTP);
    int ok = s != NULL;
    smtp_session_free(s);
    printf("%s\n", smtp_lib_version());
    return ok ? 0 : 1;
}
