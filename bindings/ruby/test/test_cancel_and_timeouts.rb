# frozen_string_literal: true

require_relative 'test_helper'

# Session#cancel from another thread, and the timeouts (timeout: bounds
# every wait; one limit per phase by name). Only 127.0.0.1: servers made
# here that never speak or trickle, and the sink of test_helper.
class TestCancelAndTimeouts < Minitest::Test
  include SmtpTestHelpers

  def setup
    @servers = []
    @threads = []
    @clients = []
  end

  def teardown
    @threads.each do |t|
      t.kill.join(1)
    rescue Exception # rubocop:disable Lint/RescueException -- the thread's own end, already checked
      nil
    end
    (@clients + @servers).each { |io| io.close unless io.closed? }
  end

  def now
    Process.clock_gettime(Process::CLOCK_MONOTONIC)
  end

  # A server that accepts and never sends a byte.
  def silent_server
    server = TCPServer.new(HOST, 0)
    @servers << server
    server
  end

  # Accept one connection on +server+ within 5 s (the client's connect
  # then has completed: the library waits for the greeting).
  def accept(server)
    assert IO.select([server], nil, nil, 5), 'the client did not connect'
    client = server.accept
    @clients << client
    client
  end

  # A server that sends the greeting one byte per +interval+ seconds, never
  # ending the line, until the client goes away. Returns the port.
  def trickle_server(interval = 0.1)
    server = TCPServer.new(HOST, 0)
    @servers << server
    @threads << Thread.new do
      client = server.accept
      @clients << client
      ('220 slowly' + ('.' * 1000)).each_char do |c|
        client.write(c)
        client.flush
        sleep interval
      end
    rescue IOError, SystemCallError
      nil # the client closed: done
    end
    server.addr[1]
  end

  # A server that greets, then reads and never replies. Returns the port.
  def mute_after_greeting_server
    server = TCPServer.new(HOST, 0)
    @servers << server
    @threads << Thread.new do
      client = server.accept
      @clients << client
      client.write("220 ready\r\n")
      nil while client.readpartial(4096)
    rescue IOError, SystemCallError
      nil # the client closed: done
    end
    server.addr[1]
  end

  # The exception the thread ends with, within +limit+ seconds.
  def exception_of(thread, limit)
    assert thread.join(limit), "the call did not end within #{limit} s"
    thread.value
    flunk 'the call did not raise'
  rescue Minitest::Assertion
    raise
  rescue Exception => e # rubocop:disable Lint/RescueException
    e
  end

  def assert_closed_by_peer(client)
    assert IO.select([client], nil, nil, 2), 'the library did not close the connection'
    assert_nil client.read_nonblock(1, exception: false)
  rescue Errno::ECONNRESET
    nil # closed, too
  end

  # --- cancel -------------------------------------------------------------

  def test_cancel_while_connect_waits_for_the_greeting
    server = silent_server
    s = Smtp::Session.new(timeout: 30)
    t = in_thread { s.connect(HOST, server.addr[1]) }
    client = accept(server)
    sleep 0.2 # inside the library, waiting for a greeting that never comes
    assert t.alive?, 'connect returned without a greeting'

    started = now
    assert_equal true, s.cancel
    e = exception_of(t, 5)
    elapsed = now - started
    assert_instance_of Smtp::SMTPCancelledError, e
    assert_kind_of Smtp::SMTPTransportError, e
    assert_equal 16, e.result
    assert_operator elapsed, :<, 0.5, "cancel took #{elapsed} s"
    refute s.connected?
    assert_closed_by_peer(client)

    # The session is usable again: connect to the sink.
    assert_equal 220, s.connect(HOST, sink_port)[0]
    assert_equal 250, s.noop[0]
    assert_equal 221, s.quit[0]
  ensure
    s&.free
  end

  def test_cancel_as_soon_as_the_call_runs
    # cancel is true from when the call holds the session, possibly before
    # the C function has begun: the cancel must still end it.
    server = silent_server
    s = Smtp::Session.new(timeout: 30)
    t = in_thread { s.open(HOST, server.addr[1]) }
    deadline = now + 5
    until s.cancel
      flunk 'the call never started' if now > deadline || !t.alive?
      Thread.pass
    end
    started = now
    e = exception_of(t, 5)
    assert_instance_of Smtp::SMTPCancelledError, e
    assert_operator now - started, :<, 0.5
    refute s.connected?
  ensure
    s&.free
  end

  def test_cancel_from_a_trap_handler
    server = silent_server
    s = Smtp::Session.new(timeout: 30)
    old = trap('USR2') { s.cancel }
    t = in_thread { s.connect(HOST, server.addr[1]) }
    accept(server)
    sleep 0.1
    started = now
    Process.kill('USR2', Process.pid)
    e = exception_of(t, 5)
    assert_instance_of Smtp::SMTPCancelledError, e
    assert_operator now - started, :<, 0.5
  ensure
    trap('USR2', old || 'DEFAULT')
    s&.free
  end

  def test_cancel_from_inside_a_block_of_the_call
    # The trace block cancels its own call as NOOP goes out; the server
    # never replies, so only the cancel (not the 5 s timeout) ends it.
    port = mute_after_greeting_server
    s = Smtp::Session.new(:smtp, host: HOST, port: port, timeout: 5)
    armed = false
    s.set_debuglevel(1)
    s.set_trace { |_dir, _line| s.cancel if armed }
    armed = true
    started = now
    e = assert_raises(Smtp::SMTPCancelledError) { s.noop }
    assert_operator now - started, :<, 0.5
    assert_equal 16, e.result
    armed = false
    refute s.connected?
    assert_equal 220, s.connect(HOST, sink_port)[0]
    assert_equal 250, s.noop[0]
  ensure
    s&.free
  end

  def test_cancel_when_idle_does_nothing
    s = Smtp::Session.new(timeout: 5)
    assert_equal false, s.cancel # never connected
    assert_equal 220, s.connect(HOST, sink_port)[0]
    assert_equal false, s.cancel # connected, no call running
    sleep 0.05 # nothing left over to cancel the next call
    assert s.connected?
    assert_equal 250, s.noop[0]
    s.ehlo
    assert_equal({}, s.sendmail('alice@example.com', 'bob@example.com', MESSAGE))
    s.close
    assert_equal false, s.cancel # closed
    assert_equal 220, s.connect(HOST, sink_port)[0]
    assert_equal 221, s.quit[0]
    s.free
    assert_equal false, s.cancel # freed: no crash, nothing raised
    assert_equal false, s.cancel
  end

  def test_other_threads_run_while_a_call_waits
    server = silent_server
    s = Smtp::Session.new(timeout: 30)
    t = in_thread { s.connect(HOST, server.addr[1]) }
    accept(server)
    ticks = 0
    started = now
    ticks += 1 while now - started < 0.2 # busy Ruby code on this thread meanwhile
    assert_operator ticks, :>, 1000
    assert t.alive?
    s.cancel
    assert_instance_of Smtp::SMTPCancelledError, exception_of(t, 5)
  ensure
    s&.free
  end

  # --- timeouts -----------------------------------------------------------

  def test_timeout_bounds_a_trickled_greeting
    port = trickle_server(0.1)
    started = now
    e = assert_raises(Smtp::SMTPTimeoutError) { Smtp::Session.new(:smtp, host: HOST, port: port, timeout: 1) }
    elapsed = now - started
    assert_equal 11, e.result
    assert_operator elapsed, :<, 1.5, "took #{elapsed} s"
    assert_operator elapsed, :>=, 0.9, "took #{elapsed} s: not the 1 s limit"
  end

  def test_greeting_limit_alone
    port = trickle_server(0.1)
    s = Smtp::Session.new # library defaults: io 300 s would never fire
    s.set_timeout(:greeting, 0.5)
    started = now
    e = assert_raises(Smtp::SMTPTimeoutError) { s.connect(HOST, port) }
    elapsed = now - started
    assert_operator elapsed, :<, 1.0, "took #{elapsed} s"
    assert_operator elapsed, :>=, 0.4, "took #{elapsed} s"
    assert_match(/greeting/i, e.message)
    refute s.connected?
  ensure
    s&.free
  end

  def test_timeout_all_set_and_get
    s = Smtp::Session.new
    defaults = Smtp::Session::DEFAULT_TIMEOUT_MS
    assert_equal Smtp::Session::TIMEOUTS.keys - [:all], defaults.keys
    defaults.each do |which, ms|
      if ms.zero?
        assert_nil s.timeout(which), "default of #{which}"
      else
        assert_equal ms / 1000.0, s.timeout(which), "default of #{which}"
      end
    end
    assert_equal 600.0, s.timeout # the longest single wait

    s.timeout = 7
    Smtp::Session::PER_WAIT_TIMEOUTS.each { |which| assert_equal 7.0, s.get_timeout(which), which.to_s }
    assert_nil s.timeout(:call) # timeout= leaves the whole-call limit alone
    assert_equal 7.0, s.timeout
    assert_equal 7.0, s.get_timeout(:all)

    s.set_timeout(:all, 2.5)
    assert_equal 2.5, s.timeout(:all)
    assert_equal 2.5, s.timeout(:final_dot)
    s.set_timeout(:greeting, 20)
    assert_equal 20.0, s.timeout # :all is the longest
    s.set_timeout(:call, 60)
    assert_equal 60.0, s.timeout(:call)
    assert_equal 20.0, s.timeout
    s.set_timeout(:data_block, 0)
    assert_nil s.timeout(:data_block)
    assert_nil s.timeout # one limit is unlimited
    s.set_timeout(:io, 0.0001)
    assert_equal 0.001, s.timeout(:io) # never rounded down to "no limit"

    s.timeout = nil # the defaults again, but :call
    (defaults.keys - [:call]).each { |which| assert_equal defaults[which] / 1000.0, s.timeout(which) }
    assert_equal 60.0, s.timeout(:call)
    s.timeout = 0
    assert_nil s.timeout
    assert_nil s.timeout(:connect)

    %i[bogus timeout].each do |bad|
      assert_raises(Smtp::ArgumentError) { s.set_timeout(bad, 1) }
      assert_raises(::ArgumentError) { s.timeout(bad) }
      assert_raises(Smtp::ArgumentError) { s.get_timeout(bad) }
    end
    assert_raises(Smtp::ArgumentError) { s.set_timeout(:io, -1) }
    assert_raises(Smtp::ArgumentError) { s.set_timeout(:io, Float::NAN) }
    assert_raises(Smtp::ArgumentError) { s.set_timeout(:io, 5_000_000) }
    assert_raises(Smtp::ArgumentError) { s.set_timeout(:io, nil) }
    assert_raises(Smtp::ArgumentError) { s.set_timeout(:io, 'soon') }

    t = Smtp::Session.new(timeout: 3, timeouts: { call: 10, greeting: 1 })
    assert_equal 3.0, t.timeout(:io)
    assert_equal 1.0, t.timeout(:greeting)
    assert_equal 10.0, t.timeout(:call)
    assert_raises(Smtp::ArgumentError) { Smtp::Session.new(timeouts: { nope: 1 }) }
  ensure
    s&.free
    t&.free
  end
end
