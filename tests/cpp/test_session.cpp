/* test_session.cpp: the C++ interface (include/smtp.hpp) against aiosmtpd.
 *
 *   test_session SINK_HOST:PORT SINK_DIR AUTH_HOST:PORT
 *
 * SINK is tests/servers/sink.py (stores each message as SINK_DIR/NNNN.eml,
 * refuses recipients whose local part starts with "refuse"); AUTH is
 * tests/servers/auth_server.py (PLAIN/LOGIN alice/s3cret, X-TOKEN "open
 * sesame"). The sink may be shared by several runs: each message carries a
 * token unique to this run and is looked for by its content.
 *
 * No framework: CHECK counts passes and failures, each failure is printed
 * as "FAIL file:line: expression", and the last line is
 * "cpp-tests: N passed, M failed"; the exit status is 1 on any failure.
 * Built as C++11, C++17 and C++20 (tests/cpp/run.sh).
 */
#include <smtp.hpp>

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

int passed = 0;
int failed = 0;

void check_(bool ok, const char *expr, const char *file, int line)
{
    if (ok) {
        ++passed;
    } else {
        ++failed;
        std::printf("FAIL %s:%d: %s\n", file, line, expr);
        std::fflush(stdout);
    }
}

#define CHECK(cond) check_(static_cast<bool>(cond), #cond, __FILE__, __LINE__)

/* Run f; a copy of the E it throws, or null (anything else is reported). */
template <class E, class F>
std::unique_ptr<E> catch_(F f, const char *what)
{
    try {
        f();
    } catch (const E &e) {
        return std::unique_ptr<E>(new E(e));
    } catch (const std::exception &e) {
        std::printf("   %s: unexpected exception: %s\n", what, e.what());
    } catch (...) {
        std::printf("   %s: unexpected exception of an unknown type\n", what);
    }
    return std::unique_ptr<E>();
}

/* A check for a call that must not throw; the exception is printed. */
template <class F>
bool no_throw(F f, const char *what)
{
    try {
        f();
        return true;
    } catch (const std::exception &e) {
        std::printf("   %s: unexpected exception: %s\n", what, e.what());
    } catch (...) {
        std::printf("   %s: unexpected exception of an unknown type\n", what);
    }
    return false;
}

std::string sink_host;
std::string sink_dir;
std::string auth_host;
std::string run_token; /* unique to this run */
int message_no = 0;

std::string read_file(const std::string &path)
{
    std::ifstream in(path.c_str(), std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

bool ends_with(const std::string &s, const std::string &suffix)
{
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/* The base path (without .eml) of the stored message holding `token`, or "". */
std::string find_stored(const std::string &token)
{
    std::string found;
    DIR *d = opendir(sink_dir.c_str());
    if (!d)
        return found;
    while (struct dirent *e = readdir(d)) {
        std::string name = e->d_name;
        if (!ends_with(name, ".eml"))
            continue;
        std::string base = sink_dir + "/" + name.substr(0, name.size() - 4);
        if (read_file(base + ".eml").find(token) != std::string::npos) {
            found = base;
            break;
        }
    }
    closedir(d);
    return found;
}

std::string stored(const std::string &token)
{
    std::string base = find_stored(token);
    return base.empty() ? std::string() : read_file(base + ".eml");
}

std::string stored_json(const std::string &token)
{
    std::string base = find_stored(token);
    return base.empty() ? std::string() : read_file(base + ".json");
}

std::string new_token()
{
    return run_token + "-" + std::to_string(++message_no);
}

/* A loopback port with nothing listening on it. */
unsigned closed_port()
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return 1;
    struct sockaddr_in a;
    std::memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    unsigned port = 1;
    if (bind(fd, reinterpret_cast<struct sockaddr *>(&a), sizeof a) == 0 &&
        getsockname(fd, reinterpret_cast<struct sockaddr *>(&a), &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* A socket listening on 127.0.0.1 that never accepts: the kernel completes
   the handshake and nobody ever speaks. -1 on failure. */
int silent_listener(unsigned *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a;
    std::memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(fd, reinterpret_cast<struct sockaddr *>(&a), sizeof a) != 0 || listen(fd, 8) != 0 ||
        getsockname(fd, reinterpret_cast<struct sockaddr *>(&a), &len) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

std::string lower(std::string s)
{
    for (char &c : s)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

struct CallbackFailure : std::runtime_error {
    int n;
    explicit CallbackFailure(int v) : std::runtime_error("callback failure"), n(v) {}
};

/* ------------------------------------------------------------------ tests */

void test_error_codes()
{
    static_assert(std::is_error_code_enum<smtp::errc>::value, "is_error_code_enum<smtp::errc>");
    static_assert(!std::is_copy_constructible<smtp::Session>::value, "Session is move-only");
    static_assert(std::is_nothrow_move_constructible<smtp::Session>::value, "Session moves without throwing");
    static_assert(std::is_nothrow_move_assignable<smtp::Session>::value, "Session move-assigns without throwing");
    static_assert(!std::is_copy_constructible<smtp::TlsConfig>::value, "TlsConfig is move-only");
    static_assert(std::is_base_of<std::runtime_error, smtp::Error>::value, "Error is a runtime_error");
    static_assert(std::is_base_of<smtp::Error, smtp::RecipientsRefused>::value, "RecipientsRefused is an Error");
    static_assert(std::is_base_of<smtp::ResponseError, smtp::SenderRefused>::value, "SenderRefused");
    static_assert(std::is_base_of<smtp::ResponseError, smtp::DataError>::value, "DataError");
    static_assert(std::is_base_of<smtp::ResponseError, smtp::AuthError>::value, "AuthError");
    static_assert(std::is_base_of<smtp::Error, smtp::ServerDisconnected>::value, "ServerDisconnected");
    static_assert(std::is_nothrow_copy_constructible<smtp::RecipientsRefused>::value, "exceptions copy safely");

    CHECK(std::string(smtp::smtp_category().name()) == "smtp");
    std::error_code ec = smtp::errc::connect;
    CHECK(ec.value() == SMTP_ERR_CONNECT);
    CHECK(&ec.category() == &smtp::smtp_category());
    CHECK(ec.message() == smtp_result_str(SMTP_ERR_CONNECT));
    CHECK(ec == smtp::errc::connect);
    CHECK(ec != smtp::errc::timeout);
    CHECK(static_cast<bool>(ec));
    CHECK(std::error_code(smtp::errc::timeout) == std::errc::timed_out);
    CHECK(std::error_code(smtp::errc::invalid_argument) == std::errc::invalid_argument);
    CHECK(std::error_code(smtp::errc::cancelled) == std::errc::operation_canceled);
    CHECK(make_error_code(smtp::errc::too_large).value() == SMTP_ERR_TOO_LARGE);
    /* Every SMTP_ERR_* value has its enumerator. */
    const int all[] = {SMTP_ERR_NULL_ARGUMENT, SMTP_ERR_INVALID_ARGUMENT, SMTP_ERR_BAD_STATE, SMTP_ERR_PANIC,
                       SMTP_ERR_CONNECT, SMTP_ERR_TIMEOUT, SMTP_ERR_IO, SMTP_ERR_TLS, SMTP_ERR_SERVER_DISCONNECTED,
                       SMTP_ERR_NOT_ENCRYPTED, SMTP_ERR_CANCELLED, SMTP_ERR_OUTCOME_UNKNOWN, SMTP_ERR_RESPONSE, SMTP_ERR_CONNECT_REPLY, SMTP_ERR_HELO,
                       SMTP_ERR_NOT_SUPPORTED, SMTP_ERR_AUTH, SMTP_ERR_AUTH_ABORTED, SMTP_ERR_SENDER_REFUSED,
                       SMTP_ERR_RECIPIENTS_REFUSED, SMTP_ERR_DATA, SMTP_ERR_SMTP, SMTP_ERR_TOO_LARGE};
    const smtp::errc named[] = {smtp::errc::null_argument, smtp::errc::invalid_argument, smtp::errc::bad_state,
                                smtp::errc::panic, smtp::errc::connect, smtp::errc::timeout, smtp::errc::io,
                                smtp::errc::tls, smtp::errc::server_disconnected, smtp::errc::not_encrypted,
                                smtp::errc::cancelled, smtp::errc::outcome_unknown, smtp::errc::response, smtp::errc::connect_reply, smtp::errc::helo,
                                smtp::errc::not_supported, smtp::errc::auth, smtp::errc::auth_aborted,
                                smtp::errc::sender_refused, smtp::errc::recipients_refused, smtp::errc::data,
                                smtp::errc::smtp, smtp::errc::too_large};
    bool same = sizeof all / sizeof all[0] == sizeof named / sizeof named[0];
    for (std::size_t i = 0; same && i < sizeof all / sizeof all[0]; ++i)
        same = static_cast<int>(named[i]) == all[i] &&
               std::error_code(named[i]).message() == std::string(smtp_result_str(all[i]));
    CHECK(same);
    /* The library's table lists SMTP_OK and exactly these, each named. */
    std::vector<int> listed = smtp::result_codes();
    bool table = listed.size() == 1 + sizeof all / sizeof all[0] && listed[0] == SMTP_OK;
    for (std::size_t i = 0; table && i < sizeof all / sizeof all[0]; ++i)
        table = listed[i + 1] == all[i] && smtp::result_name(all[i]).rfind("SMTP_ERR_", 0) == 0 &&
                !smtp::result_exception(all[i]).empty();
    CHECK(table);
    CHECK(smtp::result_name(SMTP_ERR_TIMEOUT) == "SMTP_ERR_TIMEOUT");
    CHECK(smtp::result_name(SMTP_OK) == "SMTP_OK" && smtp::result_exception(SMTP_OK).empty());
    CHECK(smtp::result_name(18).empty() && smtp::result_exception(-1).empty() && !smtp::result_has_reply(1000));
    CHECK(smtp::result_exception(SMTP_ERR_SENDER_REFUSED) == "SMTPSenderRefused");
    CHECK(smtp::result_has_reply(SMTP_ERR_DATA) && !smtp::result_has_reply(SMTP_ERR_SMTP));

    CHECK(smtp::lib_version() == smtp_lib_version());
    CHECK(!smtp::lib_version().empty());
    CHECK(smtp::lib_version_number() == SMTP_VERSION_NUM && SMTP_VERSION_AT_LEAST(0, 1, 0));

    /* An unknown kind. */
    std::unique_ptr<smtp::InvalidArgument> e =
        catch_<smtp::InvalidArgument>([] { smtp::Session s(static_cast<smtp::Kind>(99)); }, "kind 99");
    CHECK(e && e->code() == SMTP_ERR_INVALID_ARGUMENT);
}

void test_connect_errors()
{
    /* A closed port: SMTP_ERR_CONNECT. */
    smtp::Session s;
    const std::string host = "127.0.0.1:" + std::to_string(closed_port());
    std::unique_ptr<smtp::TransportError> e = catch_<smtp::TransportError>([&] { s.connect(host); }, "closed port");
    CHECK(e != nullptr);
    if (e) {
        CHECK(e->code() == SMTP_ERR_CONNECT);
        CHECK(e->error_code() == smtp::errc::connect);
        CHECK(std::string(e->error_code().category().name()) == "smtp");
        CHECK(std::strlen(e->what()) > 0);
    }
    CHECK(!s.is_connected());
    /* The same through the base classes. */
    bool as_error = false;
    try {
        s.open(host);
    } catch (const smtp::Error &err) {
        as_error = err.code() == SMTP_ERR_CONNECT;
    }
    CHECK(as_error);
    bool as_runtime = false;
    try {
        s.connect(host);
    } catch (const std::runtime_error &err) {
        as_runtime = std::strlen(err.what()) > 0;
    }
    CHECK(as_runtime);

    /* Not connected: ServerDisconnected. */
    std::unique_ptr<smtp::ServerDisconnected> d =
        catch_<smtp::ServerDisconnected>([&] { s.noop(); }, "noop unconnected");
    CHECK(d && d->code() == SMTP_ERR_SERVER_DISCONNECTED && d->error_code() == smtp::errc::server_disconnected);

    /* A host with a CR cannot be resolved; a NUL inside a std::string is refused by smtp.hpp. */
    std::unique_ptr<smtp::Error> any = catch_<smtp::Error>([&] { s.connect("127.0.0.1\r:25"); }, "CR in host");
    CHECK(any != nullptr && !s.is_connected());
    std::unique_ptr<smtp::InvalidArgument> i;
    i = catch_<smtp::InvalidArgument>([&] { s.connect(std::string("127.0.0.1\0:25", 13)); }, "NUL in host");
    CHECK(i && i->code() == SMTP_ERR_INVALID_ARGUMENT && i->error_code() == std::errc::invalid_argument);
}

void test_commands()
{
    smtp::Session s;
    smtp::Reply greeting;
    CHECK(no_throw([&] { greeting = s.connect(sink_host); }, "connect"));
    CHECK(greeting.code == 220);
    CHECK(s.is_connected());
    CHECK(!s.does_esmtp());

    smtp::Reply r;
    CHECK(no_throw([&] { r = s.ehlo(); }, "ehlo"));
    CHECK(r.code == 250);
    CHECK(s.does_esmtp());
    CHECK(!s.ehlo_resp().empty());
    CHECK(s.ehlo_resp() == r.text);
    CHECK(s.has_extn("SIZE") && s.has_extn("8bitmime"));
    CHECK(!s.has_extn("x-no-such-thing"));
    std::map<std::string, std::string> f = s.features();
    CHECK(f.count("size") == 1 && f.count("8bitmime") == 1 && f.count("smtputf8") == 1);
    CHECK(f.count("size") == 1 && !f["size"].empty());

    CHECK(no_throw([&] { s.ehlo_or_helo_if_needed(); }, "ehlo_or_helo_if_needed"));
    CHECK(no_throw([&] { r = s.noop(); }, "noop") && r.code == 250);
    CHECK(no_throw([&] { r = s.docmd("NOOP"); }, "docmd") && r.code == 250);
    /* smtplib's send/getreply: a command the caller builds, its reply read apart. */
    CHECK(s.fileno() >= 0);
    CHECK(!s.utf8_commands());
    CHECK(no_throw([&] { s.send("NOOP\r\nNO"); }, "send"));
    CHECK(no_throw([&] { s.send("OP\r\n"); }, "send the rest"));
    CHECK(no_throw([&] { r = s.getreply(); }, "getreply") && r.code == 250);
    CHECK(no_throw([&] { r = s.getreply(); }, "getreply, second") && r.code == 250 && s.last_reply() == r);
    CHECK(no_throw([&] { r = s.rset(); }, "rset") && r.code == 250);
    CHECK(no_throw([&] { r = s.help(); }, "help") && r.code == 250 && !r.text.empty());
    CHECK(no_throw([&] { r = s.verify("Jane <jane@example.com>"); }, "verify") && r.code == 252);
    CHECK(no_throw([&] { r = s.expn("list@example.com"); }, "expn") && r.code == 502);
    CHECK(s.last_reply_code() == 502);
    CHECK(s.last_reply() == r);
    CHECK(no_throw([&] { r = s.helo("client.example"); }, "helo") && r.code == 250);
    CHECK(!s.helo_resp().empty());

    /* CR/LF and NUL refused before anything is sent; the session goes on. */
    std::unique_ptr<smtp::InvalidArgument> e =
        catch_<smtp::InvalidArgument>([&] { s.docmd("NOOP\n"); }, "LF in docmd");
    CHECK(e && e->code() == SMTP_ERR_INVALID_ARGUMENT && e->error_code() == smtp::errc::invalid_argument);
    e = catch_<smtp::InvalidArgument>([&] { s.mail("<a@example.com>\r\nRSET"); }, "CRLF in mail");
    CHECK(e && e->code() == SMTP_ERR_INVALID_ARGUMENT);
    e = catch_<smtp::InvalidArgument>([&] { s.helo("client\r\nRSET"); }, "CRLF in helo");
    CHECK(e && e->code() == SMTP_ERR_INVALID_ARGUMENT);
    e = catch_<smtp::InvalidArgument>([&] { s.help("x\ny"); }, "LF in help");
    CHECK(e && e->code() == SMTP_ERR_INVALID_ARGUMENT);
    e = catch_<smtp::InvalidArgument>([&] { s.docmd("NOOP", "x\ry"); }, "CR in docmd args");
    CHECK(e && e->code() == SMTP_ERR_INVALID_ARGUMENT);
    e = catch_<smtp::InvalidArgument>([&] { s.rcpt(std::string("b@example.com\0evil", 18)); }, "NUL in rcpt");
    CHECK(e && e->code() == SMTP_ERR_INVALID_ARGUMENT);
    e = catch_<smtp::InvalidArgument>([&] { s.mail("a@example.com", {"SIZE=1\n"}); }, "LF in option");
    CHECK(e && e->code() == SMTP_ERR_INVALID_ARGUMENT);
    e = catch_<smtp::InvalidArgument>(
        [&] { s.sendmail("a@example.com", {"b@example.com\r\nDATA"}, "Subject: x\r\n\r\nx\r\n"); }, "CRLF in rcpt");
    CHECK(e && e->code() == SMTP_ERR_INVALID_ARGUMENT);
    e = catch_<smtp::InvalidArgument>(
        [&] { s.sendmail("a@example.com", std::vector<std::string>(), "Subject: x\r\n\r\nx\r\n"); }, "no recipient");
    CHECK(e && e->code() == SMTP_ERR_INVALID_ARGUMENT);
    e = catch_<smtp::InvalidArgument>([&] { s.set_timeout(std::chrono::milliseconds(-1)); }, "negative timeout");
    CHECK(e != nullptr);
    e = catch_<smtp::InvalidArgument>([&] { s.set_debuglevel(-1); }, "negative debug level");
    CHECK(e && e->code() == SMTP_ERR_INVALID_ARGUMENT);
    /* A bare address with CR/LF after it: refused as given (the address parser,
       like smtplib's parseaddr(), would drop what follows as white space). */
    e = catch_<smtp::InvalidArgument>([&] { s.mail("a@example.com\r\nRSET"); }, "CRLF after a bare sender");
    CHECK(e && e->code() == SMTP_ERR_INVALID_ARGUMENT);
    e = catch_<smtp::InvalidArgument>([&] { s.rcpt("b@example.com\nRSET"); }, "LF after a bare recipient");
    CHECK(e && e->code() == SMTP_ERR_INVALID_ARGUMENT);
    e = catch_<smtp::InvalidArgument>([&] { s.verify("b@example.com\rX"); }, "CR in verify");
    CHECK(e && e->code() == SMTP_ERR_INVALID_ARGUMENT);
    e = catch_<smtp::InvalidArgument>([&] { s.expn("list@example.com\r\nRSET"); }, "CRLF in expn");
    CHECK(e && e->code() == SMTP_ERR_INVALID_ARGUMENT);
    CHECK(no_throw([&] { s.rset(); }, "rset"));
    CHECK(s.is_connected());
    CHECK(no_throw([&] { r = s.noop(); }, "noop after bad arguments") && r.code == 250);

    /* Timeouts: the single one sets every limit on a wait, not the call's. */
    CHECK(no_throw([&] { s.set_timeout(std::chrono::milliseconds(4500)); }, "set_timeout"));
    CHECK(s.timeout(smtp::Timeout::connect) == std::chrono::milliseconds(4500));
    CHECK(s.timeout(smtp::Timeout::io) == std::chrono::milliseconds(4500));
    CHECK(s.timeout(smtp::Timeout::final_dot) == std::chrono::milliseconds(4500));
    CHECK(s.timeout(smtp::Timeout::all) == std::chrono::milliseconds(4500));
    CHECK(s.timeout(smtp::Timeout::call) == std::chrono::milliseconds(0));
    /* A cancel while no call runs does nothing. */
    s.cancel();
    CHECK(no_throw([&] { r = s.noop(); }, "noop after an idle cancel") && r.code == 250);
    CHECK(no_throw([&] { s.set_timeout(smtp::Timeout::reply, std::chrono::seconds(20)); }, "reply timeout"));
    CHECK(s.timeout(smtp::Timeout::reply) == std::chrono::milliseconds(20000));

    /* STARTTLS with a config, on a server that does not offer it. */
    std::unique_ptr<smtp::TlsError> te =
        catch_<smtp::TlsError>([] { smtp::TlsConfigBuilder().add_ca_file("/nonexistent/ca.pem"); }, "add_ca_file");
    CHECK(te && te->code() == SMTP_ERR_TLS && std::strlen(te->what()) > 0);
    smtp::TlsConfig config;
    CHECK(!config);
    CHECK(no_throw([&] { config = smtp::TlsConfigBuilder().set_server_name("sink.test").build(); }, "build"));
    CHECK(static_cast<bool>(config));
    CHECK(no_throw([&] { s.set_tls_config(config); }, "set_tls_config"));
    std::unique_ptr<smtp::NotSupported> ns = catch_<smtp::NotSupported>([&] { s.starttls(config); }, "starttls");
    CHECK(ns && ns->code() == SMTP_ERR_NOT_SUPPORTED && ns->error_code() == smtp::errc::not_supported);
    CHECK(!s.is_encrypted() && s.tls_version().empty() && s.tls_cipher().empty());
    CHECK(no_throw([&] { r = s.noop(); }, "noop after starttls") && r.code == 250);

    /* QUIT, then nothing more. */
    CHECK(no_throw([&] { r = s.quit(); }, "quit") && r.code == 221);
    CHECK(!s.is_connected());
    CHECK(!s.does_esmtp());
    std::unique_ptr<smtp::ServerDisconnected> d = catch_<smtp::ServerDisconnected>([&] { s.noop(); }, "after quit");
    CHECK(s.fileno() == -1);
    CHECK(catch_<smtp::ServerDisconnected>([&] { s.send("NOOP\r\n"); }, "send after quit") != nullptr);
    CHECK(catch_<smtp::ServerDisconnected>([&] { s.getreply(); }, "getreply after quit") != nullptr);
    CHECK(d != nullptr);
    /* close() on a closed session is fine; a new connect works. */
    CHECK(no_throw([&] { s.close(); }, "close"));
    CHECK(no_throw([&] { s.connect(sink_host); }, "reconnect") && s.is_connected());
    CHECK(no_throw([&] { s.close(); }, "close connected") && !s.is_connected());
}

void test_sendmail()
{
    smtp::Session s;
    CHECK(no_throw([&] { s.connect(sink_host); }, "connect"));

    /* Byte-identical: CRLF endings, leading dots, 8-bit bytes, a long line. */
    const std::string token = new_token();
    std::string msg = "From: alice@example.com\r\nTo: bob@example.com\r\nSubject: " + token +
                      "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                      "Content-Transfer-Encoding: 8bit\r\n\r\n"
                      ".leading dot\r\n..two dots\r\n.\r\nGr\xc3\xbc\xc3\x9f" "e \xe2\x9c\x89\r\n" +
                      std::string(900, 'x') + "\r\nlast line\r\n";
    smtp::Refused refused;
    CHECK(no_throw([&] { refused = s.sendmail("alice@example.com", {"bob@example.com"}, msg); }, "sendmail"));
    CHECK(refused.empty());
    CHECK(stored(token) == msg);
    CHECK(stored_json(token).find("\"mail_from\": \"alice@example.com\"") != std::string::npos);

    /* Line endings normalised (SMTP_MSG_NORMALIZE, the default). */
    const std::string token2 = new_token();
    const std::string lf = "Subject: " + token2 + "\n\nline one\nline two\n";
    const std::string crlf = "Subject: " + token2 + "\r\n\r\nline one\r\nline two\r\n";
    CHECK(no_throw([&] { s.sendmail("alice@example.com", {"bob@example.com"}, lf); }, "sendmail LF"));
    CHECK(stored(token2) == crlf);

    /* Some recipients refused: returned, the message still goes. */
    const std::string token3 = new_token();
    const std::string msg3 = "Subject: " + token3 + "\r\n\r\nhello\r\n";
    CHECK(no_throw(
        [&] {
            refused = s.sendmail("alice@example.com",
                                 {"bob@example.com", "refuse-1@example.com", "carol@example.com"}, msg3);
        },
        "sendmail with a refusal"));
    CHECK(refused.size() == 1);
    CHECK(refused.count("refuse-1@example.com") == 1);
    CHECK(refused["refuse-1@example.com"].code == 550);
    CHECK(refused["refuse-1@example.com"].text.find("rejected") != std::string::npos);
    CHECK(stored(token3) == msg3);
    std::string json3 = stored_json(token3);
    CHECK(json3.find("bob@example.com") != std::string::npos && json3.find("carol@example.com") != std::string::npos &&
          json3.find("refuse-1") == std::string::npos);
    std::vector<smtp::RecipientResult> rs = s.recipients();
    CHECK(rs.size() == 3);
    if (rs.size() == 3) {
        CHECK(rs[0].address == "bob@example.com" && rs[0].code == 250 && !rs[0].refused);
        CHECK(rs[1].address == "refuse-1@example.com" && rs[1].code == 550 && rs[1].refused);
        CHECK(rs[2].address == "carol@example.com" && rs[2].code == 250 && !rs[2].refused);
        CHECK(rs[1].status == "5.1.1" || rs[1].status.empty());
        /* SMTP: the RCPT reply decided each one. */
        CHECK(rs[1].final_code == 550 && rs[1].final_text == rs[1].text && rs[1].final_status == rs[1].status);
        CHECK(rs[0].final_code == 250 && rs[0].data_code == 0);
    }
    CHECK(s.sender() == "alice@example.com");

    /* Every recipient refused: RecipientsRefused with them all. */
    const std::string token4 = new_token();
    std::unique_ptr<smtp::RecipientsRefused> e = catch_<smtp::RecipientsRefused>(
        [&] {
            s.sendmail("alice@example.com", {"refuse-a@example.com", "refuse-b@example.com"},
                       "Subject: " + token4 + "\r\n\r\nx\r\n");
        },
        "all refused");
    CHECK(e != nullptr);
    if (e) {
        CHECK(e->code() == SMTP_ERR_RECIPIENTS_REFUSED);
        CHECK(e->error_code() == smtp::errc::recipients_refused);
        CHECK(e->recipients().size() == 2);
        CHECK(e->recipients().count("refuse-a@example.com") == 1 && e->recipients().count("refuse-b@example.com") == 1);
        bool all550 = true;
        for (const auto &kv : e->recipients())
            all550 = all550 && kv.second.code == 550 && !kv.second.text.empty();
        CHECK(all550);
        /* Copies share the data (and cannot throw). */
        smtp::RecipientsRefused copy(*e);
        CHECK(copy.recipients() == e->recipients() && std::string(copy.what()) == e->what());
    }
    CHECK(find_stored(token4).empty());
    /* As the base class too. */
    bool as_error = false;
    try {
        s.sendmail("alice@example.com", {"refuse-c@example.com"}, "Subject: x\r\n\r\nx\r\n");
    } catch (const smtp::Error &err) {
        as_error = err.code() == SMTP_ERR_RECIPIENTS_REFUSED && err.reply_code() == 550;
    }
    CHECK(as_error);
    smtp::Reply r;
    CHECK(no_throw([&] { r = s.noop(); }, "noop after refusal") && r.code == 250);

    /* A refused sender: aiosmtpd refuses a MAIL parameter it does not know. */
    std::unique_ptr<smtp::SenderRefused> sr = catch_<smtp::SenderRefused>(
        [&] { s.sendmail("alice@example.com", {"bob@example.com"}, "Subject: x\r\n\r\nx\r\n", {"X-UNKNOWN=1"}); },
        "sender refused");
    CHECK(sr != nullptr);
    if (sr) {
        CHECK(sr->code() == SMTP_ERR_SENDER_REFUSED && sr->sender() == "alice@example.com");
        CHECK(sr->reply_code() >= 500 && sr->reply_code() < 600 && !sr->reply_text().empty());
    }
    CHECK(no_throw([&] { r = s.noop(); }, "noop after sender refused") && r.code == 250);

    /* MAIL, RCPT, DATA by hand: refusals are replies, not exceptions. */
    const std::string token5 = new_token();
    const std::string msg5 = "Subject: " + token5 + "\r\n\r\nby hand\r\n";
    CHECK(no_throw([&] { r = s.mail("alice@example.com"); }, "mail") && r.code == 250);
    CHECK(no_throw([&] { r = s.rcpt("refuse-x@example.com"); }, "rcpt refused") && r.code == 550);
    CHECK(no_throw([&] { r = s.rcpt("dave@example.com"); }, "rcpt") && r.code == 250);
    CHECK(no_throw([&] { r = s.data(msg5); }, "data") && r.code == 250);
    CHECK(stored(token5) == msg5);
    /* DATA without a transaction: DataError. */
    std::unique_ptr<smtp::DataError> de = catch_<smtp::DataError>([&] { s.data("x\r\n"); }, "data alone");
    CHECK(de && de->code() == SMTP_ERR_DATA && de->reply_code() == 503);

    /* send_message: envelope from the fields, Bcc removed. */
    const std::string token6 = new_token();
    const std::string head = "From: Alice <alice@example.com>\r\nTo: bob@example.com, refuse-2@example.com\r\n";
    const std::string body = "Subject: " + token6 + "\r\n\r\nsend_message\r\n";
    CHECK(no_throw([&] { refused = s.send_message(head + "Bcc: eve@example.com\r\n" + body); }, "send_message"));
    CHECK(refused.size() == 1 && refused.count("refuse-2@example.com") == 1);
    CHECK(stored(token6) == head + body);
    std::string json6 = stored_json(token6);
    CHECK(json6.find("eve@example.com") != std::string::npos);
    /* ... and with the envelope given. */
    const std::string token7 = new_token();
    const std::string msg7 = "From: a@example.com\r\nTo: b@example.com\r\nSubject: " + token7 + "\r\n\r\nx\r\n";
    CHECK(no_throw([&] { refused = s.send_message(msg7, "other@example.com", {"frank@example.com"}); },
                   "send_message with envelope"));
    CHECK(refused.empty() && stored(token7) == msg7);
    std::string json7 = stored_json(token7);
    CHECK(json7.find("other@example.com") != std::string::npos && json7.find("frank@example.com") != std::string::npos &&
          json7.find("\"b@example.com\"") == std::string::npos);

    /* An envelope: SMTPUTF8 on MAIL (the sink offers it). */
    smtp::Envelope env;
    std::unique_ptr<smtp::InvalidArgument> bad =
        catch_<smtp::InvalidArgument>([&] { env.set_mt_priority(42); }, "priority 42");
    /* The library's words (smtp_envelope_errmsg), not only the code's. */
    CHECK(bad && std::strstr(bad->what(), "42") != nullptr);
    CHECK(no_throw([&] { env.set_smtputf8(true); }, "set_smtputf8"));
    CHECK(no_throw([&] { s.set_envelope(env); }, "set_envelope"));
    const std::string token8 = new_token();
    const std::string msg8 = "Subject: " + token8 + "\r\n\r\nx\r\n";
    CHECK(no_throw([&] { s.sendmail("j\xc3\xb6rg@example.com", {"bob@example.com"}, msg8); }, "sendmail SMTPUTF8"));
    CHECK(stored_json(token8).find("SMTPUTF8") != std::string::npos);
    CHECK(no_throw([&] { s.clear_envelope(); }, "clear_envelope"));

    CHECK(no_throw([&] { s.quit(); }, "quit"));
}

/* sendmail_stream from an istream, sendmail_batch, the switches, feature(). */
void test_stream_and_batch()
{
    smtp::Session s;
    CHECK(no_throw([&] { s.connect(sink_host); s.ehlo(); }, "connect"));
    std::string params;
    CHECK(s.feature("SIZE", params) && !params.empty());
    CHECK(!s.feature("X-NOPE", params));
    const std::string token = new_token();
    std::string body = "Subject: " + token + "\r\n\r\n";
    for (int i = 0; i < 20000; ++i)
        body += "line " + std::to_string(i) + " of a message read from a stream\r\n";
    std::istringstream in(body);
    smtp::Refused refused;
    CHECK(no_throw([&] {
        refused = s.sendmail_stream("alice@example.com", {"bob@example.com", "refuse-s@example.com"}, in,
                                    static_cast<std::int64_t>(body.size()));
    }, "sendmail_stream"));
    CHECK(refused.size() == 1 && refused.count("refuse-s@example.com") == 1);
    CHECK(stored(token) == body);

    /* A stream that fails ends the message: nothing delivered, the connection closed. */
    struct failing : std::streambuf {
        int n = 0;
        int_type underflow() override { throw std::runtime_error("disk gone"); }
    } bad_buf;
    std::istream bad(&bad_buf);
    bad.exceptions(std::ios::badbit);
    CHECK(catch_<std::runtime_error>([&] { s.sendmail_stream("alice@example.com", {"bob@example.com"}, bad); },
                                     "failing stream") != nullptr);
    CHECK(!s.is_connected());

    /* A batch, lockstep then pipelined: per-message results, nothing thrown for a refusal. */
    for (int pipelined = 0; pipelined < 2; ++pipelined) {
        smtp::Session b;
        CHECK(no_throw([&] {
            b.set_pipelining(pipelined != 0);
            b.set_chunking(false);
            b.connect(sink_host);
        }, "batch session"));
        const std::string t = new_token();
        std::vector<smtp::BatchMessage> msgs;
        msgs.emplace_back("alice@example.com", std::vector<std::string>{"bob@example.com"},
                          "Subject: " + t + "-1\r\n\r\none\r\n");
        msgs.emplace_back("alice@example.com", std::vector<std::string>{"refuse-all@example.com"},
                          "Subject: " + t + "-2\r\n\r\ntwo\r\n");
        msgs.emplace_back("alice@example.com", std::vector<std::string>{"bob@example.com", "refuse-x@example.com"},
                          "Subject: " + t + "-3\r\n\r\nthree\r\n");
        std::vector<smtp::BatchResult> res;
        CHECK(no_throw([&] { res = b.sendmail_batch(msgs); }, "sendmail_batch"));
        CHECK(res.size() == 3);
        if (res.size() == 3) {
            CHECK(res[0].ok() && res[0].refused_count == 0 && res[0].rcpt_codes == std::vector<int>{250});
            CHECK(res[1].result == SMTP_ERR_RECIPIENTS_REFUSED && res[1].rcpt_codes == std::vector<int>{550});
            CHECK(res[2].ok() && res[2].refused_count == 1 && res[2].rcpt_codes == (std::vector<int>{250, 550}));
        }
        CHECK(!stored(t + "-1").empty() && find_stored(t + "-2").empty() && !stored(t + "-3").empty());
        /* A sender with a line break fails that message alone... */
        msgs[1].from = "alice@example.com\r\nRSET";
        msgs[1].to = {"bob@example.com"};
        CHECK(no_throw([&] { res = b.sendmail_batch(msgs); }, "batch with a bad sender"));
        CHECK(res.size() == 3 && res[0].ok() && res[1].result == SMTP_ERR_INVALID_ARGUMENT && res[2].ok());
        /* ...text that is not UTF-8 refuses the whole batch: InvalidArgument, nothing sent. */
        msgs[1].from = "al\xffice@example.com";
        CHECK(catch_<smtp::InvalidArgument>([&] { b.sendmail_batch(msgs); }, "batch with invalid UTF-8") != nullptr);
        CHECK(no_throw([&] { b.quit(); }, "quit"));
    }
    CHECK(no_throw([&] { s.connect(sink_host); s.quit(); }, "reconnect"));
}

void test_move_and_raii()
{
    /* Moved-from sessions are empty and safe. */
    smtp::Session a;
    CHECK(no_throw([&] { a.connect(sink_host); }, "connect"));
    smtp::Session b(std::move(a));
    CHECK(!a); /* NOLINT: deliberately used after the move */
    CHECK(static_cast<bool>(b));
    CHECK(!a.is_connected());
    CHECK(!a.has_extn("size") && a.features().empty() && a.recipients().empty());
    CHECK(a.last_reply_code() == 0 && a.last_reply_text().empty() && !a.errmsg().empty());
    std::unique_ptr<smtp::Error> e = catch_<smtp::Error>([&] { a.noop(); }, "noop on moved-from");
    CHECK(e && e->code() == SMTP_ERR_NULL_ARGUMENT && e->error_code() == smtp::errc::null_argument);
    e = catch_<smtp::Error>([&] { a.connect(sink_host); }, "connect on moved-from");
    CHECK(e && e->code() == SMTP_ERR_NULL_ARGUMENT);
    e = catch_<smtp::Error>([&] { a.timeout(smtp::Timeout::io); }, "timeout on moved-from");
    CHECK(e != nullptr);
    e = catch_<smtp::Error>([&] { a.sendmail("a@example.com", {"b@example.com"}, "x\r\n"); }, "sendmail moved-from");
    CHECK(e && e->code() == SMTP_ERR_NULL_ARGUMENT);
    e = catch_<smtp::Error>([&] { a.auth("X-TOKEN", [](bool, const std::string &, std::string &) { return false; }); },
                            "auth moved-from");
    CHECK(e && e->code() == SMTP_ERR_NULL_ARGUMENT);
    smtp::Reply r;
    CHECK(no_throw([&] { r = b.noop(); }, "noop on moved-to") && r.code == 250);

    /* Move-assignment frees what was there (a connected session) and takes over. */
    smtp::Session c;
    CHECK(no_throw([&] { c.connect(sink_host); }, "connect c"));
    c = std::move(b);
    CHECK(!b && static_cast<bool>(c));
    CHECK(no_throw([&] { r = c.noop(); }, "noop after move-assign") && r.code == 250);
    /* Assigning to the moved-from one brings it back. */
    a = smtp::Session(smtp::Kind::lmtp);
    CHECK(static_cast<bool>(a));
    smtp::Session *self = &c;
    c = std::move(*self);
    CHECK(static_cast<bool>(c) && c.is_connected());

    /* In containers: relocation moves (noexcept), no leak, no double free. */
    std::vector<smtp::Session> v;
    for (int i = 0; i < 8; ++i)
        v.emplace_back();
    v.push_back(std::move(c));
    v.erase(v.begin());
    bool ok = true;
    for (smtp::Session &x : v)
        ok = ok && static_cast<bool>(x);
    CHECK(ok && v.size() == 8);
    CHECK(no_throw([&] { r = v.back().noop(); }, "noop in a vector") && r.code == 250);
    v.clear();

    /* Many sessions and configs made and dropped (valgrind counts). */
    for (int i = 0; i < 20; ++i) {
        smtp::Session s(i % 2 ? smtp::Kind::smtp : smtp::Kind::smtp_ssl);
        smtp::TlsConfig cfg = smtp::TlsConfigBuilder().build();
        s.set_tls_config(cfg);
        smtp::Envelope env;
        env.set_dsn_notify(SMTP_DSN_NOTIFY_FAILURE);
        s.set_envelope(env);
    }
    smtp::TlsConfig cfg = smtp::TlsConfigBuilder().build();
    smtp::TlsConfig cfg2(std::move(cfg));
    CHECK(!cfg && static_cast<bool>(cfg2));

    /* release(): the raw handle, the caller frees it. */
    smtp_tls_config *raw = cfg2.release();
    CHECK(raw != nullptr && !cfg2);
    smtp_tls_config_free(raw);
}

void test_trace()
{
    smtp::Session s;
    std::vector<std::pair<smtp::TraceDirection, std::string> > lines;
    CHECK(no_throw([&] {
        s.set_trace([&lines](smtp::TraceDirection d, const std::string &l) { lines.push_back(std::make_pair(d, l)); });
    }, "set_trace"));
    CHECK(no_throw([&] { s.set_debuglevel(1); }, "set_debuglevel"));
    CHECK(no_throw([&] { s.connect(sink_host); s.noop(); }, "connect, noop traced"));
    bool sent = false, received = false;
    for (const auto &l : lines) {
        if (l.first == smtp::TraceDirection::send && lower(l.second).find("noop") != std::string::npos)
            sent = true;
        if (l.first == smtp::TraceDirection::recv && l.second.find("250") != std::string::npos)
            received = true;
    }
    CHECK(sent && received);

    /* A throwing trace callback: kept, rethrown after the call. */
    CHECK(no_throw([&] {
        s.set_trace([](smtp::TraceDirection, const std::string &) { throw CallbackFailure(7); });
    }, "set_trace throwing"));
    std::unique_ptr<CallbackFailure> cf = catch_<CallbackFailure>([&] { s.noop(); }, "noop with throwing trace");
    CHECK(cf && cf->n == 7);
    CHECK(s.is_connected());
    /* The session still works; stderr again after an empty callback. */
    CHECK(no_throw([&] { s.set_trace(smtp::TraceCallback()); }, "set_trace empty"));
    CHECK(no_throw([&] { s.set_debuglevel(0); }, "debuglevel 0"));
    smtp::Reply r;
    CHECK(no_throw([&] { r = s.noop(); }, "noop after trace") && r.code == 250);

    /* The trace outlives a move and the free that closes the connection. */
    lines.clear();
    CHECK(no_throw([&] {
        s.set_trace([&lines](smtp::TraceDirection d, const std::string &l) { lines.push_back(std::make_pair(d, l)); });
        s.set_debuglevel(2);
    }, "trace again"));
    {
        smtp::Session moved(std::move(s));
        CHECK(no_throw([&] { moved.noop(); }, "noop traced after move"));
        smtp::Session other;
        other = std::move(moved); /* `other`'s own session freed first */
        CHECK(no_throw([&] { other.noop(); }, "noop traced after move-assign"));
    } /* freed while connected, with the trace on */
    CHECK(lines.size() >= 4);
}

void test_auth()
{
    smtp::Reply r;
    {
        smtp::Session s;
        CHECK(no_throw([&] { s.connect(auth_host); }, "connect auth"));
        CHECK(no_throw([&] { s.login("alice", "s3cret"); }, "login"));
        CHECK(s.last_reply_code() == 235);
        CHECK(no_throw([&] { s.quit(); }, "quit"));
    }
    {
        smtp::Session s;
        CHECK(no_throw([&] { s.connect(auth_host); }, "connect auth"));
        std::unique_ptr<smtp::AuthError> e = catch_<smtp::AuthError>([&] { s.login("alice", "wrong"); }, "bad login");
        CHECK(e && e->code() == SMTP_ERR_AUTH && e->error_code() == smtp::errc::auth && e->reply_code() == 535);
        CHECK(s.features().count("auth") == 1 && s.features()["auth"].find("PLAIN") != std::string::npos);
        std::unique_ptr<smtp::InvalidArgument> i =
            catch_<smtp::InvalidArgument>([&] { s.set_auth_mechanisms("NO-SUCH"); }, "unknown mechanism");
        CHECK(i != nullptr);
        CHECK(no_throw([&] { s.set_auth_mechanisms("LOGIN"); }, "set_auth_mechanisms"));
        CHECK(no_throw([&] { s.login("alice", "s3cret"); }, "login with LOGIN"));
        CHECK(no_throw([&] { s.set_auth_mechanisms(""); }, "set_auth_mechanisms default"));
        CHECK(no_throw([&] { s.quit(); }, "quit"));
    }
    {
        smtp::Session s;
        CHECK(no_throw([&] { s.connect(auth_host); s.ehlo(); }, "connect, ehlo"));
        CHECK(no_throw([&] { s.auth_builtin("PLAIN", "alice", "s3cret"); }, "auth_builtin PLAIN"));
    }

    /* A callback mechanism: no initial response, then the challenge. */
    smtp::Session s;
    CHECK(no_throw([&] { s.connect(auth_host); s.ehlo(); }, "connect, ehlo"));
    std::vector<std::string> seen;
    int initial_calls = 0;
    auto x_token = [&](bool initial, const std::string &challenge, std::string &response) {
        if (initial) {
            ++initial_calls;
            return false; /* none */
        }
        seen.push_back(challenge);
        response = "open sesame";
        return true;
    };
    CHECK(no_throw([&] { s.auth("X-TOKEN", x_token); }, "auth X-TOKEN"));
    CHECK(initial_calls == 1 && seen.size() == 1 && seen[0] == "token?");
    CHECK(s.last_reply_code() == 235);

    /* A callback that throws: the exchange aborted, the exception rethrown, the session usable. */
    smtp::Session t;
    CHECK(no_throw([&] { t.connect(auth_host); t.ehlo(); }, "connect, ehlo"));
    std::unique_ptr<CallbackFailure> cf = catch_<CallbackFailure>(
        [&] {
            t.auth("X-TOKEN", [](bool initial, const std::string &, std::string &) -> bool {
                if (initial)
                    return false;
                throw CallbackFailure(42);
            });
        },
        "throwing callback");
    CHECK(cf && cf->n == 42);
    CHECK(t.is_connected());
    CHECK(no_throw([&] { r = t.noop(); }, "noop after throwing callback") && r.code == 250);
    /* Thrown at the initial response (nothing sent yet). */
    cf = catch_<CallbackFailure>(
        [&] { t.auth("PLAIN", [](bool, const std::string &, std::string &) -> bool { throw CallbackFailure(1); }); },
        "throwing initial");
    CHECK(cf && cf->n == 1);
    CHECK(no_throw([&] { r = t.noop(); }, "noop after throwing initial") && r.code == 250);
    /* Something not derived from std::exception. */
    bool got_int = false;
    try {
        t.auth("X-TOKEN", [](bool initial, const std::string &, std::string &) -> bool {
            if (initial)
                return false;
            throw 5;
        });
    } catch (int v) {
        got_int = v == 5;
    } catch (...) {
    }
    CHECK(got_int);
    CHECK(no_throw([&] { r = t.noop(); }, "noop after int") && r.code == 250);
    /* Returning false to a challenge: AuthAborted. */
    std::unique_ptr<smtp::AuthAborted> ab = catch_<smtp::AuthAborted>(
        [&] {
            t.auth("X-TOKEN", [](bool, const std::string &, std::string &) { return false; });
        },
        "callback aborts");
    CHECK(ab && ab->code() == SMTP_ERR_AUTH_ABORTED && ab->error_code() == smtp::errc::auth_aborted);
    CHECK(no_throw([&] { r = t.noop(); }, "noop after abort") && r.code == 250);
    /* A response larger than the library's first buffer (SMTP_SASL_NEED_SPACE): the callback
       runs once and the whole response goes out (aiosmtpd then refuses the over-long line). */
    int calls = 0;
    std::vector<std::string> sent;
    CHECK(no_throw(
        [&] {
            t.set_trace([&sent](smtp::TraceDirection d, const std::string &l) {
                if (d == smtp::TraceDirection::send)
                    sent.push_back(l);
            });
            t.set_debug_secrets(true);
            t.set_debuglevel(1);
        },
        "trace secrets"));
    std::unique_ptr<smtp::AuthError> ae = catch_<smtp::AuthError>(
        [&] {
            t.auth("X-TOKEN", [&calls](bool initial, const std::string &, std::string &response) {
                if (initial)
                    return false;
                ++calls;
                response.assign(5000, 'z');
                return true;
            });
        },
        "large response");
    CHECK(ae && ae->code() == SMTP_ERR_AUTH && ae->reply_code() >= 500);
    CHECK(calls == 1);
    std::string b64; /* base64 of 5000 'z': 1666 x "enp6", then "eno=" */
    for (int k = 0; k < 1666; ++k)
        b64 += "enp6";
    b64 += "eno=";
    bool whole = false;
    for (const std::string &l : sent)
        whole = whole || l.find(b64) != std::string::npos;
    CHECK(whole);
    CHECK(no_throw(
        [&] {
            t.set_debuglevel(0);
            t.set_debug_secrets(false);
            t.set_trace(nullptr);
        },
        "trace off"));
    CHECK(no_throw([&] { r = t.noop(); }, "noop after large response") && r.code == 250);
    /* Initial response by the callback (PLAIN), after all that. */
    CHECK(no_throw(
        [&] {
            t.auth("PLAIN", [](bool initial, const std::string &, std::string &response) {
                if (!initial)
                    return false;
                response = std::string("\0alice\0s3cret", 13);
                return true;
            });
        },
        "auth PLAIN by callback"));
    CHECK(t.last_reply_code() == 235);
    /* An empty std::function. */
    std::unique_ptr<smtp::InvalidArgument> i =
        catch_<smtp::InvalidArgument>([&] { t.auth("PLAIN", smtp::SaslCallback()); }, "empty callback");
    CHECK(i && i->code() == SMTP_ERR_NULL_ARGUMENT);
    CHECK(no_throw([&] { r = t.quit(); }, "quit") && r.code == 221);
}


/* Read exactly n bytes from fd ("" on end of stream or error). */
std::string read_n(int fd, std::size_t n)
{
    std::string b(n, '\0');
    std::size_t got = 0;
    while (got < n) {
        const ssize_t k = read(fd, &b[got], n - got);
        if (k <= 0)
            return std::string();
        got += static_cast<std::size_t>(k);
    }
    return b;
}

void write_all(int fd, const std::string &bytes)
{
    const ssize_t w = write(fd, bytes.data(), bytes.size());
    CHECK(w == static_cast<ssize_t>(bytes.size()));
}

/* Everything the peer of fd sends until it closes (bounded). */
std::string read_to_eof(int fd)
{
    std::string all;
    char buf[256];
    for (int i = 0; i < 64; ++i) {
        const ssize_t k = read(fd, buf, sizeof buf);
        if (k <= 0)
            break;
        all.append(buf, static_cast<std::size_t>(k));
    }
    return all;
}

/* Session::set_proxy(): a bad URL throws InvalidArgument; through a scripted
   SOCKS5 proxy (user and password, the name sent for the proxy to resolve),
   which then plays the mail server itself. */
void test_proxy()
{
    smtp::Session s;
    std::unique_ptr<smtp::InvalidArgument> bad =
        catch_<smtp::InvalidArgument>([&] { s.set_proxy("ftp://127.0.0.1:21"); }, "bad proxy URL");
    CHECK(bad && bad->code() == SMTP_ERR_INVALID_ARGUMENT);
    CHECK(bad && std::string(bad->what()).find("unsupported scheme") != std::string::npos);
    CHECK(no_throw([&] { s.set_proxy(""); }, "no proxy"));
    /* Nothing listens where the proxy should be. */
    CHECK(no_throw([&] { s.set_proxy("socks5://127.0.0.1:" + std::to_string(closed_port())); }, "set_proxy"));
    std::unique_ptr<smtp::Error> unreachable = catch_<smtp::Error>([&] { s.connect(sink_host); }, "no proxy there");
    CHECK(unreachable && unreachable->code() == SMTP_ERR_CONNECT);

    unsigned port = 0;
    const int lfd = silent_listener(&port);
    CHECK(lfd >= 0);
    if (lfd < 0)
        return;
    bool as_expected = false;
    std::thread proxy([&] {
        const int c = accept(lfd, nullptr, nullptr);
        if (c < 0)
            return;
        const std::string hello = read_n(c, 4);
        write_all(c, std::string("\x05\x02", 2));
        const std::string auth = read_n(c, 3 + 5 + 6);
        write_all(c, std::string("\x01\x00", 2));
        const std::string request = read_n(c, 5 + 10 + 2);
        write_all(c, std::string("\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00", 10));
        write_all(c, "220 mx.example ESMTP\r\n");
        const std::string noop = read_n(c, 6);
        write_all(c, "250 ok\r\n");
        const std::string quit = read_n(c, 6);
        write_all(c, "221 bye\r\n");
        close(c);
        as_expected = hello == std::string("\x05\x02\x00\x02", 4) &&
                      auth == std::string("\x01\x05" "alice\x06s3cret", 14) &&
                      request == std::string("\x05\x01\x00\x03\x0amx.example\x00\x19", 17) && noop == "noop\r\n" &&
                      quit == "quit\r\n";
    });
    smtp::Reply r;
    CHECK(no_throw([&] { s.set_proxy("socks5h://alice:s3cret@127.0.0.1:" + std::to_string(port)); }, "set_proxy"));
    CHECK(no_throw([&] { r = s.connect("mx.example", 25); }, "connect through the proxy") && r.code == 220);
    CHECK(no_throw([&] { r = s.noop(); }, "noop") && r.code == 250);
    CHECK(no_throw([&] { r = s.quit(); }, "quit") && r.code == 221);
    proxy.join();
    close(lfd);
    CHECK(as_expected);
}

/* Session::connect_fd(): a socketpair and a TCP socket the test connected;
   the fd is closed when the call throws. */
void test_connect_fd()
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    write_all(sv[1], "220 pair.example ESMTP\r\n250 ok\r\n");
    smtp::Session s;
    smtp::Reply r;
    CHECK(no_throw([&] { r = s.connect_fd(sv[0]); }, "connect_fd") && r.code == 220);
    CHECK(no_throw([&] { r = s.noop(); }, "noop") && r.code == 250);
    CHECK(no_throw([&] { s.close(); }, "close"));
    CHECK(read_to_eof(sv[1]) == "noop\r\n");
    close(sv[1]);

    /* A NUL in the host throws before the C call: the fd is closed anyway. */
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    std::unique_ptr<smtp::InvalidArgument> nul =
        catch_<smtp::InvalidArgument>([&] { s.connect_fd(sv[0], std::string("a\0b", 3)); }, "NUL in the host");
    CHECK(nul && nul->code() == SMTP_ERR_INVALID_ARGUMENT);
    CHECK(read_to_eof(sv[1]).empty());
    close(sv[1]);
    /* Not a socket. */
    int p[2];
    CHECK(pipe(p) == 0);
    std::unique_ptr<smtp::InvalidArgument> pipe_fd =
        catch_<smtp::InvalidArgument>([&] { s.connect_fd(p[0]); }, "a pipe");
    CHECK(pipe_fd && std::string(pipe_fd->what()).find("not a socket") != std::string::npos);
    close(p[1]);

    /* A TCP socket connected to the sink. */
    const std::size_t colon = sink_host.rfind(':');
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    std::memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(std::stoul(sink_host.substr(colon + 1))));
    CHECK(fd >= 0 && connect(fd, reinterpret_cast<struct sockaddr *>(&a), sizeof a) == 0);
    CHECK(no_throw([&] { r = s.connect_fd(fd); }, "connect_fd over TCP") && r.code == 220);
    CHECK(no_throw([&] { r = s.noop(); }, "noop over TCP") && r.code == 250);
    CHECK(no_throw([&] { r = s.quit(); }, "quit over TCP") && r.code == 221);
}
}  // namespace

/* Session::cancel() from another thread ends a call waiting for a greeting
   at once (Cancelled, std::errc::operation_canceled); the session connects
   again afterwards. */
void test_cancel()
{
    unsigned port = 0;
    const int fd = silent_listener(&port);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    smtp::Session s;
    s.set_timeout(std::chrono::seconds(20));
    const auto t0 = std::chrono::steady_clock::now();
    std::thread canceller([&s] {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        s.cancel();
    });
    std::unique_ptr<smtp::Cancelled> e =
        catch_<smtp::Cancelled>([&] { s.connect("127.0.0.1", static_cast<std::uint16_t>(port)); }, "cancelled connect");
    canceller.join();
    const auto took = std::chrono::steady_clock::now() - t0;
    close(fd);
    CHECK(e && e->code() == SMTP_ERR_CANCELLED);
    CHECK(e && e->error_code() == std::errc::operation_canceled);
    CHECK(took < std::chrono::milliseconds(200 + 300));
    CHECK(!s.is_connected());
    smtp::Reply r;
    CHECK(no_throw([&] { r = s.connect(sink_host); }, "connect after a cancel") && r.code == 220);
    CHECK(no_throw([&] { s.quit(); }, "quit"));
}

/* Pool: four threads, each with a Session of its own, share two
   connections; results are read from each thread's Session; a connected
   Session is refused; the setters check their arguments. */
void test_pool()
{
    smtp::Session like;
    like.set_local_hostname("client.example");
    std::unique_ptr<smtp::Pool> pool;
    CHECK(no_throw([&] { pool.reset(new smtp::Pool(like, sink_host, 0, 2)); }, "Pool"));
    if (!pool)
        return;
    CHECK(catch_<smtp::InvalidArgument>([&] { smtp::Pool(like, sink_host, 0, 0); }, "max_connections 0") != nullptr);
    CHECK(no_throw([&] {
        pool->set_max_messages(3);
        pool->set_probe_idle(std::chrono::milliseconds(0));
        pool->set_max_idle(std::chrono::seconds(60));
        pool->set_rate(0);
        pool->set_starttls(false);
        pool->set_max_connections(2);
    }, "pool options"));
    CHECK(catch_<smtp::InvalidArgument>([&] { pool->set_max_connections(0); }, "max_connections 0") != nullptr);
    const std::string token = new_token();
    std::vector<std::thread> threads;
    int sent[4] = {0, 0, 0, 0};
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            smtp::Session seat;
            for (int i = 0; i < 5; ++i) {
                const std::string msg = "Subject: pool\r\n\r\n" + token + "-" + std::to_string(t) + "." +
                                        std::to_string(i) + "\r\n";
                try {
                    pool->sendmail(seat, "alice@example.com", {"bob@example.com"}, msg);
                    if (seat.recipients().size() == 1 && !seat.is_connected())
                        ++sent[t];
                } catch (const std::exception &) {
                }
            }
        });
    for (std::thread &t : threads)
        t.join();
    CHECK(sent[0] + sent[1] + sent[2] + sent[3] == 20);
    CHECK(!stored(token + "-3.4").empty());
    CHECK(pool->stat(SMTP_POOL_STAT_SENT) == 20);
    CHECK(pool->stat(SMTP_POOL_STAT_OPEN) <= 2);
    CHECK(pool->stat(SMTP_POOL_STAT_OPENED) >= 7);
    smtp::Session seat;
    const std::string whole = "From: alice@example.com\r\nTo: bob@example.com\r\n\r\n" + token + "-whole\r\n";
    CHECK(no_throw([&] { pool->send_message(seat, whole); }, "send_message through the pool"));
    CHECK(!stored(token + "-whole").empty());
    smtp::Refused refused;
    CHECK(no_throw([&] {
        refused = pool->sendmail(seat, "alice@example.com", {"bob@example.com", "refuse@example.com"},
                                 "Subject: x\r\n\r\n" + token + "-refused\r\n");
    }, "sendmail with a refusal"));
    CHECK(refused.size() == 1 && refused.count("refuse@example.com") == 1);
    std::vector<smtp::BatchResult> res;
    CHECK(no_throw([&] {
        res = pool->sendmail_batch(seat, {smtp::BatchMessage("alice@example.com", {"bob@example.com"},
                                                             "Subject: x\r\n\r\n" + token + "-batch1\r\n"),
                                          smtp::BatchMessage("alice@example.com", {"bob@example.com"},
                                                             "Subject: x\r\n\r\n" + token + "-batch2\r\n")});
    }, "sendmail_batch through the pool"));
    CHECK(res.size() == 2 && res[0].ok() && res[1].ok());
    CHECK(!stored(token + "-batch2").empty());
    /* Auth on every new connection: the sink offers no AUTH, so the call
       fails; the callback was asked on the thread of the call. */
    {
        smtp::Pool authed(like, sink_host, 0, 1);
        int asked = 0;
        CHECK(no_throw([&] {
            authed.set_auth("PLAIN", [&](bool, const std::string &, std::string &response) {
                ++asked;
                response = std::string("\0user\0secret", 12);
                return true;
            });
        }, "Pool::set_auth"));
        smtp::Session other;
        CHECK(catch_<smtp::Error>([&] { authed.sendmail(other, "alice@example.com", {"bob@example.com"}, "x\r\n"); },
                                  "pool auth refused") != nullptr);
        CHECK(asked == 1);
        CHECK(no_throw([&] { authed.set_auth("PLAIN", smtp::SaslCallback()); }, "remove auth"));
        CHECK(no_throw([&] { authed.sendmail(other, "alice@example.com", {"bob@example.com"}, "x\r\n"); },
                       "pool without auth"));
    }
    seat.connect(sink_host);
    CHECK(catch_<smtp::Error>([&] { pool->send_message(seat, whole); }, "connected seat") != nullptr);
    seat.quit();
    /* Credentials: the sink offers no AUTH, so a new connection fails. */
    smtp::Pool authed(like, sink_host, 0, 1);
    authed.set_login("user", "secret");
    CHECK(catch_<smtp::NotSupported>([&] { authed.send_message(seat, whole); }, "login refused") != nullptr);
    authed.clear_login();
    CHECK(no_throw([&] { authed.send_message(seat, whole); }, "no login"));
}

/* Trust stores and internationalized server names (no server needed). */
void test_tls_roots_and_names()
{
    /* A CA certificate as the whole "system" store (SSL_CERT_FILE): its key
     * is gone, it is only loaded and counted. */
    static const char ca_pem[] = "-----BEGIN CERTIFICATE-----\n"
                                 "MIIBkzCCATmgAwIBAgIUct2x9PY045r+OezSC/kqoZkKpqgwCgYIKoZIzj0EAwIw\n"
                                 "HjEcMBoGA1UEAwwTbGlic210cCBjcHAgdGVzdCBDQTAgFw0yNjEyMDcxODM2NTBa\n"
                                 "GA8yMTI2MTExMzE4MzY1MFowHjEcMBoGA1UEAwwTbGlic210cCBjcHAgdGVzdCBD\n"
                                 "QTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABAdx648SSgcqjIqcVETsHJKv3thC\n"
                                 "Bm8BHxWnKN7tU9cDf430aydkLCfqDXgmEneW2Rn/YHOhL3r4+IkZbyX/JbujUzBR\n"
                                 "MB0GA1UdDgQWBBTwX0QfYDAQoMmJURFzwTD0RrNapDAfBgNVHSMEGDAWgBTwX0Qf\n"
                                 "YDAQoMmJURFzwTD0RrNapDAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gA\n"
                                 "MEUCIQDGXsL0khePEyZec2B8V9vQ9QrOTEMEruQaGFzaoUW8TwIgU7AHLYgKGbRE\n"
                                 "rdKcImAFzHafY/bPAcE8A1GPEF3Jrd8=\n"
                                 "-----END CERTIFICATE-----\n";
    char path[] = "/tmp/libsmtp-cpp-ca-XXXXXX";
    const int fd = mkstemp(path);
    CHECK(fd >= 0 && write(fd, ca_pem, sizeof ca_pem - 1) == static_cast<ssize_t>(sizeof ca_pem - 1));
    if (fd >= 0)
        close(fd);
    const char *old = std::getenv("SSL_CERT_FILE");
    const std::string saved = old ? old : "";
    const bool had = old != nullptr;
    CHECK(setenv("SSL_CERT_FILE", path, 1) == 0 && unsetenv("SSL_CERT_DIR") == 0);

    smtp::TlsConfigBuilder b;
    CHECK(no_throw([&] { b.set_roots(smtp::Roots::mozilla | smtp::Roots::system); }, "set_roots"));
    CHECK(b.message().compare(0, 15, "Mozilla roots: ") == 0);
    CHECK(ends_with(b.message(), std::string(path) + "): 1 certificate loaded"));
    CHECK(no_throw([&] { b.build(); }, "build with the system roots"));
    CHECK(setenv("SSL_CERT_FILE", "/nonexistent/libsmtp-bundle.pem", 1) == 0);
    std::unique_ptr<smtp::TlsError> te =
        catch_<smtp::TlsError>([&] { b.set_roots(smtp::Roots::system); }, "a missing bundle");
    CHECK(te && std::strstr(te->what(), "/nonexistent/libsmtp-bundle.pem") && std::strstr(te->what(), "0 certificates"));
    CHECK(had ? setenv("SSL_CERT_FILE", saved.c_str(), 1) == 0 : unsetenv("SSL_CERT_FILE") == 0);
    unlink(path);

    std::unique_ptr<smtp::InvalidArgument> ia =
        catch_<smtp::InvalidArgument>([&] { b.set_roots(static_cast<smtp::Roots>(8)); }, "unknown roots");
    CHECK(ia != nullptr);
    CHECK(no_throw([&] { b.set_roots(smtp::Roots::none); }, "no built-in roots"));
    te = catch_<smtp::TlsError>([&] { b.build(); }, "no trust anchor");
    CHECK(te && std::strstr(te->what(), "no trust anchors"));

    /* Server names in UTF-8 are checked as A-labels; UTS #46 refusals say so. */
    CHECK(no_throw([&] { b.set_server_name("B\xc3\xbc" "cher.example"); }, "an internationalized server name"));
    ia = catch_<smtp::InvalidArgument>([&] { b.set_server_name("\xcc\x81" "bad.example"); }, "an invalid one");
    CHECK(ia && std::strstr(ia->what(), "internationalized domain name"));
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        std::fprintf(stderr, "usage: %s SINK_HOST:PORT SINK_DIR AUTH_HOST:PORT\n", argv[0]);
        return 2;
    }
    sink_host = argv[1];
    sink_dir = argv[2];
    auth_host = argv[3];
    run_token = "cpp-" + std::to_string(static_cast<long>(getpid())) + "-" +
                std::to_string(static_cast<long long>(std::time(nullptr)));

    struct {
        const char *name;
        void (*fn)();
    } const tests[] = {
        {"error codes", test_error_codes}, {"connect errors", test_connect_errors}, {"commands", test_commands},
        {"sendmail", test_sendmail},       {"move and RAII", test_move_and_raii},  {"trace", test_trace},
        {"auth", test_auth},               {"cancel", test_cancel},                {"pool", test_pool},
        {"TLS roots and names", test_tls_roots_and_names},
        {"proxy", test_proxy},             {"connect_fd", test_connect_fd},
        {"stream and batch", test_stream_and_batch},
    };
    for (const auto &t : tests) {
        const int before = failed;
        try {
            t.fn();
        } catch (const std::exception &e) {
            ++failed;
            std::printf("FAIL %s: escaped exception: %s\n", t.name, e.what());
        } catch (...) {
            ++failed;
            std::printf("FAIL %s: escaped exception of an unknown type\n", t.name);
        }
        std::printf("%s %s\n", failed == before ? "ok  " : "FAIL", t.name);
        std::fflush(stdout);
    }
    std::printf("cpp-tests: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
