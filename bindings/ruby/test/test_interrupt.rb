# frozen_string_literal: true

require_relative 'test_helper'
require 'timeout'

# Ruby's async idiom is threads: a call waits without the GVL (other
# threads run), and Thread#raise, Thread#kill, Timeout.timeout and Ctrl-C
# end it within 100 ms (Session#blocking cancels it in an ensure). Against
# the runner's "slow" server, which waits 2 s before each greeting.
class TestInterrupt < Minitest::Test
  include SmtpTestHelpers

  LIMIT = 0.1 # the issue's bound, in seconds

  Stop = Class.new(StandardError)

  def setup
    @slow = TestServers[:slow]
    @threads = []
  end

  def teardown
    @threads.each { |t| ended(t.kill) }
  end

  def timing(what, seconds)
    puts format('timing: %-58s %6.1f ms', what, seconds * 1000)
  end

  # A session waiting for the slow greeting on another thread, inside
  # the library (connected, the greeting 2 s away).
  def waiting_call(session)
    t = in_thread { session.connect(@slow.host, @slow.port) }
    sleep 0.3
    assert_equal 'sleep', t.status, 'the call is not waiting'
    t
  end

  # The session was cancelled (connection closed) and is usable again.
  def assert_usable_after(session)
    refute session.connected?, 'the interrupted call left the connection open'
    assert_equal 220, session.connect(HOST, sink_port)[0]
    assert_equal 250, session.noop[0]
    assert_equal 221, session.quit[0]
  end

  # Interrupt (the block) a thread waiting in connect: the call ends
  # within LIMIT, and the session is usable again. Returns the thread.
  def assert_interrupt_ends_the_call(what)
    s = Smtp::Session.new(timeout: 30)
    t = waiting_call(s)
    started = now
    yield t
    assert ended(t), 'the call did not end'
    elapsed = now - started
    timing("#{what} on a thread waiting in connect", elapsed)
    assert_operator elapsed, :<, LIMIT
    refute t.alive?
    assert_usable_after(s)
    t
  ensure
    s&.free
  end

  def test_thread_raise_ends_the_call
    t = assert_interrupt_ends_the_call('Thread#raise') { |thread| thread.raise(Stop, 'enough') }
    e = assert_raises(Stop) { t.value }
    assert_equal 'enough', e.message
  end

  def test_thread_kill_ends_the_call
    t = assert_interrupt_ends_the_call('Thread#kill', &:kill)
    assert_nil t.value # a killed thread has no value
  end

  def test_timeout_ends_the_call
    s = Smtp::Session.new(timeout: 30)
    started = now
    assert_raises(Timeout::Error) { Timeout.timeout(0.3) { s.connect(@slow.host, @slow.port) } }
    overshoot = now - started - 0.3
    timing('Timeout.timeout(0.3) around connect: time past 0.3 s', overshoot)
    assert_operator overshoot, :<, LIMIT
    assert_usable_after(s)
  ensure
    s&.free
  end

  def test_ctrl_c_ends_the_call_on_the_main_thread
    s = Smtp::Session.new(timeout: 30)
    sent_at = nil
    in_thread do
      sleep 0.3
      sent_at = now
      Process.kill('INT', Process.pid)
    end
    assert_raises(Interrupt) { s.connect(@slow.host, @slow.port) }
    elapsed = now - sent_at
    timing('SIGINT (Interrupt) on the main thread waiting in connect', elapsed)
    assert_operator elapsed, :<, LIMIT
    assert_usable_after(s)
  ensure
    s&.free
  end

  def test_interrupt_at_any_moment_of_the_call
    # The interrupt may come before the C function has begun (the worker
    # just started): the cancel is repeated until the call has ended.
    s = Smtp::Session.new(timeout: 30)
    worst = 0
    12.times do |i|
      t = in_thread { s.connect(@slow.host, @slow.port) }
      sleep(i * 0.0005)
      started = now
      t.raise(Stop)
      assert ended(t)
      worst = [worst, now - started].max
      assert_raises(Stop) { t.value }
      refute s.connected?
    end
    timing('Thread#raise within 6 ms of the call starting (worst of 12)', worst)
    assert_operator worst, :<, LIMIT
    assert_usable_after(s)
  ensure
    s&.free
  end

  def test_other_threads_tick_while_a_call_waits_on_the_slow_server
    ticks = []
    ticker = in_thread do
      loop do
        ticks << now
        sleep 0.01
      end
    end
    started = now
    code, = Smtp::Session.start(@slow.host, @slow.port, timeout: 10) { |s| s.noop }
    waited = now - started
    ticker.kill.join
    gaps = ticks.each_cons(2).map { |a, b| b - a }
    timing("longest gap between ticks (#{ticks.size} ticks) while connect waited", gaps.max)
    assert_equal 250, code
    assert_operator waited, :>=, 1.9, 'the slow server greeted early: nothing was waited for'
    assert_operator gaps.max, :<=, LIMIT
    assert_operator ticks.size, :>, 100
  end

  def test_concurrent_calls_on_one_session_queue
    # A session serves one call at a time: a second thread's call waits
    # for the first to end, then runs (it neither fails nor interleaves).
    s = Smtp::Session.new(timeout: 10)
    order = Queue.new
    first = in_thread { s.connect(@slow.host, @slow.port).tap { order << :connect } }
    sleep 0.2
    second = in_thread { s.noop.tap { order << :noop } }
    assert_equal [220, 250], [first.value[0], second.value[0]]
    assert_equal %i[connect noop], [order.pop, order.pop]
  ensure
    s&.free
  end
end
