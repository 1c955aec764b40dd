# frozen_string_literal: true

# Shared setup: loads the binding from bindings/ruby/lib and starts the
# repository's aiosmtpd test servers (once per run, with --parent-pid so
# they exit with us even if we are killed).

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
  PYTHON = ENV.fetch('SMTP_TEST_PYTHON', File.join(ROOT, 'build/venv/bin/python'))
  TMP = Dir.mktmpdir('libsmtp-ruby-')

  # sink.py under a wrapper that turns aiosmtpd's INFO logging on, so the
  # tests can see every command line the server received ("PEER >> b'...'").
  SINK_WRAPPER = <<~PY
    import logging, runpy, sys
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    script = sys.argv[1]
    sys.argv = sys.argv[1:]
    runpy.run_path(script, run_name="__main__")
  PY

  Server = Struct.new(:pid, :port, :dir, :log)

  @servers = {}
  @lock = Monitor.new # reentrant: a server's start may need the PKI

  class << self
    def sink
      server(:sink) do |name|
        dir = File.join(TMP, 'mail')
        spawn_server(name, ['-c', SINK_WRAPPER, script('sink.py'), '--dir', dir], dir)
      end
    end

    def auth
      server(:auth) { |name| spawn_server(name, [script('auth_server.py')], nil) }
    end

    # tls_server.py in +mode+ (:starttls or :implicit) with a certificate
    # for localhost and 127.0.0.1 from a trustme CA (#ca_file).
    def tls(mode)
      server(:"tls_#{mode}") do |name|
        dir = File.join(TMP, name.to_s)
        spawn_server(name, [script('tls_server.py'), '--mode', mode.to_s, '--cert', pki[:cert], '--key', pki[:key],
                            '--dir', dir], dir)
      end
    end

    def ca_file
      pki[:ca]
    end

    def stop_all
      @servers.each_value do |s|
        Process.kill('TERM', s.pid)
      rescue Errno::ESRCH
        nil
      end
      @servers.each_value do |s|
        Process.wait(s.pid)
      rescue Errno::ECHILD
        nil
      end
      FileUtils.rm_rf(TMP)
    end

    # The lines the sink logged for the connection whose EHLO/HELO named
    # +helo_name+: the commands it received, lower-cased.
    def commands_seen(helo_name, wait_for: nil)
      deadline = Time.now + 5
      loop do
        lines = File.readlines(sink.log, chomp: true)
        peer = lines.filter_map { |l| l[/\A(.*) >> b'(?:ehlo|helo) #{Regexp.escape(helo_name)}'\z/i, 1] }.first
        cmds = peer ? lines.filter_map { |l| l.start_with?("#{peer} >> b'") && l[/>> b'(.*)'\z/, 1]&.downcase } : []
        return cmds if wait_for.nil? || cmds.any? { |c| c.start_with?(wait_for) } || Time.now > deadline

        sleep 0.05
      end
    end

    # Messages the sink stored while the block ran: [[eml bytes, envelope]].
    def deliveries(&block)
      deliveries_in(sink.dir, &block)
    end

    def deliveries_in(dir)
      before = Dir.glob(File.join(dir, '*.eml'))
      yield
      (Dir.glob(File.join(dir, '*.eml')) - before).sort.map do |eml|
        [File.binread(eml), JSON.parse(File.read(eml.sub(/\.eml\z/, '.json')))]
      end
    end

    private

    def pki
      @lock.synchronize do
        @pki ||= begin
          paths = { ca: File.join(TMP, 'ca.pem'), cert: File.join(TMP, 'cert.pem'), key: File.join(TMP, 'key.pem') }
          code = <<~PY
            import sys, trustme
            ca = trustme.CA()
            cert = ca.issue_cert("localhost", "127.0.0.1")
            ca.cert_pem.write_to_path(sys.argv[1])
            cert.cert_chain_pems[0].write_to_path(sys.argv[2])
            cert.private_key_pem.write_to_path(sys.argv[3])
          PY
          system(PYTHON, '-c', code, paths[:ca], paths[:cert], paths[:key], exception: true)
          paths
        end
      end
    end

    def script(name)
      File.join(ROOT, 'tests/servers', name)
    end

    def server(name)
      @lock.synchronize { @servers[name] ||= yield(name) }
    end

    def spawn_server(name, args, dir)
      port_file = File.join(TMP, "#{name}.port")
      log = File.join(TMP, "#{name}.log")
      pid = Process.spawn(PYTHON, *args, '--port-file', port_file, '--parent-pid', Process.pid.to_s,
                          out: File::NULL, err: log)
      deadline = Time.now + 30
      until File.exist?(port_file)
        if Process.wait(pid, Process::WNOHANG) || Time.now > deadline
          raise "#{name} server did not start:\n#{File.exist?(log) ? File.read(log) : ''}"
        end

        sleep 0.05
      end
      Server.new(pid, Integer(File.read(port_file)), dir, log)
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

  # A unique EHLO name, to find this test's connection in the sink's log.
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
