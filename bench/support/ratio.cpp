// bench/support/ratio.cpp — main() of every memkit benchmark program: runs the benchmarks with
// the reporter --benchmark_format selects, records each run's real time per iteration, and then
// prints the comparisons declared with MEMKIT_BENCH_COMPARE (see ratio.h).
#include "ratio.h"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace memkit::bench {

namespace {

std::string format(const char* spec, double value) {
  char text[32];
  std::snprintf(text, sizeof text, spec, value);
  return text;
}

std::vector<Comparison>& comparisons() {
  static std::vector<Comparison> all;
  return all;
}

using Run = benchmark::BenchmarkReporter::Run;

// Real time per iteration (ns) of each benchmark: the "median" aggregate when repetitions
// produced one, otherwise the (single) iteration run.
class Timings {
 public:
  void add(const Run& run) {
    if (run.error_occurred) return;
    std::string name = run.run_name.function_name;
    if (!run.run_name.args.empty()) name += "/" + run.run_name.args;
    const double ns =
        run.GetAdjustedRealTime() * 1e9 / benchmark::GetTimeUnitMultiplier(run.time_unit);
    if (run.run_type == Run::RT_Iteration) {
      ns_.try_emplace(name, ns);
    } else if (run.aggregate_name == "median") {
      ns_[name] = ns;
    }
  }

  bool empty() const { return ns_.empty(); }

  std::optional<double> ns(const std::string& name) const {
    const auto it = ns_.find(name);
    return it == ns_.end() ? std::nullopt : std::optional<double>(it->second);
  }

 private:
  std::map<std::string, double> ns_;
};

// Forwards everything to the display reporter, recording the runs on the way.
class RecordingReporter : public benchmark::BenchmarkReporter {
 public:
  RecordingReporter(benchmark::BenchmarkReporter& display, Timings& timings)
      : display_(display), timings_(timings) {}

  bool ReportContext(const Context& context) override { return display_.ReportContext(context); }
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) timings_.add(run);
    display_.ReportRuns(runs);
  }
  void Finalize() override { display_.Finalize(); }

 private:
  benchmark::BenchmarkReporter& display_;
  Timings& timings_;
};

std::string ratio(double ours, double peer) {
  if (ours <= 0 || peer <= 0) return "-";
  return ours <= peer ? format("%.2fx faster", peer / ours) : format("%.2fx slower", ours / peer);
}

void print_table(std::FILE* out, const Timings& timings) {
  std::size_t width = 10;
  for (const Comparison& c : comparisons()) {
    width = std::max(width, c.label.size() + 4 + c.peer_label.size());
  }
  const auto row = [out, w = static_cast<int>(width)](
                       const std::string& label, const std::string& ours, const std::string& peer,
                       const std::string& diff, const std::string& ratio_text,
                       const std::string& target, const std::string& result) {
    std::fprintf(out, "%-*s %10s %10s %9s %-14s %-18s %s\n", w, label.c_str(), ours.c_str(),
                 peer.c_str(), diff.c_str(), ratio_text.c_str(), target.c_str(), result.c_str());
  };

  std::fprintf(out, "\nmemkit vs peer: real time per iteration (median of repetitions if any)\n");
#ifndef NDEBUG
  std::fprintf(out, "note: a debug build (no NDEBUG): these ratios say nothing about release\n");
#endif
  row("comparison", "ours ns", "peer ns", "diff ns", "ratio", "target", "result");
  int met = 0, missed = 0, not_run = 0;
  for (const Comparison& c : comparisons()) {
    const std::string label = c.label + " vs " + c.peer_label;
    const std::optional<double> ours = timings.ns(c.ours), peer = timings.ns(c.peer);
    if (!ours || !peer) {
      ++not_run;
      std::string missing = ours ? "" : c.ours;
      if (!peer) missing += (missing.empty() ? "" : ", ") + c.peer;
      row(label, ours ? format("%.2f", *ours) : "-", peer ? format("%.2f", *peer) : "-", "-", "-",
          c.target.describe(), "not run (" + missing + ")");
      continue;
    }
    const bool ok = c.target.met(*ours, *peer);
    ++(ok ? met : missed);
    row(label, format("%.2f", *ours), format("%.2f", *peer), format("%+.2f", *ours - *peer),
        ratio(*ours, *peer), c.target.describe(), ok ? "MET" : "NOT MET");
  }
  std::fprintf(out, "targets: %d met, %d NOT MET, %d not run (the exit code is 0 regardless)\n",
               met, missed, not_run);
}

// The table goes to stdout next to the console output, to stderr when stdout is JSON or CSV.
bool console_format(int argc, char** argv) {
  constexpr std::string_view kFlag = "--benchmark_format=";
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.starts_with(kFlag)) return arg.substr(kFlag.size()) == "console";
  }
  return true;
}

}  // namespace

bool Target::met(double ours_ns, double peer_ns) const {
  switch (kind_) {
    case Kind::kFaster:
      return ours_ns > 0 && peer_ns / ours_ns >= value_;
    case Kind::kNoSlower:
      return ours_ns <= peer_ns * value_;
    case Kind::kWithinNs:
      return ours_ns - peer_ns <= value_;
  }
  return false;
}

std::string Target::describe() const {
  switch (kind_) {
    case Kind::kFaster:
      return format(">= %gx faster", value_);
    case Kind::kNoSlower:
      return format("no slower (x%g)", value_);
    case Kind::kWithinNs:
      return format("within +%g ns", value_);
  }
  return "?";
}

bool smoke_run() {
  const char* value = std::getenv("MEMKIT_BENCH_SMOKE");
  return value != nullptr && *value != '\0' && std::string_view(value) != "0";
}

bool register_comparison(Comparison comparison) {
  comparisons().push_back(std::move(comparison));
  return true;
}

}  // namespace memkit::bench

int main(int argc, char** argv) {
  using namespace memkit::bench;
  const bool console = console_format(argc, argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  Timings timings;
  const std::unique_ptr<benchmark::BenchmarkReporter> display(
      benchmark::CreateDefaultDisplayReporter());
  RecordingReporter recorder(*display, timings);
  benchmark::RunSpecifiedBenchmarks(&recorder);
  benchmark::Shutdown();

  if (!timings.empty()) {  // nothing ran for --benchmark_list_tests or an empty filter
    std::fflush(stdout);
    print_table(console ? stdout : stderr, timings);
  }
  return 0;
}
