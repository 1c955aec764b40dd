# frozen_string_literal: true

require_relative 'test_helper'

# The binding against the header: every smtp_* function of include/smtp.h
# is attached in Smtp::Native or excluded, with a reason, in
# Smtp::Native::NOT_BOUND; and the constants Native copies have the
# header's values. A new C function fails this test until it is bound or
# excluded.
class TestCoverage < Minitest::Test
  HEADER = File.join(TestServers::ROOT, 'include/smtp.h')

  def header
    @header ||= File.read(HEADER)
  end

  # The functions the header declares: a name followed by "(" at the start
  # of a declaration (after the return type), not in a comment.
  def declared
    code = header.gsub(%r{/\*.*?\*/}m, '')
    code.scan(/^[a-z][\w\s*]*?\b(smtp_\w+)\(/).flatten.uniq.sort
  end

  def bound
    Smtp::Native.singleton_methods.map(&:to_s).grep(/\Asmtp_/).sort
  end

  def test_every_function_bound_or_excluded
    excluded = Smtp::Native::NOT_BOUND.keys.sort
    assert_operator declared.size, :>=, 117, 'the header parse found too few functions'
    assert_empty declared - bound - excluded, 'functions of smtp.h neither bound nor in NOT_BOUND'
    assert_empty bound - declared, 'bound functions the header does not declare'
    assert_empty excluded - declared, 'NOT_BOUND names functions the header does not declare'
    assert_empty bound & excluded, 'functions both bound and excluded'
    Smtp::Native::NOT_BOUND.each_value { |why| refute_empty why.to_s }
    puts "coverage: #{bound.size} bound, #{excluded.size} excluded, #{declared.size} in smtp.h"
  end

  def test_constants_match_the_header
    defines = header.scan(/^#define SMTP_(\w+) (-?\d+)$/).to_h { |name, value| [name, Integer(value)] }
    consts = Smtp::Native.constants.select { |c| Smtp::Native.const_get(c).is_a?(Integer) }
    refute_empty consts
    consts.each do |c|
      assert defines.key?(c.to_s), "Native::#{c} is not a #define of smtp.h"
      assert_equal defines[c.to_s], Smtp::Native.const_get(c), "Native::#{c}"
    end
    # The groups the binding exposes by name, complete.
    %w[TIMEOUT_ DSN_NOTIFY_ BODY_ ROOTS_ POOL_STAT_ KIND_ MSG_].each do |prefix|
      names = defines.keys.grep(/\A#{prefix}/)
      assert_empty names.map(&:to_sym) - consts, "#{prefix}* constants of smtp.h missing"
    end
    pool_options = defines.keys.grep(/\APOOL_/).reject { |n| n.start_with?('POOL_STAT_') }
    assert_equal pool_options.map { |n| defines[n] }.sort, Smtp::Pool::OPTIONS.values.sort
    stats = defines.keys.grep(/\APOOL_STAT_/)
    assert_equal stats.map { |n| defines[n] }.sort, Smtp::Pool::STATS.values.sort
    assert_equal defines.keys.grep(/\ATIMEOUT_/).map { |n| defines[n] }.sort, Smtp::Session::TIMEOUTS.values.sort
  end

  def test_struct_layouts
    # The header's structs, as Native lays them out (x86_64 / LP64).
    assert_equal 80, Smtp::Native::RcptInfo.size
    assert_equal 64, Smtp::Native::BatchItem.size
    rcpt = header[/typedef struct smtp_rcpt_info \{(.*?)\} smtp_rcpt_info;/m, 1].gsub(%r{/\*.*?\*/}m, '')
    assert_equal Smtp::Native::RcptInfo.members.map(&:to_s), rcpt.scan(/(\w+);/).flatten
    item = header[/typedef struct smtp_batch_item \{(.*?)\} smtp_batch_item;/m, 1].gsub(%r{/\*.*?\*/}m, '')
    assert_equal Smtp::Native::BatchItem.members.map(&:to_s), item.scan(/(\w+);/).flatten
  end
end
