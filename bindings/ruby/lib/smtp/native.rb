# frozen_string_literal: true

require 'ffi'
require_relative 'loader'

module Smtp
  # The raw C functions of smtp.h. Not for direct use: Smtp::Session,
  # Smtp::Pool, Smtp::Envelope, Smtp::TLSConfig, Smtp::Message and
  # Smtp::DKIM wrap them.
  #
  # Every call that may wait on the network (NET below) is attached with
  # blocking: true: it runs without the GVL, so other Ruby threads run while
  # one waits for a server. The session runs such a call on a worker thread
  # (see Smtp::Session, "Threads"), so that the caller's wait can be
  # interrupted and the interrupt turned into smtp_session_cancel(). A
  # callback (SASL, trace, read) that such a call makes takes the GVL back
  # for the Ruby block (ruby-ffi does that for a callback on a thread that
  # released it), then releases it again.
  #
  # test/test_coverage.rb checks that every function of include/smtp.h is
  # attached here or listed in NOT_BOUND, and the constants below against
  # the header's #defines.
  module Native
    extend FFI::Library
    # One list: alternatives, the first that loads wins.
    ffi_lib Smtp.library_candidates

    # The functions of smtp.h this binding leaves out on purpose, and why.
    NOT_BOUND = {
      # The per-field recipient getters: smtp_session_rcpt_info gives one
      # record with all of them (and the deciding reply) in one call.
      'smtp_session_rcpt_addr' => 'superseded by smtp_session_rcpt_info',
      'smtp_session_rcpt_code' => 'superseded by smtp_session_rcpt_info',
      'smtp_session_rcpt_text' => 'superseded by smtp_session_rcpt_info',
      'smtp_session_rcpt_status' => 'superseded by smtp_session_rcpt_info',
      'smtp_session_rcpt_refused' => 'superseded by smtp_session_rcpt_info',
      'smtp_session_rcpt_data_code' => 'superseded by smtp_session_rcpt_info',
      'smtp_session_rcpt_data_text' => 'superseded by smtp_session_rcpt_info',
      'smtp_session_rcpt_data_status' => 'superseded by smtp_session_rcpt_info',
      # For bindings whose code cannot run on the call's thread; an ffi
      # callback can, so sendmail_stream reads the IO in Ruby.
      'smtp_session_sendmail_fd' => 'sendmail_stream reads the IO in a Ruby callback',
      # The fixed-buffer SASL form (with its NEED_SPACE retry): the step
      # form (smtp_session_auth_step, smtp_pool_set_auth_step with
      # smtp_sasl_respond) takes a response of any length, made in Ruby.
      'smtp_session_auth' => 'the step form smtp_session_auth_step is used',
      'smtp_pool_set_auth' => 'the step form smtp_pool_set_auth_step is used'
    }.freeze

    # typedef void (*smtp_trace_fn)(void *userdata, int direction,
    #   const char *line, size_t len);
    callback :smtp_trace_fn, %i[pointer int pointer size_t], :void
    # typedef int (*smtp_sasl_step_fn)(void *userdata, const uint8_t
    #   *challenge, size_t challenge_len, smtp_sasl_exchange *x);
    callback :smtp_sasl_step_fn, %i[pointer pointer size_t pointer], :int
    # typedef ptrdiff_t (*smtp_read_fn)(void *userdata, uint8_t *buf,
    #   size_t cap);
    callback :smtp_read_fn, %i[pointer pointer size_t], :ssize_t
    # typedef int (*smtp_rewind_fn)(void *userdata);
    callback :smtp_rewind_fn, %i[pointer], :int
    # typedef int (*smtp_write_fn)(void *userdata, const uint8_t *buf,
    #   size_t len);
    callback :smtp_write_fn, %i[pointer pointer size_t], :int

    # struct smtp_rcpt_info (layout fixed within 0.x).
    class RcptInfo < FFI::Struct
      layout :addr, :pointer,
             :refused, :int,
             :code, :int,
             :text, :pointer,
             :status, :pointer,
             :data_code, :int,
             :data_text, :pointer,
             :data_status, :pointer,
             :final_code, :int,
             :final_text, :pointer,
             :final_status, :pointer
    end

    # struct smtp_batch_item (layout fixed within 0.x).
    class BatchItem < FFI::Struct
      layout :from, :pointer,
             :to, :pointer,
             :to_count, :size_t,
             :msg, :pointer,
             :len, :size_t,
             :flags, :uint,
             :result, :int,
             :refused_count, :size_t,
             :rcpt_codes, :pointer
    end

    NET = { blocking: true }.freeze

    # Library, results.
    attach_function :smtp_result_str, [:int], :pointer
    attach_function :smtp_result_name, [:int], :pointer
    attach_function :smtp_result_exception, [:int], :pointer
    attach_function :smtp_result_has_reply, [:int], :int
    attach_function :smtp_result_count, [], :size_t
    attach_function :smtp_result_code_at, [:size_t], :int
    attach_function :smtp_lib_version, [], :pointer
    attach_function :smtp_lib_version_number, [], :uint32

    # Lifecycle and settings.
    attach_function :smtp_session_new, [:int], :pointer
    attach_function :smtp_session_free, [:pointer], :void
    attach_function :smtp_session_set_local_hostname, %i[pointer pointer], :int
    attach_function :smtp_session_set_timeout_ms, %i[pointer int uint32], :int
    attach_function :smtp_session_timeout_ms, %i[pointer int], :int64
    attach_function :smtp_session_set_source_address, %i[pointer pointer uint16], :int
    attach_function :smtp_session_set_debuglevel, %i[pointer int], :int
    attach_function :smtp_session_set_trace, %i[pointer smtp_trace_fn pointer], :int
    attach_function :smtp_session_set_debug_secrets, %i[pointer int], :int
    attach_function :smtp_session_set_trust_loopback, %i[pointer int], :int
    attach_function :smtp_session_set_require_tls, %i[pointer int], :int
    attach_function :smtp_session_set_auth_mechanisms, %i[pointer pointer], :int
    attach_function :smtp_session_set_pipelining, %i[pointer int], :int
    attach_function :smtp_session_set_chunking, %i[pointer int], :int
    attach_function :smtp_session_set_envelope, %i[pointer pointer], :int
    attach_function :smtp_session_set_proxy, %i[pointer pointer], :int

    # Connection.
    attach_function :smtp_session_connect, %i[pointer pointer uint16 pointer], :int, NET
    attach_function :smtp_session_open, %i[pointer pointer uint16 pointer], :int, NET
    attach_function :smtp_session_connect_fd, %i[pointer int pointer pointer], :int, NET
    attach_function :smtp_session_close, [:pointer], :int
    # Not NET: it never waits (an atomic mark and a one-byte pipe write),
    # and it is the one call made while another thread is inside the
    # library on the same session.
    attach_function :smtp_session_cancel, [:pointer], :int
    attach_function :smtp_session_quit, %i[pointer pointer], :int, NET

    # State getters.
    attach_function :smtp_session_errmsg, [:pointer], :pointer
    attach_function :smtp_session_last_reply_code, [:pointer], :int
    attach_function :smtp_session_last_reply_text, [:pointer], :pointer
    attach_function :smtp_session_is_connected, [:pointer], :int
    attach_function :smtp_session_fileno, [:pointer], :int
    attach_function :smtp_session_does_esmtp, [:pointer], :int
    attach_function :smtp_session_utf8_commands, [:pointer], :int
    attach_function :smtp_session_ehlo_resp, [:pointer], :pointer
    attach_function :smtp_session_helo_resp, [:pointer], :pointer
    attach_function :smtp_session_has_extn, %i[pointer pointer], :int
    attach_function :smtp_session_feature_count, [:pointer], :size_t
    attach_function :smtp_session_feature_name, %i[pointer size_t], :pointer
    attach_function :smtp_session_feature_params, %i[pointer size_t], :pointer
    attach_function :smtp_session_feature, %i[pointer pointer], :pointer
    attach_function :smtp_session_rcpt_count, [:pointer], :size_t
    attach_function :smtp_session_rcpt_info, %i[pointer size_t pointer], :int
    attach_function :smtp_session_sender, [:pointer], :pointer
    attach_function :smtp_session_is_encrypted, [:pointer], :int
    attach_function :smtp_session_tls_version, [:pointer], :pointer
    attach_function :smtp_session_tls_cipher, [:pointer], :pointer

    # Commands.
    attach_function :smtp_session_helo, %i[pointer pointer pointer], :int, NET
    attach_function :smtp_session_ehlo, %i[pointer pointer pointer], :int, NET
    attach_function :smtp_session_ehlo_or_helo_if_needed, [:pointer], :int, NET
    attach_function :smtp_session_docmd, %i[pointer pointer pointer pointer], :int, NET
    attach_function :smtp_session_send, %i[pointer pointer size_t], :int, NET
    attach_function :smtp_session_getreply, %i[pointer pointer], :int, NET
    attach_function :smtp_session_noop, %i[pointer pointer], :int, NET
    attach_function :smtp_session_rset, %i[pointer pointer], :int, NET
    attach_function :smtp_session_help, %i[pointer pointer pointer], :int, NET
    attach_function :smtp_session_verify, %i[pointer pointer pointer], :int, NET
    attach_function :smtp_session_expn, %i[pointer pointer pointer], :int, NET
    attach_function :smtp_session_mail, %i[pointer pointer pointer size_t pointer], :int, NET
    attach_function :smtp_session_rcpt, %i[pointer pointer pointer size_t pointer], :int, NET
    attach_function :smtp_session_data, %i[pointer pointer size_t uint pointer], :int, NET
    attach_function :smtp_session_sendmail,
                    %i[pointer pointer pointer size_t pointer size_t pointer size_t pointer size_t uint pointer pointer],
                    :int, NET
    attach_function :smtp_session_sendmail_stream,
                    %i[pointer pointer pointer size_t smtp_read_fn pointer int64 pointer size_t pointer size_t uint
                       pointer pointer],
                    :int, NET
    attach_function :smtp_session_sendmail_batch, %i[pointer pointer size_t], :int, NET
    attach_function :smtp_session_send_message,
                    %i[pointer pointer size_t pointer pointer size_t pointer size_t pointer size_t uint pointer],
                    :int, NET

    # Envelope options (RFC 3461 DSN, RFC 6531, RFC 8689, RFC 6710, RFC 2852, BODY).
    attach_function :smtp_envelope_new, [], :pointer
    attach_function :smtp_envelope_free, [:pointer], :void
    attach_function :smtp_envelope_errmsg, [:pointer], :pointer
    attach_function :smtp_envelope_set_dsn_ret, %i[pointer int], :int
    attach_function :smtp_envelope_set_dsn_envid, %i[pointer pointer], :int
    attach_function :smtp_envelope_set_dsn_notify, %i[pointer uint], :int
    attach_function :smtp_envelope_set_rcpt_dsn, %i[pointer pointer uint pointer], :int
    attach_function :smtp_envelope_set_smtputf8, %i[pointer int], :int
    attach_function :smtp_envelope_set_requiretls, %i[pointer int], :int
    attach_function :smtp_envelope_set_body, %i[pointer int], :int
    attach_function :smtp_envelope_set_mt_priority, %i[pointer int], :int
    attach_function :smtp_envelope_set_deliver_by, %i[pointer int64 int int], :int

    # Authentication.
    attach_function :smtp_session_login, %i[pointer pointer pointer uint], :int, NET
    attach_function :smtp_session_auth_step, %i[pointer pointer smtp_sasl_step_fn pointer uint], :int, NET
    attach_function :smtp_session_auth_builtin, %i[pointer pointer pointer pointer uint], :int, NET
    attach_function :smtp_sasl_respond, %i[pointer pointer size_t], :int

    # TLS.
    attach_function :smtp_tls_config_builder_new, [], :pointer
    attach_function :smtp_tls_config_builder_free, [:pointer], :void
    attach_function :smtp_tls_config_builder_errmsg, [:pointer], :pointer
    attach_function :smtp_tls_config_builder_add_ca_file, %i[pointer pointer], :int
    attach_function :smtp_tls_config_builder_add_ca_dir, %i[pointer pointer], :int
    attach_function :smtp_tls_config_builder_set_default_roots, %i[pointer int], :int
    attach_function :smtp_tls_config_builder_set_roots, %i[pointer uint], :int
    attach_function :smtp_tls_config_builder_set_client_cert, %i[pointer pointer pointer], :int
    attach_function :smtp_tls_config_builder_set_server_name, %i[pointer pointer], :int
    attach_function :smtp_tls_config_builder_dangerous_disable_verification, [:pointer], :int
    attach_function :smtp_tls_config_builder_build, %i[pointer pointer], :int
    attach_function :smtp_tls_config_free, [:pointer], :void
    attach_function :smtp_session_set_tls_config, %i[pointer pointer], :int
    attach_function :smtp_session_starttls, %i[pointer pointer pointer], :int, NET

    # The pool.
    attach_function :smtp_pool_new, %i[pointer pointer uint16 uint pointer], :int
    attach_function :smtp_pool_free, [:pointer], :void
    attach_function :smtp_pool_set_option, %i[pointer int uint64], :int
    attach_function :smtp_pool_stat, %i[pointer int], :uint64
    attach_function :smtp_pool_set_login, %i[pointer pointer pointer uint], :int
    attach_function :smtp_pool_set_auth_step, %i[pointer pointer smtp_sasl_step_fn pointer uint], :int
    attach_function :smtp_pool_sendmail,
                    %i[pointer pointer pointer pointer size_t pointer size_t pointer size_t pointer size_t uint pointer
                       pointer],
                    :int, NET
    attach_function :smtp_pool_send_message,
                    %i[pointer pointer pointer size_t pointer pointer size_t pointer size_t pointer size_t uint pointer],
                    :int, NET
    attach_function :smtp_pool_sendmail_batch, %i[pointer pointer pointer size_t], :int, NET
    attach_function :smtp_pool_send_composed, %i[pointer pointer pointer pointer size_t pointer size_t pointer],
                    :int, NET

    # Composing messages (Smtp::Message). The two calls that write the
    # message read attachment files and encode them, so they run without
    # the GVL too, but on the calling thread: they never wait on the
    # network, so there is nothing to cancel. The IO attachments' and the
    # writer's callbacks take the GVL back, as the session's do.
    attach_function :smtp_message_new, [], :pointer
    attach_function :smtp_message_free, [:pointer], :void
    attach_function :smtp_message_errmsg, [:pointer], :pointer
    attach_function :smtp_message_set_from, %i[pointer pointer], :int
    attach_function :smtp_message_set_sender, %i[pointer pointer], :int
    attach_function :smtp_message_add_to, %i[pointer pointer], :int
    attach_function :smtp_message_add_cc, %i[pointer pointer], :int
    attach_function :smtp_message_add_bcc, %i[pointer pointer], :int
    attach_function :smtp_message_add_reply_to, %i[pointer pointer], :int
    attach_function :smtp_message_set_subject, %i[pointer pointer], :int
    attach_function :smtp_message_set_date, %i[pointer int64 int], :int
    attach_function :smtp_message_set_message_id, %i[pointer pointer], :int
    attach_function :smtp_message_add_header, %i[pointer pointer pointer], :int
    attach_function :smtp_message_set_text, %i[pointer pointer size_t], :int
    attach_function :smtp_message_set_html, %i[pointer pointer size_t], :int
    attach_function :smtp_message_attach_memory, %i[pointer pointer size_t pointer pointer], :int
    attach_function :smtp_message_attach_file, %i[pointer pointer pointer pointer], :int
    attach_function :smtp_message_attach_callback,
                    %i[pointer smtp_read_fn smtp_rewind_fn pointer pointer pointer], :int
    attach_function :smtp_message_add_inline_memory, %i[pointer pointer size_t pointer pointer], :int
    attach_function :smtp_message_add_inline_file, %i[pointer pointer pointer pointer], :int
    attach_function :smtp_message_set_dkim, %i[pointer pointer], :int
    attach_function :smtp_message_write, %i[pointer smtp_write_fn pointer], :int, NET
    attach_function :smtp_message_bytes, %i[pointer pointer pointer], :int, NET
    attach_function :smtp_session_send_composed, %i[pointer pointer pointer size_t pointer size_t pointer], :int,
                    NET

    # DKIM signing (Smtp::DKIM). Signing hashes the whole message (and an
    # RSA signature takes milliseconds): without the GVL.
    attach_function :smtp_dkim_new, [], :pointer
    attach_function :smtp_dkim_free, [:pointer], :void
    attach_function :smtp_dkim_errmsg, [:pointer], :pointer
    attach_function :smtp_dkim_set_key_pem, %i[pointer pointer size_t], :int
    attach_function :smtp_dkim_set_domain, %i[pointer pointer], :int
    attach_function :smtp_dkim_set_selector, %i[pointer pointer], :int
    attach_function :smtp_dkim_set_headers, %i[pointer pointer size_t], :int
    attach_function :smtp_dkim_set_canonicalization, %i[pointer int int], :int
    attach_function :smtp_dkim_sign, %i[pointer pointer size_t pointer], :int, NET
    attach_function :smtp_dkim_dns_record, %i[pointer pointer], :int

    # Constants of smtp.h (SMTP_<name>; checked against the header by
    # test/test_coverage.rb).
    KIND_SMTP = 0
    KIND_SMTP_SSL = 1
    KIND_LMTP = 2
    TIMEOUT_CONNECT = 0
    TIMEOUT_IO = 1
    TIMEOUT_REPLY = 2
    TIMEOUT_GREETING = 3
    TIMEOUT_MAIL = 4
    TIMEOUT_RCPT = 5
    TIMEOUT_DATA = 6
    TIMEOUT_DATA_BLOCK = 7
    TIMEOUT_FINAL_DOT = 8
    TIMEOUT_CALL = 9
    TIMEOUT_ALL = 10
    TRACE_INFO = 0
    TRACE_SEND = 1
    TRACE_RECV = 2
    MSG_NORMALIZE = 0
    MSG_RAW = 1
    MSG_REJECT_BARE_EOL = 2
    DSN_RET_FULL = 1
    DSN_RET_HDRS = 2
    DSN_NOTIFY_SUCCESS = 1
    DSN_NOTIFY_FAILURE = 2
    DSN_NOTIFY_DELAY = 4
    DSN_NOTIFY_NEVER = 8
    BODY_7BIT = 1
    BODY_8BITMIME = 2
    BODY_BINARYMIME = 3
    AUTH_NO_INITIAL_RESPONSE = 1
    AUTH_ALLOW_CLEARTEXT = 2
    SASL_CONTINUE = 100
    SASL_NO_INITIAL_RESPONSE = 101
    ROOTS_MOZILLA = 1
    ROOTS_SYSTEM = 2
    POOL_STARTTLS = 0
    POOL_MAX_MESSAGES = 1
    POOL_MAX_IDLE_MS = 2
    POOL_PROBE_IDLE_MS = 3
    POOL_RATE = 4
    POOL_MAX_CONNECTIONS = 5
    POOL_STAT_OPENED = 0
    POOL_STAT_OPEN = 1
    POOL_STAT_IDLE = 2
    POOL_STAT_SENT = 3
    POOL_STAT_RETRIED = 4
    POOL_STAT_PROBED = 5
    POOL_STAT_PROBE_FAILED = 6
    POOL_STAT_RETIRED = 7
    POOL_STAT_UNKNOWN = 8
    DKIM_SIMPLE = 1
    DKIM_RELAXED = 2

    # A C string the library returned, copied into Ruby: UTF-8 when it is
    # valid UTF-8 (always for what the library generates), else binary
    # (reply text is the server's bytes). nil for NULL.
    def self.text(ptr)
      return nil if ptr.nil? || ptr.null?

      s = ptr.read_string
      s.force_encoding(Encoding::UTF_8)
      s.force_encoding(Encoding::BINARY) unless s.valid_encoding?
      s
    end
  end

  # The path (or name) of the libsmtp this process loaded.
  def self.loaded_library
    Native.ffi_libraries.first.name
  end

  # The library's version, "MAJOR.MINOR.PATCH".
  def self.lib_version
    Native.text(Native.smtp_lib_version)
  end

  # The library's version as one number, MAJOR << 16 | MINOR << 8 | PATCH.
  def self.lib_version_number
    Native.smtp_lib_version_number
  end

  # smtp_result_str(): a static description of a result code.
  def self.result_str(code)
    Native.text(Native.smtp_result_str(code))
  end

  # smtp_result_exception(): the name of the exception Python's smtplib
  # raises for the failure a code reports ("SMTPSenderRefused", "OSError",
  # "ValueError", ...); nil for 0 and unknown codes. Smtp::ERRORS maps the
  # codes to this binding's classes.
  def self.result_exception(code)
    Native.text(Native.smtp_result_exception(code))
  end

  # The library's result codes by C name ({'SMTP_OK' => 0,
  # 'SMTP_ERR_NULL_ARGUMENT' => 1, ...}), read from it when loaded
  # (smtp_result_count(), smtp_result_code_at(), smtp_result_name()).
  RESULTS = Array.new(Native.smtp_result_count) do |i|
    code = Native.smtp_result_code_at(i)
    [Native.text(Native.smtp_result_name(code)), code]
  end.to_h.freeze

  # smtp_result_has_reply(): whether an error with this result code carries
  # the server's reply (smtp_code, smtp_error).
  def self.result_has_reply?(code)
    Native.smtp_result_has_reply(code) == 1
  end
end
