# frozen_string_literal: true

# Run by test.sh with the gem from dist.sh installed in a fresh GEM_HOME,
# under `env -i` (no LIBSMTP_*, LD_LIBRARY_PATH or PKG_CONFIG_PATH) and
# outside the repository: the gem must load its own library and send.
#   ruby gem_smoke.rb HOST:PORT TOKEN
require 'libsmtp'

def fail!(why)
  abort "gem_smoke: #{why}"
end

addr, token = ARGV
leaked = ENV.keys.grep(/\A(LIBSMTP_|LD_LIBRARY_PATH\z|PKG_CONFIG_PATH\z)/)
fail!("environment set: #{leaked}") unless leaked.empty?

spec = Gem.loaded_specs.fetch('libsmtp')
home = File.realpath(ENV.fetch('GEM_HOME'))
in_home = File.realpath(spec.full_gem_path).start_with?(home)
fail!("libsmtp loaded from #{spec.full_gem_path}, not GEM_HOME") unless in_home
bundled = File.join(spec.full_gem_path, 'lib/smtp/libsmtp.so.0')
fail!("loaded #{Smtp.loaded_library}, not the bundled #{bundled}") unless Smtp.loaded_library == bundled
mapped = File.readlines('/proc/self/maps').grep(/libsmtp\.so/).map { |l| l.split.last }.uniq
fail!("libsmtp mapped from #{mapped}") unless mapped == [File.realpath(bundled)]

# The declared dependency, satisfied by the ffi this process loaded.
dep = spec.runtime_dependencies.find { |d| d.name == 'ffi' } or fail!('no ffi dependency declared')
ffi = Gem.loaded_specs.fetch('ffi')
fail!("ffi #{ffi.version} does not satisfy #{dep}") unless dep.requirement.satisfied_by?(ffi.version)

# require 'smtp' is the same library, from the gem.
require 'smtp'
smtp_rb = $LOADED_FEATURES.find { |f| f.end_with?('/lib/smtp.rb') }
fail!("smtp.rb from #{smtp_rb}") unless smtp_rb&.start_with?(spec.full_gem_path)

host, port = addr.split(':')
msg = "From: alice@example.com\r\nTo: bob@example.com\r\nSubject: #{token}\r\n\r\nsent by the installed gem\r\n"
refused = Smtp::Session.start(host, Integer(port), timeout: 10) do |s|
  s.sendmail('alice@example.com', ['bob@example.com'], msg)
end
fail!("refused: #{refused}") unless refused.empty?
puts "gem: libsmtp #{spec.version} (#{spec.platform}) in #{home}, depends on #{dep}, " \
     "ffi #{ffi.version} from #{ffi.full_gem_path}; library #{Smtp.loaded_library} (#{Smtp.lib_version}); sent"
