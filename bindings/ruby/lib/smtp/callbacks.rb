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

    # The SASL bridge of one smtp_session_auth() call (the authobject).
    # Yields nil for the initial response, then each decoded challenge
    # (a binary String); the block returns the response (a String, sent as
    # its bytes) or nil: no initial response when asked for one, an abort
    # ("*") when answering a challenge.
    class Sasl
      SIGNATURE = %i[pointer pointer size_t pointer size_t pointer].freeze

      attr_reader :error

      def initialize(block)
        @block = block
        @pending = nil # a response waiting for a bigger buffer
        @error = nil
      end

      # An FFI::Function calling #call; the caller keeps it referenced for
      # the duration of the C call and frees it afterwards.
      def function
        FFI::Function.new(:int, SIGNATURE, method(:call))
      end

      # The smtp_sasl_fn. Never raises, never jumps.
      def call(_userdata, challenge, challenge_len, response, response_cap, response_len)
        return 0 if @error # an earlier step failed: keep aborting

        verdict, error = Callbacks.guard(0) do
          step(challenge, challenge_len, response, response_cap, response_len)
        end
        @error ||= error
        verdict
      end

      private

      def step(challenge, challenge_len, response, response_cap, response_len)
        if @pending.nil?
          data = challenge.null? ? nil : challenge.read_bytes(challenge_len)
          answer = @block.call(data)
          if answer.nil?
            # nil to the initial request: the mechanism has none. nil to a
            # challenge: cancel the exchange.
            return data.nil? ? Native::SASL_NO_INITIAL_RESPONSE : 0
          end
          str = String.try_convert(answer)
          raise TypeError, "the auth block must return a String or nil, not #{answer.class}" unless str

          @pending = str.b
        end
        if @pending.bytesize > response_cap
          # The library calls again with a buffer this large; @pending is
          # kept so the block is not asked twice for one step.
          response_len.write(:size_t, @pending.bytesize)
          return Native::SASL_NEED_SPACE
        end
        response.put_bytes(0, @pending) unless @pending.empty?
        response_len.write(:size_t, @pending.bytesize)
        @pending = nil
        Native::SASL_CONTINUE
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
