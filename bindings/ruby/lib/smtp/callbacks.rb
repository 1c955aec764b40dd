# frozen_string_literal: true

module Smtp
  # Bridges from C callbacks into Ruby blocks. The rule of smtp.h: a
  # callback must return normally. So each one runs the Ruby block inside a
  # method that rescues every exception (Exception, not only StandardError)
  # and also stops a non-local exit (break, throw) with a `return` in its
  # ensure clause; what happened is kept and raised by the binding once the
  # C call has returned.
  module Callbacks
    NON_LOCAL_EXIT = 'a break, throw or similar jump out of the block; ' \
                     'it cannot pass through the C library'

    # Runs the block; returns [value, nil] or [fallback, exception].
    def self.guard(fallback)
      completed = false
      result = begin
        value = yield
        completed = true
        [value, nil]
      rescue LocalJumpError, UncaughtThrowError => e
        # A break or throw aimed past the callback: the block runs on the
        # call's worker thread (Session#blocking), where Ruby finds no
        # frame to jump to and raises one of these instead.
        completed = true
        [fallback, LocalJumpError.new("#{NON_LOCAL_EXIT} (#{e.message})")]
      rescue Exception => e # rubocop:disable Lint/RescueException -- nothing may unwind through C
        completed = true
        [fallback, e]
      ensure
        # Only reached without `completed` on break/throw/next-less jumps:
        # returning from ensure cancels the jump before it reaches C.
        return [fallback, LocalJumpError.new(NON_LOCAL_EXIT)] unless completed # rubocop:disable Lint/EnsureReturn
      end
      result
    end

    # The SASL bridge of one smtp_session_auth_step() call (the
    # authobject), a smtp_sasl_step_fn. Yields nil for the initial
    # response, then each decoded challenge (a binary String); the block
    # returns the response (a String of any length, given to the library
    # with smtp_sasl_respond) or nil: no initial response when asked for
    # one, an abort ("*") when answering a challenge.
    class Sasl
      SIGNATURE = %i[pointer pointer size_t pointer].freeze

      attr_reader :error

      def initialize(block)
        @block = block
        @error = nil
      end

      # An FFI::Function calling #call; the caller keeps it referenced for
      # as long as the library may call it, and frees it afterwards.
      def function
        FFI::Function.new(:int, SIGNATURE, method(:call))
      end

      # The smtp_sasl_step_fn. Never raises, never jumps.
      def call(_userdata, challenge, challenge_len, exchange)
        return 0 if @error # an earlier step failed: keep aborting

        verdict, error = Callbacks.guard(0) { step(challenge, challenge_len, exchange) }
        failed(error) if error
        verdict
      end

      private

      def failed(error)
        @error ||= error
      end

      def step(challenge, challenge_len, exchange)
        data = challenge.null? ? nil : challenge.read_bytes(challenge_len)
        answer = @block.call(data)
        if answer.nil?
          # nil to the initial request: the mechanism has none. nil to a
          # challenge: cancel the exchange.
          return data.nil? ? Native::SASL_NO_INITIAL_RESPONSE : 0
        end
        str = String.try_convert(answer)
        raise TypeError, "the auth block must return a String or nil, not #{answer.class}" unless str

        respond(exchange, str)
        Native::SASL_CONTINUE
      end

      def respond(exchange, str)
        buf = FFI::MemoryPointer.new(:uint8, [str.bytesize, 1].max)
        buf.put_bytes(0, str) unless str.empty?
        rc = Native.smtp_sasl_respond(exchange, buf, str.bytesize)
        buf.clear # the library has its copy (and wipes it once sent)
        raise Smtp.error_class(rc).new("SASL response refused: #{Smtp.result_str(rc)}", result: rc) unless rc.zero?
      end
    end

    # The pool's SASL bridge (smtp_pool_set_auth_step): one block for every
    # new connection, on the worker threads of the pool calls that open
    # them, several at once. So nothing sticks to the bridge: an exception
    # of the block aborts that exchange and goes to the worker thread's
    # CALLBACK_ERROR, which its pool call raises (Session#blocking).
    class PoolSasl < Sasl
      def call(userdata, challenge, challenge_len, exchange)
        return 0 if Thread.current[Session::CALLBACK_ERROR]

        super
      end

      private

      def failed(error)
        Thread.current[Session::CALLBACK_ERROR] ||= error
      end
    end

    # The message source of one smtp_session_sendmail_stream() call, a
    # smtp_read_fn: source.read(cap) (nil or "" at the end), or the pieces
    # source.each yields. A piece longer than the library's buffer is kept
    # for the next call.
    class Reader
      SIGNATURE = %i[pointer pointer size_t].freeze

      attr_reader :error

      def initialize(source)
        unless source.respond_to?(:read) || source.respond_to?(:each)
          raise TypeError, "a message source needs #read or #each, not #{source.class}"
        end

        @source = source
        @pieces = nil # the Enumerator of a source without #read
        @pending = nil
        @error = nil
      end

      def function
        FFI::Function.new(:ssize_t, SIGNATURE, method(:call))
      end

      # The smtp_read_fn: bytes written, 0 at the end, -1 to abort. Never
      # raises, never jumps.
      def call(_userdata, buf, cap)
        return -1 if @error

        count, error = Callbacks.guard(-1) { fill(buf, cap) }
        @error ||= error
        count
      end

      private

      def fill(buf, cap)
        piece = @pending || next_piece(cap)
        @pending = nil
        return 0 if piece.nil? || piece.empty?

        if piece.bytesize > cap
          @pending = piece.byteslice(cap, piece.bytesize - cap)
          piece = piece.byteslice(0, cap)
        end
        buf.put_bytes(0, piece)
        piece.bytesize
      end

      def next_piece(cap)
        piece = if @source.respond_to?(:read)
                  @source.read(cap)
                else
                  @pieces ||= @source.to_enum(:each)
                  begin
                    @pieces.next
                  rescue StopIteration
                    nil
                  end
                end
        return nil if piece.nil?

        str = String.try_convert(piece)
        raise TypeError, "a message source must give Strings, not #{piece.class}" unless str

        str.b
      end
    end

    # Trace callbacks: one FFI::Function for the whole process (so that no
    # session can ever call a freed closure, even from a finalizer), routed
    # by userdata, an id, to the block of the session that set it.
    class Trace
      DIRECTIONS = { Native::TRACE_INFO => :info, Native::TRACE_SEND => :send, Native::TRACE_RECV => :recv }.freeze

      # id => Entry. No Mutex: a finalizer may unregister at any point on
      # any thread, and single Hash operations are atomic under the GVL.
      @registry = {}

      class << self
        # Holds the block and the first exception it raised during a call.
        Entry = Struct.new(:block, :error)

        def register(id, block)
          @registry[id] = Entry.new(block, nil)
        end

        def unregister(id)
          @registry.delete(id)
        end

        # The exception a trace block raised since the last call, cleared.
        def take_error(id)
          entry = @registry[id]
          return nil unless entry

          error = entry.error
          entry.error = nil
          error
        end

        attr_reader :function

        # The smtp_trace_fn. Never raises, never jumps.
        def dispatch(userdata, direction, line, len)
          entry = @registry[userdata.address]
          return if entry.nil? || entry.error

          text = line.null? ? +'' : line.read_bytes(len)
          text.force_encoding(Encoding::UTF_8)
          text.force_encoding(Encoding::BINARY) unless text.valid_encoding?
          _, error = Callbacks.guard(nil) { entry.block.call(DIRECTIONS.fetch(direction, direction), text) }
          entry.error ||= error
          nil
        end
      end

      @function = FFI::Function.new(:void, %i[pointer int pointer size_t], method(:dispatch))
    end
  end
end
