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
  end
end
