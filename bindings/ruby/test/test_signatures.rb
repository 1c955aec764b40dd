# frozen_string_literal: true

require_relative 'test_helper'

# sig/libsmtp.rbs declares the whole public API: every public method of
# the binding's classes (but the @api private ones Pool uses) has a
# signature there, and the file loads into an RBS environment with Ruby's
# core signatures (rbs, a gem bundled with Ruby).
class TestSignatures < Minitest::Test
  SIG = File.expand_path('../sig', __dir__)

  # Public for Smtp::Pool's sake, not for users (marked @api private).
  INTERNAL = %i[native_handle check_result sendmail_via send_message_via batch_via send_composed_via sending
                with_handle].freeze

  def setup
    require 'rbs'
  rescue LoadError
    skip 'the rbs gem (bundled with Ruby) is not available'
  end

  def builder
    @builder ||= begin
      loader = RBS::EnvironmentLoader.new
      loader.add(path: Pathname(SIG))
      RBS::DefinitionBuilder.new(env: RBS::Environment.from_loader(loader).resolve_type_names)
    end
  end

  def declared(name, singleton: false)
    type = RBS::TypeName.new(name: name.to_sym, namespace: RBS::Namespace.parse('::Smtp'))
    definition = singleton ? builder.build_singleton(type) : builder.build_instance(type)
    definition.methods.keys
  end

  def test_every_public_method_is_declared
    [Smtp::Session, Smtp::Pool, Smtp::Envelope, Smtp::TLSConfig, Smtp::Message, Smtp::DKIM].each do |klass|
      name = klass.name.split('::').last
      mine = klass.public_instance_methods(false) - INTERNAL
      assert_empty mine - declared(name), "#{klass}: methods without a signature"
      assert_empty klass.singleton_methods(false) - %i[releaser next_id] - declared(name, singleton: true),
                   "#{klass}: class methods without a signature"
    end
    smtp = RBS::TypeName.new(name: :Smtp, namespace: RBS::Namespace.root)
    assert_empty Smtp.singleton_methods(false) - builder.build_singleton(smtp).methods.keys
    %w[Recipient BatchResult].each do |struct|
      type = RBS::TypeName.new(name: struct.to_sym, namespace: RBS::Namespace.parse('::Smtp::Session'))
      members = Smtp::Session.const_get(struct).members
      assert_empty members - builder.build_instance(type).methods.keys, struct
    end
  end
end
