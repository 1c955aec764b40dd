# frozen_string_literal: true

# Shared setup: loads the binding from bindings/ruby/lib and finds the test
# servers of tests/servers/servers.json. scripts/run_tests.py starts the
# servers every binding gets (BINDING_SERVERS) and exports their addresses
# (LIBSMTP_<NAME>, LIBSMTP_<NAME>_DIR, LIBSMTP_TLS_FILES); a server it did
# not start, or any server when the suite runs outside the runner, is
# started here once from the same description, with --parent-pid so it
# exits with us.

$LOAD_PATH.unshift File.expand_path('../lib', __dir__)
require 'smtp'
require 'minitest/autorun'
require 'json'
require 'socket'
require 'tmpdir'
require 'fileutils'
require 'monitor'

module TestServers
  ROOT = File.expand_path('../../..', __dir__)
  SPEC = JSON.parse(File.read(File.join(ROOT, 'tests/servers/servers.json')))
  PYTHON = File.join(ROOT, SPEC['python'])

  Server = Struct.new(:host, :port, :dir) do
    def address
      "#{host}:#{port}"
    end
  end

  @servers = {}
  @started = []
  @lock = Monitor.new # reentrant: a server's start may need the TLS files
  @tmp = nil

  class << self
    # Server +name+ of servers.json (a Symbol): the runner's, else one
    # started here.
    def [](name)
      @lock.synchronize { @servers[name] ||= from_env(name) || start(name) }
    end

    def sink = self[:sink]
    def auth = self[:auth]

    # The runner's test CA directory (ca.pem, cert.pem, key.pem, ca-dir/),
    # else one made here the same way.
    def tls_files
      @lock.synchronize do
        @tls_files ||= ENV['LIBSMTP_TLS_FILES'] || make_tls_files
      end
    end

    def ca_file
      File.join(tls_files, 'ca.pem')
    end

    def stop_all
      @started.each do |pid|
        Process.kill('TERM', pid)
        Process.wait(pid)
      rescue Errno::ESRCH, Errno::ECHILD
        nil
      end
      FileUtils.rm_rf(@tmp) if @tmp
    end

    # Messages the sink stored while the block ran: [[eml bytes, envelope]].
    def deliveries(&block)
      deliveries_in(sink.dir, &block)
    end

    def deliveries_in(dir)
      before = Dir.glob(File.join(dir, '*.eml'))
      yield
      # The server writes the files once it has answered the final dot:
      # wait a little for the last one.
      deadline = Time.now + 2
      loop do
        added = (Dir.glob(File.join(dir, '*.eml')) - before).sort
        jsons = added.map { |eml| eml.sub(/\.eml\z/, '.json') }
        break if jsons.all? { |j| File.exist?(j) } || Time.now > deadline

        sleep 0.02
      end
      (Dir.glob(File.join(dir, '*.eml')) - before).sort.map do |eml|
        [File.binread(eml), JSON.parse(File.read(eml.sub(/\.eml\z/, '.json')))]
      end
    end

    private

    def tmp
      @tmp ||= Dir.mktmpdir('libsmtp-ruby-')
    end

    def from_env(name)
      addr = ENV["LIBSMTP_#{name.upcase}"]
      return nil if addr.nil? || addr.empty?

      host, port = addr.split(':')
      Server.new(host, Integer(port), ENV["LIBSMTP_#{name.upcase}_DIR"])
    end

    # As scripts/run_tests.py's start_server.
    def start(name)
      desc = SPEC['servers'].fetch(name.to_s)
      vars = SPEC['vars'].transform_keys(&:to_sym)
      vars[:tls] = tls_files if desc['args'].any? { |a| a.include?('{tls}') }
      args = desc['args'].map { |a| a.gsub(/\{(\w+)\}/) { vars.fetch(Regexp.last_match(1).to_sym) } }
      port_file = File.join(tmp, "#{name}.port")
      log = File.join(tmp, "#{name}.log")
      dir = desc['dir'] ? File.join(tmp, name.to_s) : nil
      args += ['--dir', dir] if dir
      pid = Process.spawn(PYTHON, File.join(ROOT, 'tests/servers', desc['script']), *args, '--port-file', port_file,
                          '--parent-pid', Process.pid.to_s, out: log, err: log)
      @started << pid
      deadline = Time.now + SPEC['ready_within_s']
      until File.exist?(port_file) && !File.read(port_file).strip.empty?
        if Process.wait(pid, Process::WNOHANG) || Time.now > deadline
          raise "#{name} server did not start:\n#{File.exist?(log) ? File.read(log) : ''}"
        end

        sleep 0.05
      end
      Server.new('127.0.0.1', Integer(File.read(port_file)), dir)
    end

    def make_tls_files
      dir = File.join(tmp, 'tls')
      FileUtils.mkdir_p(File.join(dir, 'ca-dir'))
      code = <<~PY
        import sys, trustme
        d = sys.argv[1]
        ca = trustme.CA()
        cert = ca.issue_cert("localhost", "127.0.0.1")
        ca.cert_pem.write_to_path(d + "/ca.pem")
        ca.cert_pem.write_to_path(d + "/ca-dir/ca.pem")
        cert.cert_chain_pems[0].write_to_path(d + "/cert.pem")
        cert.private_key_pem.write_to_path(d + "/key.pem")
      PY
      system(PYTHON, '-c', code, dir, exception: true)
      dir
    end
  end
end

Minitest.after_run { TestServers.stop_all }

module SmtpTestHelpers
  HOST = '127.0.0.1'

  MESSAGE = "From: Alice <alice@example.com>\r\n" \
            "To: Bob <bob@example.com>\r\n" \
            "Subject: =?utf-8?q?caf=C3=A9?=\r\n" \
            "\r\n" \
            "Hello, Bob.\r\n" \
            ".a line starting with a dot\r\n" \
            "..two dots\r\n" \
            ".\r\n" \
            "caf\xC3\xA9, binary \xFF\xFE bytes\r\n" \
            "End.\r\n".b

  def sink_port
    TestServers.sink.port
  end

  def auth_port
    TestServers.auth.port
  end

  def now
    Process.clock_gettime(Process::CLOCK_MONOTONIC)
  end

  # The command lines session +s+ sends from now on (its trace at debug
  # level 1, smtplib's "send: 'ehlo x\\r\\n'"), as the server receives
  # them without CRLF ("ehlo x").
  def record_commands(s)
    sent = []
    s.set_debuglevel(1)
    s.set_trace { |dir, line| sent << command_of(line) if dir == :send }
    sent
  end

  def command_of(trace_line)
    trace_line.chomp[/\Asend: '(.*?)(?:\\r\\n)?'\z/m, 1] || trace_line
  end

  # Run the block on a new thread (kept in @threads for teardown); its
  # exception is taken by #value.
  def in_thread(&block)
    t = Thread.new(&block)
    t.report_on_exception = false
    (@threads ||= []) << t
    t
  end

  # Thread +thread+, once it has ended (within 5 s; Thread#join re-raises
  # its exception, which the test reads with #value), else nil.
  def ended(thread)
    thread.join(5)
  rescue Exception # rubocop:disable Lint/RescueException -- the thread's own end
    thread
  end

  # A unique EHLO name.
  def unique_name(tag)
    "#{tag}-#{Process.pid}-#{rand(1 << 30)}.test"
  end

  # A TCP port nothing listens on.
  def closed_port
    server = TCPServer.new(HOST, 0)
    port = server.addr[1]
    server.close
    port
  end
end
