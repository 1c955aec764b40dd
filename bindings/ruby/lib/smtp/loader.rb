# frozen_string_literal: true

module Smtp
  # The library a gem built by dist.sh carries, next to this file.
  BUNDLED_LIBRARY = File.join(__dir__, 'libsmtp.so.0')

  # Where libsmtp is loaded from, the first that applies:
  # 1. the library bundled in the gem (lib/smtp/libsmtp.so.0), so an
  #    installed gem needs no environment at all;
  # 2. ENV['LIBSMTP_PATH'] (a path to the shared library), when set;
  # 3. `pkg-config --variable=libdir smtp` + "/libsmtp.so" (PKG_CONFIG_PATH
  #    is honoured, as pkg-config reads it), when pkg-config knows smtp;
  # 4. 'smtp', left to the dynamic loader (LD_LIBRARY_PATH, ld.so.cache).
  # 2 to 4 serve a checkout (bindings/ruby/lib on the load path) with a
  # libsmtp installed by `make install`.
  #
  # When the bundled library does not load (a system older than the one it
  # was built for: it needs glibc 2.34), the next one is tried
  # (library_candidates); Smtp.loaded_library says which one loaded.
  def self.library_path
    library_candidates.first
  end

  # The libraries ffi tries, in order: the bundled one (when the gem has
  # it), then the first of 2 to 4 above.
  def self.library_candidates
    found = installed_library_path
    File.exist?(BUNDLED_LIBRARY) ? [BUNDLED_LIBRARY, found] : [found]
  end

  def self.installed_library_path
    env = ENV['LIBSMTP_PATH']
    return env if env && !env.empty?

    libdir = pkg_config_libdir
    if libdir
      candidate = File.join(libdir, 'libsmtp.so')
      return candidate if File.exist?(candidate)
    end
    'smtp'
  end

  def self.pkg_config_libdir
    out = IO.popen(%w[pkg-config --variable=libdir smtp], err: File::NULL, &:read)
    return nil unless $?.success?

    dir = out.strip
    dir.empty? ? nil : dir
  rescue SystemCallError
    nil # no pkg-config
  end
  private_class_method :pkg_config_libdir, :installed_library_path
end
