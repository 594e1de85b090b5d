#include <kactor/saga.hpp>

#include <algorithm>

#include <kactor/error.hpp>

namespace kactor {

const char* to_string(saga_status s) noexcept {
  switch (s) {
    case saga_status::running:
      return "running";
    case saga_status::completed:
      return "completed";
    case saga_status::compensating:
      return "compensating";
    case saga_status::rolled_back:
      return "rolled_back";
    case saga_status::failed:
      return "failed";
  }
  return "unknown";
}

namespace {

// A stored saga: a version byte, the status, then length-prefixed fields.
// Version 1 had no expected steps.
constexpr char format_version = 2;

void put_len(std::string& out, std::size_t n) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(n >> shift));
}

void put_field(std::string& out, std::string_view f) {
  put_len(out, f.size());
  out.append(f);
}

std::string encode(const saga_state& s) {
  std::string out;
  out.push_back(format_version);
  out.push_back(static_cast<char>(s.status));
  put_field(out, s.data);
  put_field(out, s.reason);
  put_len(out, s.confirmed.size());
  for (const auto& step : s.confirmed) {
    put_field(out, step.name);
    put_field(out, step.undo.topic);
    put_field(out, step.undo.key);
    put_field(out, step.undo.value);
  }
  put_len(out, s.awaiting.size());
  for (const auto& a : s.awaiting) put_field(out, a);
  put_len(out, s.expected.size());
  for (const auto& e : s.expected) put_field(out, e);
  return out;
}

class decoder {
 public:
  decoder(std::string_view in, std::string_view id) : in_(in), id_(id) {}
  std::size_t len() {
    need(4);
    std::size_t n = 0;
    for (int i = 0; i < 4; ++i) n = (n << 8) | static_cast<unsigned char>(in_[pos_++]);
    return n;
  }
  std::string field() {
    const auto n = len();
    need(n);
    std::string f(in_.substr(pos_, n));
    pos_ += n;
    return f;
  }
  char byte() {
    need(1);
    return in_[pos_++];
  }

 private:
  void need(std::size_t n) const {
    if (in_.size() - pos_ < n)
      throw irrecoverable_error("saga '" + std::string(id_) + "': its stored state is truncated");
  }
  std::string_view in_, id_;
  std::size_t pos_ = 0;
};

saga_state decode(std::string_view id, std::string_view bytes) {
  decoder in(bytes, id);
  const auto version = in.byte();
  if (version != 1 && version != format_version)
    throw irrecoverable_error("saga '" + std::string(id) + "': stored in an unknown format");
  saga_state s;
  s.id = std::string(id);
  const auto status = static_cast<unsigned char>(in.byte());
  if (status > static_cast<unsigned char>(saga_status::failed))
    throw irrecoverable_error("saga '" + std::string(id) + "': unknown status " +
                              std::to_string(status));
  s.status = static_cast<saga_status>(status);
  s.data = in.field();
  s.reason = in.field();
  for (auto n = in.len(); n > 0; --n) {
    saga_state::step step;
    step.name = in.field();
    step.undo.topic = in.field();
    step.undo.key = in.field();
    step.undo.value = in.field();
    s.confirmed.push_back(std::move(step));
  }
  for (auto n = in.len(); n > 0; --n) s.awaiting.push_back(in.field());
  if (version >= 2)
    for (auto n = in.len(); n > 0; --n) s.expected.push_back(in.field());
  return s;
}

/// A saga's timer key: the id, NUL, the step (empty: the compensations').
std::string timer_key(std::string_view id, std::string_view step) {
  std::string k(id);
  k.push_back('\0');
  k.append(step);
  return k;
}

/// Whether `s` confirmed `step`.
bool is_confirmed(const saga_state& s, std::string_view step) {
  return std::any_of(s.confirmed.begin(), s.confirmed.end(),
                     [&](const saga_state::step& c) { return c.name == step; });
}

/// Removes `step` from `steps`; whether it was there.
bool erase_step(std::vector<std::string>& steps, std::string_view step) {
  const auto it = std::find(steps.begin(), steps.end(), step);
  if (it == steps.end()) return false;
  steps.erase(it);
  return true;
}

}  // namespace

saga_log::saga_log(context& ctx, std::string_view store)
    : ctx_(&ctx), kv_(&ctx.kv(store)), timer_name_("kactor.saga." + std::string(store)) {}

void saga_log::put(const saga_state& s) {
  kv_->put(s.id, encode(s));
}

bool saga_log::begin(std::string_view id, std::string_view data) {
  if (kv_->get(id)) return false;
  saga_state s;
  s.id = std::string(id);
  s.data = std::string(data);
  put(s);
  return true;
}

std::optional<saga_state> saga_log::get(std::string_view id) {
  const auto bytes = kv_->get(id);
  if (!bytes) return std::nullopt;
  return decode(id, *bytes);
}

bool saga_log::confirm(std::string_view id, std::string_view step, const compensation& undo) {
  auto s = get(id);
  if (!s || s->status == saga_status::completed) return false;
  if (is_confirmed(*s, step)) return s->status == saga_status::running;
  s->confirmed.push_back({std::string(step), undo});
  if (s->status != saga_status::running) {
    // Confirmed after the saga failed: undone at once, and awaited.
    ctx_->emit(undo.topic, undo.key, undo.value);
    // Its outcome stands (a saga finishes once): a rolled-back saga stays so.
    s->awaiting.emplace_back(step);
    put(*s);
    return false;
  }
  erase_step(s->expected, step);
  put(*s);
  ctx_->cancel(timer_name_, timer_key(id, step));
  return true;
}

void saga_log::expect(std::string_view id, std::string_view step,
                      std::chrono::milliseconds timeout) {
  auto s = get(id);
  if (!s || s->status != saga_status::running || is_confirmed(*s, step)) return;
  if (std::find(s->expected.begin(), s->expected.end(), step) == s->expected.end()) {
    s->expected.emplace_back(step);
    put(*s);
  }
  ctx_->schedule(timer_name_, timer_key(id, step), timeout);
}

void saga_log::cancel_expected(saga_state& s) {
  for (const auto& step : s.expected) ctx_->cancel(timer_name_, timer_key(s.id, step));
  s.expected.clear();
}

bool saga_log::fail(std::string_view id, std::string_view reason,
                    std::chrono::milliseconds compensation_timeout) {
  auto s = get(id);
  if (!s || s->status != saga_status::running) return false;
  s->reason = std::string(reason);
  for (auto it = s->confirmed.rbegin(); it != s->confirmed.rend(); ++it) {
    ctx_->emit(it->undo.topic, it->undo.key, it->undo.value);
    s->awaiting.push_back(it->name);
  }
  s->status = s->awaiting.empty() ? saga_status::rolled_back : saga_status::compensating;
  cancel_expected(*s);
  put(*s);
  if (s->status == saga_status::compensating && compensation_timeout.count() > 0)
    ctx_->schedule(timer_name_, timer_key(id, {}), compensation_timeout);
  return true;
}

bool saga_log::compensated(std::string_view id, std::string_view step) {
  auto s = get(id);
  if (!s) return false;
  if (!erase_step(s->awaiting, step)) return false;
  const bool done = s->awaiting.empty() && s->status == saga_status::compensating;
  if (done) {
    s->status = saga_status::rolled_back;
    ctx_->cancel(timer_name_, timer_key(id, {}));
  }
  put(*s);
  return done;
}

bool saga_log::complete(std::string_view id) {
  auto s = get(id);
  if (!s || s->status != saga_status::running) return false;
  s->status = saga_status::completed;
  cancel_expected(*s);
  put(*s);
  return true;
}

std::optional<saga_state> saga_log::on_timer(const timer& t) {
  if (t.name != timer_name_) return std::nullopt;
  const auto nul = t.key.find('\0');
  if (nul == std::string::npos) return std::nullopt;  // not one this log wrote
  const std::string_view id(t.key.data(), nul);
  const auto step = std::string_view(t.key).substr(nul + 1);
  auto s = get(id);
  if (!s) return std::nullopt;
  if (!step.empty()) {
    // A running saga awaits every step it has not confirmed (one stored
    // before `expected` was kept has an empty list).
    if (s->status != saga_status::running || is_confirmed(*s, step)) return std::nullopt;
    // fail() cancels and forgets every expected step, this one included (a
    // handler may cancel the timer it was called for).
    fail(id, "step " + std::string(step) + " timed out");
    return get(id);
  }
  if (s->status != saga_status::compensating) return std::nullopt;
  s->status = saga_status::failed;
  s->reason +=
      "; compensation of " + std::to_string(s->awaiting.size()) + " step(s) not confirmed in time";
  put(*s);
  return s;
}

}  // namespace kactor
