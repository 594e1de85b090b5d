// The rebalance timeline as an SVG picture (render_timeline_svg).

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "src/cli/rebalance_timeline.hpp"

namespace kactor::detail {

namespace {

constexpr double kWidth = 1200, kLeft = 70, kRight = 20, kTop = 70, kLane = 22, kAxis = 36,
                 kLegend = 28;
constexpr const char* kColours[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                                    "#9467bd", "#8c564b", "#e377c2", "#17becf"};

const char* colour(int member) {
  return kColours[static_cast<std::size_t>(member > 0 ? member - 1 : 0) % std::size(kColours)];
}

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f", v);
  return buf;
}

/// The partitions in `a` and not in `b`, as "p1,p4".
std::string difference(const std::map<int, std::uint64_t>& a,
                       const std::map<int, std::uint64_t>& b) {
  std::string out;
  for (const auto& [p, n] : a)
    if (!b.count(p)) out += (out.empty() ? "p" : ",p") + std::to_string(p);
  return out;
}

}  // namespace

mono_ns view_end(const rebalance_timeline& tl) {
  return tl.settled + std::max<mono_ns>(300'000'000, (tl.settled - tl.steady_from) / 6);
}

std::string render_timeline_svg(const rebalance_timeline& tl, const std::string& title) {
  const mono_ns from = tl.steady_from;
  const mono_ns to = view_end(tl);
  const double plot = kWidth - kLeft - kRight;
  const double lanes_bottom = kTop + kLane * tl.partitions;
  const double height = lanes_bottom + kAxis + kLegend + 10;
  auto x = [&](mono_ns t) {
    return kLeft + plot * static_cast<double>(t - from) / static_cast<double>(to - from);
  };
  auto in_view = [&](mono_ns t) { return t >= from && t <= to; };

  std::string s;
  s.reserve(64 * tl.records.size() + 4096);
  s += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num(kWidth) + "\" height=\"" +
       num(height) + "\" viewBox=\"0 0 " + num(kWidth) + " " + num(height) +
       "\" font-family=\"sans-serif\" font-size=\"11\">\n";
  s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  s += "<text class=\"title\" x=\"" + num(kLeft) + "\" y=\"18\" font-size=\"14\">" + escape(title) +
       "</text>\n";

  // Lanes, one per partition.
  for (int p = 0; p < tl.partitions; ++p) {
    const double y = kTop + kLane * p;
    s += "<g class=\"lane\" data-partition=\"" + std::to_string(p) + "\"><rect x=\"" + num(kLeft) +
         "\" y=\"" + num(y) + "\" width=\"" + num(plot) + "\" height=\"" + num(kLane) +
         "\" fill=\"" + (p % 2 ? "#f4f4f4" : "#fafafa") + "\"/><text x=\"" + num(kLeft - 8) +
         "\" y=\"" + num(y + kLane * 0.65) + "\" text-anchor=\"end\">p" + std::to_string(p) +
         "</text></g>\n";
  }

  // Moved partitions: the stall from the change to the new owner's first record.
  const auto measures = measure(tl);
  for (const auto& m : measures.moved) {
    const double y = kTop + kLane * m.partition;
    const auto end = tl.change + static_cast<mono_ns>(m.first_record_ms * 1e6);
    s += "<rect class=\"stall\" x=\"" + num(x(tl.change)) + "\" y=\"" + num(y + 2) + "\" width=\"" +
         num(std::max(1.0, x(end) - x(tl.change))) + "\" height=\"" + num(kLane - 4) +
         "\" fill=\"#d62728\" fill-opacity=\"0.12\"><title>p" + std::to_string(m.partition) +
         " moved: first record after " + num(m.first_record_ms) + " ms</title></rect>\n";
  }

  // One mark per handled record, centred on its time, grouped and coloured
  // by member.
  for (const auto& member : tl.members) {
    s += "<g class=\"member\" data-member=\"" + std::to_string(member.id) + "\" fill=\"" +
         colour(member.id) + "\">\n";
    for (const auto& r : tl.records)
      if (r.member == member.id && in_view(r.at) && r.partition < tl.partitions)
        s += "<rect class=\"rec\" x=\"" + num(x(r.at) - 0.6) + "\" y=\"" +
             num(kTop + kLane * r.partition + 4) + "\" width=\"1.2\" height=\"" + num(kLane - 8) +
             "\"/>\n";
    s += "</g>\n";
  }

  // Assignment changes: a tick in the member's colour above the lanes.
  std::map<int, const member_status*> previous;
  for (const auto& st : tl.statuses) {
    const auto* prev = previous[st.member];
    previous[st.member] = &st;
    static const std::map<int, std::uint64_t> none;
    const auto gained = difference(st.held, prev ? prev->held : none);
    const auto lost = prev ? difference(prev->held, st.held) : std::string();
    if ((gained.empty() && lost.empty()) || !in_view(st.at)) continue;
    std::string what = "member " + std::to_string(st.member);
    if (!gained.empty()) what += " assigned " + gained;
    if (!lost.empty()) what += (gained.empty() ? " revoked " : ", revoked ") + lost;
    s += "<line class=\"assignment\" x1=\"" + num(x(st.at)) + "\" x2=\"" + num(x(st.at)) +
         "\" y1=\"" + num(kTop - 12) + "\" y2=\"" + num(kTop) + "\" stroke=\"" + colour(st.member) +
         "\" stroke-width=\"2\"><title>" + escape(what) + "</title></line>\n";
  }

  // Membership events: vertical lines across the lanes, labels in three rows.
  int row = 0;
  for (const auto& e : tl.events) {
    if (!in_view(e.at)) continue;
    const double ex = x(e.at);
    // Labels in the right quarter go to the left of their line, not off the picture.
    const bool right = ex > kLeft + plot * 0.75;
    s += "<g class=\"event\"><line x1=\"" + num(ex) + "\" x2=\"" + num(ex) + "\" y1=\"" +
         num(kTop - 40) + "\" y2=\"" + num(lanes_bottom) +
         "\" stroke=\"#333\" stroke-dasharray=\"4 3\"/><text x=\"" + num(right ? ex - 3 : ex + 3) +
         "\" y=\"" + num(kTop - 40 + 11 * (row++ % 3)) + "\"" +
         (right ? " text-anchor=\"end\"" : "") + ">" + escape(e.what) + "</text></g>\n";
  }

  // Time axis, 0 at the change.
  const double span_ms = static_cast<double>(to - from) / 1e6;
  double step = 50;
  for (double c : {100.0, 200.0, 250.0, 500.0, 1000.0, 2000.0, 5000.0, 10000.0, 30000.0})
    if (span_ms / step > 12) step = c;
  const double first_ms = static_cast<double>(from - tl.change) / 1e6;
  s += "<g class=\"axis\" stroke=\"#999\">\n";
  for (double t = std::ceil(first_ms / step) * step; t <= first_ms + span_ms; t += step) {
    const double tx = x(tl.change + static_cast<mono_ns>(t * 1e6));
    s += "<line x1=\"" + num(tx) + "\" x2=\"" + num(tx) + "\" y1=\"" + num(lanes_bottom) +
         "\" y2=\"" + num(lanes_bottom + 5) + "\"/><text stroke=\"none\" fill=\"#333\" x=\"" +
         num(tx) + "\" y=\"" + num(lanes_bottom + 17) + "\" text-anchor=\"middle\">" +
         (t > 0 ? "+" : "") + num(t).substr(0, num(t).size() - 2) + " ms</text>\n";
  }
  s += "</g>\n";

  // Legend: one swatch per member.
  double lx = kLeft;
  const double ly = lanes_bottom + kAxis;
  for (const auto& member : tl.members) {
    s += "<g class=\"legend\" data-member=\"" + std::to_string(member.id) + "\"><rect x=\"" +
         num(lx) + "\" y=\"" + num(ly) + "\" width=\"12\" height=\"12\" fill=\"" +
         colour(member.id) + "\"/><text x=\"" + num(lx + 16) + "\" y=\"" + num(ly + 10) + "\">" +
         escape(member.label) + "</text></g>\n";
    lx += 30 + 7 * static_cast<double>(member.label.size());
  }
  s += "</svg>\n";
  return s;
}

}  // namespace kactor::detail
