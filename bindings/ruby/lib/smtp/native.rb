# frozen_string_literal: true

require 'ffi'

module Smtp
  # Where libsmtp is loaded from, in this order:
  # 1. ENV['LIBSMTP_PATH'] (a path to the shared library), when set;
  # 2. `pkg-config --variable=libdir smtp` + "/libsmtp.so" (PKG_CONFIG_PATH
  #    is honoured, as pkg-config reads it), when pkg-config knows smtp;
  # 3. 'smtp', left to the dynamic loader (LD_LIBRARY_PATH, ld.so.cache).
  def self.library_path
    env = ENV['LIBSMTP_PATH']
    return env if env && !env.empty?

    libdir = pkg_config_libdir
    if libdir
      candidate = File.join(libdir, 'libsmtp.so')
      return candidate if File.exist?(candidate)
    end
    'smtp'
  end

  def self.pkg_config_libdir
    out = IO.popen(%w[pkg-config --variable=libdir smtp], err: File::NULL, &:read)
    return nil unless $?.success?

    dir = out.strip
    dir.empty? ? nil : dir
  rescue SystemCallError
    nil # no pkg-config
  end
  private_class_method :pkg_config_libdir

  # The raw C functions of smtp.h. Not for direct use: Smtp::Session wraps
  # them. Every call that may wait on the network (NET below) is attached
  # with blocking: true: it runs without the GVL, so other Ruby threads run
  # while one waits for a server, and one of them can end the wait with
  # smtp_session_cancel(). A callback (SASL, trace) that such a call makes
  # takes the GVL back for the Ruby block (ruby-ffi does that for a callback
  # on a thread that released it), then releases it again.
  module Native
    extend FFI::Library
    ffi_lib Smtp.library_path

    # typedef int (*smtp_sasl_fn)(void *userdata, const uint8_t *challenge,
    #   size_t challenge_len, uint8_t *response, size_t response_cap,
    #   size_t *response_len);
    callback :smtp_sasl_fn, %i[pointer pointer size_t pointer size_t pointer], :int
    # typedef void (*smtp_trace_fn)(void *userdata, int direction,
    #   const char *line, size_t len);
    callback :smtp_trace_fn, %i[pointer int pointer size_t], :void

    NET = { blocking: true }.freeze

    # Library, results.
    attach_function :smtp_result_str, [:int], :pointer
    attach_function :smtp_result_name, [:int], :pointer
    attach_function :smtp_result_has_reply, [:int], :int
    attach_function :smtp_result_count, [], :size_t
    attach_function :smtp_result_code_at, [:size_t], :int
    attach_function :smtp_lib_version, [], :pointer

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

    # Connection.
    attach_function :smtp_session_connect, %i[pointer pointer uint16 pointer], :int, NET
    attach_function :smtp_session_open, %i[pointer pointer uint16 pointer], :int, NET
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
    attach_function :smtp_session_does_esmtp, [:pointer], :int
    attach_function :smtp_session_ehlo_resp, [:pointer], :pointer
    attach_function :smtp_session_helo_resp, [:pointer], :pointer
    attach_function :smtp_session_has_extn, %i[pointer pointer], :int
    attach_function :smtp_session_feature_count, [:pointer], :size_t
    attach_function :smtp_session_feature_name, %i[pointer size_t], :pointer
    attach_function :smtp_session_feature_params, %i[pointer size_t], :pointer
    attach_function :smtp_session_feature, %i[pointer pointer], :pointer
    attach_function :smtp_session_rcpt_count, [:pointer], :size_t
    attach_function :smtp_session_rcpt_addr, %i[pointer size_t], :pointer
    attach_function :smtp_session_rcpt_code, %i[pointer size_t], :int
    attach_function :smtp_session_rcpt_text, %i[pointer size_t], :pointer
    attach_function :smtp_session_rcpt_data_code, %i[pointer size_t], :int
    attach_function :smtp_session_rcpt_data_text, %i[pointer size_t], :pointer
    attach_function :smtp_session_rcpt_refused, %i[pointer size_t], :int
    attach_function :smtp_session_rcpt_status, %i[pointer size_t], :pointer
    attach_function :smtp_session_rcpt_data_status, %i[pointer size_t], :pointer
    attach_function :smtp_session_is_encrypted, [:pointer], :int
    attach_function :smtp_session_tls_version, [:pointer], :pointer
    attach_function :smtp_session_tls_cipher, [:pointer], :pointer

    # Commands.
    attach_function :smtp_session_helo, %i[pointer pointer pointer], :int, NET
    attach_function :smtp_session_ehlo, %i[pointer pointer pointer], :int, NET
    attach_function :smtp_session_ehlo_or_helo_if_needed, [:pointer], :int, NET
    attach_function :smtp_session_docmd, %i[pointer pointer pointer pointer], :int, NET
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
    attach_function :smtp_session_send_message,
                    %i[pointer pointer size_t pointer pointer size_t pointer size_t pointer size_t uint pointer],
                    :int, NET

    # Authentication.
    attach_function :smtp_session_login, %i[pointer pointer pointer uint], :int, NET
    attach_function :smtp_session_auth, %i[pointer pointer smtp_sasl_fn pointer uint], :int, NET
    attach_function :smtp_session_auth_builtin, %i[pointer pointer pointer pointer uint], :int, NET

    # TLS.
    attach_function :smtp_tls_config_builder_new, [], :pointer
    attach_function :smtp_tls_config_builder_free, [:pointer], :void
    attach_function :smtp_tls_config_builder_errmsg, [:pointer], :pointer
    attach_function :smtp_tls_config_builder_add_ca_file, %i[pointer pointer], :int
    attach_function :smtp_tls_config_builder_add_ca_dir, %i[pointer pointer], :int
    attach_function :smtp_tls_config_builder_set_default_roots, %i[pointer int], :int
    attach_function :smtp_tls_config_builder_set_client_cert, %i[pointer pointer pointer], :int
    attach_function :smtp_tls_config_builder_set_server_name, %i[pointer pointer], :int
    attach_function :smtp_tls_config_builder_dangerous_disable_verification, [:pointer], :int
    attach_function :smtp_tls_config_builder_build, %i[pointer pointer], :int
    attach_function :smtp_tls_config_free, [:pointer], :void
    attach_function :smtp_session_set_tls_config, %i[pointer pointer], :int
    attach_function :smtp_session_starttls, %i[pointer pointer pointer], :int, NET

    # Constants of smtp.h.
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
    AUTH_NO_INITIAL_RESPONSE = 1
    AUTH_ALLOW_CLEARTEXT = 2
    SASL_CONTINUE = 100
    SASL_NO_INITIAL_RESPONSE = 101
    SASL_NEED_SPACE = 102
    MSG_NORMALIZE = 0
    MSG_RAW = 1
    MSG_REJECT_BARE_EOL = 2

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

  # The library's version, "MAJOR.MINOR.PATCH".
  def self.lib_version
    Native.text(Native.smtp_lib_version)
  end

  # smtp_result_str(): a static description of a result code.
  def self.result_str(code)
    Native.text(Native.smtp_result_str(code))
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
