# frozen_string_literal: true

module Smtp
  class Session
    # The outcome of one message of #sendmail_batch: error is nil when it
    # was sent (else the exception #sendmail would have raised for it);
    # rcpt_codes maps each recipient to its RCPT reply code; refused_count
    # counts the refused ones.
    BatchResult = Struct.new(:error, :refused_count, :rcpt_codes) do
      def ok?
        error.nil?
      end
    end

    # smtplib's sendmail: returns the refused recipients, {addr => [code,
    # msg]} ({} when all were accepted). to_addrs: an address or a list.
    # msg: a String, sent as its bytes, or anything with #read (an IO, a
    # StringIO, ...), sent by #sendmail_stream; line_endings: :normalize
    # (lone CR and LF become CRLF, smtplib's str), :raw (as given, smtplib's
    # bytes) or :reject_bare_eol. Raises SMTPHeloError, SMTPSenderRefused
    # (with #sender), SMTPRecipientsRefused (with #recipients),
    # SMTPDataError, SMTPNotSupportedError, SMTPMessageTooLarge,
    # Smtp::ArgumentError (checked before anything is sent).
    def sendmail(from_addr, to_addrs, msg, mail_options = [], rcpt_options = [], line_endings: :normalize)
      if !msg.is_a?(String) && msg.respond_to?(:read)
        return sendmail_stream(from_addr, to_addrs, msg, mail_options, rcpt_options, line_endings: line_endings)
      end

      sendmail_via(nil, from_addr, to_addrs, msg, mail_options, rcpt_options, line_endings)
    end

    # #sendmail with the message read from source in pieces (a message
    # larger than memory, a file, a pipe): source.read(n) is called until it
    # returns nil or "" (IO, File, StringIO, a Zlib::GzipReader, ...), or,
    # for a source without #read, source.each yields the pieces (an Array
    # or Enumerator of Strings). Line endings and dot-stuffing are done on
    # the fly. size: the message size in bytes, announced as SIZE= (default:
    # what is left of a File or StringIO, else unknown). An exception raised
    # by the source aborts the message (the connection is closed so that no
    # part of it is delivered) and is re-raised here. Returns and raises as
    # #sendmail.
    def sendmail_stream(from_addr, to_addrs, source, mail_options = [], rcpt_options = [], size: nil,
                        line_endings: :normalize)
      from = Args.address(from_addr, 'from_addr')
      to, n_to, keep_to = Args.cstr_array(to_addrs, 'to_addrs', address: true)
      mopts, n_mopts, ropts, n_ropts, keep_opts = Args.options(mail_options, rcpt_options)
      flags = Args.msg_flags(line_endings)
      size_hint = size.nil? ? Args.size_hint(source) : Integer(size)
      reader = Callbacks::Reader.new(source)
      fn = reader.function
      begin
        transaction([from, keep_to, keep_opts], reader) do |h|
          Native.smtp_session_sendmail_stream(h, from, to, n_to, fn, nil, size_hint, mopts, n_mopts, ropts, n_ropts,
                                              flags, nil, nil)
        end
      ensure
        fn.free
      end
    end

    # smtplib's send_message on a raw RFC 5322 message (a String): the
    # envelope comes from its Sender/From, To, Cc and Bcc fields (Resent-*
    # with one Resent-Date) unless from_addr / to_addrs are given; Bcc is
    # not sent. #sender then says which sender was used. Returns and raises
    # as #sendmail.
    def send_message(msg, from_addr = nil, to_addrs = nil, mail_options = [], rcpt_options = [],
                     line_endings: :normalize)
      send_message_via(nil, msg, from_addr, to_addrs, mail_options, rcpt_options, line_endings)
    end

    # Send many messages on this connection, each with its own envelope
    # and outcome: messages is an Array of [from, to, msg] (msg a String)
    # or of Hashes {from:, to:, msg:, line_endings:}. With PIPELINING one
    # round trip per message; with CHUNKING too, messages go without
    # waiting for replies. Returns one BatchResult per message, in order: a
    # message that was not sent has its exception in #error (the first of
    # them with the library's detailed message); once the connection is lost
    # the rest get SMTPServerDisconnected. Raises only when the arguments
    # are refused (nothing sent) or the session cannot be used.
    # #recipients describes the last message afterwards.
    def sendmail_batch(messages)
      batch_via(nil, messages)
    end

    # --- the forms Smtp::Pool runs on this session (pool: its pointer) -----

    # @api private
    def sendmail_via(pool, from_addr, to_addrs, msg, mail_options, rcpt_options, line_endings)
      from = Args.address(from_addr, 'from_addr')
      to, n_to, keep_to = Args.cstr_array(to_addrs, 'to_addrs', address: true)
      mopts, n_mopts, ropts, n_ropts, keep_opts = Args.options(mail_options, rcpt_options)
      buf, len = Args.bytes(msg)
      flags = Args.msg_flags(line_endings)
      transaction([from, keep_to, keep_opts, buf]) do |h|
        if pool
          Native.smtp_pool_sendmail(pool, h, from, to, n_to, buf, len, mopts, n_mopts, ropts, n_ropts, flags, nil, nil)
        else
          Native.smtp_session_sendmail(h, from, to, n_to, buf, len, mopts, n_mopts, ropts, n_ropts, flags, nil, nil)
        end
      end
    end

    # @api private
    def send_message_via(pool, msg, from_addr, to_addrs, mail_options, rcpt_options, line_endings)
      from = Args.address(from_addr, 'from_addr')
      to, n_to, keep_to = to_addrs.nil? ? [nil, 0, nil] : Args.cstr_array(to_addrs, 'to_addrs', address: true)
      mopts, n_mopts, ropts, n_ropts, keep_opts = Args.options(mail_options, rcpt_options)
      buf, len = Args.bytes(msg)
      flags = Args.msg_flags(line_endings)
      transaction([from, keep_to, keep_opts, buf]) do |h|
        if pool
          Native.smtp_pool_send_message(pool, h, buf, len, from, to, n_to, mopts, n_mopts, ropts, n_ropts, flags, nil)
        else
          Native.smtp_session_send_message(h, buf, len, from, to, n_to, mopts, n_mopts, ropts, n_ropts, flags, nil)
        end
      end
    end

    # @api private
    def batch_via(pool, messages)
      batch = Args::Batch.new(messages)
      return [] if batch.empty?

      synchronize do
        rc = native(net: true) do
          if pool
            Native.smtp_pool_sendmail_batch(pool, @handle, batch.items, batch.size)
          else
            Native.smtp_session_sendmail_batch(@handle, batch.items, batch.size)
          end
        end
        # Refused arguments change no item's outputs: nothing was sent.
        raise build_error(rc) if !rc.zero? && batch.untouched?

        detailed = false
        batch.results.map do |from, code, refused_count, rcpt_codes|
          error = nil
          unless code.zero?
            # The library's errmsg describes the first message that failed.
            detail = !detailed && code == rc
            detailed ||= detail
            error = batch_error(code, from, detail)
          end
          BatchResult.new(error, refused_count, rcpt_codes)
        end
      end
    end

    private

    def batch_error(code, from, detail)
      klass = Smtp.error_class(code)
      msg = detail ? Native.text(Native.smtp_session_errmsg(@handle)) : Smtp.result_str(code)
      if klass <= SMTPSenderRefused
        klass.new(msg, sender: from, result: code)
      else
        klass.new(msg, result: code)
      end
    end
  end
end
