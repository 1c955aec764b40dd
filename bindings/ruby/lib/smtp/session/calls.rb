# frozen_string_literal: true

module Smtp
  class Session
    # How often an interrupted call's cancel is repeated until that call
    # has ended (see #blocking), in seconds.
    INTERRUPT_REPEAT = 0.005

    # The fiber-local of a worker thread where a callback that has no call
    # object of its own (the pool's auth block) leaves its exception.
    CALLBACK_ERROR = :__libsmtp_callback_error

    # @api private: the smtp_session pointer (Smtp::Pool.new's template).
    def native_handle
      handle!
    end

    # @api private: raise the exception for result code rc of a call on
    # this session (nothing for 0).
    def check_result(rc)
      synchronize { check(rc) }
    end

    private

    # The session's monitor, except on the worker thread of the session's
    # running call: there a block of that call (trace, SASL, read) is
    # calling back into the session, which the library refuses with
    # SMTP_ERR_BAD_STATE; taking the monitor would wait forever for the
    # caller, who holds it while it waits for the worker.
    def synchronize(&block)
      return yield if Thread.current.equal?(@call_thread)

      @lock.synchronize(&block)
    end

    # Run one C call under the lock, counting depth (for #free from a
    # callback) and raising what a trace block raised during it. net: the
    # call may wait on the network: it runs through #blocking.
    def native(net: false)
      synchronize do
        handle!
        outermost = @depth.zero?
        @depth += 1
        begin
          # The call #cancel may end (a call from inside a callback is part
          # of the outer one).
          @cancel_lock.synchronize { @running_call = (@call_seq += 1) } if outermost
          rc = net && outermost ? blocking { yield } : yield
        ensure
          @depth -= 1
          @cancel_lock.synchronize { @running_call = nil } if outermost
        end
        if @trace_block && (error = Callbacks::Trace.take_error(@id))
          raise error
        end

        rc
      end
    end

    # Run a blocking C call so that the caller can be interrupted: the
    # call runs on a worker thread (which releases the GVL inside the
    # library) while the caller waits in Thread#value, where Thread#raise,
    # Thread#kill, Timeout.timeout and Interrupt reach it at once (a thread
    # inside a C function only sees them when the function returns: ruby-ffi
    # gives the library no way to be woken). When the wait is interrupted,
    # the ensure clause cancels the call (smtp_session_cancel: it returns
    # within 100 ms) and waits for the worker, with further interrupts
    # deferred, so that the session is never left in use by an orphaned
    # thread; then the interrupt goes on. The cancel is repeated until the
    # worker ends, as the call may not have entered the library yet.
    def blocking(&call)
      Thread.handle_interrupt(Object => :never) do
        worker = Thread.new do
          Thread.current.report_on_exception = false
          @call_thread = Thread.current
          call.call
        end
        begin
          rc = Thread.handle_interrupt(Object => :immediate) { worker.value }
          error = worker[CALLBACK_ERROR]
          raise error if error

          rc
        ensure
          while worker.alive?
            Native.smtp_session_cancel(@handle)
            worker.join(INTERRUPT_REPEAT)
          end
          @call_thread = nil
        end
      end
    end

    # A const getter. From inside one of the session's callbacks the
    # library answers getters with its NULL-session defaults, so refuse.
    def getter
      synchronize do
        h = handle!
        raise SMTPBadStateError.new(IN_CALLBACK, result: 3) if @depth.positive?

        yield h
      end
    end

    IN_CALLBACK = 'the session cannot be used from inside its own callback'

    # A call that returns only a result code (raised when not 0).
    def call_checked(net: false)
      synchronize do
        rc = native(net: net) { yield @handle }
        check(rc)
      end
      nil
    end

    # A call with an int *code out-parameter; returns [code, reply text].
    # keep: objects to hold until the call returns. bridge: a callback
    # bridge whose block's exception is re-raised first.
    def with_code(_keep = nil, bridge = nil)
      synchronize do
        code = FFI::MemoryPointer.new(:int)
        rc = native(net: true) { yield @handle, code }
        raise bridge.error if bridge&.error

        check(rc)
        value = code.read_int
        value = Native.smtp_session_last_reply_code(@handle) if value.zero? # calls without int *code
        [value, Native.text(Native.smtp_session_last_reply_text(@handle))]
      end
    end

    # sendmail and its forms: the refused dict, or the mapped exception.
    def transaction(_keep, bridge = nil)
      synchronize do
        rc = native(net: true) { yield @handle }
        raise bridge.error if bridge&.error

        check(rc)
        refused_recipients
      end
    end

    def check(rc)
      return if rc.zero?

      raise build_error(rc)
    end

    def build_error(rc)
      klass = Smtp.error_class(rc)
      # Inside a callback of an outer call the session's state is not
      # readable (see #getter); the result code says enough.
      return klass.new("#{Smtp.result_str(rc)}: #{IN_CALLBACK}", result: rc) if @depth.positive?

      msg = Native.text(Native.smtp_session_errmsg(@handle))
      if klass <= SMTPSenderRefused
        # The sender the library used (send_message's choice included).
        klass.new(msg, sender: Native.text(Native.smtp_session_sender(@handle)), result: rc, **reply_kw)
      elsif klass <= SMTPRecipientsRefused
        klass.new(msg, recipients: refused_recipients, result: rc)
      elsif Smtp.result_has_reply?(rc) # the library's answer (smtp_result_has_reply)
        klass.new(msg, result: rc, **reply_kw)
      else
        klass.new(msg, result: rc)
      end
    end

    def reply_kw
      { smtp_code: Native.smtp_session_last_reply_code(@handle),
        smtp_error: Native.text(Native.smtp_session_last_reply_text(@handle)) }
    end

    # The live handle; SMTPBadStateError once freed.
    def handle!
      @handle or raise SMTPBadStateError.new('the session has been freed', result: 3)
    end
  end
end
