# frozen_string_literal: true

module Smtp
  # A MIME message built field by field and part by part (smtp_message):
  # addresses with display names, Subject, Date, Message-ID, other header
  # fields, a text and an HTML part, attachments from a String, a file or
  # an IO, inline parts for the HTML, and DKIM. Sent by
  # Session#send_composed or Pool#send_composed (the envelope from its
  # fields, Bcc not written), or written out by #to_s / #write.
  #
  #   m = Smtp::Message.new(from: 'Zoë <zoe@example.com>', to: 'bob@example.com', subject: 'Report',
  #                         text: "See attached.\n", html: '<p>See <b>attached</b>.</p>')
  #   m.attach(File.open('report.pdf', 'rb'))     # read a chunk at a time while sent
  #   m.attach("a,b\n1,2\n", filename: 'data.csv')
  #   session.send_composed(m)                     # => {} or the refused recipients
  #
  # What the library writes (smtp.h, struct smtp_message): CRLF line ends,
  # folded fields with non-ASCII text as RFC 2047 encoded words and file
  # names as RFC 2231 parameters; text and HTML as multipart/alternative,
  # inline parts with the HTML in multipart/related, attachments after
  # them in multipart/mixed. Date and Message-ID are made at the first
  # write when not set, then kept: every later write gives the same bytes.
  #
  # A message serves one call at a time (the C message is one thread at a
  # time): a call while another thread writes or sends it, or from one of
  # its own IO attachments' blocks, raises SMTPBadStateError. Freed by the
  # garbage collector or at once by #free.
  class Message
    BUSY = 'the message is being written or sent (by another thread, or this is one of its own blocks)'

    # The keywords call the setters of the same names (to, cc, bcc and
    # reply_to: #add_to and the others, with an address or a list; headers:
    # #add_header for each pair of a Hash or an Array of pairs; dkim: an
    # Smtp::DKIM).
    def initialize(from: nil, sender: nil, to: nil, cc: nil, bcc: nil, reply_to: nil, subject: nil, date: nil,
                   message_id: nil, headers: nil, text: nil, html: nil, dkim: nil)
      @handle = FFI::AutoPointer.new(Native.smtp_message_new, Native.method(:smtp_message_free))
      @lock = Mutex.new
      @attachments = Callbacks::Attachments.new
      self.from = from if from
      self.sender = sender if sender
      add_to(to) if to
      add_cc(cc) if cc
      add_bcc(bcc) if bcc
      add_reply_to(reply_to) if reply_to
      self.subject = subject if subject
      self.date = date if date
      self.message_id = message_id if message_id
      headers&.each { |name, value| add_header(name, value) }
      self.text = text if text
      self.html = html if html
      self.dkim = dkim if dkim
    end

    # --- header fields ------------------------------------------------------

    # From (RFC 5322 3.6.2), replacing any before: "Zoë <zoe@example.com>",
    # "zoe@example.com", or several separated by commas. Required. Its
    # first mailbox is the envelope sender unless #sender= is set.
    def from=(addr)
      set(:smtp_message_set_from, Args.cstr(addr, 'from'))
    end

    # Sender (one mailbox), the envelope sender when set; nil removes it.
    def sender=(addr)
      set(:smtp_message_set_sender, Args.cstr(addr, 'sender'))
    end

    # Add To recipients: each argument a mailbox, several separated by
    # commas, or an Array of them. To, Cc and Bcc together are the
    # envelope's recipients. Returns self.
    def add_to(*addrs)
      add_addresses(:smtp_message_add_to, addrs, 'to')
    end

    def add_cc(*addrs)
      add_addresses(:smtp_message_add_cc, addrs, 'cc')
    end

    # Bcc: the envelope only, no Bcc field is ever written.
    def add_bcc(*addrs)
      add_addresses(:smtp_message_add_bcc, addrs, 'bcc')
    end

    def add_reply_to(*addrs)
      add_addresses(:smtp_message_add_reply_to, addrs, 'reply_to')
    end

    # Any UTF-8 text without CR, LF or NUL (encoded and folded as needed).
    def subject=(subject)
      set(:smtp_message_set_subject, Args.cstr(subject, 'subject'))
    end

    # A Time (its instant and UTC offset), anything with #to_time, or
    # Integer seconds since the epoch (written in UTC). Unset: the time of
    # the first write, in UTC.
    def date=(time)
      unix, offset = if time.is_a?(Integer)
                       [time, 0]
                     elsif time.is_a?(Time) || time.respond_to?(:to_time) # DateTime, Date
                       t = time.is_a?(Time) ? time : time.to_time
                       [t.to_i, (t.utc_offset / 60.0).round]
                     else
                       raise TypeError, "date must be a Time or Integer seconds, not #{time.class}"
                     end
      exclusive { |m| check(Native.smtp_message_set_date(m, unix, offset)) }
    end

    # "id@domain", angle brackets optional. Unset: 128 random bits at the
    # From domain, made at the first write.
    def message_id=(id)
      set(:smtp_message_set_message_id, Args.cstr(id, 'message_id'))
    end

    # Any other field (In-Reply-To, References, List-Unsubscribe, X-...),
    # written after the builder's own in the order added; the fields the
    # builder writes itself (From, To, Subject, Date, Content-*, ...) raise
    # Smtp::ArgumentError. Returns self.
    def add_header(name, value)
      c_name = Args.cstr(name, 'header name')
      c_value = Args.cstr(value, 'header value')
      exclusive { |m| check(Native.smtp_message_add_header(m, c_name, c_value)) }
      self
    end

    # --- parts ----------------------------------------------------------------

    # The plain text part (UTF-8; any line ends, written as CRLF); nil
    # removes it.
    def text=(text)
      set_body(:smtp_message_set_text, text, 'text')
    end

    # The HTML part, as #text=. With a text part too, the two are
    # alternatives; inline parts (#add_inline) go with it.
    def html=(html)
      set_body(:smtp_message_set_html, html, 'html')
    end

    # Attach +source+ as +filename+ (nil: none; a File's own name) of
    # +content_type+ ("type/subtype"; nil: guessed from the file name, else
    # application/octet-stream), written base64:
    # - a String: its bytes, copied now;
    # - a Pathname: the file, as #attach_file;
    # - an IO or anything with #read(n) (File, StringIO, a pipe, a
    #   Zlib::GzipReader...), or with #each yielding Strings: read a chunk
    #   at a time while the message is written or sent, never whole. A
    #   seekable source (or an Array) is rewound for each later write (DKIM
    #   reads every part twice; a pool may send again); another can be
    #   written once (a second write raises Smtp::ArgumentError), and DKIM then
    #   raises Smtp::ArgumentError at the write. An exception the source raises aborts the write or send (a
    #   connection is closed mid-message, so nothing partial is delivered)
    #   and is raised by that call. No SIZE= is announced (the size is
    #   unknown). The message keeps the source until it is freed.
    # Returns self.
    def attach(source, filename: nil, content_type: nil)
      if defined?(Pathname) && source.is_a?(Pathname)
        return attach_file(source.to_s, filename: filename, content_type: content_type)
      end

      c_type = Args.cstr(content_type, 'content_type')
      if source.is_a?(String)
        buf, len = Args.bytes(source, 'attachment')
        c_name = Args.cstr(filename, 'filename')
        exclusive { |m| check(Native.smtp_message_attach_memory(m, buf, len, c_name, c_type)) }
      else
        filename ||= File.basename(source.path) if source.is_a?(File) && source.path
        c_name = Args.cstr(filename, 'filename')
        exclusive do |m|
          read, rewind = @attachments.add(source)
          check(Native.smtp_message_attach_callback(m, read, rewind, nil, c_name, c_type))
        end
      end
      self
    end

    # Attach the file at +path+, opened and read a chunk at a time each
    # time the message is written or sent (a missing file raises
    # Smtp::ArgumentError then, before anything is sent; one that fails
    # mid-message SMTPIOError). filename nil: the path's last component.
    # Returns self.
    def attach_file(path, filename: nil, content_type: nil)
      c_path = Args.cstr(path.to_s, 'path')
      c_name = Args.cstr(filename, 'filename')
      c_type = Args.cstr(content_type, 'content_type')
      exclusive { |m| check(Native.smtp_message_attach_file(m, c_path, c_name, c_type)) }
      self
    end

    # A part the HTML shows as "cid:content_id" (RFC 2392; content_id
    # printable ASCII, unique in the message), from a String's bytes
    # (copied now). content_type nil: application/octet-stream. Written
    # with the HTML in multipart/related (RFC 2387). Returns self.
    def add_inline(data, content_id, content_type: nil)
      buf, len = Args.bytes(data, 'inline data')
      c_id = Args.cstr(content_id, 'content_id')
      c_type = Args.cstr(content_type, 'content_type')
      exclusive { |m| check(Native.smtp_message_add_inline_memory(m, buf, len, c_id, c_type)) }
      self
    end

    # #add_inline from the file at +path+, read when written (content_type
    # nil: guessed from the path). Returns self.
    def add_inline_file(path, content_id, content_type: nil)
      c_path = Args.cstr(path.to_s, 'path')
      c_id = Args.cstr(content_id, 'content_id')
      c_type = Args.cstr(content_type, 'content_type')
      exclusive { |m| check(Native.smtp_message_add_inline_file(m, c_path, c_id, c_type)) }
      self
    end

    # Sign every write and send with a copy of +signer+'s settings as they
    # are now (an Smtp::DKIM with key, domain and selector); nil stops
    # signing. Files are read twice then, IO attachments rewound.
    def dkim=(signer)
      unless signer.nil? || signer.is_a?(DKIM)
        raise TypeError, "dkim must be an Smtp::DKIM or nil, not #{signer.class}"
      end

      exclusive do |m|
        rc = signer ? signer.with_handle { |d| Native.smtp_message_set_dkim(m, d) } : Native.smtp_message_set_dkim(m, nil)
        check(rc)
      end
    end

    # --- writing --------------------------------------------------------------

    # The whole message as it would be sent, DKIM-Signature included (a
    # binary String). Reads the attachments; raises Smtp::ArgumentError
    # without From, SMTPIOError when a file cannot be read, or what an IO
    # attachment raised.
    def to_s
      data = FFI::MemoryPointer.new(:pointer)
      len = FFI::MemoryPointer.new(:size_t)
      bytes = nil
      writing do |m|
        rc = Native.smtp_message_bytes(m, data, len)
        # Copied before the lock is let go: valid until the next call.
        bytes = data.read_pointer.read_bytes(len.read(:size_t)) if rc.zero?
        rc
      end
      bytes
    end
    alias bytes to_s

    # Write the message in pieces of at most 64 KiB, never whole in memory:
    # to io.write (or io << for a sink without #write), or to the block.
    # Returns the number of bytes written. Raises as #to_s, and what the
    # sink raised (the write stops there).
    def write(io = nil, &block)
      raise ::ArgumentError, 'write needs an IO or a block' if io.nil? && block.nil?

      sink = block || (io.respond_to?(:write) ? ->(s) { io.write(s) } : ->(s) { io << s })
      writer = Callbacks::Writer.new(sink)
      fn = writer.function
      begin
        writing do |m|
          rc = Native.smtp_message_write(m, fn, nil)
          raise writer.error if writer.error

          rc
        end
      ensure
        fn.free
      end
      writer.count
    end

    # What the message's last call did ("no error", or which field,
    # address or file was refused). A send reports on the session instead
    # (Session#errmsg).
    def errmsg
      exclusive { |m| Native.text(Native.smtp_message_errmsg(m)) }
    end

    # Release the message now, with its copies of attachments. Idempotent;
    # later calls raise SMTPBadStateError.
    def free
      return nil if @handle.nil?

      exclusive do |m|
        @handle = nil
        m.free
        @attachments.clear
      end
      nil
    end
    alias dispose free

    def freed?
      @handle.nil?
    end

    def inspect
      "#<#{self.class}#{' freed' if freed?}>"
    end

    # @api private (Session#send_composed): the smtp_message pointer for
    # one send, and the bridge whose #error is what an IO attachment raised.
    def sending
      writing_prepared { |m| yield m, @attachments }
    end

    private

    # Run the block with the handle, the message marked in use: a second
    # call meanwhile (another thread, or a block of this one on any thread)
    # raises instead of waiting, which could never end when the waiting
    # thread is the one the first call waits for.
    def exclusive
      raise SMTPBadStateError.new(BUSY, result: 3) unless @lock.try_lock

      begin
        yield handle!
      ensure
        @lock.unlock
      end
    end

    # A write: the IO attachments' errors forgotten first; the block's
    # result code checked, what a source raised going first.
    def writing
      writing_prepared do |m|
        rc = yield m
        error = @attachments.error
        raise error if error

        check(rc, m)
      end
    end

    def writing_prepared
      exclusive do |m|
        @attachments.reset
        yield m
      end
    end

    def set(function, c_arg)
      exclusive { |m| check(Native.public_send(function, m, c_arg)) }
    end

    def add_addresses(function, addrs, what)
      list = addrs.flatten
      raise Smtp::ArgumentError.new("#{what}: no address given", result: 2) if list.empty?

      list.each_with_index do |addr, i|
        c_addr = Args.cstr(addr, "#{what}[#{i}]")
        exclusive { |m| check(Native.public_send(function, m, c_addr)) }
      end
      self
    end

    def set_body(function, body, what)
      if body.nil?
        exclusive { |m| check(Native.public_send(function, m, nil, 0)) }
      else
        str = String.try_convert(body)
        raise TypeError, "#{what} must be a String, not #{body.class}" unless str

        buf, len = Args.bytes(Args.utf8(str, what), what)
        exclusive { |m| check(Native.public_send(function, m, buf, len)) }
      end
    end

    def check(rc, m = handle!)
      return nil if rc.zero?

      raise Smtp.error_class(rc).new(Native.text(Native.smtp_message_errmsg(m)), result: rc)
    end

    def handle!
      @handle or raise SMTPBadStateError.new('the message has been freed', result: 3)
    end
  end
end
