# frozen_string_literal: true

module Smtp
  class Session
    # One recipient of the last transaction (smtp_session_rcpt_info):
    # the RCPT reply (code, text, status), on LMTP the reply after the data
    # (data_code 0 when none), and final_*: the reply that decided its fate
    # (what smtplib's refused dict reports).
    Recipient = Struct.new(:addr, :refused, :code, :text, :status, :data_code, :data_text, :data_status,
                           :final_code, :final_text, :final_status) do
      alias_method :refused?, :refused
    end

    def connected?
      getter { |h| Native.smtp_session_is_connected(h) == 1 }
    end

    def encrypted?
      getter { |h| Native.smtp_session_is_encrypted(h) == 1 }
    end

    def tls_version
      getter { |h| Native.text(Native.smtp_session_tls_version(h)) }
    end

    def tls_cipher
      getter { |h| Native.text(Native.smtp_session_tls_cipher(h)) }
    end

    # The connection's socket descriptor (nil when not connected): to poll
    # it or read its address (Socket.for_fd(fd).remote_address, with
    # autoclose off), never to read, write or close it.
    def fileno
      fd = getter { |h| Native.smtp_session_fileno(h) }
      fd.negative? ? nil : fd
    end

    # What the last call did ("no error" after success).
    def errmsg
      getter { |h| Native.text(Native.smtp_session_errmsg(h)) }
    end

    def last_reply_code
      getter { |h| Native.smtp_session_last_reply_code(h) }
    end

    def last_reply_text
      getter { |h| Native.text(Native.smtp_session_last_reply_text(h)) }
    end

    # smtplib's ehlo_resp / helo_resp (nil when none).
    def ehlo_resp
      getter { |h| Native.text(Native.smtp_session_ehlo_resp(h)) }
    end

    def helo_resp
      getter { |h| Native.text(Native.smtp_session_helo_resp(h)) }
    end

    # smtplib's does_esmtp.
    def does_esmtp?
      getter { |h| Native.smtp_session_does_esmtp(h) == 1 }
    end
    alias does_esmtp does_esmtp?

    # smtplib's command_encoding: true ("utf-8") from a MAIL with the
    # SMTPUTF8 option until RSET, else false ("ascii").
    def utf8_commands?
      getter { |h| Native.smtp_session_utf8_commands(h) == 1 }
    end

    def command_encoding
      utf8_commands? ? 'utf-8' : 'ascii'
    end

    # smtplib's has_extn (case-insensitive).
    def has_extn?(name)
      arg = Args.cstr(name, 'name')
      getter { |h| Native.smtp_session_has_extn(h, arg) == 1 }
    end
    alias has_extn has_extn?

    # smtplib's esmtp_features: {"size" => "33554432", "8bitmime" => "", ...}
    # in the server's order.
    def esmtp_features
      getter do |h|
        (0...Native.smtp_session_feature_count(h)).to_h do |i|
          [Native.text(Native.smtp_session_feature_name(h, i)), Native.text(Native.smtp_session_feature_params(h, i))]
        end
      end
    end

    # One feature's parameters ("" when it has none), nil when not offered.
    def feature(name)
      arg = Args.cstr(name, 'name')
      getter { |h| Native.text(Native.smtp_session_feature(h, arg)) }
    end

    # The reverse-path of the last transaction (also the one send_message
    # chose from the headers); "" for the null sender, nil before any.
    def sender
      getter { |h| Native.text(Native.smtp_session_sender(h)) }
    end

    # The recipients of the last transaction, as Recipient structs.
    def recipients
      getter do |h|
        info = Native::RcptInfo.new
        (0...Native.smtp_session_rcpt_count(h)).map do |i|
          rc = Native.smtp_session_rcpt_info(h, i, info)
          raise build_error(rc) unless rc.zero?

          Recipient.new(Native.text(info[:addr]), info[:refused] == 1, info[:code], Native.text(info[:text]),
                        Native.text(info[:status]), info[:data_code], Native.text(info[:data_text]),
                        Native.text(info[:data_status]), info[:final_code], Native.text(info[:final_text]),
                        Native.text(info[:final_status]))
        end
      end
    end

    # smtplib's refused dict of the last transaction: {addr => [code, msg]},
    # with the reply that decided each (on LMTP, one after the data).
    def refused_recipients
      recipients.select(&:refused?).to_h { |r| [r.addr, [r.final_code, r.final_text]] }
    end
  end
end
