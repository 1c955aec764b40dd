/* test_compose.cpp: smtp::Message and smtp::Dkim (include/smtp.hpp) against
 * aiosmtpd.
 *
 *   test_compose SINK_HOST:PORT SINK_DIR AUTH_HOST:PORT
 *
 * Builds a message with every kind of part, sends it through a session and
 * through a pool, and finds it in SINK_DIR by a token unique to this run;
 * signs one with the Ed25519 test key (tests/compose/keys, run from the
 * repository's top). The last line is "cpp-tests: N passed, M failed".
 */
#include <smtp.hpp>

#include <dirent.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

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

std::string slurp(const std::string &path)
{
    std::ifstream in(path.c_str(), std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

/* The messages in `dir` holding `token`, waiting up to 5 s for `want`. */
int count_with(const std::string &dir, const std::string &token, int want)
{
    int n = 0;
    for (int tries = 0; tries < 250; ++tries) {
        n = 0;
        if (DIR *d = opendir(dir.c_str())) {
            while (struct dirent *e = readdir(d)) {
                std::string name = e->d_name;
                if (name.size() > 4 && name.compare(name.size() - 4, 4, ".eml") == 0 &&
                    slurp(dir + "/" + name).find(token) != std::string::npos)
                    ++n;
            }
            closedir(d);
        }
        if (n >= want)
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return n;
}

}  // namespace

int main(int argc, char **argv)
{
    if (argc != 4) {
        std::fprintf(stderr, "usage: test_compose SINK_HOST:PORT SINK_DIR AUTH_HOST:PORT\n");
        return 2;
    }
    const std::string sink = argv[1], dir = argv[2];
    const std::string token = "cpp-compose-" + std::to_string(getpid()) + "-" +
                              std::to_string(std::chrono::system_clock::now().time_since_epoch().count());

    smtp::Message m;
    m.set_from("Zo\xc3\xab <zoe@example.com>")
        .add_to("Bob <bob@example.com>, refuse@example.com")
        .add_bcc("hidden@example.com")
        .set_subject("C++ compose " + token)
        .set_text("Hello " + token + "\n")
        .set_html("<p>Hello <img src=\"cid:logo@example.com\"></p>\n")
        .attach(std::string("\0\1\2\xff", 4), "data.bin")
        .add_inline("PNG", "logo@example.com", "image/png")
        .add_header("X-Token", token);
    const std::string bytes = m.bytes();
    CHECK(bytes.find("From: =?UTF-8?Q?Zo=C3=AB?= <zoe@example.com>\r\n") != std::string::npos);
    CHECK(bytes.find("\r\nAAEC/w==\r\n") != std::string::npos);
    CHECK(bytes.find("hidden") == std::string::npos);

    bool threw = false;
    try {
        m.add_to("no address");
    } catch (const smtp::InvalidArgument &e) {
        threw = std::string(e.what()).find("to") != std::string::npos;
    }
    CHECK(threw);

    smtp::Session s;
    s.connect(sink);
    smtp::Refused refused = s.send_composed(m);
    CHECK(refused.size() == 1 && refused.count("refuse@example.com") == 1);
    s.quit();
    CHECK(count_with(dir, token, 1) == 1);

    smtp::Session seat;
    smtp::Pool pool(seat, sink, 0, 2);
    refused = pool.send_composed(seat, m);
    CHECK(refused.size() == 1);
    CHECK(count_with(dir, token, 2) == 2);

    smtp::Dkim d;
    d.set_key_pem(slurp("tests/compose/keys/ed25519.pem")).set_domain("example.com").set_selector("test");
    CHECK(d.dns_record() + "\n" == slurp("tests/compose/keys/ed25519.txt"));
    m.set_dkim(d);
    CHECK(m.bytes().compare(0, 15, "DKIM-Signature:") == 0);
    CHECK(d.sign("From: a@example.com\r\n\r\nbody\r\n").compare(0, 37, "DKIM-Signature: v=1; a=ed25519-sha256") == 0);
    m.clear_dkim();
    CHECK(m.bytes() == bytes);

    threw = false;
    try {
        smtp::Dkim().set_key_pem("junk");
    } catch (const smtp::InvalidArgument &) {
        threw = true;
    }
    CHECK(threw);

    std::printf("cpp-tests: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
