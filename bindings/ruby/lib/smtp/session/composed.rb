# frozen_string_literal: true

module Smtp
  class Session
    # Send an Smtp::Message as #send_message sends a raw one (smtp.h,
    # smtp_session_send_composed()): EHLO or HELO if needed; the envelope
    # sender is its Sender, else its first From; the recipients every To,
    # Cc and Bcc (no Bcc field is written); SMTPUTF8 and BODY=8BITMIME when
    # an address needs them; SIZE= when every part's size is known. The
    # message streams as the connection takes it, attachments read a chunk
    # at a time on the call's worker thread (interrupts and #cancel work as
    # for #sendmail). A message that cannot be written (no From, a missing
    # file) raises Smtp::ArgumentError before anything is sent; a part that
    # fails mid-message (a file read error, an IO attachment that raises)
    # closes the connection, so nothing partial is delivered: SMTPIOError,
    # or what the IO raised. Returns and raises as #sendmail (#errmsg says
    # which field or file a message error was about); #sender and
    # #recipients describe it afterwards.
    def send_composed(message, mail_options = [], rcpt_options = [])
      send_composed_via(nil, message, mail_options, rcpt_options)
    end

    # @api private
    def send_composed_via(pool, message, mail_options, rcpt_options)
      raise TypeError, "message must be an Smtp::Message, not #{message.class}" unless message.is_a?(Message)

      mopts, n_mopts, ropts, n_ropts, keep_opts = Args.options(mail_options, rcpt_options)
      message.sending do |m, attachments|
        transaction(keep_opts, attachments) do |h|
          if pool
            Native.smtp_pool_send_composed(pool, h, m, mopts, n_mopts, ropts, n_ropts, nil)
          else
            Native.smtp_session_send_composed(h, m, mopts, n_mopts, ropts, n_ropts, nil)
          end
        end
      end
    end
  end
end
