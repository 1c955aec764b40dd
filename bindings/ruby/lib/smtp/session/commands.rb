# frozen_string_literal: true

module Smtp
  class Session
    # smtplib's helo: HELO name (default: local_hostname). [code, msg].
    def helo(name = nil)
      c_name = Args.cstr(name, 'name')
      with_code { |h, code| Native.smtp_session_helo(h, c_name, code) }
    end

    # smtplib's ehlo (LHLO on LMTP). [code, msg]; a refusal is a code, not
    # an exception.
    def ehlo(name = nil)
      c_name = Args.cstr(name, 'name')
      with_code { |h, code| Native.smtp_session_ehlo(h, c_name, code) }
    end

    # smtplib's ehlo_or_helo_if_needed; both refused raises SMTPHeloError.
    def ehlo_or_helo_if_needed
      call_checked(net: true) { |h| Native.smtp_session_ehlo_or_helo_if_needed(h) }
      nil
    end

    # smtplib's docmd: "cmd args". [code, msg].
    def docmd(cmd, args = '')
      c_cmd = Args.cstr(cmd, 'cmd')
      c_args = Args.cstr(args, 'args')
      with_code { |h, code| Native.smtp_session_docmd(h, c_cmd, c_args, code) }
    end

    # smtplib's send (named so as not to hide Object#send): write the
    # bytes as they are (the caller adds CRLF), read no reply; #getreply
    # reads it. Returns nil.
    def send_raw(data)
      buf, len = Args.bytes(data, 'data')
      call_checked(net: true) { |h| Native.smtp_session_send(h, buf, len) }
    end

    # smtplib's getreply: read one reply, whatever its code. [code, msg]
    # (code -1 when the server sent no number).
    def getreply
      with_code { |h, code| Native.smtp_session_getreply(h, code) }
    end

    def noop
      with_code { |h, code| Native.smtp_session_noop(h, code) }
    end

    def rset
      with_code { |h, code| Native.smtp_session_rset(h, code) }
    end

    # smtplib's help: the reply text.
    def help(args = nil)
      c_args = Args.cstr(args, 'args')
      with_code { |h, code| Native.smtp_session_help(h, c_args, code) }[1]
    end

    # smtplib's verify: VRFY address. [code, msg].
    def verify(address)
      c_addr = Args.address(address, 'address')
      with_code { |h, code| Native.smtp_session_verify(h, c_addr, code) }
    end
    alias vrfy verify

    # smtplib's expn: EXPN address. [code, msg].
    def expn(address)
      c_addr = Args.address(address, 'address')
      with_code { |h, code| Native.smtp_session_expn(h, c_addr, code) }
    end

    # smtplib's mail: MAIL FROM:<sender> options. [code, msg].
    def mail(sender, options = [])
      c_sender = Args.address(sender, 'sender')
      opts, n, keep = Args.cstr_array(options, 'options')
      with_code(keep) { |h, code| Native.smtp_session_mail(h, c_sender, opts, n, code) }
    end

    # smtplib's rcpt: RCPT TO:<recip> options. [code, msg].
    def rcpt(recip, options = [])
      c_recip = Args.address(recip, 'recip')
      opts, n, keep = Args.cstr_array(options, 'options')
      with_code(keep) { |h, code| Native.smtp_session_rcpt(h, c_recip, opts, n, code) }
    end

    # smtplib's data: DATA and the message. [code, msg]; a reply to DATA
    # other than 354 raises SMTPDataError. line_endings: see #sendmail.
    def data(msg, line_endings: :normalize)
      buf, len = Args.bytes(msg)
      flags = Args.msg_flags(line_endings)
      with_code(buf) { |h, code| Native.smtp_session_data(h, buf, len, flags, code) }
    end

    # smtplib's login: EHLO if needed, then CRAM-MD5, PLAIN, LOGIN (see
    # #auth_mechanisms=) as advertised. [code, msg]. Raises
    # SMTPNotSupportedError (no AUTH), SMTPAuthenticationError,
    # SMTPException (no suitable mechanism), SMTPNotEncryptedError.
    def login(user, password, initial_response_ok: true, allow_cleartext: false)
      flags = Args.auth_flags(initial_response_ok, allow_cleartext)
      c_user = Args.cstr(user, 'user')
      c_password = Args.cstr(password, 'password')
      with_code { |h, _code| Native.smtp_session_login(h, c_user, c_password, flags) }
    end

    # smtplib's auth(mechanism, authobject) with the block as authobject:
    # it is called with nil for the initial response (unless
    # initial_response_ok: false), then with each decoded challenge (a
    # binary String), and returns the raw response (a String of any
    # length) or nil (no initial response; for a challenge: cancel,
    # SMTPAuthenticationAborted). An exception raised in the block cancels
    # the exchange and is re-raised here once the library has returned; the
    # session stays usable. Without a block, a built-in mechanism
    # (CRAM-MD5, PLAIN, LOGIN, SCRAM-SHA-256, XOAUTH2, OAUTHBEARER) with
    # user: and secret:. Returns [code, msg] (235 or 503).
    def auth(mechanism, user: nil, secret: nil, initial_response_ok: true, allow_cleartext: false, &authobject)
      flags = Args.auth_flags(initial_response_ok, allow_cleartext)
      mech = Args.cstr(mechanism, 'mechanism')
      unless authobject
        if user.nil? || secret.nil?
          raise ::ArgumentError, 'auth needs a block (the authobject), or user: and secret: for a built-in mechanism'
        end

        c_user = Args.cstr(user, 'user')
        c_secret = Args.cstr(secret, 'secret')
        return with_code { |h, _code| Native.smtp_session_auth_builtin(h, mech, c_user, c_secret, flags) }
      end

      bridge = Callbacks::Sasl.new(authobject)
      fn = bridge.function
      begin
        with_code(fn, bridge) { |h, _code| Native.smtp_session_auth_step(h, mech, fn, nil, flags) }
      ensure
        fn.free # referenced until here: the library no longer holds it
      end
    end

    # smtplib's starttls: EHLO if needed, STARTTLS, the handshake (with
    # context, an Smtp::TLSConfig, else the session's); the session then
    # forgets the EHLO state. [code, msg]. Raises SMTPNotSupportedError,
    # SMTPResponseException (a reply other than 220), SMTPTLSError.
    def starttls(context: nil)
      with_code(context) { |h, code| Native.smtp_session_starttls(h, context&.to_ptr, code) }
    end
  end
end
