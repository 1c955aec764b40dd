/*
 * smtp.hpp: a header-only C++11 interface to libsmtp (smtp.h).
 *
 *   #include <smtp.hpp>
 *
 *   smtp::Session s;                              // SMTP_KIND_SMTP
 *   s.connect("localhost:8025");                  // the greeting as a Reply
 *   auto refused = s.sendmail("alice@example.com", {"bob@example.com"}, message);
 *   s.quit();
 *
 * Build it like a C program: c++ -std=c++11 prog.cpp $(pkg-config --cflags --libs smtp)
 *
 * Ownership: smtp::Session, smtp::TlsConfig, smtp::TlsConfigBuilder and
 * smtp::Envelope own their C handle through std::unique_ptr: move-only, and
 * the destructor frees the handle (smtp_session_free() closes the connection
 * without QUIT; call quit() for a polite close). A moved-from object holds
 * no handle: its calls throw smtp::Error with code SMTP_ERR_NULL_ARGUMENT,
 * its getters return their defaults, and destroying it is a no-op. get()
 * lends the raw handle to call the C API directly.
 *
 * Errors: every result other than SMTP_OK is thrown as smtp::Error (derived
 * from std::runtime_error) or one of its subclasses, which mirror smtplib's
 * exceptions (RecipientsRefused, SenderRefused, DataError, AuthError,
 * ServerDisconnected, ...). Error::code() is the result code,
 * Error::error_code() the same as a std::error_code of the category "smtp"
 * (compare it with smtp::errc::connect, ...), reply_code() and reply_text()
 * the server's reply behind the error (smtp_session_last_reply_code() and
 * _text() right after the call). A std::string holding a NUL byte where the
 * C API takes a NUL-terminated string is refused with SMTP_ERR_INVALID_ARGUMENT
 * before anything is sent (it would otherwise be cut short silently).
 *
 * Callbacks (SASL, trace) are std::function objects. No exception ever
 * crosses the C library: one thrown by a SASL callback aborts the exchange
 * (the library cancels it with "*") and is rethrown by auth() once the C call
 * has returned; one thrown by a trace callback is kept and rethrown once the
 * call that produced the line has returned.
 *
 * Threads: as smtp.h: one Session on one thread at a time; different
 * sessions on different threads freely. A TlsConfig may be shared.
 */
#ifndef SMTP_HPP
#define SMTP_HPP

#include <smtp.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <istream>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace smtp {

/* ------------------------------------------------------------------ errc */

/** Every SMTP_ERR_* result code, as an enum usable with std::error_code. */
enum class errc : int {
    null_argument = SMTP_ERR_NULL_ARGUMENT,
    invalid_argument = SMTP_ERR_INVALID_ARGUMENT,
    bad_state = SMTP_ERR_BAD_STATE,
    panic = SMTP_ERR_PANIC,
    connect = SMTP_ERR_CONNECT,
    timeout = SMTP_ERR_TIMEOUT,
    io = SMTP_ERR_IO,
    tls = SMTP_ERR_TLS,
    server_disconnected = SMTP_ERR_SERVER_DISCONNECTED,
    not_encrypted = SMTP_ERR_NOT_ENCRYPTED,
    cancelled = SMTP_ERR_CANCELLED,
    outcome_unknown = SMTP_ERR_OUTCOME_UNKNOWN,
    response = SMTP_ERR_RESPONSE,
    connect_reply = SMTP_ERR_CONNECT_REPLY,
    helo = SMTP_ERR_HELO,
    not_supported = SMTP_ERR_NOT_SUPPORTED,
    auth = SMTP_ERR_AUTH,
    auth_aborted = SMTP_ERR_AUTH_ABORTED,
    sender_refused = SMTP_ERR_SENDER_REFUSED,
    recipients_refused = SMTP_ERR_RECIPIENTS_REFUSED,
    data = SMTP_ERR_DATA,
    smtp = SMTP_ERR_SMTP,
    too_large = SMTP_ERR_TOO_LARGE
};

namespace detail {

class category_impl : public std::error_category {
public:
    const char *name() const noexcept override { return "smtp"; }

    std::string message(int ev) const override { return smtp_result_str(ev); }

    /* The codes with an obvious portable meaning also compare equal to
       std::errc (err.error_code() == std::errc::timed_out). */
    std::error_condition default_error_condition(int ev) const noexcept override
    {
        switch (ev) {
        case SMTP_ERR_NULL_ARGUMENT:
        case SMTP_ERR_INVALID_ARGUMENT:
            return std::make_error_condition(std::errc::invalid_argument);
        case SMTP_ERR_TIMEOUT:
            return std::make_error_condition(std::errc::timed_out);
        case SMTP_ERR_NOT_SUPPORTED:
            return std::make_error_condition(std::errc::operation_not_supported);
        case SMTP_ERR_CANCELLED:
            return std::make_error_condition(std::errc::operation_canceled);
        default:
            return std::error_condition(ev, *this);
        }
    }
};

}  // namespace detail

/** The error category "smtp": values are the SMTP_ERR_* result codes. */
inline const std::error_category &smtp_category() noexcept
{
    static detail::category_impl instance;
    return instance;
}

inline std::error_code make_error_code(errc e) noexcept
{
    return std::error_code(static_cast<int>(e), smtp_category());
}

}  // namespace smtp

namespace std {
template <>
struct is_error_code_enum<smtp::errc> : true_type {};
}  // namespace std

namespace smtp {

/* ------------------------------------------------------------------ values */

/** A server reply: smtplib's (code, message). */
struct Reply {
    int code;
    std::string text;

    Reply() : code(0) {}
    Reply(int c, std::string t) : code(c), text(std::move(t)) {}
};

inline bool operator==(const Reply &a, const Reply &b) { return a.code == b.code && a.text == b.text; }
inline bool operator!=(const Reply &a, const Reply &b) { return !(a == b); }

/** Recipients refused by sendmail/send_message: address as given -> its reply. */
typedef std::map<std::string, Reply> Refused;

/** One recipient's result in the last transaction (smtp_session_rcpt_*()). */
struct RecipientResult {
    std::string address;
    int code;              /* RCPT reply code */
    std::string text;      /* RCPT reply text */
    std::string status;    /* RFC 3463 status ("2.1.5"), "" when none */
    bool refused;
    int data_code;         /* LMTP: reply after the data, 0 when none */
    std::string data_text; /* LMTP */
    std::string data_status;
    int final_code;          /* the reply that decided its fate (smtp_rcpt_info) */
    std::string final_text;
    std::string final_status;

    RecipientResult() : code(0), refused(false), data_code(0), final_code(0) {}
};

/** One message of Session::sendmail_batch() (smtp_batch_item's inputs). */
struct BatchMessage {
    std::string from;
    std::vector<std::string> to;
    std::string message;
    unsigned flags;

    BatchMessage() : flags(SMTP_MSG_NORMALIZE) {}
    BatchMessage(std::string f, std::vector<std::string> t, std::string m, unsigned fl = SMTP_MSG_NORMALIZE)
        : from(std::move(f)), to(std::move(t)), message(std::move(m)), flags(fl)
    {
    }
};

/** What happened to one message of a batch (smtp_batch_item's outputs). */
struct BatchResult {
    int result;                  /* its result code, SMTP_OK when sent */
    std::size_t refused_count;   /* recipients refused */
    std::vector<int> rcpt_codes; /* each recipient's code, in the message's order */

    BatchResult() : result(SMTP_OK), refused_count(0) {}
    bool ok() const noexcept { return result == SMTP_OK; }
};

enum class Kind : int { smtp = SMTP_KIND_SMTP, smtp_ssl = SMTP_KIND_SMTP_SSL, lmtp = SMTP_KIND_LMTP };

enum class Timeout : int {
    connect = SMTP_TIMEOUT_CONNECT,
    io = SMTP_TIMEOUT_IO,
    reply = SMTP_TIMEOUT_REPLY,
    greeting = SMTP_TIMEOUT_GREETING,
    mail = SMTP_TIMEOUT_MAIL,
    rcpt = SMTP_TIMEOUT_RCPT,
    data = SMTP_TIMEOUT_DATA,
    data_block = SMTP_TIMEOUT_DATA_BLOCK,
    final_dot = SMTP_TIMEOUT_FINAL_DOT,
    call = SMTP_TIMEOUT_CALL,
    /** Every limit but `call`: set, no single wait lasts longer; read, the longest. */
    all = SMTP_TIMEOUT_ALL
};

enum class TraceDirection : int { info = SMTP_TRACE_INFO, send = SMTP_TRACE_SEND, recv = SMTP_TRACE_RECV };

/** Built-in trust stores (TlsConfigBuilder::set_roots()); combine with |. */
enum class Roots : unsigned { none = 0, mozilla = SMTP_ROOTS_MOZILLA, system = SMTP_ROOTS_SYSTEM };
inline Roots operator|(Roots a, Roots b) { return static_cast<Roots>(static_cast<unsigned>(a) | static_cast<unsigned>(b)); }

/* ------------------------------------------------------------------ errors */

/** A libsmtp result other than SMTP_OK. what() is the library's message. */
class Error : public std::runtime_error {
public:
    Error(int code, const std::string &what, int reply_code = 0, const std::string &reply_text = std::string())
        : std::runtime_error(what), code_(code), reply_code_(reply_code),
          reply_text_(std::make_shared<const std::string>(reply_text))
    {
    }

    /** The result code (SMTP_ERR_*). */
    int code() const noexcept { return code_; }
    /** The result code as a std::error_code of the category "smtp". */
    std::error_code error_code() const noexcept { return std::error_code(code_, smtp_category()); }
    /** The code of the reply behind the error (0 when none was read). */
    int reply_code() const noexcept { return reply_code_; }
    /** That reply's text (lines joined by "\n"). */
    const std::string &reply_text() const noexcept { return *reply_text_; }

private:
    int code_;
    int reply_code_;
    std::shared_ptr<const std::string> reply_text_; /* copies of an exception must not throw */
};

/** SMTP_ERR_NULL_ARGUMENT, SMTP_ERR_INVALID_ARGUMENT (smtplib: ValueError). Nothing was sent. */
class InvalidArgument : public Error {
public:
    using Error::Error;
};

/** SMTP_ERR_CONNECT, SMTP_ERR_IO (smtplib: OSError); base of TimeoutError and TlsError. */
class TransportError : public Error {
public:
    using Error::Error;
};

/** SMTP_ERR_TIMEOUT. */
class TimeoutError : public TransportError {
public:
    using TransportError::TransportError;
};

/** SMTP_ERR_TLS. */
class TlsError : public TransportError {
public:
    using TransportError::TransportError;
};

/** SMTP_ERR_CANCELLED: Session::cancel() from another thread ended the call;
    the connection is closed. */
class Cancelled : public TransportError {
public:
    using TransportError::TransportError;
};

/** SMTP_ERR_OUTCOME_UNKNOWN: a Pool call whose message went out in full
    without a reply that decided it; the server may have taken it, and the
    pool does not send it again. */
class OutcomeUnknown : public TransportError {
public:
    using TransportError::TransportError;
};

/** SMTP_ERR_SERVER_DISCONNECTED (SMTPServerDisconnected). */
class ServerDisconnected : public Error {
public:
    using Error::Error;
};

/** SMTP_ERR_NOT_ENCRYPTED: a secret would have gone out in clear; nothing was sent. */
class NotEncrypted : public Error {
public:
    using Error::Error;
};

/** SMTP_ERR_NOT_SUPPORTED (SMTPNotSupportedError). */
class NotSupported : public Error {
public:
    using Error::Error;
};

/** SMTP_ERR_RESPONSE (SMTPResponseException); base of the errors about one reply. */
class ResponseError : public Error {
public:
    using Error::Error;
};

/** SMTP_ERR_CONNECT_REPLY (SMTPConnectError): open() got a greeting other than 220. */
class ConnectReplyError : public ResponseError {
public:
    using ResponseError::ResponseError;
};

/** SMTP_ERR_HELO (SMTPHeloError). */
class HeloError : public ResponseError {
public:
    using ResponseError::ResponseError;
};

/** SMTP_ERR_AUTH (SMTPAuthenticationError). */
class AuthError : public ResponseError {
public:
    using ResponseError::ResponseError;
};

/** SMTP_ERR_AUTH_ABORTED: the client cancelled the exchange. */
class AuthAborted : public Error {
public:
    using Error::Error;
};

/**
 * SMTP_ERR_SENDER_REFUSED (SMTPSenderRefused); sender() is the address given
 * to sendmail() or send_message() ("" when send_message() took it from the
 * header fields).
 */
class SenderRefused : public ResponseError {
public:
    SenderRefused(int code, const std::string &what, int reply_code, const std::string &reply_text,
                  const std::string &sender)
        : ResponseError(code, what, reply_code, reply_text), sender_(std::make_shared<const std::string>(sender))
    {
    }

    const std::string &sender() const noexcept { return *sender_; }

private:
    std::shared_ptr<const std::string> sender_;
};

/** SMTP_ERR_RECIPIENTS_REFUSED (SMTPRecipientsRefused): every recipient refused. */
class RecipientsRefused : public Error {
public:
    RecipientsRefused(int code, const std::string &what, int reply_code, const std::string &reply_text,
                      const Refused &recipients)
        : Error(code, what, reply_code, reply_text), recipients_(std::make_shared<const Refused>(recipients))
    {
    }

    /** Each refused recipient (as given) with its reply. */
    const Refused &recipients() const noexcept { return *recipients_; }

private:
    std::shared_ptr<const Refused> recipients_;
};

/** SMTP_ERR_DATA (SMTPDataError). */
class DataError : public ResponseError {
public:
    using ResponseError::ResponseError;
};

/** SMTP_ERR_TOO_LARGE: over the server's SIZE; nothing was sent. */
class MessageTooLarge : public Error {
public:
    using Error::Error;
};

namespace detail {

/** Throw the exception class of result `rc`. */
[[noreturn]] inline void throw_result(int rc, const std::string &what, int reply_code = 0,
                                      const std::string &reply_text = std::string())
{
    switch (rc) {
    case SMTP_ERR_NULL_ARGUMENT:
    case SMTP_ERR_INVALID_ARGUMENT:
        throw InvalidArgument(rc, what, reply_code, reply_text);
    case SMTP_ERR_CONNECT:
    case SMTP_ERR_IO:
        throw TransportError(rc, what, reply_code, reply_text);
    case SMTP_ERR_TIMEOUT:
        throw TimeoutError(rc, what, reply_code, reply_text);
    case SMTP_ERR_TLS:
        throw TlsError(rc, what, reply_code, reply_text);
    case SMTP_ERR_CANCELLED:
        throw Cancelled(rc, what, reply_code, reply_text);
    case SMTP_ERR_OUTCOME_UNKNOWN:
        throw OutcomeUnknown(rc, what, reply_code, reply_text);
    case SMTP_ERR_SERVER_DISCONNECTED:
        throw ServerDisconnected(rc, what, reply_code, reply_text);
    case SMTP_ERR_NOT_ENCRYPTED:
        throw NotEncrypted(rc, what, reply_code, reply_text);
    case SMTP_ERR_RESPONSE:
        throw ResponseError(rc, what, reply_code, reply_text);
    case SMTP_ERR_CONNECT_REPLY:
        throw ConnectReplyError(rc, what, reply_code, reply_text);
    case SMTP_ERR_HELO:
        throw HeloError(rc, what, reply_code, reply_text);
    case SMTP_ERR_NOT_SUPPORTED:
        throw NotSupported(rc, what, reply_code, reply_text);
    case SMTP_ERR_AUTH:
        throw AuthError(rc, what, reply_code, reply_text);
    case SMTP_ERR_AUTH_ABORTED:
        throw AuthAborted(rc, what, reply_code, reply_text);
    case SMTP_ERR_SENDER_REFUSED:
        throw SenderRefused(rc, what, reply_code, reply_text, std::string());
    case SMTP_ERR_RECIPIENTS_REFUSED:
        throw RecipientsRefused(rc, what, reply_code, reply_text, Refused());
    case SMTP_ERR_DATA:
        throw DataError(rc, what, reply_code, reply_text);
    case SMTP_ERR_TOO_LARGE:
        throw MessageTooLarge(rc, what, reply_code, reply_text);
    default:
        throw Error(rc, what, reply_code, reply_text);
    }
}

inline std::string str(const char *s) { return s ? std::string(s) : std::string(); }

/** A std::string as a C string; a NUL inside would cut it short, so refuse it. */
inline const char *c_str(const std::string &s, const char *what)
{
    if (s.find('\0') != std::string::npos)
        throw_result(SMTP_ERR_INVALID_ARGUMENT, std::string(what) + " contains a NUL byte");
    return s.c_str();
}

/** NULL for "", as the C API reads NULL or "" as "not given". */
inline const char *c_str_or_null(const std::string &s, const char *what)
{
    return s.empty() ? nullptr : c_str(s, what);
}

/** Pointers to the strings of `v` (valid while `v` lives). */
inline std::vector<const char *> c_strs(const std::vector<std::string> &v, const char *what)
{
    std::vector<const char *> out;
    out.reserve(v.size());
    for (const std::string &s : v)
        out.push_back(c_str(s, what));
    return out;
}

inline const char *const *data_or_null(const std::vector<const char *> &v)
{
    return v.empty() ? nullptr : v.data();
}

inline const std::uint8_t *bytes(const std::string &s)
{
    return reinterpret_cast<const std::uint8_t *>(s.data());
}

/** Overwrite a buffer that held a secret, in a way the compiler keeps. */
inline void wipe(std::string &s) noexcept
{
    volatile char *p = s.empty() ? nullptr : &s[0];
    for (std::size_t i = 0; i < s.size(); ++i)
        p[i] = 0;
    s.clear();
}

struct SessionDeleter {
    void operator()(smtp_session *s) const noexcept { smtp_session_free(s); }
};
struct TlsConfigDeleter {
    void operator()(smtp_tls_config *c) const noexcept { smtp_tls_config_free(c); }
};
struct TlsConfigBuilderDeleter {
    void operator()(smtp_tls_config_builder *b) const noexcept { smtp_tls_config_builder_free(b); }
};
struct EnvelopeDeleter {
    void operator()(smtp_envelope *e) const noexcept { smtp_envelope_free(e); }
};

}  // namespace detail

/* ------------------------------------------------------------------ TLS */

/** A built TLS configuration (immutable, thread-safe); move-only. */
class TlsConfig {
public:
    typedef detail::TlsConfigDeleter Deleter;

    TlsConfig() noexcept {}
    /** Adopt a config from smtp_tls_config_builder_build(). */
    explicit TlsConfig(smtp_tls_config *c) noexcept : handle_(c) {}

    smtp_tls_config *get() const noexcept { return handle_.get(); }
    smtp_tls_config *release() noexcept { return handle_.release(); }
    explicit operator bool() const noexcept { return static_cast<bool>(handle_); }

private:
    std::unique_ptr<smtp_tls_config, Deleter> handle_;
};

/** Collects TLS settings (smtp_tls_config_builder_*()); move-only. */
class TlsConfigBuilder {
public:
    typedef detail::TlsConfigBuilderDeleter Deleter;

    /** The defaults: Mozilla roots, verification on, TLS 1.2 minimum. */
    TlsConfigBuilder() : handle_(smtp_tls_config_builder_new()) {}

    TlsConfigBuilder &add_ca_file(const std::string &path)
    {
        return check(smtp_tls_config_builder_add_ca_file(handle_.get(), detail::c_str(path, "path")));
    }
    TlsConfigBuilder &add_ca_dir(const std::string &path)
    {
        return check(smtp_tls_config_builder_add_ca_dir(handle_.get(), detail::c_str(path, "path")));
    }
    TlsConfigBuilder &set_default_roots(bool use_defaults)
    {
        return check(smtp_tls_config_builder_set_default_roots(handle_.get(), use_defaults ? 1 : 0));
    }
    /** Which built-in stores to trust (Roots::mozilla is the default); the
     * system store is loaded now: message() then says what was loaded. */
    TlsConfigBuilder &set_roots(Roots roots)
    {
        return check(smtp_tls_config_builder_set_roots(handle_.get(), static_cast<unsigned>(roots)));
    }
    TlsConfigBuilder &set_client_cert(const std::string &chain_path, const std::string &key_path)
    {
        return check(smtp_tls_config_builder_set_client_cert(handle_.get(), detail::c_str(chain_path, "chain path"),
                                                             detail::c_str(key_path, "key path")));
    }
    /** The name to check (and send as SNI); UTF-8 names go out as A-labels. */
    TlsConfigBuilder &set_server_name(const std::string &name)
    {
        return check(smtp_tls_config_builder_set_server_name(handle_.get(), detail::c_str(name, "server name")));
    }
    /** DANGER: accept any certificate for any name (test setups only). */
    TlsConfigBuilder &dangerous_disable_verification()
    {
        return check(smtp_tls_config_builder_dangerous_disable_verification(handle_.get()));
    }

    /** A config from the current settings; the builder stays usable. */
    TlsConfig build()
    {
        smtp_tls_config *out = nullptr;
        int rc = smtp_tls_config_builder_build(handle_.get(), &out);
        TlsConfig config(out); /* owns it even if check() throws */
        check(rc);
        return config;
    }

    /** What the last call did ("no error", or set_roots()'s report). */
    std::string message() const { return detail::str(smtp_tls_config_builder_errmsg(handle_.get())); }

    smtp_tls_config_builder *get() const noexcept { return handle_.get(); }

private:
    TlsConfigBuilder &check(int rc)
    {
        if (rc != SMTP_OK)
            detail::throw_result(rc, smtp_tls_config_builder_errmsg(handle_.get()));
        return *this;
    }

    std::unique_ptr<smtp_tls_config_builder, Deleter> handle_;
};

/* ------------------------------------------------------------------ envelope */

/** Structured MAIL and RCPT options (smtp_envelope_*()); move-only. */
class Envelope {
public:
    typedef detail::EnvelopeDeleter Deleter;

    Envelope() : handle_(smtp_envelope_new()) {}

    Envelope &set_dsn_ret(int ret) { return check(smtp_envelope_set_dsn_ret(handle_.get(), ret)); }
    Envelope &set_dsn_envid(const std::string &envid)
    {
        return check(smtp_envelope_set_dsn_envid(handle_.get(), detail::c_str(envid, "envid")));
    }
    Envelope &set_dsn_notify(unsigned notify) { return check(smtp_envelope_set_dsn_notify(handle_.get(), notify)); }
    /** `orcpt` "" for none. */
    Envelope &set_rcpt_dsn(const std::string &rcpt, unsigned notify, const std::string &orcpt = std::string())
    {
        return check(smtp_envelope_set_rcpt_dsn(handle_.get(), detail::c_str(rcpt, "recipient"), notify,
                                                detail::c_str_or_null(orcpt, "orcpt")));
    }
    Envelope &set_smtputf8(bool on) { return check(smtp_envelope_set_smtputf8(handle_.get(), on ? 1 : 0)); }
    Envelope &set_body(int body) { return check(smtp_envelope_set_body(handle_.get(), body)); }
    Envelope &set_requiretls(bool on) { return check(smtp_envelope_set_requiretls(handle_.get(), on ? 1 : 0)); }
    Envelope &set_mt_priority(int priority) { return check(smtp_envelope_set_mt_priority(handle_.get(), priority)); }
    Envelope &set_deliver_by(std::int64_t seconds, bool notify, bool trace)
    {
        return check(smtp_envelope_set_deliver_by(handle_.get(), seconds, notify ? 1 : 0, trace ? 1 : 0));
    }

    smtp_envelope *get() const noexcept { return handle_.get(); }

private:
    /* The library's own words: which option, which value, what is allowed. */
    Envelope &check(int rc)
    {
        if (rc != SMTP_OK)
            detail::throw_result(rc, smtp_envelope_errmsg(handle_.get()));
        return *this;
    }

    std::unique_ptr<smtp_envelope, Deleter> handle_;
};

/* ------------------------------------------------------------------ composing */

namespace detail {
struct MessageDeleter {
    void operator()(smtp_message *m) const noexcept { smtp_message_free(m); }
};
struct DkimDeleter {
    void operator()(smtp_dkim *d) const noexcept { smtp_dkim_free(d); }
};
}  // namespace detail

/**
 * A DKIM signer (smtp_dkim_*()): key, domain and selector are required;
 * relaxed/relaxed and RFC 6376's header list by default. Move-only.
 */
class Dkim {
public:
    Dkim() : handle_(smtp_dkim_new()) {}

    /** PEM text of an RSA (2048+ bits) or Ed25519 private key. */
    Dkim &set_key_pem(const std::string &pem)
    {
        return check(smtp_dkim_set_key_pem(handle_.get(), detail::bytes(pem), pem.size()));
    }
    Dkim &set_domain(const std::string &domain)
    {
        return check(smtp_dkim_set_domain(handle_.get(), detail::c_str(domain, "domain")));
    }
    Dkim &set_selector(const std::string &selector)
    {
        return check(smtp_dkim_set_selector(handle_.get(), detail::c_str(selector, "selector")));
    }
    /** The fields to sign (From always); empty restores the default list. */
    Dkim &set_headers(const std::vector<std::string> &names)
    {
        std::vector<const char *> c = detail::c_strs(names, "header name");
        return check(smtp_dkim_set_headers(handle_.get(), detail::data_or_null(c), c.size()));
    }
    /** SMTP_DKIM_SIMPLE or SMTP_DKIM_RELAXED, for the header and the body. */
    Dkim &set_canonicalization(int header, int body)
    {
        return check(smtp_dkim_set_canonicalization(handle_.get(), header, body));
    }
    /** The DKIM-Signature field (with its CRLF) to put before a raw message. */
    std::string sign(const std::string &message)
    {
        const char *field = nullptr;
        check(smtp_dkim_sign(handle_.get(), detail::bytes(message), message.size(), &field));
        return field;
    }
    /** The DNS TXT record publishing the key. */
    std::string dns_record()
    {
        const char *record = nullptr;
        check(smtp_dkim_dns_record(handle_.get(), &record));
        return record;
    }

    const smtp_dkim *get() const noexcept { return handle_.get(); }

private:
    Dkim &check(int rc)
    {
        if (rc != SMTP_OK)
            detail::throw_result(rc, smtp_dkim_errmsg(handle_.get()));
        return *this;
    }

    std::unique_ptr<smtp_dkim, detail::DkimDeleter> handle_;
};

/**
 * A message built field by field and part by part (smtp_message_*()):
 * addresses with display names, subject, text and HTML, attachments from
 * memory or files (files are read a chunk at a time when the message is
 * written or sent), inline parts, optional DKIM. Sent by
 * Session::send_composed() or Pool::send_composed(). Move-only.
 */
class Message {
public:
    Message() : handle_(smtp_message_new()) {}

    /** "Zoë <zoe@example.com>", a bare address, or several, comma-separated. */
    Message &set_from(const std::string &addr) { return check(smtp_message_set_from(h(), detail::c_str(addr, "from"))); }
    /** "" removes it. */
    Message &set_sender(const std::string &addr)
    {
        return check(smtp_message_set_sender(h(), detail::c_str_or_null(addr, "sender")));
    }
    Message &add_to(const std::string &addr) { return check(smtp_message_add_to(h(), detail::c_str(addr, "to"))); }
    Message &add_cc(const std::string &addr) { return check(smtp_message_add_cc(h(), detail::c_str(addr, "cc"))); }
    /** Envelope only: no Bcc field is written. */
    Message &add_bcc(const std::string &addr) { return check(smtp_message_add_bcc(h(), detail::c_str(addr, "bcc"))); }
    Message &add_reply_to(const std::string &addr)
    {
        return check(smtp_message_add_reply_to(h(), detail::c_str(addr, "reply-to")));
    }
    Message &set_subject(const std::string &subject)
    {
        return check(smtp_message_set_subject(h(), detail::c_str(subject, "subject")));
    }
    /** Seconds since the epoch, at `utc_offset_min` minutes east of UTC. */
    Message &set_date(std::int64_t unix_time, int utc_offset_min = 0)
    {
        return check(smtp_message_set_date(h(), unix_time, utc_offset_min));
    }
    Message &set_message_id(const std::string &id)
    {
        return check(smtp_message_set_message_id(h(), detail::c_str(id, "message id")));
    }
    Message &add_header(const std::string &name, const std::string &value)
    {
        return check(smtp_message_add_header(h(), detail::c_str(name, "name"), detail::c_str(value, "value")));
    }
    Message &set_text(const std::string &text) { return check(smtp_message_set_text(h(), text.data(), text.size())); }
    Message &set_html(const std::string &html) { return check(smtp_message_set_html(h(), html.data(), html.size())); }
    /** `content_type` "": guessed from the file name. */
    Message &attach(const std::string &data, const std::string &filename,
                    const std::string &content_type = std::string())
    {
        return check(smtp_message_attach_memory(h(), detail::bytes(data), data.size(),
                                                detail::c_str_or_null(filename, "filename"),
                                                detail::c_str_or_null(content_type, "content type")));
    }
    /** `filename` "": the path's last component. */
    Message &attach_file(const std::string &path, const std::string &filename = std::string(),
                         const std::string &content_type = std::string())
    {
        return check(smtp_message_attach_file(h(), detail::c_str(path, "path"),
                                              detail::c_str_or_null(filename, "filename"),
                                              detail::c_str_or_null(content_type, "content type")));
    }
    /** A part the HTML shows as cid:`content_id`. */
    Message &add_inline(const std::string &data, const std::string &content_id, const std::string &content_type)
    {
        return check(smtp_message_add_inline_memory(h(), detail::bytes(data), data.size(),
                                                    detail::c_str(content_id, "content id"),
                                                    detail::c_str_or_null(content_type, "content type")));
    }
    Message &add_inline_file(const std::string &path, const std::string &content_id,
                             const std::string &content_type = std::string())
    {
        return check(smtp_message_add_inline_file(h(), detail::c_str(path, "path"),
                                                  detail::c_str(content_id, "content id"),
                                                  detail::c_str_or_null(content_type, "content type")));
    }
    /** Sign every write and send with a copy of `signer`'s settings. */
    Message &set_dkim(const Dkim &signer) { return check(smtp_message_set_dkim(h(), signer.get())); }
    Message &clear_dkim() { return check(smtp_message_set_dkim(h(), nullptr)); }

    /** The whole message as it would be sent. */
    std::string bytes()
    {
        const std::uint8_t *data = nullptr;
        std::size_t len = 0;
        check(smtp_message_bytes(h(), &data, &len));
        return std::string(reinterpret_cast<const char *>(data), len);
    }

    smtp_message *get() const noexcept { return handle_.get(); }

private:
    smtp_message *h() const noexcept { return handle_.get(); }

    Message &check(int rc)
    {
        if (rc != SMTP_OK)
            detail::throw_result(rc, smtp_message_errmsg(h()));
        return *this;
    }

    std::unique_ptr<smtp_message, detail::MessageDeleter> handle_;
};

/* ------------------------------------------------------------------ session */

/**
 * The client side of a SASL mechanism (smtplib's authobject) for
 * Session::auth(). Called first with `initial` true (and an empty
 * challenge) to ask for the initial response, unless initial responses are
 * off; then once per server challenge, base64-decoded. To answer, put the
 * raw response (the library does the base64) in `response` and return
 * true. Returning false to the initial call means "no initial response";
 * to a challenge, it aborts the exchange (auth() throws AuthAborted). An
 * exception aborts the exchange too and auth() rethrows it.
 */
typedef std::function<bool(bool initial, const std::string &challenge, std::string &response)> SaslCallback;

/** Receives debug trace lines (see Session::set_trace()). */
typedef std::function<void(TraceDirection direction, const std::string &line)> TraceCallback;

namespace detail {

struct TraceState {
    TraceCallback fn;
    std::exception_ptr error;

    static void trampoline(void *userdata, int direction, const char *line, std::size_t len) noexcept
    {
        TraceState *st = static_cast<TraceState *>(userdata);
        if (st->error)
            return; /* the call is going to throw anyway */
        try {
            st->fn(static_cast<TraceDirection>(direction), std::string(line, len));
        } catch (...) {
            st->error = std::current_exception();
        }
    }
};

struct SaslState {
    const SaslCallback *fn;
    std::exception_ptr error;

    explicit SaslState(const SaslCallback *f) : fn(f) {}
    SaslState(const SaslState &) = delete;
    SaslState &operator=(const SaslState &) = delete;

    /* A smtp_sasl_step_fn: the response of any length goes back through
       smtp_sasl_respond(), which copies it. */
    static int trampoline(void *userdata, const std::uint8_t *challenge, std::size_t challenge_len,
                          smtp_sasl_exchange *x) noexcept
    {
        SaslState *st = static_cast<SaslState *>(userdata);
        std::string r;
        try {
            const bool initial = challenge == nullptr;
            std::string ch;
            if (!initial)
                ch.assign(reinterpret_cast<const char *>(challenge), challenge_len);
            if (!(*st->fn)(initial, ch, r)) {
                wipe(r);
                return initial ? SMTP_SASL_NO_INITIAL_RESPONSE : 0;
            }
            const int rc = smtp_sasl_respond(x, reinterpret_cast<const std::uint8_t *>(r.data()), r.size());
            wipe(r);
            return rc == SMTP_OK ? SMTP_SASL_CONTINUE : 0;
        } catch (...) {
            wipe(r);
            st->error = std::current_exception();
            return 0; /* anything but a verdict aborts: the library sends "*" */
        }
    }
};

/* A smtp_read_fn over a std::istream; an exception ends the message (the
   call fails and the connection closes mid-message) and is rethrown. */
struct StreamSource {
    std::istream *in;
    std::exception_ptr error;

    static std::ptrdiff_t trampoline(void *userdata, std::uint8_t *buf, std::size_t cap) noexcept
    {
        StreamSource *src = static_cast<StreamSource *>(userdata);
        try {
            src->in->read(reinterpret_cast<char *>(buf), static_cast<std::streamsize>(cap));
            if (src->in->bad())
                return -1;
            return static_cast<std::ptrdiff_t>(src->in->gcount());
        } catch (...) {
            src->error = std::current_exception();
            return -1;
        }
    }
};

/* The C items of a batch, pointing into `msgs` and the vectors here. */
struct BatchItems {
    /* Not a result code: an item the library did not get to. */
    static constexpr int unset = -1000;
    std::vector<smtp_batch_item> items;
    std::vector<std::vector<const char *>> to;
    std::vector<BatchResult> results;

    explicit BatchItems(const std::vector<BatchMessage> &msgs)
        : items(msgs.size()), to(msgs.size()), results(msgs.size())
    {
        static const char *const no_recipient[1] = {nullptr};
        for (std::size_t i = 0; i < msgs.size(); ++i) {
            to[i] = c_strs(msgs[i].to, "recipient");
            results[i].rcpt_codes.assign(msgs[i].to.size(), 0);
            smtp_batch_item &it = items[i];
            std::memset(&it, 0, sizeof it);
            it.from = c_str(msgs[i].from, "sender");
            it.to = to[i].empty() ? no_recipient : to[i].data();
            it.to_count = to[i].size();
            it.msg = bytes(msgs[i].message);
            it.len = msgs[i].message.size();
            it.flags = msgs[i].flags;
            it.result = unset;
            it.rcpt_codes = results[i].rcpt_codes.empty() ? nullptr : results[i].rcpt_codes.data();
        }
    }

    std::vector<BatchResult> take()
    {
        for (std::size_t i = 0; i < items.size(); ++i) {
            results[i].result = items[i].result;
            results[i].refused_count = items[i].refused_count;
        }
        return std::move(results);
    }
};

}  // namespace detail

class Pool;

/** An SMTP or LMTP session (smtp_session): smtplib's SMTP object; move-only. */
class Session {
    friend class Pool;

public:
    typedef detail::SessionDeleter Deleter;

    /** A session of `kind`, not yet connected. */
    explicit Session(Kind kind = Kind::smtp) : handle_(smtp_session_new(static_cast<int>(kind)))
    {
        if (!handle_)
            detail::throw_result(SMTP_ERR_INVALID_ARGUMENT, "unknown session kind");
    }

    Session(Session &&other) noexcept : trace_(std::move(other.trace_)), handle_(std::move(other.handle_)) {}

    Session &operator=(Session &&other) noexcept
    {
        if (this != &other) {
            /* Free our session first: it may still trace into our trace_. */
            handle_ = std::move(other.handle_);
            trace_ = std::move(other.trace_);
        }
        return *this;
    }

    Session(const Session &) = delete;
    Session &operator=(const Session &) = delete;
    ~Session() = default; /* handle_ is destroyed before trace_ */

    smtp_session *get() const noexcept { return handle_.get(); }
    explicit operator bool() const noexcept { return static_cast<bool>(handle_); }

    /* ---- connection */

    /** smtplib's connect(): "host:port" with port 0, "/path" for a Unix socket. The greeting. */
    Reply connect(const std::string &host, std::uint16_t port = 0)
    {
        int code = 0;
        check(smtp_session_connect(h(), detail::c_str(host, "host"), port, &code));
        return reply(code);
    }

    /** smtplib's SMTP(host, port): as connect(), a greeting other than 220 throws ConnectReplyError. */
    Reply open(const std::string &host, std::uint16_t port = 0)
    {
        int code = 0;
        check(smtp_session_open(h(), detail::c_str(host, "host"), port, &code));
        return reply(code);
    }

    /** Run the session over `fd`, a TCP or Unix-domain stream socket the
        caller connected (smtp_session_connect_fd()). The fd is the library's
        from this call on, whatever happens: closed on failure (this throws),
        else by close(), the destructor or the next connect. `host` is the
        name TLS checks the certificate against ("" for none). The greeting. */
    Reply connect_fd(int fd, const std::string &host = std::string())
    {
        const char *c_host = nullptr;
        try {
            c_host = detail::c_str_or_null(host, "host");
        } catch (...) {
            smtp_session_connect_fd(nullptr, fd, nullptr, nullptr); /* closes fd, as documented */
            throw;
        }
        int code = 0;
        check(smtp_session_connect_fd(h(), fd, c_host, &code));
        return reply(code);
    }

    /** Connect through a proxy from the next connect on
        (smtp_session_set_proxy()): "socks5://[user:password@]host[:port]",
        "socks5h://..." (the proxy resolves the name) or "http://..."
        (CONNECT); "" connects directly. */
    void set_proxy(const std::string &url) { check(smtp_session_set_proxy(h(), detail::c_str_or_null(url, "url"))); }

    /** QUIT, then close. */
    Reply quit()
    {
        int code = 0;
        check(smtp_session_quit(h(), &code));
        return reply(code);
    }

    /** Drop the connection without QUIT. */
    void close() { check(smtp_session_close(h())); }

    bool is_connected() const noexcept { return smtp_session_is_connected(h()) != 0; }

    /** The connection's socket descriptor, -1 when not connected. The session's: poll it, never read,
     *  write or close it (smtp_session_fileno()). */
    int fileno() const noexcept { return smtp_session_fileno(h()); }

    /* ---- greeting and extensions */

    /** EHLO (LHLO on LMTP) with `name`, or the local hostname for "". A refusal is returned, not thrown. */
    Reply ehlo(const std::string &name = std::string())
    {
        int code = 0;
        check(smtp_session_ehlo(h(), detail::c_str_or_null(name, "name"), &code));
        return reply(code);
    }

    Reply helo(const std::string &name = std::string())
    {
        int code = 0;
        check(smtp_session_helo(h(), detail::c_str_or_null(name, "name"), &code));
        return reply(code);
    }

    void ehlo_or_helo_if_needed() { check(smtp_session_ehlo_or_helo_if_needed(h())); }

    bool has_extn(const std::string &name) const
    {
        return smtp_session_has_extn(h(), detail::c_str(name, "extension")) != 0;
    }

    /** smtplib's esmtp_features: lower-case keyword -> parameters. */
    std::map<std::string, std::string> features() const
    {
        std::map<std::string, std::string> out;
        const std::size_t n = smtp_session_feature_count(h());
        for (std::size_t i = 0; i < n; ++i)
            out[detail::str(smtp_session_feature_name(h(), i))] = detail::str(smtp_session_feature_params(h(), i));
        return out;
    }

    bool does_esmtp() const noexcept { return smtp_session_does_esmtp(h()) != 0; }
    /** smtplib's command_encoding == "utf-8": commands may be UTF-8 (a MAIL with SMTPUTF8, until RSET). */
    bool utf8_commands() const noexcept { return smtp_session_utf8_commands(h()) != 0; }
    /** The last EHLO reply's text ("" when none). */
    std::string ehlo_resp() const { return detail::str(smtp_session_ehlo_resp(h())); }
    /** The last HELO reply's text ("" when none). */
    std::string helo_resp() const { return detail::str(smtp_session_helo_resp(h())); }

    /* ---- commands */

    Reply docmd(const std::string &cmd, const std::string &args = std::string())
    {
        int code = 0;
        check(smtp_session_docmd(h(), detail::c_str(cmd, "command"), detail::c_str_or_null(args, "arguments"), &code));
        return reply(code);
    }

    /** smtplib's send(): `data` written as it is (the caller's CRLF), no reply read (smtp_session_send()). */
    void send(const std::string &data) { check(smtp_session_send(h(), data.data(), data.size())); }

    /** smtplib's getreply(): one reply, whatever its code (after send(), say). */
    Reply getreply()
    {
        int code = 0;
        check(smtp_session_getreply(h(), &code));
        return reply(code);
    }

    Reply noop()
    {
        int code = 0;
        check(smtp_session_noop(h(), &code));
        return reply(code);
    }

    Reply rset()
    {
        int code = 0;
        check(smtp_session_rset(h(), &code));
        return reply(code);
    }

    Reply help(const std::string &args = std::string())
    {
        int code = 0;
        check(smtp_session_help(h(), detail::c_str_or_null(args, "arguments"), &code));
        return reply(code);
    }

    Reply verify(const std::string &address)
    {
        int code = 0;
        check(smtp_session_verify(h(), detail::c_str(address, "address"), &code));
        return reply(code);
    }

    Reply expn(const std::string &address)
    {
        int code = 0;
        check(smtp_session_expn(h(), detail::c_str(address, "address"), &code));
        return reply(code);
    }

    /* ---- transaction */

    /** MAIL FROM; the reply, refusal included (as smtplib's mail()). */
    Reply mail(const std::string &sender, const std::vector<std::string> &options = std::vector<std::string>())
    {
        std::vector<const char *> opts = detail::c_strs(options, "option");
        int code = 0;
        check(smtp_session_mail(h(), detail::c_str(sender, "sender"), detail::data_or_null(opts), opts.size(), &code));
        return reply(code);
    }

    /** RCPT TO; the reply, refusal included (as smtplib's rcpt()). */
    Reply rcpt(const std::string &recipient, const std::vector<std::string> &options = std::vector<std::string>())
    {
        std::vector<const char *> opts = detail::c_strs(options, "option");
        int code = 0;
        check(smtp_session_rcpt(h(), detail::c_str(recipient, "recipient"), detail::data_or_null(opts), opts.size(),
                                &code));
        return reply(code);
    }

    /** DATA and the message (`flags`: SMTP_MSG_NORMALIZE or SMTP_MSG_RAW). */
    Reply data(const std::string &message, unsigned flags = SMTP_MSG_NORMALIZE)
    {
        int code = 0;
        check(smtp_session_data(h(), detail::bytes(message), message.size(), flags, &code));
        return reply(code);
    }

    /**
     * smtplib's sendmail(): returns the refused recipients (empty when all
     * were accepted). Every recipient refused throws RecipientsRefused with
     * them all; a refused sender, SenderRefused; a refused message, DataError.
     */
    Refused sendmail(const std::string &from, const std::vector<std::string> &to, const std::string &message,
                     const std::vector<std::string> &mail_options = std::vector<std::string>(),
                     const std::vector<std::string> &rcpt_options = std::vector<std::string>(),
                     unsigned flags = SMTP_MSG_NORMALIZE)
    {
        const char *from_c = detail::c_str(from, "sender");
        std::vector<const char *> to_c = detail::c_strs(to, "recipient");
        std::vector<const char *> mo = detail::c_strs(mail_options, "mail option");
        std::vector<const char *> ro = detail::c_strs(rcpt_options, "recipient option");
        /* An empty list is the library's SMTP_ERR_INVALID_ARGUMENT, not NULL_ARGUMENT. */
        static const char *const no_recipient[1] = {nullptr};
        const int rc = smtp_session_sendmail(h(), from_c, to_c.empty() ? no_recipient : to_c.data(), to_c.size(),
                                             detail::bytes(message), message.size(), detail::data_or_null(mo),
                                             mo.size(), detail::data_or_null(ro), ro.size(), flags, nullptr, nullptr);
        return transaction_result(rc);
    }

    /**
     * smtplib's send_message() on a raw RFC 5322 message: sender and
     * recipients from its header fields, Bcc removed. Results as sendmail().
     */
    /**
     * Send a built Message: the envelope from its fields (Sender or From;
     * To, Cc, Bcc), streamed; results as send_message().
     */
    Refused send_composed(Message &message, const std::vector<std::string> &mail_options = {},
                          const std::vector<std::string> &rcpt_options = {})
    {
        std::vector<const char *> mo = detail::c_strs(mail_options, "mail option");
        std::vector<const char *> ro = detail::c_strs(rcpt_options, "recipient option");
        const int rc = smtp_session_send_composed(h(), message.get(), detail::data_or_null(mo), mo.size(),
                                                  detail::data_or_null(ro), ro.size(), nullptr);
        return transaction_result(rc);
    }

    Refused send_message(const std::string &message, unsigned flags = SMTP_MSG_NORMALIZE)
    {
        const int rc = smtp_session_send_message(h(), detail::bytes(message), message.size(), nullptr, nullptr, 0,
                                                 nullptr, 0, nullptr, 0, flags, nullptr);
        return transaction_result(rc);
    }

    /**
     * send_message() with the envelope sender given and, unless `to` is
     * empty, the recipients too (an empty `to` takes them from the header).
     */
    Refused send_message(const std::string &message, const std::string &from, const std::vector<std::string> &to,
                         const std::vector<std::string> &mail_options = std::vector<std::string>(),
                         const std::vector<std::string> &rcpt_options = std::vector<std::string>(),
                         unsigned flags = SMTP_MSG_NORMALIZE)
    {
        const char *from_c = detail::c_str(from, "sender");
        std::vector<const char *> to_c = detail::c_strs(to, "recipient");
        std::vector<const char *> mo = detail::c_strs(mail_options, "mail option");
        std::vector<const char *> ro = detail::c_strs(rcpt_options, "recipient option");
        const int rc = smtp_session_send_message(h(), detail::bytes(message), message.size(), from_c,
                                                 detail::data_or_null(to_c), to_c.size(), detail::data_or_null(mo),
                                                 mo.size(), detail::data_or_null(ro), ro.size(), flags, nullptr);
        return transaction_result(rc);
    }

    /** The per-recipient results of the last transaction, in order (smtp_session_rcpt_info()). */
    std::vector<RecipientResult> recipients() const
    {
        std::vector<RecipientResult> out;
        const std::size_t n = smtp_session_rcpt_count(h());
        out.reserve(n);
        for (std::size_t i = 0; i < n; ++i) {
            smtp_rcpt_info info;
            if (smtp_session_rcpt_info(h(), i, &info) != SMTP_OK)
                break;
            RecipientResult r;
            r.address = detail::str(info.addr);
            r.code = info.code;
            r.text = detail::str(info.text);
            r.status = detail::str(info.status);
            r.refused = info.refused != 0;
            r.data_code = info.data_code;
            r.data_text = detail::str(info.data_text);
            r.data_status = detail::str(info.data_status);
            r.final_code = info.final_code;
            r.final_text = detail::str(info.final_text);
            r.final_status = detail::str(info.final_status);
            out.push_back(std::move(r));
        }
        return out;
    }

    /** The sender of the last transaction (smtp_session_sender()): also the one send_message() chose; "" when
        none. */
    std::string sender() const { return detail::str(smtp_session_sender(h())); }

    /**
     * sendmail() with the message read from `in` to its end, in pieces (a
     * message larger than memory). `size_hint` (bytes, -1 unknown) is
     * announced as SIZE. A stream that fails (badbit) or throws ends the
     * message: the connection is closed mid-message, nothing is delivered,
     * and the exception (else TransportError) is thrown.
     */
    Refused sendmail_stream(const std::string &from, const std::vector<std::string> &to, std::istream &in,
                            std::int64_t size_hint = -1,
                            const std::vector<std::string> &mail_options = std::vector<std::string>(),
                            const std::vector<std::string> &rcpt_options = std::vector<std::string>(),
                            unsigned flags = SMTP_MSG_NORMALIZE)
    {
        const char *from_c = detail::c_str(from, "sender");
        std::vector<const char *> to_c = detail::c_strs(to, "recipient");
        std::vector<const char *> mo = detail::c_strs(mail_options, "mail option");
        std::vector<const char *> ro = detail::c_strs(rcpt_options, "recipient option");
        static const char *const no_recipient[1] = {nullptr};
        detail::StreamSource src = {&in, nullptr};
        const int rc = smtp_session_sendmail_stream(
            h(), from_c, to_c.empty() ? no_recipient : to_c.data(), to_c.size(), &detail::StreamSource::trampoline,
            &src, size_hint, detail::data_or_null(mo), mo.size(), detail::data_or_null(ro), ro.size(), flags,
            nullptr, nullptr);
        if (src.error)
            std::rethrow_exception(src.error);
        return transaction_result(rc);
    }

    /**
     * Send messages in order on this connection, each with its own result
     * (smtp_session_sendmail_batch(): one round trip per message with
     * PIPELINING, none with CHUNKING too). Does not throw for a message
     * that failed: read each BatchResult. Throws InvalidArgument (nothing
     * sent) for a bad argument in any message.
     */
    std::vector<BatchResult> sendmail_batch(const std::vector<BatchMessage> &messages)
    {
        detail::BatchItems b(messages);
        const int rc = smtp_session_sendmail_batch(h(), b.items.empty() ? nullptr : b.items.data(), b.items.size());
        check_batch(rc, b);
        return b.take();
    }

    /** PIPELINING (on by default) and CHUNKING (BDAT, on by default), used when the server offers them. */
    void set_pipelining(bool on) { check(smtp_session_set_pipelining(h(), on ? 1 : 0)); }
    void set_chunking(bool on) { check(smtp_session_set_chunking(h(), on ? 1 : 0)); }

    /** The parameters of extension `name` as advertised ("" when it has none), or false when it was not. */
    bool feature(const std::string &name, std::string &params) const
    {
        const char *p = smtp_session_feature(h(), detail::c_str(name, "extension"));
        if (p == nullptr)
            return false;
        params = p;
        return true;
    }

    /** Options for every following sendmail/send_message (copied); see clear_envelope(). */
    void set_envelope(const Envelope &envelope) { check(smtp_session_set_envelope(h(), envelope.get())); }
    void clear_envelope() { check(smtp_session_set_envelope(h(), nullptr)); }

    /* ---- authentication */

    /** smtplib's login(): the session's mechanisms in turn (`flags`: SMTP_AUTH_*). */
    void login(const std::string &user, const std::string &password, unsigned flags = 0)
    {
        check(smtp_session_login(h(), detail::c_str(user, "user"), detail::c_str(password, "password"), flags));
    }

    /** The mechanisms login() tries, space-separated; "" restores "CRAM-MD5 PLAIN LOGIN". */
    void set_auth_mechanisms(const std::string &mechanisms)
    {
        check(smtp_session_set_auth_mechanisms(h(), detail::c_str_or_null(mechanisms, "mechanisms")));
    }

    /** smtplib's auth(mechanism, authobject) with a callback (see SaslCallback). */
    void auth(const std::string &mechanism, const SaslCallback &callback, unsigned flags = 0)
    {
        if (!callback)
            detail::throw_result(SMTP_ERR_NULL_ARGUMENT, "empty SASL callback");
        detail::SaslState state(&callback);
        const int rc = smtp_session_auth_step(h(), detail::c_str(mechanism, "mechanism"),
                                              &detail::SaslState::trampoline, &state, flags);
        if (state.error)
            std::rethrow_exception(state.error);
        check(rc);
    }

    /** One built-in mechanism alone (PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-256, XOAUTH2, OAUTHBEARER). */
    void auth_builtin(const std::string &mechanism, const std::string &user, const std::string &secret,
                      unsigned flags = 0)
    {
        check(smtp_session_auth_builtin(h(), detail::c_str(mechanism, "mechanism"), detail::c_str(user, "user"),
                                        detail::c_str(secret, "secret"), flags));
    }

    /* ---- TLS */

    /** smtplib's starttls() with the session's TLS config; then EHLO again. */
    Reply starttls()
    {
        int code = 0;
        check(smtp_session_starttls(h(), nullptr, &code));
        return reply(code);
    }

    Reply starttls(const TlsConfig &config)
    {
        int code = 0;
        check(smtp_session_starttls(h(), config.get(), &code));
        return reply(code);
    }

    /** The config for SMTP_SSL and starttls() (the session keeps its own reference). */
    void set_tls_config(const TlsConfig &config) { check(smtp_session_set_tls_config(h(), config.get())); }
    void set_require_tls(bool on) { check(smtp_session_set_require_tls(h(), on ? 1 : 0)); }
    bool is_encrypted() const noexcept { return smtp_session_is_encrypted(h()) != 0; }
    /** "TLSv1.3", ...; "" when not TLS. */
    std::string tls_version() const { return detail::str(smtp_session_tls_version(h())); }
    std::string tls_cipher() const { return detail::str(smtp_session_tls_cipher(h())); }

    /* ---- settings */

    void set_debuglevel(int level) { check(smtp_session_set_debuglevel(h(), level)); }

    /**
     * Send the trace to `callback` instead of stderr (an empty function
     * restores stderr). Lines come only while the debug level is above 0.
     */
    void set_trace(TraceCallback callback)
    {
        if (!callback) {
            check(smtp_session_set_trace(h(), nullptr, nullptr));
            trace_.reset();
            return;
        }
        std::unique_ptr<detail::TraceState> st(new detail::TraceState());
        st->fn = std::move(callback);
        check(smtp_session_set_trace(h(), &detail::TraceState::trampoline, st.get()));
        trace_ = std::move(st);
    }

    /** smtplib's timeout: no single wait (connect, a reply, a write) lasts
        longer (Timeout::all; 0: none). The rule is at
        smtp_session_set_timeout_ms(). */
    void set_timeout(std::chrono::milliseconds t) { set_timeout(Timeout::all, t); }

    /** Ends the call running on this session in another thread (it throws
        Cancelled) and closes the connection; does nothing when no call runs.
        The one member that may run while another thread is inside a call on
        the session; the Session must not be destroyed or moved meanwhile. */
    void cancel() const noexcept { smtp_session_cancel(handle_.get()); }

    /** One timeout (0: no limit); more than 2^32-1 ms is that. */
    void set_timeout(Timeout which, std::chrono::milliseconds t)
    {
        if (t.count() < 0)
            detail::throw_result(SMTP_ERR_INVALID_ARGUMENT, "negative timeout");
        const std::uint32_t ms = t.count() > static_cast<long long>(UINT32_MAX)
                                     ? UINT32_MAX
                                     : static_cast<std::uint32_t>(t.count());
        check(smtp_session_set_timeout_ms(h(), static_cast<int>(which), ms));
    }

    /** One timeout (0: no limit). */
    std::chrono::milliseconds timeout(Timeout which) const
    {
        const std::int64_t ms = smtp_session_timeout_ms(h(), static_cast<int>(which));
        if (ms < 0)
            detail::throw_result(SMTP_ERR_NULL_ARGUMENT, "no session");
        return std::chrono::milliseconds(ms);
    }

    void set_local_hostname(const std::string &name)
    {
        check(smtp_session_set_local_hostname(h(), detail::c_str(name, "local hostname")));
    }

    /** Bind to `host`:`port` (port 0: any); "" removes the setting. */
    void set_source_address(const std::string &host, std::uint16_t port = 0)
    {
        check(smtp_session_set_source_address(h(), detail::c_str_or_null(host, "source address"), port));
    }

    void set_trust_loopback(bool trust) { check(smtp_session_set_trust_loopback(h(), trust ? 1 : 0)); }
    void set_debug_secrets(bool show) { check(smtp_session_set_debug_secrets(h(), show ? 1 : 0)); }

    /* ---- the last call */

    std::string errmsg() const { return detail::str(smtp_session_errmsg(h())); }
    int last_reply_code() const noexcept { return smtp_session_last_reply_code(h()); }
    std::string last_reply_text() const { return detail::str(smtp_session_last_reply_text(h())); }
    Reply last_reply() const { return Reply(last_reply_code(), last_reply_text()); }

private:
    smtp_session *h() const noexcept { return handle_.get(); }

    Reply reply(int code) const { return Reply(code, last_reply_text()); }

    /** A pending trace exception first, then the result. */
    void check(int rc)
    {
        if (trace_ && trace_->error) {
            std::exception_ptr e = trace_->error;
            trace_->error = nullptr;
            std::rethrow_exception(e);
        }
        if (rc != SMTP_OK)
            detail::throw_result(rc, errmsg(), last_reply_code(), last_reply_text());
    }

    Refused refused() const
    {
        Refused out;
        const std::size_t n = smtp_session_rcpt_count(h());
        for (std::size_t i = 0; i < n; ++i)
            if (smtp_session_rcpt_refused(h(), i))
                out[detail::str(smtp_session_rcpt_addr(h(), i))] =
                    Reply(smtp_session_rcpt_code(h(), i), detail::str(smtp_session_rcpt_text(h(), i)));
        return out;
    }

    /** A batch's result: a refusal of its arguments (no item's result set) throws; a message's failure is
        that message's own. */
    void check_batch(int rc, const detail::BatchItems &b)
    {
        bool any_result = false;
        for (const smtp_batch_item &it : b.items)
            any_result = any_result || it.result != detail::BatchItems::unset;
        check(any_result || b.items.empty() ? SMTP_OK : rc);
    }

    Refused transaction_result(int rc)
    {
        if (rc == SMTP_ERR_RECIPIENTS_REFUSED || rc == SMTP_ERR_SENDER_REFUSED) {
            Refused r = rc == SMTP_ERR_RECIPIENTS_REFUSED ? refused() : Refused();
            check(SMTP_OK); /* a pending trace exception wins */
            if (rc == SMTP_ERR_RECIPIENTS_REFUSED)
                throw RecipientsRefused(rc, errmsg(), last_reply_code(), last_reply_text(), r);
            throw SenderRefused(rc, errmsg(), last_reply_code(), last_reply_text(), sender());
        }
        check(rc);
        return refused();
    }

    /* Declared before handle_ so that it is destroyed after it. */
    std::unique_ptr<detail::TraceState> trace_;
    std::unique_ptr<smtp_session, Deleter> handle_;
};

struct PoolDeleter {
    void operator()(smtp_pool *p) const noexcept { smtp_pool_free(p); }
};

/**
 * A pool of connections to one server (smtp_pool), shared between threads:
 * each thread calls it with a Session of its own, unconnected, which the
 * pool lends a connection for the call; results are read from that Session
 * as after its own sendmail(). A message is sent at most once: one whose
 * data went out without a deciding reply throws OutcomeUnknown. Move-only.
 */
class Pool {
public:
    /** At most `max_connections` connections to `host` (maybe "host:port"),
        each opened like `like` would open it (its settings are copied now). */
    Pool(Session &like, const std::string &host, std::uint16_t port, unsigned max_connections)
    {
        smtp_pool *p = nullptr;
        like.check(smtp_pool_new(like.h(), detail::c_str(host, "host"), port, max_connections, &p));
        handle_.reset(p);
    }

    /** STARTTLS (and EHLO again) on every new connection. */
    void set_starttls(bool on) { option(SMTP_POOL_STARTTLS, on ? 1 : 0); }
    /** Close a connection after this many messages (0: never). */
    void set_max_messages(std::uint64_t n) { option(SMTP_POOL_MAX_MESSAGES, n); }
    /** Close instead of reusing a connection idle this long (0: never). */
    void set_max_idle(std::chrono::milliseconds d) { option(SMTP_POOL_MAX_IDLE_MS, ms(d)); }
    /** Probe with NOOP a connection idle this long before reuse (0: never). */
    void set_probe_idle(std::chrono::milliseconds d) { option(SMTP_POOL_PROBE_IDLE_MS, ms(d)); }
    /** Messages per second at most over the pool (0: no limit). */
    void set_rate(std::uint64_t per_second) { option(SMTP_POOL_RATE, per_second); }
    void set_max_connections(unsigned n) { option(SMTP_POOL_MAX_CONNECTIONS, n); }

    /** Log every new connection in (Session::login()'s rules; `flags`: SMTP_AUTH_*). */
    void set_login(const std::string &user, const std::string &password, unsigned flags = 0)
    {
        check_code(smtp_pool_set_login(handle_.get(), detail::c_str(user, "user"),
                                       detail::c_str(password, "password"), flags),
                   "smtp_pool_set_login");
    }
    void clear_login() { check_code(smtp_pool_set_login(handle_.get(), nullptr, nullptr, 0), "smtp_pool_set_login"); }

    /** A counter (SMTP_POOL_STAT_*). */
    std::uint64_t stat(int which) const noexcept { return smtp_pool_stat(handle_.get(), which); }

    /** Session::sendmail() through the pool, on `s` (unconnected, the pool's kind). */
    Refused sendmail(Session &s, const std::string &from, const std::vector<std::string> &to,
                     const std::string &message, const std::vector<std::string> &mail_options = {},
                     const std::vector<std::string> &rcpt_options = {}, unsigned flags = SMTP_MSG_NORMALIZE)
    {
        const char *from_c = detail::c_str(from, "sender");
        std::vector<const char *> to_c = detail::c_strs(to, "recipient");
        std::vector<const char *> mo = detail::c_strs(mail_options, "mail option");
        std::vector<const char *> ro = detail::c_strs(rcpt_options, "recipient option");
        static const char *const no_recipient[1] = {nullptr};
        const int rc = smtp_pool_sendmail(handle_.get(), s.h(), from_c, to_c.empty() ? no_recipient : to_c.data(),
                                          to_c.size(), detail::bytes(message), message.size(),
                                          detail::data_or_null(mo), mo.size(), detail::data_or_null(ro), ro.size(),
                                          flags, nullptr, nullptr);
        return s.transaction_result(rc);
    }

    /** Session::sendmail_batch() through the pool, on `s`: one connection for the whole batch. */
    std::vector<BatchResult> sendmail_batch(Session &s, const std::vector<BatchMessage> &messages)
    {
        detail::BatchItems b(messages);
        const int rc = smtp_pool_sendmail_batch(handle_.get(), s.h(), b.items.empty() ? nullptr : b.items.data(), b.items.size());
        s.check_batch(rc, b);
        return b.take();
    }

    /**
     * Authenticate every new connection with `mechanism` and `callback`
     * (Session::auth()'s rules). The callback runs on the thread whose call
     * opens the connection, on several at once: it must be thread-safe. An
     * exception it throws aborts that exchange (the call fails with
     * AuthAborted). An empty callback removes it.
     */
    void set_auth(const std::string &mechanism, SaslCallback callback, unsigned flags = 0)
    {
        if (!callback) {
            check_code(smtp_pool_set_auth_step(handle_.get(), nullptr, nullptr, nullptr, 0), "smtp_pool_set_auth_step");
            auth_.reset();
            return;
        }
        std::unique_ptr<SaslCallback> fn(new SaslCallback(std::move(callback)));
        check_code(smtp_pool_set_auth_step(handle_.get(), detail::c_str(mechanism, "mechanism"), &pool_sasl, fn.get(),
                                           flags),
                   "smtp_pool_set_auth_step");
        auth_ = std::move(fn);
    }

    /** Session::send_composed() through the pool, on `s`. */
    Refused send_composed(Session &s, Message &message)
    {
        const int rc =
            smtp_pool_send_composed(handle_.get(), s.h(), message.get(), nullptr, 0, nullptr, 0, nullptr);
        return s.transaction_result(rc);
    }

    /** Session::send_message() through the pool, on `s`. */
    Refused send_message(Session &s, const std::string &message, unsigned flags = SMTP_MSG_NORMALIZE)
    {
        const int rc = smtp_pool_send_message(handle_.get(), s.h(), detail::bytes(message), message.size(), nullptr,
                                              nullptr, 0, nullptr, 0, nullptr, 0, flags, nullptr);
        return s.transaction_result(rc);
    }

private:
    static std::uint64_t ms(std::chrono::milliseconds d) { return d.count() > 0 ? std::uint64_t(d.count()) : 0; }

    void option(int which, std::uint64_t value)
    {
        check_code(smtp_pool_set_option(handle_.get(), which, value), "smtp_pool_set_option");
    }

    /* Pool setters have no errmsg of their own: the code and the call name. */
    static void check_code(int rc, const char *what)
    {
        if (rc != SMTP_OK)
            detail::throw_result(rc, std::string(what) + ": " + smtp_result_str(rc));
    }

    /* A SaslCallback shared by the pool's threads: each exchange keeps its own error. */
    static int pool_sasl(void *userdata, const std::uint8_t *challenge, std::size_t len, smtp_sasl_exchange *x) noexcept
    {
        detail::SaslState st(static_cast<const SaslCallback *>(userdata));
        return detail::SaslState::trampoline(&st, challenge, len, x);
    }

    /* Declared before handle_ so that it is destroyed after the pool. */
    std::unique_ptr<SaslCallback> auth_;
    std::unique_ptr<smtp_pool, PoolDeleter> handle_;
};

/** The library's version at run time ("MAJOR.MINOR.PATCH"). */
inline std::string lib_version() { return smtp_lib_version(); }

/** The library's version at run time as one number (compare with SMTP_VERSION_NUM). */
inline std::uint32_t lib_version_number() noexcept { return smtp_lib_version_number(); }

/** smtp_result_str() as a std::string. */
inline std::string result_str(int code) { return smtp_result_str(code); }

/** smtp_result_name(): the code's C name ("SMTP_ERR_TIMEOUT"); empty for an unknown code. */
inline std::string result_name(int code)
{
    const char *n = smtp_result_name(code);
    return n ? n : "";
}

/** smtp_result_exception(): smtplib's exception for the code ("SMTPSenderRefused"); empty for SMTP_OK and
 *  unknown codes. */
inline std::string result_exception(int code)
{
    const char *e = smtp_result_exception(code);
    return e ? e : "";
}

/** smtp_result_has_reply(): whether an error with this code can carry the server's reply (Error::reply_code()). */
inline bool result_has_reply(int code) noexcept { return smtp_result_has_reply(code) != 0; }

/** Every result code this library has, SMTP_OK first (smtp_result_count(), smtp_result_code_at()). */
inline std::vector<int> result_codes()
{
    std::vector<int> codes;
    for (std::size_t i = 0; i < smtp_result_count(); ++i)
        codes.push_back(smtp_result_code_at(i));
    return codes;
}

}  // namespace smtp

#endif /* SMTP_HPP */
