# frozen_string_literal: true

module Smtp
  module Callbacks
    # One IO attachment of a Smtp::Message (smtp_message_attach_callback):
    # sendmail_stream's Reader (source.read(n), or the pieces source.each
    # yields), plus the smtp_rewind_fn the library calls before each later
    # write of the part: smtp.h's smtp_message_set_dkim() reads every part
    # twice (body hash, then bytes), a pool sends again on a new
    # connection, and #to_s after a send writes again.
    #
    # Rewindable are a seekable source (File, StringIO, Tempfile: back to
    # the position it had when attached) and an Array of Strings; anything
    # else (a pipe, a socket, an Enumerator) is given no rewind callback,
    # so the library writes it once and refuses a second write, or DKIM,
    # with SMTP_ERR_INVALID_ARGUMENT.
    class Attachment < Reader
      def initialize(source)
        super
        @start = start_position(source)
      end

      def rewindable?
        !@start.nil? || @source.is_a?(Array)
      end

      # The smtp_rewind_fn (an FFI::Function), nil when not rewindable.
      def rewind_function
        rewindable? ? FFI::Function.new(:int, [:pointer], method(:rewind)) : nil
      end

      # The smtp_rewind_fn: 0 when done, -1 to fail the write. Never
      # raises, never jumps.
      def rewind(_userdata)
        return -1 if @error

        _, error = Callbacks.guard(-1) { restart }
        @error ||= error
        error ? -1 : 0
      end

      # Forget what failed in an earlier write: the message is written again.
      def reset
        @error = nil
      end

      private

      def restart
        @pending = nil
        @pieces = nil # an Array is enumerated afresh
        @source.seek(@start) if @start
      end

      # Where a seekable source stands now; nil for one that cannot seek
      # (IO#pos on a pipe or socket raises Errno::ESPIPE).
      def start_position(source)
        return nil unless source.respond_to?(:seek) && source.respond_to?(:pos)

        Integer(source.pos)
      rescue StandardError
        nil
      end
    end

    # The IO attachments of one message and their FFI::Functions, which the
    # library may call until the message is freed (smtp.h,
    # smtp_message_attach_callback()), so they live as long as the message.
    # #error is the first exception a source raised during the current
    # write or send (Session#transaction re-raises it as a bridge's).
    class Attachments
      def initialize
        @sources = []
        @functions = []
      end

      # [read function, rewind function or nil] of a new attachment.
      def add(source)
        bridge = Attachment.new(source)
        read = bridge.function
        rewind = bridge.rewind_function
        @sources << bridge
        @functions << read << rewind
        [read, rewind]
      end

      # Before a write or send: errors of earlier ones are forgotten.
      def reset
        @sources.each(&:reset)
      end

      def error
        @sources.each { |s| return s.error if s.error }
        nil
      end

      # Once the message is freed: nothing calls them any more.
      def clear
        @functions.compact.each(&:free)
        @functions.clear
        @sources.clear
      end
    end

    # The sink of Message#write, a smtp_write_fn: each piece (a binary
    # String of at most 64 KiB) goes to the callable given. #count is the
    # number of bytes it took.
    class Writer
      SIGNATURE = %i[pointer pointer size_t].freeze

      attr_reader :error, :count

      def initialize(sink)
        @sink = sink
        @error = nil
        @count = 0
      end

      def function
        FFI::Function.new(:int, SIGNATURE, method(:call))
      end

      # The smtp_write_fn: 0 to go on, 1 to stop (the write then fails
      # with SMTP_ERR_IO and Message#write raises what the sink raised).
      # Never raises, never jumps.
      def call(_userdata, buf, len)
        return 1 if @error

        _, error = Callbacks.guard(1) do
          @sink.call(buf.read_bytes(len))
          @count += len
        end
        @error ||= error
        error ? 1 : 0
      end
    end
  end
end
