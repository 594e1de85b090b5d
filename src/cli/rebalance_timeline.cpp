#include "src/cli/rebalance_timeline.hpp"

#include <algorithm>
#include <chrono>
#include <limits>

namespace kactor::detail {

namespace {

double ms_between(mono_ns from, mono_ns to) {
  return static_cast<double>(to - from) / 1e6;
}

/// Each member's latest status at or before `at`.
std::map<int, const member_status*> latest(const rebalance_timeline& tl, mono_ns at) {
  std::map<int, const member_status*> out;
  for (const auto& s : tl.statuses)
    if (s.at <= at) {
      auto& slot = out[s.member];
      if (!slot || slot->at <= s.at) slot = &s;
    }
  return out;
}

/// The times `member` handled records of `partition`, in order.
std::vector<mono_ns> times_of(const rebalance_timeline& tl, int partition, int member) {
  std::vector<mono_ns> out;
  for (const auto& r : tl.records)
    if (r.partition == partition && r.member == member) out.push_back(r.at);
  std::sort(out.begin(), out.end());
  return out;
}

/// The revocation count of `partition` in `member`'s status at `at`.
std::uint64_t revocations_of(const rebalance_timeline& tl, int member, int partition, mono_ns at) {
  const auto l = latest(tl, at);
  const auto it = l.find(member);
  if (it == l.end()) return 0;
  const auto p = it->second->held.find(partition);
  return p == it->second->held.end() ? 0 : p->second;
}

}  // namespace

mono_ns mono_now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::map<int, int> owners_at(const rebalance_timeline& tl, mono_ns at, const std::set<int>* among) {
  std::map<int, int> out;
  for (const auto& [member, s] : latest(tl, at))
    if (!among || among->count(member))
      for (const auto& held : s->held) out[held.first] = member;
  return out;
}

bool group_settled(const rebalance_timeline& tl) {
  const auto& final_members = tl.final_members;
  const auto now = std::numeric_limits<mono_ns>::max();
  const auto l = latest(tl, now);
  std::map<int, int> owner;
  for (int m : final_members) {
    const auto it = l.find(m);
    const auto held = it == l.end() ? 0 : it->second->held.size();
    if (held == 0 && static_cast<int>(final_members.size()) <= tl.partitions) return false;
    if (it == l.end()) continue;
    for (const auto& h : it->second->held)
      if (!owner.emplace(h.first, m).second) return false;  // held twice
  }
  if (static_cast<int>(owner.size()) != tl.partitions) return false;
  const auto before = owners_at(tl, tl.change - 1);
  std::set<std::pair<int, int>> waiting;  // (partition, new owner) with no record yet
  for (const auto& [p, m] : owner) {
    const auto b = before.find(p);
    if (b == before.end() || b->second != m) waiting.emplace(p, m);
  }
  for (const auto& r : tl.records)
    if (r.at >= tl.change) waiting.erase({r.partition, r.member});
  return waiting.empty();
}

bool ownership::moved(int partition) const {
  const auto b = before.find(partition);
  const auto a = after.find(partition);
  return a != after.end() && (b == before.end() || b->second != a->second);
}

ownership owners(const rebalance_timeline& tl) {
  return {owners_at(tl, tl.change - 1), owners_at(tl, tl.observed, &tl.final_members)};
}

mono_ns settle_time(const rebalance_timeline& tl) {
  const auto o = owners(tl);
  std::map<int, mono_ns> first;
  for (const auto& r : tl.records) {
    if (r.at < tl.change || !o.moved(r.partition) || o.after.at(r.partition) != r.member) continue;
    auto& f = first[r.partition];
    if (f == 0 || r.at < f) f = r.at;
  }
  mono_ns settled = 0;
  for (const auto& [p, t] : first) settled = std::max(settled, t);
  return first.empty() ? tl.observed : settled;
}

bool unmoved_closed(const rebalance_timeline& tl) {
  const auto o = owners(tl);
  std::set<int> open;
  for (const auto& [p, m] : o.after)
    if (!o.moved(p)) open.insert(p);
  for (const auto& r : tl.records)
    if (r.at > tl.settled && o.after.count(r.partition) && o.after.at(r.partition) == r.member)
      open.erase(r.partition);
  return open.empty();
}

rebalance_measures measure(const rebalance_timeline& tl) {
  rebalance_measures out;
  out.settle_ms = ms_between(tl.change, tl.settled);
  const auto o = owners(tl);
  for (const auto& [p, to] : o.after) {
    const auto b = o.before.find(p);
    const int from = b == o.before.end() ? 0 : b->second;
    const auto t = times_of(tl, p, to);
    if (o.moved(p)) {
      const auto first = std::lower_bound(t.begin(), t.end(), tl.change);
      moved_partition m;
      m.partition = p;
      m.from = from;
      m.to = to;
      m.first_record_ms = first == t.end() ? 0 : ms_between(tl.change, *first);
      out.moved.push_back(m);
      continue;
    }
    unmoved_partition u;
    u.partition = p;
    u.member = to;
    for (std::size_t i = 1; i < t.size(); ++i)
      if (t[i] > tl.change && t[i - 1] < tl.settled)
        u.longest_gap_ms = std::max(u.longest_gap_ms, ms_between(t[i - 1], t[i]));
    u.revoked = revocations_of(tl, to, p, tl.observed) > revocations_of(tl, to, p, tl.change - 1);
    out.partitions_revoked += u.revoked ? 1 : 0;
    out.unmoved.push_back(u);
  }
  // Steady window: every record between steady_from and the change, per partition.
  std::map<int, std::vector<mono_ns>> steady;
  for (const auto& r : tl.records)
    if (r.at >= tl.steady_from && r.at <= tl.change) steady[r.partition].push_back(r.at);
  for (auto& [p, t] : steady) {
    std::sort(t.begin(), t.end());
    for (std::size_t i = 1; i < t.size(); ++i)
      out.steady_gap_ms = std::max(out.steady_gap_ms, ms_between(t[i - 1], t[i]));
  }
  // Revocation callbacks of members in the group before and after.
  const auto l_before = latest(tl, tl.change - 1), l_after = latest(tl, tl.observed);
  for (const auto& [member, s] : l_after) {
    const auto b = l_before.find(member);
    if (!tl.final_members.count(member)) continue;
    if (b != l_before.end() && !s->held.empty() && s->revocations > b->second->revocations)
      out.revoke_callback_ms = std::max(out.revoke_callback_ms, s->last_revoke_ms);
  }
  return out;
}

}  // namespace kactor::detail
