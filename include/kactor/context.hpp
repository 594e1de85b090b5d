#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include <caf/atom.hpp>
#include <caf/behavior.hpp>
#include <caf/fwd.hpp>

#include <kactor/event.hpp>
#include <kactor/store.hpp>
#include <kactor/types.hpp>

namespace kactor {

/// What a handler can do besides reading its record: emit, know where it runs,
/// and reach its actor. One context exists per partition actor and lives as
/// long as that actor; it is used only from that actor (never share it with
/// another thread).
class context {
 public:
  virtual ~context() = default;

  /// Hands a record to the shared producer (the payload is copied once, into
  /// librdkafka). `partition` -1 partitions by key. Delivery is acknowledged
  /// asynchronously: the source record's offset is stored only after every
  /// record it emitted is acknowledged, so a crash re-processes it rather than
  /// losing an output. Throws `kafka_exception` when librdkafka refuses the
  /// record at once (its class tells whether to retry).
  virtual void emit(std::string_view topic, std::string_view key, std::string_view value,
                    const headers& hdrs = {}, partition_id partition = partition_id{-1}) = 0;

  /// Serializes the Protobuf message `msg` and emits it as `emit` does
  /// (only for types with `SerializeToString`, so text values still take the
  /// overload above). A message that does not serialize (a proto2 message
  /// missing a required field) throws `irrecoverable_error`.
  template <class Message, class = decltype(std::declval<const Message&>().SerializeToString(
                               std::declval<std::string*>()))>
  void emit(std::string_view topic, std::string_view key, const Message& msg,
            const headers& hdrs = {}, partition_id partition = partition_id{-1}) {
    std::string buf;
    if (!msg.SerializeToString(&buf))
      throw irrecoverable_error("cannot serialize " + msg.GetTypeName() + " for " +
                                std::string(topic));
    emit(topic, key, std::string_view(buf), hdrs, partition);
  }

  /// This partition's part of the agent's store `name` (declared with
  /// `agent_builder::store` or `agents[].stores`), restored before the
  /// partition's first record. An undeclared name throws
  /// `irrecoverable_error` naming the declared ones (the record goes to the
  /// dead-letter topic).
  virtual kv_store& kv(std::string_view name) = 0;

  /// Request-reply, the responder's side: emits `value` (with the request's
  /// key, `hdrs` and the request's correlation id header) as the reply to
  /// `request`, as `emit` does, to the topic and partition the request's
  /// headers name (`route_reply` in kactor/reply.hpp: kactor's or Spring
  /// Kafka's ReplyingKafkaTemplate's). Throws `irrecoverable_error` for a
  /// request that names no reply topic or correlation id: thrown from the
  /// handler, that request goes to the dead-letter topic with the reason.
  void reply(const event& request, std::string_view value, const headers& hdrs = {});

  /// Durable timers (the agent declares `timers`, or `requests`; otherwise
  /// these throw `irrecoverable_error` saying so). Keeps the timer
  /// `name`/`key` in the task's state, replacing a pending one of that name
  /// and key, and delivers `kactor::timer{name, key, due, payload}` to the
  /// behaviour once it is due: `delay` after now on the actor's clock, or at
  /// `at`. It survives crashes and moves with the task: exactly once at
  /// exactly_once (its firing and its handler's effects commit in one
  /// transaction), at least once otherwise. Like a store write, call it from
  /// a record's or a timer's handler (exactly_once refuses it in a tick).
  /// Names starting with "kactor." are kactor's own (request timeouts).
  virtual void schedule(std::string_view name, std::string_view key,
                        std::chrono::milliseconds delay, std::string_view payload = {}) = 0;
  virtual void schedule(std::string_view name, std::string_view key,
                        std::chrono::system_clock::time_point at,
                        std::string_view payload = {}) = 0;
  /// Removes the pending timer `name`/`key`; whether there was one.
  virtual bool cancel(std::string_view name, std::string_view key) = 0;

  /// Request-reply, the requester's side (the agent declares `requests`).
  /// Emits `value` to `topic` (as `emit`, partitioned by `key`) with the
  /// headers `kactor.correlation_id` (the id returned), `kactor.reply_to`
  /// (the agent's reply topic) and `kactor.reply_partition` (this task), and
  /// keeps the request in the task's state until exactly one of these
  /// reaches the behaviour: `kactor::reply` (the reply and the stored
  /// request) or, once `timeout` passed first, `kactor::reply_timeout`. A
  /// reply after that is counted (`partition_stats::late_replies`) and
  /// dropped. Both are handled as records (exactly_once: exactly one of them,
  /// also across crashes and moves). Call it from a handler, as `schedule`.
  virtual std::string request(std::string_view topic, std::string_view key, std::string_view value,
                              std::chrono::milliseconds timeout, const headers& hdrs = {}) = 0;

  /// The store `name` with Protobuf `Message` values (see `typed_store`).
  template <class Message>
  typed_store<Message> store(std::string_view name) {
    return typed_store<Message>(kv(name));
  }

  /// The agent this partition actor belongs to.
  virtual const std::string& agent() const = 0;

  /// In a record handler, the partition the record came from; elsewhere
  /// (ticks, messages), the partition this actor serves (of an agent with
  /// stores and several inputs: partition p of its first input).
  virtual const topic_partition& source() const = 0;

  /// The partition actor itself: for timers (`delayed_send`), spawning helpers
  /// and talking to other actors. Valid for the context's lifetime.
  virtual caf::event_based_actor* self() = 0;
};

/// Sent to an agent's behaviour every `tick_every` interval, if set.
using tick_atom = caf::atom_constant<caf::atom("kx_tick")>;

/// Makes the behaviour of one partition actor. Called once per assigned
/// partition, on that partition actor (so state captured by the returned
/// handlers is per partition). Records arrive as `const kactor::event&`; a
/// record is finished when its handler returns. A handler that throws fails
/// its record: a retriable failure is retried with backoff (the partition
/// waits), then the record goes to the dead-letter topic; an
/// `irrecoverable_error` goes there at once (docs/supervision.md). Messages
/// no handler matches are logged and dropped.
using behavior_factory = std::function<caf::behavior(context&)>;

}  // namespace kactor
