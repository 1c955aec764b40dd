#include <smtp.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* Linked against libsmtp.a by tests/c/run.sh abi, once into a dynamic
   program and once with `cc -static`: makes a session, connects to
   "localhost" (getaddrinfo, which a static glibc program does through
   /etc/nsswitch.conf and /etc/hosts) on a one-reply server on 127.0.0.1 (a
   forked child), reads its greeting, and prints the library's version and
   the greeting's code. */
#define _POSIX_C_SOURCE 200809L
int main(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int lfd = socket(AF_INET, SOCK_STREAM, 0), code = 0, rc;
    pid_t child;
    smtp_session *s;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(lfd, 1) != 0 ||
        getsockname(lfd, (struct sockaddr *)&a, &len) != 0)
        return 2;
    child = fork();
    if (child == 0) {
        int c = accept(lfd, NULL, NULL);
        const char greeting[] = "220 static.test ready\r\n";
        if (c >= 0 && write(c, greeting, sizeof greeting - 1) > 0)
            sleep(1);
        _exit(0);
    }
    close(lfd);
    s = smtp_session_new(SMTP_KIND_SMTP);
    rc = s ? smtp_session_connect(s, "localhost", ntohs(a.sin_port), &code) : -1;
    if (rc != 0)
        fprintf(stderr, "connect: %d %s\n", rc, s ? smtp_session_errmsg(s) : "no session");
    smtp_session_free(s);
    waitpid(child, NULL, 0);
    printf("%s %d\n", smtp_lib_version(), code);
    return rc == 0 && code == 220 ? 0 : 1;
}
