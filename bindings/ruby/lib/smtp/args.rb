# frozen_string_literal: true

module Smtp
  # Turning Ruby arguments into C ones. Every text argument is copied into
  # its own NUL-terminated buffer (FFI::MemoryPointer), kept alive by the
  # caller until the C call returns. CR, LF and invalid UTF-8 are left to the
  # library, which refuses them before sending anything; a NUL byte cannot be
  # carried by a C string, so it is refused here (Smtp::ArgumentError).
  module Args
    module_function

    # A String (or Symbol) as a C string; nil gives NULL.
    def cstr(value, what)
      return FFI::Pointer::NULL if value.nil?

      FFI::MemoryPointer.from_string(text(value, what))
    end

    # The bytes a C string made from +value+ will hold.
    def text(value, what)
      s = value.is_a?(Symbol) ? value.to_s : String.try_convert(value)
      raise TypeError, "#{what} must be a String, not #{value.class}" unless s

      if s.include?("\0")
        raise Smtp::ArgumentError.new("#{what} contains a NUL byte", result: 2)
      end

      utf8(s, what)
    end

    # A String as the library reads text: UTF-8 (or ASCII, or binary left
    # to the library to check), another encoding transcoded.
    def utf8(s, what)
      case s.encoding
      when Encoding::UTF_8, Encoding::US_ASCII, Encoding::BINARY
        s
      else
        begin
          s.encode(Encoding::UTF_8)
        rescue EncodingError => e
          raise Smtp::ArgumentError.new("#{what}: #{e.message}", result: 2)
        end
      end
    end

    # An address as a C string. CR and LF are refused here: the library
    # refuses them in sendmail's addresses, but mail, rcpt, verify and expn
    # follow smtplib's quoteaddr, which parses the address and drops them
    # ("a\r@example.com" is sent as <a@example.com>, "x\ny" as "x").
    def address(value, what)
      ptr = cstr(value, what)
      unless ptr.null?
        bytes = ptr.read_string
        if bytes.include?("\r") || bytes.include?("\n")
          raise Smtp::ArgumentError.new("#{what} contains CR or LF, which cannot go on a command line", result: 2)
        end
      end
      ptr
    end

    # An array of strings as (const char *const *, count, keepalive). A
    # single String counts as a one-element list (smtplib's to_addrs);
    # nil and [] give (NULL, 0).
    def cstr_array(list, what, address: false)
      list = [list] if list.is_a?(String)
      list = Array(list)
      return [FFI::Pointer::NULL, 0, nil] if list.empty?

      strings = list.each_with_index.map do |v, i|
        address ? address(v, "#{what}[#{i}]") : cstr(v, "#{what}[#{i}]")
      end
      array = FFI::MemoryPointer.new(:pointer, strings.size)
      array.write_array_of_pointer(strings)
      [array, strings.size, strings]
    end

    # A message body as (const uint8_t *, len): any String, its bytes as
    # they are (binary-safe).
    def bytes(value, what = 'msg')
      s = String.try_convert(value)
      raise TypeError, "#{what} must be a String, not #{value.class}" unless s
      return [FFI::Pointer::NULL, 0] if s.bytesize.zero?

      buf = FFI::MemoryPointer.new(:uint8, s.bytesize)
      buf.put_bytes(0, s)
      [buf, s.bytesize]
    end

    # mail_options and rcpt_options as (mail ptr, n, rcpt ptr, n, keepalive).
    def options(mail_options, rcpt_options)
      mopts, n_mopts, keep_m = cstr_array(mail_options, 'mail_options')
      ropts, n_ropts, keep_r = cstr_array(rcpt_options, 'rcpt_options')
      [mopts, n_mopts, ropts, n_ropts, [keep_m, keep_r]]
    end

    # The size a stream source has left, for SIZE=: a File's or StringIO's
    # size less its position; -1 (unknown) for anything else.
    def size_hint(source)
      return -1 unless source.respond_to?(:size) && source.respond_to?(:pos)

      left = Integer(source.size) - Integer(source.pos)
      left.negative? ? -1 : left
    rescue StandardError
      -1
    end

    # A descriptor for the library to own, duplicated from an IO (or
    # anything with #to_io or #fileno), which stays the caller's.
    def dup_fd(io)
      io = io.to_io if io.respond_to?(:to_io)
      raise TypeError, "socket must be an IO or an Integer descriptor, not #{io.class}" unless io.respond_to?(:fileno)

      copy = IO.for_fd(io.fileno, autoclose: false).dup # dup(2), close-on-exec
      copy.autoclose = false # from now on the library's
      copy.fileno
    end

    def auth_flags(initial_response_ok, allow_cleartext)
      (initial_response_ok ? 0 : Native::AUTH_NO_INITIAL_RESPONSE) |
        (allow_cleartext ? Native::AUTH_ALLOW_CLEARTEXT : 0)
    end

    LINE_ENDINGS = {
      normalize: Native::MSG_NORMALIZE,
      raw: Native::MSG_RAW,
      reject_bare_eol: Native::MSG_REJECT_BARE_EOL
    }.freeze

    # line_endings: :normalize (lone CR/LF become CRLF, the default), :raw
    # (bytes as given) or :reject_bare_eol (a lone CR or LF is refused).
    def msg_flags(line_endings)
      LINE_ENDINGS.fetch(line_endings) do
        raise Smtp::ArgumentError.new(
          "line_endings must be one of #{LINE_ENDINGS.keys.map(&:inspect).join(', ')}, not #{line_endings.inspect}",
          result: 2
        )
      end
    end
  
    # The smtp_batch_item array of one batch call and what keeps its
    # pointers alive. Each message: [from, to, msg] or {from:, to:, msg:,
    # line_endings:}.
    class Batch
      UNSET = -1 # a result the library has not written

      attr_reader :items, :size

      def initialize(messages)
        list = Array(messages)
        @size = list.size
        @keep = []
        @entries = []
        return if @size.zero?

        @items = FFI::MemoryPointer.new(Native::BatchItem, @size)
        list.each_with_index { |message, i| add(i, message) }
      end

      def empty?
        @size.zero?
      end

      def untouched?
        @entries.all? { |item, _, _| item[:result] == UNSET }
      end

      # [from, result, refused_count, {addr => rcpt code}] per message.
      def results
        @entries.map do |item, from, to|
          codes = to.empty? ? [] : item[:rcpt_codes].read_array_of_int(to.size)
          [from, item[:result], item[:refused_count], to.zip(codes).to_h]
        end
      end

      private

      def add(index, message)
        from, to, msg, line_endings = fields(index, message)
        what = "messages[#{index}]"
        c_from = Args.address(from, "#{what} from")
        to = [to] if to.is_a?(String)
        to = Array(to)
        c_to, n_to, keep_to = Args.cstr_array(to, "#{what} to", address: true)
        buf, len = Args.bytes(msg, "#{what} msg")
        codes = n_to.zero? ? FFI::Pointer::NULL : FFI::MemoryPointer.new(:int, n_to)
        item = Native::BatchItem.new(@items + (index * Native::BatchItem.size))
        item[:from] = c_from
        item[:to] = c_to
        item[:to_count] = n_to
        item[:msg] = buf
        item[:len] = len
        item[:flags] = Args.msg_flags(line_endings || :normalize)
        item[:result] = UNSET
        item[:refused_count] = 0
        item[:rcpt_codes] = codes
        @keep << [c_from, keep_to, buf, codes]
        @entries << [item, from, to.map(&:to_s)]
      end

      def fields(index, message)
        case message
        when Hash
          message.fetch(:from) { raise ::ArgumentError, "messages[#{index}] has no :from" }
          message.values_at(:from, :to, :msg, :line_endings)
        when Array
          message
        else
          raise TypeError, "messages[#{index}] must be [from, to, msg] or a Hash, not #{message.class}"
        end
      end
    end
  end
end
